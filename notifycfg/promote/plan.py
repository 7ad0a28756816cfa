"""The semantic plan between two environments: which files change, and how.

What is environment-local is declared in the schema (`"x-notifycfg-local":
true`: the `email.smtp` server block of the host and of every organization,
and the host's default sender `email.from`): it is never carried. Everything
else in host.yaml and orgs/<id>.yaml is made equal to the source.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

from notifycfg.compile.environment import Environment
from notifycfg.config import schema
from notifycfg.config.problems import Refused
from notifycfg.datapath import Change, DataPath, changes, dig, dotted, has_path

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
