"""Promotion: plan (plan.py), check the would-be target in memory, write it all or nothing with
comments kept (roundtrip.py), then append an audit line (audit.py). Flows are not promoted: each
environment keeps its own tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from notifycfg.compile.environment import Environment, UnknownOrganization, load_environment
from notifycfg.compile.output import inputs_digest
from notifycfg.config.problems import Refused
from notifycfg.datapath import JsonObject
from notifycfg.files import write_all
from notifycfg.promote import audit
from notifycfg.promote.audit import AUDIT_LOG
from notifycfg.promote.message import commit_message
from notifycfg.promote.plan import Plan, plan
from notifycfg.promote.roundtrip import render_file

__all__ = ["AUDIT_LOG", "Outcome", "Plan", "commit_message", "promote"]


@dataclass
class Outcome:
    plan: Plan
    written: list[str]
    audit: JsonObject | None
    audit_file: str = AUDIT_LOG

    @property
    def commit_message(self) -> str:
        return commit_message(self.plan)


def promote(source: str, target: str, orgs: list[str] | None = None, allow_removals: bool = False, dry_run: bool = False) -> Outcome:
    src, src_result = load_environment(source)
    if src is None:
        raise Refused(f"the source {source} is not valid", src_result.error_lines())
    dst, dst_result = load_environment(target)
    if dst is None:
        raise Refused(f"the target {target} is not valid", dst_result.error_lines())
    unknown = sorted(set(orgs or []) - set(src.orgs) - set(dst.orgs))
    if unknown:
        raise UnknownOrganization(unknown, "either environment")
    the_plan = plan(src, dst, sorted(set(orgs)) if orgs else None, allow_removals)
    if dry_run or the_plan.empty:
        return Outcome(the_plan, [], None)
    contents = {
        f.name: None
        if f.action == "removed"
        else render_file(dst.root / f.name, src.root / f.name, "host" if f.name == "host.yaml" else "org", (dst.root / f.name).exists())
        for f in the_plan.effective_files
    }
    _check_result(dst, contents)
    before = inputs_digest(dst)
    write_all(dst.root, contents)
    after_env, _ = load_environment(target)
    line = audit.record(the_plan, before, inputs_digest(after_env) if after_env else None)
    audit.append(dst.root, line)
    return Outcome(the_plan, sorted(contents), line)


def _check_result(dst: Environment, contents: dict[str, bytes | None]) -> None:
    """Validate the would-be target in memory, under its real file names, before touching it."""
    documents = {dst.root / name: data for name, data in contents.items()}
    result_env, result = load_environment(dst.root.as_posix(), documents=documents)
    if result_env is None:
        raise Refused("the promoted target would not be valid; nothing was written", result.error_lines())
