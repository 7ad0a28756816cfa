"""GitHub-flavored Markdown: a report that reads well in a pull-request comment or $GITHUB_STEP_SUMMARY.

Each report is a one-line verdict with its counts, a table per partition, organization
or endpoint, and the long details folded in `<details>`. Every value that came from
outside (configs, the platform, SMTP servers, captured mail) goes through `md()`, so
the only elements and links in the output are the ones written here.
"""

from __future__ import annotations

import html
import string
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from notifycfg.config.validate import ValidationResult
from notifycfg.outside import visible
from notifycfg.report.text import show, summary

if TYPE_CHECKING:  # reporters only read other rooms' results
    from notifycfg.compile.diff import DiffResult
    from notifycfg.doctor.model import DoctorResult
    from notifycfg.notify.check import CheckResult
    from notifycfg.notify.flows import FlowsResult
    from notifycfg.platform.bridge import ApplyResult
    from notifycfg.platform.plan import PartitionPlan, PlanResult
    from notifycfg.promote.promotion import Outcome as Promotion

LIMIT = 60_000  # GitHub refuses a comment over 65,536 characters; the step summary caps at 1 MiB
_PUNCTUATION = frozenset(string.punctuation)


def md(value: object) -> str:
    """Outside text as literal Markdown text, safe in a paragraph or a table cell.

    Every ASCII punctuation character is backslash-escaped, so no emphasis, link, HTML
    tag, table pipe or code span can start; `@` is followed by an empty HTML comment,
    because GFM links `user@host.tld` whatever the escapes (bare URLs and `www.` are
    already broken by the escaped `:` and `.`).
    """
    text = value if isinstance(value, str) else show(value)
    out = []
    for ch in visible(text):
        if ch == "@":
            out.append("\\@<!-- -->")
        elif ch in _PUNCTUATION:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def shown(value: object) -> str:
    """A config value as JSON (strings quoted, so `"no"` and `false` never look alike), escaped."""
    return md(show(value))


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """Cells are already Markdown (escaped by the caller); a blank line after, so what follows is not a row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def html_text(value: str) -> str:
    """Outside text inside an HTML block (`<summary>`), where Markdown's backslash escapes do nothing:
    control and format characters shown as escapes, then HTML-escaped (quotes too)."""
    return html.escape(visible(value), quote=True)


def details(summary: str, body: list[str]) -> list[str]:
    """A folded section: `summary` is plain text (escaped here, as HTML); the blank lines let Markdown inside it render."""
    return ["<details>", f"<summary>{html_text(summary)}</summary>", "", *body, "</details>", ""]


def document(lines: list[str], whole: str = "--format text") -> str:
    """The report, cut to LIMIT characters at a line, any open <details> closed, and a last line saying what was left out."""
    text = "\n".join(lines).rstrip("\n") + "\n"
    if len(text) <= LIMIT:
        return text
    kept: list[str] = []
    size, opened = 0, 0
    for line in lines:
        if size + len(line) + 1 > LIMIT - 400:  # room for a closing tag and the notice
            break
        kept.append(line)
        size += len(line) + 1
        opened += (line == "<details>") - (line == "</details>")
    left_lines, left = len(lines) - len(kept), len(text) - size
    kept += ["", "</details>"] * opened
    kept += [
        "",
        f"**Cut here:** {left:,} more characters ({left_lines:,} lines) are left out of this report. "
        f"Run the same command with `{whole}` to see all of it.",
    ]
    return "\n".join(kept) + "\n"


def _verdict(ok: bool, what: str, counts: str) -> str:
    return f"**{what}: {'✅ ok' if ok else '❌ failed'}**: {counts}"


def validation_table(result: ValidationResult) -> list[str]:
    rows = [[md(p.position), p.severity, md(p.rule), md(p.message)] for p in result.problems]
    return table(["where", "severity", "rule", "message"], rows) if rows else []


def validation(result: ValidationResult, strict: bool = False, verbose: bool = False) -> str:
    notices = f", {result.notices} notice(s)" if result.notices else ""
    counts = f"{result.files} file(s), {result.errors} error(s), {result.warnings} warning(s){notices}"
    head = _verdict(result.ok(strict), "validate", counts)
    return document([head, "", *validation_table(result)])


def _plan_row(plan: PartitionPlan) -> list[str]:
    if plan.error is not None:
        status = f"❌ failed: {md(plan.error.kind)}: {md(plan.error.message)}"
    elif plan.drift:
        status = f"⚠️ drift: the platform holds {md(', '.join(plan.drift))}; apply \\-\\-reset deletes {len(plan.reset_rows)} setting\\(s\\)"
    elif plan.partition.target is None:
        status = "in sync (platform defaults)"
    elif plan.in_sync:
        status = "in sync"
    else:
        status = f"{len(plan.changes) + bool(plan.password_reason)} change(s)"
    return [md(plan.partition.name), md(plan.partition.guid), status]


def _plan_details(plan: PartitionPlan) -> list[str]:
    from notifycfg.platform.mapping import DEFAULTED, PASSWORD

    if plan.error is not None or plan.drift or plan.in_sync:
        return []
    rows = [
        [md(c.key), shown(c.old) if c.old is not None else "(unset)", shown(c.new) if c.new is not None else md(DEFAULTED)]
        for c in plan.changes
    ]
    if plan.password_reason:
        rows.append([md(PASSWORD), "(secret)", f"written ({md(plan.password_reason)})"])
    return details(f"{plan.partition.name}: {len(rows)} change(s)", table(["key", "platform now", "repository"], rows))


def platform_plan(result: PlanResult) -> str:
    plans, pending, failed = result.plans, result.pending, result.unreadable
    counts = f"{pending} partition(s) to change, {len(plans) - pending - failed} in sync, {failed} unreadable, of {len(plans)}"
    state = "❌ failed" if failed else "📝 changes pending" if pending else "✅ in sync"
    head = f"**plan: {state}**: {counts}"
    lines = [head, "", *table(["organization", "partition", "status"], map(_plan_row, plans))]
    for plan in plans:
        lines += _plan_details(plan)
    return document(lines, "--format json")


def platform_apply(result: ApplyResult) -> str:
    outcomes, requests = result.outcomes, result.requests
    summary = ", ".join(f"{n} {status}" for status, n in result.counts.items())
    deleted = f", {requests['DELETE']} DELETE" if requests.get("DELETE") else ""
    head = _verdict(result.ok, "apply", f"{summary}; requests: {requests.get('GET', 0)} GET, {requests.get('PUT', 0)} PUT{deleted}")
    rows = [[md(o.plan.partition.name), md(o.plan.partition.guid), o.status, md(o.reason)] for o in outcomes]
    return document([head, "", *table(["organization", "partition", "result", "reason"], rows)], "--format json")


def diff(result: DiffResult) -> str:
    counts = f"{len(result.added)} added, {len(result.removed)} removed, {len(result.changed)} changed"
    head = f"**diff {md(result.a)} → {md(result.b)}: {'no difference' if result.equal else counts}**"
    rows = [[md(org), f"only in {md(result.b)}"] for org in result.added]
    rows += [[md(org), f"only in {md(result.a)}"] for org in result.removed]
    rows += [[md(org), f"{len(found)} value(s) differ"] for org, found in result.changed.items()]
    lines = [head, "", *(table(["organization", "difference"], rows) if rows else [])]
    for org, found in result.changed.items():
        body = table(["key", md(result.a), md(result.b)], [[md(c.path), shown(c.old), shown(c.new)] for c in found])
        lines += details(f"{org}: {len(found)} value(s)", body)
    return document(lines)


def promotion(outcome: Promotion, dry_run: bool) -> str:
    plan = outcome.plan
    files = [f for f in plan.files if not f.skipped]
    done = "dry run: nothing written" if dry_run else f"wrote {len(outcome.written)} file(s)"
    head = f"**promote {md(plan.source)} → {md(plan.target)}: {'nothing to promote' if plan.empty else f'{len(files)} file(s)'}** ({done})"
    rows = [[md(f.name), "removal skipped (pass --allow-removals to remove it)" if f.skipped else f.action] for f in plan.files]
    lines = [head, "", *(table(["file", "action"], rows) if rows else [])]
    for f in files:
        if f.action == "changed":
            body = table(["key", "now", "promoted"], [[md(c.path), shown(c.old), shown(c.new)] for c in f.changes])
            lines += details(f"{f.name}: {len(f.changes)} value(s)", body)
    return document(lines)


def doctor(result: DoctorResult) -> str:
    head = _verdict(result.ok, "doctor", result.summary())
    verdicts, senders = result.org_verdicts(), result.sender_verdicts()
    endpoint, sender = result.org_endpoint, result.org_sender
    rows = [  # a part --only left out is "—"
        [md(org), md(str(endpoint[org])) if org in endpoint else "—", verdicts.get(org, "—")]
        + [md(str(sender[org])) if org in sender else "—", senders.get(org, "—")]
        for org in sorted(set(endpoint) | set(sender))
    ]
    lines = [head, "", *table(["organization", "endpoint", "verdict", "sender", "sender verdict"], rows)]
    for group in result.groups():
        said = [md(c.message) + (f" — {md(c.explained)}" if c.explained else "") for c in group.checks]
        body = table(["check", "status", "message"], [[md(c.id), c.status, text] for c, text in zip(group.checks, said, strict=True)])
        lines += details(f"{group.title} ({group.verdict}), used by {', '.join(group.orgs)}", body)
    return document(lines, "--format json")


def _flows_lines(run: FlowsResult) -> list[str]:
    results = run.results
    head = _verdict(run.ok, "flows", f"{run.passed} passed, {len(results) - run.passed} failed")
    rows = [
        [md(r.flow.name), md(r.flow.org), md(r.flow.event), "✅ pass" if r.passed else "❌ fail", md(r.outcome), str(r.messages)]
        for r in results
    ]
    lines = [head, "", *(table(["flow", "organization", "event", "result", "outcome", "messages"], rows) if rows else [])]
    for r in results:
        if r.failures:
            lines += details(f"{r.flow.name}: {len(r.failures)} failure(s)", [f"- {md(f)}" for f in r.failures] + [""])
    return lines


def flows(run: FlowsResult) -> str:
    return document(_flows_lines(run))


def check(result: CheckResult) -> str:
    v = result.validation
    lines = [_verdict(result.ok, "check", "validate, compile and flows"), ""]
    lines += [f"- validate: {summary(v, result.strict)}"]
    compiled = "skipped (the environment is not valid)" if result.compiled is None else f"ok, {result.compiled} organization(s)"
    lines += [f"- compile: {compiled}", "", *validation_table(v)]
    if result.flows is not None:
        lines += _flows_lines(result.flows)
    return document(lines)
