"""Promotion: a semantic plan between two environments, applied to the target's
YAML with comments, key order and formatting kept, then an audit line.

What is environment-local is declared in the schema (`"x-notifycfg-local":
true`: the `email.smtp` server block of the host and of every organization,
and the host's default sender `email.from`): it is never carried. Everything else in host.yaml and
orgs/<id>.yaml is made equal to the source. Flows are not promoted: each
environment keeps its own tests.
"""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from notifycfg.compile.environment import Environment, UnknownOrganization, load_environment
from notifycfg.compile.output import inputs_digest
from notifycfg.config import schema
from notifycfg.config.problems import Refused
from notifycfg.datapath import Change, DataPath, JsonObject, changes, dig, dotted, has_path
from notifycfg.files import write_all

AUDIT_LOG = "promotions.jsonl"
LOCAL_MARK = "x-notifycfg-local"


FileAction = Literal["created", "changed", "removed"]


@dataclass
class FilePlan:
    name: str  # host.yaml, orgs/<id>.yaml
    action: FileAction
    changes: list[Change] = field(default_factory=list)
    skipped: bool = False  # a removal without --allow-removals


@dataclass
class Plan:
    source: str
    target: str
    files: list[FilePlan] = field(default_factory=list)

    @property
    def effective_files(self) -> list[FilePlan]:
        return [f for f in self.files if not f.skipped]

    @property
    def empty(self) -> bool:
        return not self.effective_files


def local_paths(kind: str) -> frozenset[DataPath]:
    return schema.marked_paths(LOCAL_MARK, kind)


def _portable(data: dict[str, Any], kind: str) -> dict[str, Any]:
    """`data` without its environment-local blocks (nor the parents they leave empty)."""
    out = copy.deepcopy(data)
    for path in local_paths(kind):
        chain: list[dict[Any, Any]] = [out]
        for part in path[:-1]:
            child = chain[-1].get(part)
            if not isinstance(child, dict):
                break
            chain.append(child)
        else:
            if chain[-1].pop(path[-1], None) is None:
                continue
            for parent, part in zip(reversed(chain[:-1]), reversed(path[:-1]), strict=True):
                if parent[part]:
                    break
                del parent[part]
    return out


def _has_local(data: dict[str, Any], kind: str) -> list[DataPath]:
    return [path for path in local_paths(kind) if has_path(data, path)]


def plan(src: Environment, dst: Environment, orgs: list[str] | None, allow_removals: bool) -> Plan:
    result = Plan(src.root.as_posix(), dst.root.as_posix())
    host_changes = changes(_portable(dst.host.data, "host"), _portable(src.host.data, "host"))
    if host_changes and orgs is None:
        result.files.append(FilePlan("host.yaml", "changed", host_changes))
    missing: list[str] = []
    chosen = sorted(set(src.orgs) | set(dst.orgs)) if orgs is None else orgs
    for org in chosen:
        name = f"orgs/{org}.yaml"
        if org not in src.orgs:
            result.files.append(FilePlan(name, "removed", skipped=not allow_removals))
            continue
        src_data = src.orgs[org].data
        dst_data = dst.orgs[org].data if org in dst.orgs else None
        for path in _has_local(src_data, "org"):
            if dst_data is None or path not in _has_local(dst_data, "org"):
                block = dig(src_data, path)
                keys = ", ".join(f"{dotted(path)}.{k}" for k in block) if isinstance(block, dict) else dotted(path)
                missing.append(f"{name}: `{dotted(path)}` is environment-local; define it in {dst.root.as_posix()}/{name} first ({keys})")
        if dst_data is None:
            result.files.append(FilePlan(name, "created", changes({}, _portable(src_data, "org"))))
        else:
            found = changes(_portable(dst_data, "org"), _portable(src_data, "org"))
            if found:
                result.files.append(FilePlan(name, "changed", found))
    if missing:
        raise Refused("the target lacks environment-local settings the source relies on", missing)
    return result


# --- applying a plan: round-trip YAML ---------------------------------------------------------


def _yaml() -> Any:
    from ruamel.yaml import YAML

    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    rt.indent(mapping=2, sequence=4, offset=2)
    return rt


def _sync(target: Any, source: Any, local: frozenset[DataPath], path: DataPath = ()) -> None:
    """Make `target`'s portable keys equal `source`'s, touching nothing that is already equal."""
    for key in list(target):
        here = path + (key,)
        if here in local or key in source:
            continue
        if any(p[: len(here)] == here for p in local) and isinstance(target[key], dict):
            _sync(target[key], {}, local, here)  # keep the local block inside
            if not target[key]:
                del target[key]
        else:
            del target[key]
    for key, value in source.items():
        here = path + (key,)
        if here in local:
            continue
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _sync(current, value, local, here)
        elif key not in target or _plain(current) != _plain(value):
            target[key] = value


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _render_file(dst_file: Path, src_file: Path, kind: str, exists: bool) -> bytes:
    if not exists:
        return src_file.read_bytes()  # a new organization: the reviewed source file, comments and all
    from ruamel.yaml.comments import CommentedMap

    rt = _yaml()
    original = dst_file.read_text(encoding="utf-8")
    target = rt.load(original)
    source = rt.load(src_file.read_text(encoding="utf-8")) or CommentedMap()
    # A file of comments only loads as nothing: its comments stay on top.
    header = "".join(line for line in original.splitlines(keepends=True) if line.startswith("#")) if target is None else ""
    if target is None:
        target = CommentedMap()
    _sync(target, source, local_paths(kind))
    if not target:
        return header.encode("utf-8")
    out = io.StringIO()
    rt.dump(target, out)
    return (header + out.getvalue()).encode("utf-8")


@dataclass
class Outcome:
    plan: Plan
    written: list[str]
    audit: JsonObject | None


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
        else _render_file(dst.root / f.name, src.root / f.name, "host" if f.name == "host.yaml" else "org", (dst.root / f.name).exists())
        for f in the_plan.effective_files
    }
    _check_result(dst, contents)
    before = inputs_digest(dst)
    write_all(dst.root, contents)
    after_env, _ = load_environment(target)
    record = _audit(the_plan, before, inputs_digest(after_env) if after_env else None)
    with open(dst.root / AUDIT_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
    return Outcome(the_plan, sorted(contents), record)


def _check_result(dst: Environment, contents: dict[str, bytes | None]) -> None:
    """Validate the would-be target in memory, under its real file names, before touching it."""
    documents = {dst.root / name: data for name, data in contents.items()}
    result_env, result = load_environment(dst.root.as_posix(), documents=documents)
    if result_env is None:
        raise Refused("the promoted target would not be valid; nothing was written", result.error_lines())


def actor() -> str:
    """Who promoted: git's configured user, else the login name."""
    try:
        name = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True, timeout=5).stdout.strip()
        mail = subprocess.run(["git", "config", "user.email"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = mail = ""
    if name:
        return f"{name} <{mail}>" if mail else name
    return os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown"


def _audit(the_plan: Plan, before: str, after: str | None) -> dict[str, Any]:
    return {
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "actor": actor(),
        "source": the_plan.source,
        "target": the_plan.target,
        "files": {f.name: {"action": f.action, "keys": [c.path for c in f.changes]} for f in the_plan.effective_files},
        "inputs_sha256_before": before,
        "inputs_sha256_after": after,
    }


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
