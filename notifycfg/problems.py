"""The one shape every check reports in: a Problem at a file position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]

# A data path inside a document: mapping keys and sequence indexes.
DataPath = tuple[str | int, ...]


MISSING: Any = object()


def dig(data: Any, path: DataPath) -> Any:
    """The value at `path` in nested mappings, or MISSING."""
    for part in path:
        # dict, not Mapping: loaded data is plain dicts, and the ABC check costs more than the lookup
        if not isinstance(data, dict) or part not in data:
            return MISSING
        data = data[part]
    return data


def has_path(data: Any, path: DataPath) -> bool:
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


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    path: str
    rule: str
    severity: Severity
    message: str

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
