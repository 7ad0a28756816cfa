"""Reporters: result objects in, text out. They read results; they never decide what a problem is.

`VALIDATION` is the registry the CLI builds `validate --format` from: adding a
format is adding a module and a line here.
"""

from __future__ import annotations

from collections.abc import Callable

from notifycfg.config.validate import ValidationResult
from notifycfg.report import github, jsonout, junit, sarif, text

ValidationReporter = Callable[[ValidationResult, bool, bool], str]

VALIDATION: dict[str, ValidationReporter] = {
    "text": text.validation,
    "json": jsonout.validation,
    "github": github.validation,
    "junit": junit.validation,
    "sarif": sarif.validation,
}
