"""diff: what differs in effective configuration between two environments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from notifycfg.config.layering import Effective

UNSET = "(unset)"


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf paths -> values; lists are leaves (a list replaces a list)."""
    if not isinstance(data, dict) or not data:
        return {prefix: data}
    out: dict[str, Any] = {}
    for key in sorted(data):
        out.update(flatten(data[key], f"{prefix}.{key}" if prefix else key))
    return out


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any


@dataclass
class DiffResult:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[Change]] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _comparable(effective: Effective) -> dict[str, Any]:
    return flatten({**effective.data, "mail_settings": effective.mail_settings})


def changes(old: Effective | None, new: Effective | None) -> list[Change]:
    a = _comparable(old) if old else {}
    b = _comparable(new) if new else {}
    return [Change(p, a.get(p, UNSET), b.get(p, UNSET)) for p in sorted(set(a) | set(b)) if a.get(p, UNSET) != b.get(p, UNSET)]


def diff(a: dict[str, Effective], b: dict[str, Effective]) -> DiffResult:
    result = DiffResult(added=sorted(set(b) - set(a)), removed=sorted(set(a) - set(b)))
    for org in sorted(set(a) & set(b)):
        found = changes(a[org], b[org])
        if found:
            result.changed[org] = found
    return result
