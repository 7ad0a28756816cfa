"""Paths into nested data, and what changed between two nested values.

Shared by every room: the loader locates a path, the rules read one, compile
reports where a value came from, diff and promote list what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A data path inside a document: mapping keys and sequence indexes.
DataPath = tuple[str | int, ...]
# A loaded YAML or JSON value: str, int, float, bool, None, or lists and str-keyed mappings of them.
# Named once so that signatures say what they carry; Any underneath, as yaml and json return it:
# code walks it by paths the schema has already checked.
Json = Any
JsonObject = dict[str, Json]

MISSING: Any = object()
UNSET = "(unset)"


def dig(data: Json, path: DataPath) -> Json:
    """The value at `path` in nested mappings, or MISSING."""
    for part in path:
        # dict, not Mapping: loaded data is plain dicts, and the ABC check costs more than the lookup
        if not isinstance(data, dict) or part not in data:
            return MISSING
        data = data[part]
    return data


def has_path(data: Json, path: DataPath) -> bool:
    return dig(data, path) is not MISSING


def dotted(path: DataPath) -> str:
    """`("notifications", "job_alerts", "recipients", 1)` -> `notifications.job_alerts.recipients[1]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def flatten(data: Json, prefix: str = "") -> JsonObject:
    """Dotted leaf paths -> values; lists are leaves (a list replaces a list)."""
    if not isinstance(data, dict) or not data:
        return {prefix: data}
    out: dict[str, Any] = {}
    for key in sorted(data):
        out.update(flatten(data[key], f"{prefix}.{key}" if prefix else key))
    return out


@dataclass(frozen=True)
class Change:
    """One leaf that differs: `old` or `new` is UNSET when the leaf exists on one side only."""

    path: str
    old: Json
    new: Json


def changes(old: Json, new: Json) -> list[Change]:
    """Every differing leaf between two nested values, sorted by path."""
    a, b = flatten(old), flatten(new)
    return [Change(p, a.get(p, UNSET), b.get(p, UNSET)) for p in sorted(set(a) | set(b)) if p and a.get(p, UNSET) != b.get(p, UNSET)]
