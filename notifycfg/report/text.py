"""Plain-text reports: what a person reads in a terminal or a CI log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from notifycfg.config.validate import ValidationResult

if TYPE_CHECKING:  # reporters only read other rooms' results
    from notifycfg.compile.diff import DiffResult
    from notifycfg.compile.explain import Explained
    from notifycfg.doctor.model import DoctorResult
    from notifycfg.notify.flows import FlowResult
    from notifycfg.promote.promotion import Plan


def show(value: object) -> str:
    """A value as JSON: strings quoted, so `"no"` and `false` never look alike."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def summary(result: ValidationResult, strict: bool = False) -> str:
    verdict = "ok" if result.ok(strict) else "failed"
    return f"{verdict}: {result.files} file(s), {result.errors} error(s), {result.warnings} warning(s)"


def validation(result: ValidationResult, strict: bool = False, verbose: bool = False) -> str:
    """`file:line:column: severity RULE message` per problem; silent on success unless verbose."""
    lines = [f"{p.file}:{p.line}:{p.column}: {p.severity} {p.rule} {p.message}" for p in result.problems]
    if verbose or lines:
        lines.append(summary(result, strict))
    return _lines(lines)


def _lines(lines: Sequence[str]) -> str:
    return "\n".join(lines) + "\n" if lines else ""


def explain(items: Sequence[Explained]) -> str:
    lines = []
    for item in items:
        line = f"{item.path} = {show(item.value)}    {item.origin}"
        if item.overridden:
            line += f" (overrides {', '.join(item.overridden)})"
        lines.append(line)
    notes = dict.fromkeys(item.note for item in items if item.note)
    lines += [f"note: {note}" for note in notes]
    return _lines(lines)


def diff(result: DiffResult, a: str, b: str) -> str:
    if result.equal:
        return ""
    lines = [f"--- {a}", f"+++ {b}"]
    lines += [f"+ {org}: only in {b}" for org in result.added]
    lines += [f"- {org}: only in {a}" for org in result.removed]
    for org, found in result.changed.items():
        lines.append(f"~ {org}")
        lines += [f"    {c.path}: {show(c.old)} -> {show(c.new)}" for c in found]
    return _lines(lines)


def flows(results: Sequence[FlowResult]) -> str:
    lines = []
    for r in results:
        verdict = "PASS" if r.passed else "FAIL"
        lines.append(f"{verdict} {r.flow.name} ({r.flow.org}, {r.flow.event}): {r.outcome}, {r.messages} message(s), {r.seconds:.2f}s")
        lines += [f"    - {failure}" for failure in r.failures]
    passed = sum(r.passed for r in results)
    lines.append(f"flows: {passed} passed, {len(results) - passed} failed")
    return _lines(lines)


def plan(the_plan: Plan) -> str:
    lines = [f"promote {the_plan.source} -> {the_plan.target}"]
    for f in the_plan.files:
        if f.skipped:
            lines.append(f"  {f.name}: removal skipped (pass --allow-removals to remove it)")
            continue
        lines.append(f"  {f.name}: {f.action}")
        if f.action == "changed":
            lines += [f"      {c.path}: {show(c.old)} -> {show(c.new)}" for c in f.changes]
    if the_plan.empty:
        lines.append("  nothing to promote")
    return _lines(lines)


def doctor(result: DoctorResult, strict: bool = False) -> str:
    """Per organization its endpoint and verdict; then per endpoint its checks."""
    verdicts = result.org_verdicts()
    lines = [f"{org}: {result.org_endpoint[org]}: {verdict}" for org, verdict in verdicts.items()]
    for probed in result.probed:
        lines += ["", f"{probed.endpoint}, used by {', '.join(probed.orgs)}"]
        lines += [f"  {c.status:<8} {c.id:<9} {c.message}" for c in probed.checks]
    errors = sum(c.status == "error" for p in result.probed for c in p.checks)
    warnings = sum(c.status == "warning" for p in result.probed for c in p.checks)
    verdict = "ok" if result.ok(strict) else "failed"
    lines += ["", f"doctor: {verdict}: {len(result.probed)} endpoint(s), {errors} error(s), {warnings} warning(s)"]
    return _lines(lines)
