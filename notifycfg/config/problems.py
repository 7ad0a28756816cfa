"""The one shape every check reports in: a Problem at a file position; the one way it is
written on a line; what fails a run; and the one error for an operation refused with reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "notice"]  # a notice never fails a run, --strict or not


def failing(strict: bool) -> frozenset[Severity]:
    """The severities that fail a run: errors, and with `strict` warnings too (never notices)."""
    return frozenset(("error", "warning")) if strict else frozenset(("error",))


class Refused(Exception):
    """An operation that cannot be done as asked, and why: `details` are located problems or
    reasons, one per line. `usage` says it was asked wrongly (exit 2) rather than refused (exit 1)."""

    def __init__(self, message: str, details: Sequence[str] = (), *, usage: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)
        self.usage = usage


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    path: str
    rule: str
    severity: Severity
    message: str

    @property
    def position(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def line_text(self, severity: bool = True) -> str:
        """`file:line:column: [severity ]RULE message`: how a problem is written on one line."""
        return f"{self.position}: {self.severity + ' ' if severity else ''}{self.rule} {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
        }
