"""Reporters: result objects in, text out. They read results; they never decide what a problem is.

One registry per result type, format name -> reporter: the CLI builds each
`--format` choice from its registry and looks the reporter up, never branching
on a format. Adding a format is adding a function and a line here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from notifycfg.config.validate import ValidationResult
from notifycfg.report import github, gitlab, html, jsonout, junit, markdown, providers, sarif, text

if TYPE_CHECKING:  # reporters only read other rooms' results
    from notifycfg.compile.diff import DiffResult
    from notifycfg.compile.explain import Explained
    from notifycfg.doctor.model import DoctorResult
    from notifycfg.notify.check import CheckResult
    from notifycfg.notify.flows import FlowsResult
    from notifycfg.platform.bridge import ApplyResult
    from notifycfg.platform.plan import PlanResult
    from notifycfg.promote.promotion import Outcome as Promotion

ValidationReporter = Callable[[ValidationResult, bool, bool], str]

VALIDATION: dict[str, ValidationReporter] = {
    "text": text.validation,
    "json": jsonout.validation,
    "github": github.validation,
    "junit": junit.validation,
    "sarif": sarif.validation,
    "gitlab": gitlab.validation,
    "markdown": markdown.validation,
}
EXPLAIN: dict[str, Callable[[Sequence[Explained]], str]] = {"text": text.explain, "json": jsonout.explain}
DIFF: dict[str, Callable[[DiffResult], str]] = {"text": text.diff, "json": jsonout.diff, "markdown": markdown.diff}
DOCTOR: dict[str, Callable[[DoctorResult], str]] = {
    "text": text.doctor,
    "json": jsonout.doctor,
    "junit": junit.doctor,
    "markdown": markdown.doctor,
}
PLAN: dict[str, Callable[[PlanResult], str]] = {
    "text": text.platform_plan,
    "json": jsonout.platform_plan,
    "markdown": markdown.platform_plan,
}
APPLY: dict[str, Callable[[ApplyResult], str]] = {
    "text": text.platform_apply,
    "json": jsonout.platform_apply,
    "markdown": markdown.platform_apply,
}
PROMOTE: dict[str, Callable[[Promotion, bool], str]] = {"text": text.promotion, "markdown": markdown.promotion}
# `flows run` prints a format and writes --junit and --html files: each file option names its format.
FLOWS: dict[str, Callable[[FlowsResult], str]] = {"text": text.flows, "markdown": markdown.flows, "junit": junit.flows, "html": html.flows}
FLOWS_PRINTED = {name: FLOWS[name] for name in ("text", "markdown")}  # what `flows run --format` prints
CHECK: dict[str, Callable[[CheckResult], str]] = {"text": text.check, "markdown": markdown.check}
PROVIDERS: dict[str, Callable[[providers.ProvidersView], str]] = {
    "text": providers.text,
    "json": providers.as_json,
    "markdown": providers.markdown,
}
