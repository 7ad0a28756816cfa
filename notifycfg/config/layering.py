"""Layering: schema defaults <- host.yaml <- orgs/<id>.yaml, with provenance.

Override rules (README "How settings combine"): mappings override key by key;
lists and scalars replace what they override; paths marked "replace" in the
schema (`email.smtp`) are taken whole from the highest layer that sets them,
with only the schema defaults beneath, so credentials never flow from one
server to another.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from notifycfg.datapath import MISSING, DataPath, Json, JsonObject, dig, has_path

DEFAULT_LAYER = "schema default"


@dataclass(frozen=True)
class Layer:
    """One source of settings: its name (a file, or "schema default") and data."""

    name: str
    data: Mapping[str, Json]
    line_of: Callable[[DataPath], int] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Origin:
    """Where an effective value came from; `line` is None for schema defaults."""

    file: str
    line: int | None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Effective:
    """One organization's effective settings and, per leaf, the layers that set it.

    `sources` is empty unless provenance was asked for (explain does; compile
    does not need it).
    """

    org: str
    data: JsonObject
    mail_settings: str  # "host": the host's SMTP server; "custom": the organization's own
    sources: dict[DataPath, tuple[Layer, ...]] = field(repr=False, default_factory=dict)

    def document(self) -> JsonObject:
        """What compile writes: the input's shape, every default filled in, plus two markers."""
        return {**self.data, "org": self.org, "mail_settings": self.mail_settings}

    def origin(self, path: DataPath) -> Origin:
        layer = self.sources[path][-1]
        line = layer.line_of(path) if layer.line_of else None
        return Origin(layer.name, line)

    def overridden(self, path: DataPath) -> list[Origin]:
        """The lower layers that also set `path` (each hidden by the one above)."""
        out = []
        for layer in self.sources[path][:-1]:
            out.append(Origin(layer.name, layer.line_of(path) if layer.line_of else None))
        return out


def merge(
    layers: Sequence[Layer], replaced: frozenset[DataPath], track: bool = True, beneath: Layer | None = None
) -> tuple[JsonObject, dict[DataPath, tuple[Layer, ...]]]:
    """Effective data and, for each leaf path, the layers that set it (lowest first).

    `beneath` (default `layers[0]`, the schema defaults) is all that stays
    under a replaced block. Without `track`, no provenance is kept and
    subtrees only one layer sets are shared, not copied (read-only use).
    """
    sources: dict[DataPath, tuple[Layer, ...]] | None = {} if track else None
    base = beneath or layers[0]
    data = _merge([(layer, layer.data) for layer in layers], (), _prepared(replaced), base, sources)
    return data, sources or {}


class _Replaced(frozenset[DataPath]):
    """Replaced paths, plus every path above one (where sharing a subtree is not safe)."""

    above: frozenset[DataPath]

    def __new__(cls, paths: frozenset[DataPath]) -> _Replaced:
        made = super().__new__(cls, paths)
        made.above = frozenset(p[:i] for p in paths for i in range(1, len(p) + 1))
        return made


_prepared = functools.lru_cache(maxsize=8)(_Replaced)


def _merge(
    values: list[tuple[Layer, Any]],
    path: DataPath,
    replaced: _Replaced,
    base: Layer,
    sources: dict[DataPath, tuple[Layer, ...]] | None,
) -> Any:
    top_layer, top = values[-1]
    if not isinstance(top, dict):
        if sources is None:
            return top
        sources[path] = tuple(layer for layer, _ in values)
        return list(top) if isinstance(top, list) else top
    # An empty mapping contributes no key: dropping it lets an untouched subtree be shared.
    mappings = [(layer, value) for layer, value in values if isinstance(value, dict) and value] or [(top_layer, top)]
    if path in replaced and top_layer is not base:
        under = dig(base.data, path)
        mappings = ([(base, under)] if isinstance(under, dict) else []) + [(top_layer, top)]
    if sources is None and len(mappings) == 1:
        return mappings[0][1]
    out: dict[str, Any] = {}
    for key in dict.fromkeys(k for _, value in mappings for k in value):
        below = [(layer, value[key]) for layer, value in mappings if key in value]
        here = path + (key,)
        if sources is None and len(below) == 1 and here not in replaced.above:
            out[key] = below[0][1]  # one layer sets it and nothing beneath can apply: share it
        else:
            out[key] = _merge(below, here, replaced, base, sources)
    return out


def compile_org(
    org: str,
    below: Sequence[Layer],
    own: Layer,
    replaced: frozenset[DataPath],
    track: bool = False,
    beneath: Layer | None = None,
) -> Effective:
    """`below` is [defaults, host], or, untracked, [defaults+host merged] with `beneath` = defaults."""
    data, sources = merge([*below, own], replaced, track, beneath)
    custom = any(has_path(own.data, path) for path in replaced)
    return Effective(org, data, "custom" if custom else "host", sources)


def merge_at(layers: Sequence[Layer], replaced: frozenset[DataPath], path: DataPath) -> Json:
    """The effective value at `path` alone (no provenance): cheap enough for rules."""
    values = [(layer, value) for layer in layers if (value := dig(layer.data, path)) is not MISSING]
    return _merge(values, path, _prepared(replaced), layers[0], None) if values else None
