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
    from notifycfg.notify.check import CheckResult
    from notifycfg.notify.flows import FlowsResult
    from notifycfg.platform.bridge import ApplyResult
    from notifycfg.platform.plan import PartitionPlan, PlanResult
    from notifycfg.promote.plan import Plan
    from notifycfg.promote.promotion import Outcome as Promotion


def show(value: object) -> str:
    """A value as JSON: strings quoted, so `"no"` and `false` never look alike."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def summary(result: ValidationResult, strict: bool = False) -> str:
    verdict = "ok" if result.ok(strict) else "failed"
    notices = f", {result.notices} notice(s)" if result.notices else ""  # named only when there are some
    return f"{verdict}: {result.files} file(s), {result.errors} error(s), {result.warnings} warning(s){notices}"


def validation(result: ValidationResult, strict: bool = False, verbose: bool = False) -> str:
    """`file:line:column: severity RULE message` per problem; silent on success unless verbose."""
    lines = [p.line_text() for p in result.problems]
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


def diff(result: DiffResult) -> str:
    if result.equal:
        return ""
    a, b = result.a, result.b
    lines = [f"--- {a}", f"+++ {b}"]
    lines += [f"+ {org}: only in {b}" for org in result.added]
    lines += [f"- {org}: only in {a}" for org in result.removed]
    for org, found in result.changed.items():
        lines.append(f"~ {org}")
        lines += [f"    {c.path}: {show(c.old)} -> {show(c.new)}" for c in found]
    return _lines(lines)


def flows(run: FlowsResult) -> str:
    results = run.results
    lines = []
    for r in results:
        verdict = "PASS" if r.passed else "FAIL"
        lines.append(f"{verdict} {r.flow.name} ({r.flow.org}, {r.flow.event}): {r.outcome}, {r.messages} message(s), {r.seconds:.2f}s")
        lines += [f"    - {failure}" for failure in r.failures]
    lines.append(f"flows: {run.passed} passed, {len(results) - run.passed} failed")
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


def promotion(outcome: Promotion, dry_run: bool) -> str:
    out = plan(outcome.plan)
    if dry_run:
        out += "dry run: nothing written\n"
    elif outcome.written:
        out += f"wrote {len(outcome.written)} file(s); audit line appended to {outcome.plan.target}/{outcome.audit_file}\n\n"
        out += outcome.commit_message
    return out


def check(result: CheckResult) -> str:
    v = result.validation
    out = validation(v, result.strict) + f"validate: {summary(v, result.strict)}\n"
    if result.compiled is None or result.flows is None:
        return out + "check: failed (compile and flows skipped: the environment is not valid)\n"
    out += f"compile: ok, {result.compiled} organization(s)\n" + flows(result.flows)
    return out + f"check: {'ok' if result.ok else 'failed'}\n"


def doctor(result: DoctorResult) -> str:
    """Per organization its endpoint and sender and their verdicts; then per endpoint and per sender pair its checks."""
    lines = [f"{org}: {result.org_endpoint[org]}: {verdict}" for org, verdict in result.org_verdicts().items()]
    lines += [f"{org}: sender {result.org_sender[org]}: {verdict}" for org, verdict in result.sender_verdicts().items()]
    for group in result.groups():
        lines += ["", f"{group.title}, used by {', '.join(group.orgs)}"]
        for c in group.checks:
            lines.append(f"  {c.status:<8} {c.id:<9} {c.message}")
            if c.explained:
                lines.append(f"  {'':<8} {'':<9} {c.explained}")
    lines += ["", f"doctor: {'ok' if result.ok else 'failed'}: {result.summary()}"]
    return _lines(lines)


def _partition(plan: PartitionPlan) -> str:
    return f"{plan.partition.name} ({plan.partition.guid})"


def _plan_lines(plan: PartitionPlan) -> list[str]:
    from notifycfg.platform.mapping import DEFAULTED, PASSWORD

    name = plan.partition.name
    if plan.error is not None:
        return [f"{_partition(plan)}: failed: {plan.error.kind}: {plan.error.message}"]
    if plan.drift:
        rows = plan.reset_rows
        return [
            f"{_partition(plan)}: drift: the platform holds {', '.join(plan.drift)}, but the repository leaves {name} at the "
            f"platform's defaults; reset: delete {len(rows)} setting(s) ({', '.join(r.key for r in rows)}); {name} then uses "
            "the host's settings (apply --reset)"
        ]
    if plan.partition.target is None:
        return [f"{_partition(plan)}: in sync (the platform's default mail settings; nothing written)"]
    if plan.in_sync:
        return [f"{_partition(plan)}: in sync"]
    lines = [f"{_partition(plan)}: {len(plan.changes) + bool(plan.password_reason)} change(s)"]
    lines += [
        f"    {c.key}: {show(c.old) if c.old is not None else '(unset)'} -> {show(c.new) if c.new is not None else DEFAULTED}"
        for c in plan.changes
    ]
    if plan.password_reason:
        lines.append(f"    {PASSWORD}: written ({plan.password_reason})")
    if plan.partition.crosses:
        lines.append(
            f"    note: {name} overrides only its sender, so its partition becomes custom and receives the host's "
            "server, login and password"
        )
    return lines


def platform_plan(result: PlanResult) -> str:
    plans = result.plans
    lines = [line for plan in plans for line in _plan_lines(plan)]
    pending, failed = result.pending, result.unreadable
    verdict = (
        "in sync" if not pending and not failed else f"{pending} partition(s) to change" + (f", {failed} unreadable" if failed else "")
    )
    lines.append(f"plan: {verdict}, {len(plans)} partition(s)")
    return _lines(lines)


def platform_apply(result: ApplyResult) -> str:
    outcomes, requests = result.outcomes, result.requests
    lines = [f"{_partition(o.plan)}: {o.status}" + (f": {o.reason}" if o.reason else "") for o in outcomes]
    lines.append(
        "apply: "
        + ", ".join(f"{n} {status}" for status, n in result.counts.items() if n or status == "applied")
        + f"; requests: {requests.get('GET', 0)} GET, {requests.get('PUT', 0)} PUT"
        + (f", {requests['DELETE']} DELETE" if requests.get("DELETE") else "")
    )
    return _lines(lines)
