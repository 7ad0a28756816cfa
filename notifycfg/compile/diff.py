"""diff: what differs in effective configuration between two environments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from notifycfg.config.layering import Effective
from notifycfg.datapath import Change, changes


@dataclass
class DiffResult:
    """What differs from environment `a` to `b`; equal is exit 0, different exit 1."""

    a: str = ""
    b: str = ""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[Change]] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not (self.added or self.removed or self.changed)

    @property
    def exit_code(self) -> int:
        return 0 if self.equal else 1


def _comparable(effective: Effective) -> dict[str, Any]:
    return {**effective.data, "mail_settings": effective.mail_settings}


def diff(a: dict[str, Effective], b: dict[str, Effective], a_name: str = "", b_name: str = "") -> DiffResult:
    result = DiffResult(a_name, b_name, added=sorted(set(b) - set(a)), removed=sorted(set(a) - set(b)))
    for org in sorted(set(a) & set(b)):
        found = changes(_comparable(a[org]), _comparable(b[org]))
        if found:
            result.changed[org] = found
    return result
