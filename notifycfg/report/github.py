"""GitHub Actions workflow annotations (`::error file=…,line=…,col=…,title=…::message`)."""

from __future__ import annotations

from notifycfg.config.rules import RULES
from notifycfg.config.validate import ValidationResult


def _escape(value: str, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if prop else value


def validation(result: ValidationResult, strict: bool = False, verbose: bool = False) -> str:
    lines = []
    for p in result.problems:
        title = _escape(f"{p.rule} {RULES[p.rule].name}", prop=True)
        where = f"file={_escape(p.file, True)},line={p.line},col={p.column},title={title}"
        lines.append(f"::{p.severity} {where}::{_escape(p.message)}")
    return "\n".join(lines) + "\n" if lines else ""
