"""JUnit XML, written by hand: one helper for every report that CI shows as tests.

By hand rather than xml.etree or xml.sax.saxutils: those cost 14 ms of
imports on the path pre-commit runs, and the output is a few fixed shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from notifycfg.config.problems import Problem, failing
from notifycfg.config.validate import ValidationResult
from notifycfg.outside import xml_legal

if TYPE_CHECKING:  # reporters only read other rooms' results
    from notifycfg.doctor.model import DoctorResult
    from notifycfg.notify.flows import FlowsResult


def text(value: str) -> str:
    """Escaped element content, without what XML 1.0 forbids."""
    return xml_legal(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(value: str) -> str:
    """A quoted attribute value; line breaks and tabs survive as character references."""
    escaped = text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return f'"{escaped}"'


@dataclass(frozen=True)
class Failure:
    message: str
    body: str
    type: str | None = None


@dataclass(frozen=True)
class Case:
    classname: str
    name: str
    failures: Sequence[Failure] = ()
    attributes: Sequence[tuple[str, str]] = field(default_factory=tuple)  # extra attributes, in order
    skipped: bool = False


def _case(case: Case) -> str:
    attrs = "".join(f" {key}={quoteattr(value)}" for key, value in case.attributes)
    head = f"    <testcase classname={quoteattr(case.classname)} name={quoteattr(case.name)}{attrs}"
    if case.skipped and not case.failures:
        return "\n".join([head + ">", "      <skipped />", "    </testcase>"])
    if not case.failures:
        return head + " />"
    body = []
    for f in case.failures:
        kind = f" type={quoteattr(f.type)}" if f.type is not None else ""
        body.append(f"      <failure message={quoteattr(f.message)}{kind}>{text(f.body)}</failure>")
    return "\n".join([head + ">", *body, "    </testcase>"])


def document(suite: str, cases: Sequence[Case], seconds: float | None = None) -> str:
    """<testsuites> with one <testsuite>; a case with any failure counts as failed."""
    failures = sum(bool(c.failures) for c in cases)
    skipped = sum(c.skipped and not c.failures for c in cases)
    time = f' time="{seconds:.3f}"' if seconds is not None else ""
    skips = f' skipped="{skipped}"' if skipped else ""
    head = f'  <testsuite name={quoteattr(suite)} tests="{len(cases)}" failures="{failures}" errors="0"{skips}{time}>'
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>", head, *map(_case, cases), "  </testsuite>", "</testsuites>"]
    return "\n".join(lines) + "\n"


def _failure(p: Problem) -> Failure:
    kind = "failure" if p.severity == "error" else "warning"
    return Failure(p.message, f"{kind}: {p.position}: {p.message}", p.rule)


def validation(result: ValidationResult, strict: bool = False, verbose: bool = False) -> str:
    """One test case per file checked; its counted problems are its failures."""
    by_file: dict[str, list[Problem]] = {path: [] for path in result.paths}
    for p in result.problems:
        by_file.setdefault(p.file, []).append(p)
    counted = failing(strict)
    cases = [
        Case("notifycfg.validate", path, [_failure(p) for p in problems if p.severity in counted]) for path, problems in by_file.items()
    ]
    return document("notifycfg validate", cases)


def flows(run: FlowsResult) -> str:
    """One test case per flow; a failed flow's first failure is the message, all of them the body."""
    cases = [
        Case(
            f"notifycfg.flows.{r.flow.org}",
            r.flow.name,
            [] if r.passed else [Failure(r.failures[0], "\n".join(r.failures))],
            (("file", r.flow.file), ("time", f"{r.seconds:.3f}")),
        )
        for r in run.results
    ]
    return document("notifycfg flows", cases, sum(r.seconds for r in run.results))


def doctor(result: DoctorResult) -> str:
    """One test case per check; an error (and with strict, a warning) fails it, `skipped` is a skipped case."""
    counted = failing(result.strict)
    cases = []
    for group in result.groups():
        for c in group.checks:
            name = f"{c.id} ({c.login})" if c.login else c.id
            body = f"{c.status}: {c.message}" + (f"\n{c.explained}" if c.explained else "")
            failures = [Failure(c.message, body, c.status)] if c.status in counted else []
            cases.append(Case(group.suite, name, failures, skipped=c.status == "skipped"))
    return document("notifycfg doctor", cases)
