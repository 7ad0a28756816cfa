"""Deterministic JSON: sorted keys, two-space indentation, trailing newline.

Byte-identical to `json.dumps(value, sort_keys=True, indent=2,
ensure_ascii=False) + "\\n"` (a test holds it to that), but mappings and lists
that several documents share (every organization inheriting the host's
notifications) are encoded once: `json`'s C encoder does not indent, and the
pure-Python one dominated compile time.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from notifycfg.datapath import Json

_scalar = json.JSONEncoder(ensure_ascii=False).encode
# The same few keys and strings recur in every document; typed, so True never answers for 1.
_string = functools.lru_cache(maxsize=4096, typed=True)(_scalar)


@functools.lru_cache(maxsize=256)
def _pad(depth: int) -> str:
    return "\n" + "  " * depth


class CanonicalEncoder:
    """Encode many values that share subtrees; valid while those values are not mutated."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, int], tuple[Any, str]] = {}

    def encode(self, value: Json) -> str:
        return self._encode(value, 0) + "\n"

    def _encode(self, value: Any, depth: int) -> str:
        if type(value) is str:
            return _string(value)
        if not isinstance(value, (dict, list)):
            return _scalar(value)
        if not value:
            return "{}" if isinstance(value, dict) else "[]"
        key = (id(value), depth)
        hit = self._memo.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        inner, pad = depth + 1, _pad(depth + 1)
        if isinstance(value, dict):
            items = [f"{_string(k)}: {self._encode(v, inner)}" for k, v in sorted(value.items())]
            text = "{" + pad + ("," + pad).join(items) + _pad(depth) + "}"
        else:
            text = "[" + pad + ("," + pad).join([self._encode(v, inner) for v in value]) + _pad(depth) + "]"
        self._memo[key] = (value, text)  # holding `value` keeps its id from being reused
        return text


def dumps(value: Json) -> str:
    return CanonicalEncoder().encode(value)
