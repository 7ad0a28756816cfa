"""A promotion's summary, written to serve as its commit message."""

from __future__ import annotations

from notifycfg.promote.plan import Plan


def commit_message(the_plan: Plan) -> str:
    counts: dict[str, int] = {}
    for f in the_plan.effective_files:
        counts[f.action] = counts.get(f.action, 0) + 1
    parts = [f"{n} {action}" for action, n in sorted(counts.items())]
    lines = [f"Promote {the_plan.source} -> {the_plan.target}: {', '.join(parts) or 'no changes'}", ""]
    for f in the_plan.effective_files:
        keys = ", ".join(c.path for c in f.changes) if f.action == "changed" else ""
        lines.append(f"- {f.name}: {f.action}" + (f" ({keys})" if keys else ""))
    skipped = [f.name for f in the_plan.files if f.skipped]
    if skipped:
        lines.append(f"- not removed (needs --allow-removals): {', '.join(skipped)}")
    return "\n".join(lines) + "\n"
