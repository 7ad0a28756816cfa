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

_scalar = json.JSONEncoder(ensure_ascii=False).encode
_key = functools.lru_cache(maxsize=4096)(_scalar)  # the same few keys recur in every document


class CanonicalEncoder:
    """Encode many values that share subtrees; valid while those values are not mutated."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, int], tuple[Any, str]] = {}

    def encode(self, value: Any) -> str:
        return self._encode(value, 0) + "\n"

    def _item(self, value: Any, depth: int) -> str:
        return _key(value) if type(value) is str else self._encode(value, depth)

    def _encode(self, value: Any, depth: int) -> str:
        if isinstance(value, dict):
            if not value:
                return "{}"
            brackets, parts = "{}", lambda: [f"{_key(k)}: {self._item(value[k], depth + 1)}" for k in sorted(value)]
        elif isinstance(value, list):
            if not value:
                return "[]"
            brackets, parts = "[]", lambda: [self._item(v, depth + 1) for v in value]
        else:
            return _scalar(value)
        key = (id(value), depth)
        hit = self._memo.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        pad = "\n" + "  " * (depth + 1)
        text = brackets[0] + pad + ("," + pad).join(parts()) + "\n" + "  " * depth + brackets[1]
        self._memo[key] = (value, text)  # holding `value` keeps its id from being reused
        return text


def dumps(value: Any) -> str:
    return CanonicalEncoder().encode(value)
