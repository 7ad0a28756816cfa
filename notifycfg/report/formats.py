"""Result objects -> text, json, github annotations, JUnit XML.

Reporters only read results; they never decide what is a problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from notifycfg.config.problems import Problem

if TYPE_CHECKING:  # result types of other rooms; reporters only read them
    from notifycfg.compile.diff import DiffResult
    from notifycfg.compile.explain import Explained
    from notifycfg.notify.flows import FlowResult
    from notifycfg.promote.promotion import Plan
from notifycfg.config.rules import RULES
from notifycfg.config.validate import ValidationResult

FORMATS = ("text", "json", "github", "junit")


def text(result: ValidationResult, strict: bool = False, verbose: bool = False) -> str:
    lines = [f"{p.file}:{p.line}:{p.column}: {p.severity} {p.rule} {p.message}" for p in result.problems]
    if verbose or lines:
        lines.append(summary(result, strict))
    return "\n".join(lines) + "\n" if lines else ""


def summary(result: ValidationResult, strict: bool = False) -> str:
    verdict = "ok" if result.ok(strict) else "failed"
    return f"{verdict}: {result.files} file(s), {result.errors} error(s), {result.warnings} warning(s)"


def as_json(result: ValidationResult, strict: bool = False, verbose: bool = False) -> str:
    body = {"ok": result.ok(strict), "files": result.files, "problems": [p.as_dict() for p in result.problems]}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def _gh_escape(value: str, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if prop else value


def github(result: ValidationResult, strict: bool = False, verbose: bool = False) -> str:
    lines = []
    for p in result.problems:
        title = _gh_escape(f"{p.rule} {RULES[p.rule].name}", prop=True)
        where = f"file={_gh_escape(p.file, True)},line={p.line},col={p.column},title={title}"
        lines.append(f"::{p.severity} {where}::{_gh_escape(p.message)}")
    return "\n".join(lines) + "\n" if lines else ""


def _failure(p: Problem) -> str:
    detail = f"{p.file}:{p.line}:{p.column}: {p.message}"
    kind = "failure" if p.severity == "error" else "warning"
    return f"      <failure message={quoteattr(p.message)} type={quoteattr(p.rule)}>{_xml_text(f'{kind}: {detail}')}</failure>"


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(value: str) -> str:
    # By hand: xml.sax.saxutils costs 14 ms of imports, html 1 ms, on a path pre-commit runs.
    escaped = _xml_text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return f'"{escaped}"'



def junit(result: ValidationResult, strict: bool = False, verbose: bool = False) -> str:
    by_file: dict[str, list[Problem]] = {path: [] for path in result.paths}
    for p in result.problems:
        by_file.setdefault(p.file, []).append(p)
    failing = {"error", "warning"} if strict else {"error"}
    cases, failures = [], 0
    for path, problems in by_file.items():
        counted = [p for p in problems if p.severity in failing]
        failures += bool(counted)
        body = "".join("\n" + _failure(p) for p in counted)
        close = f">{body}\n    </testcase>" if body else " />"
        cases.append(f"    <testcase classname=\"notifycfg.validate\" name={quoteattr(path)}{close}")
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
        f'  <testsuite name="notifycfg validate" tests="{len(by_file)}" failures="{failures}" errors="0">'
    )
    return "\n".join([head, *cases, "  </testsuite>", "</testsuites>"]) + "\n"


REPORTERS: dict[str, Callable[..., str]] = {"text": text, "json": as_json, "github": github, "junit": junit}


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def explain_text(items: list[Explained]) -> str:
    lines = []
    for item in items:
        line = f"{item.path} = {_show(item.value)}    {item.origin}"
        if item.overridden:
            line += f" (overrides {', '.join(item.overridden)})"
        lines.append(line)
    notes = dict.fromkeys(item.note for item in items if item.note)
    lines += [f"note: {note}" for note in notes]
    return "\n".join(lines) + "\n"


def explain_json(items: list[Explained]) -> str:
    body = [{"path": i.path, "value": i.value, "origin": i.origin, "overrides": list(i.overridden), "note": i.note}
            for i in items]
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def diff_text(result: DiffResult, a: str, b: str) -> str:
    if result.equal:
        return ""
    lines = [f"--- {a}", f"+++ {b}"]
    lines += [f"+ {org}: only in {b}" for org in result.added]
    lines += [f"- {org}: only in {a}" for org in result.removed]
    for org, found in result.changed.items():
        lines.append(f"~ {org}")
        lines += [f"    {c.path}: {_show(c.old)} -> {_show(c.new)}" for c in found]
    return "\n".join(lines) + "\n"


def diff_json(result: DiffResult, a: str, b: str) -> str:
    body = {
        "equal": result.equal, "a": a, "b": b, "added": result.added, "removed": result.removed,
        "changed": {org: [{"path": c.path, "old": c.old, "new": c.new} for c in found]
                    for org, found in result.changed.items()},
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def flows_text(results: list[FlowResult]) -> str:
    lines = []
    for r in results:
        verdict = "PASS" if r.passed else "FAIL"
        lines.append(f"{verdict} {r.flow.name} ({r.flow.org}, {r.flow.event}): {r.outcome}, "
                     f"{r.messages} message(s), {r.seconds:.2f}s")
        lines += [f"    - {failure}" for failure in r.failures]
    passed = sum(r.passed for r in results)
    lines.append(f"flows: {passed} passed, {len(results) - passed} failed")
    return "\n".join(lines) + "\n"


def flows_junit(results: list[FlowResult]) -> str:
    failures = sum(not r.passed for r in results)
    total = sum(r.seconds for r in results)
    cases = []
    for r in results:
        head = (f'    <testcase classname="notifycfg.flows.{_xml_text(r.flow.org)}" name={quoteattr(r.flow.name)} '
                f'file={quoteattr(r.flow.file)} time="{r.seconds:.3f}"')
        if r.passed:
            cases.append(head + " />")
        else:
            body = _xml_text("\n".join(r.failures))
            cases.append(f"{head}>\n      <failure message={quoteattr(r.failures[0])}>{body}</failure>\n    </testcase>")
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>",
        f'  <testsuite name="notifycfg flows" tests="{len(results)}" failures="{failures}" errors="0" time="{total:.3f}">',
        *cases, "  </testsuite>", "</testsuites>",
    ]) + "\n"


def plan_text(plan: Plan) -> str:
    lines = [f"promote {plan.source} -> {plan.target}"]
    for f in plan.files:
        if f.skipped:
            lines.append(f"  {f.name}: removal skipped (pass --allow-removals to remove it)")
            continue
        lines.append(f"  {f.name}: {f.action}")
        if f.action == "changed":
            lines += [f"      {c.path}: {_show(c.old)} -> {_show(c.new)}" for c in f.changes]
    if plan.empty:
        lines.append("  nothing to promote")
    return "\n".join(lines) + "\n"
