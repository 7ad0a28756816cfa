"""JSON reports: one object per run, for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from notifycfg.config.validate import ValidationResult
from notifycfg.datapath import Json

if TYPE_CHECKING:  # reporters only read other rooms' results
    from notifycfg.compile.diff import DiffResult
    from notifycfg.compile.explain import Explained
    from notifycfg.doctor.facts import Fact
    from notifycfg.doctor.model import Check, CheckId, DoctorResult, Status
    from notifycfg.platform.bridge import ApplyResult
    from notifycfg.platform.plan import PartitionPlan, PlanResult


def dumps(body: Json) -> str:
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def validation(result: ValidationResult, strict: bool = False, verbose: bool = False) -> str:
    return dumps({"ok": result.ok(strict), "files": result.files, "problems": [p.as_dict() for p in result.problems]})


def explain(items: Sequence[Explained]) -> str:
    return dumps([{"path": i.path, "value": i.value, "origin": i.origin, "overrides": list(i.overridden), "note": i.note} for i in items])


def diff(result: DiffResult) -> str:
    changed = {org: [{"path": c.path, "old": c.old, "new": c.new} for c in found] for org, found in result.changed.items()}
    return dumps(
        {"equal": result.equal, "a": result.a, "b": result.b, "added": result.added, "removed": result.removed, "changed": changed}
    )


class ExplanationJson(TypedDict):
    provider: str
    cause: str
    fix: str
    source: str
    notes: list[str]


class CheckJson(TypedDict):
    id: CheckId
    status: Status
    message: str
    login: str | None
    code: str
    facts: dict[str, Fact]
    explanation: NotRequired[ExplanationJson]  # a refusal the relay catalogue explains


class OrgJson(TypedDict):
    endpoint: str | None
    verdict: Status | None
    sender: str | None
    sender_verdict: Status | None


class EndpointJson(TypedDict):
    host: str
    port: int
    secure: bool
    orgs: list[str]
    checks: list[CheckJson]


class SenderJson(TypedDict):
    domain: str
    relay: str
    sending_ips: list[str]
    orgs: list[str]
    checks: list[CheckJson]


def _checks(checks: list[Check]) -> list[CheckJson]:
    out: list[CheckJson] = []
    for c in checks:
        one: CheckJson = {"id": c.id, "status": c.status, "message": c.message, "login": c.login, "code": c.code, "facts": dict(c.facts)}
        if c.explanation is not None:
            e = c.explanation
            one["explanation"] = {"provider": e.provider, "cause": e.cause, "fix": e.fix, "source": e.source, "notes": list(e.notes)}
        out.append(one)
    return out


def _org(result: DoctorResult, org: str, verdicts: dict[str, Status], senders: dict[str, Status]) -> OrgJson:
    endpoint, sender = result.org_endpoint.get(org), result.org_sender.get(org)
    return {
        "endpoint": str(endpoint) if endpoint else None,
        "verdict": verdicts.get(org),
        "sender": str(sender) if sender else None,
        "sender_verdict": senders.get(org),
    }


def doctor(result: DoctorResult) -> str:
    verdicts, senders = result.org_verdicts(), result.sender_verdicts()
    orgs = sorted(set(result.org_endpoint) | set(result.org_sender))
    endpoints: list[EndpointJson] = [
        {"host": p.endpoint.host, "port": p.endpoint.port, "secure": p.endpoint.secure, "orgs": p.orgs, "checks": _checks(p.checks)}
        for p in result.probed or []
    ]
    pairs: list[SenderJson] = [
        {"domain": s.domain, "relay": s.relay, "sending_ips": s.sending_ips, "orgs": s.orgs, "checks": _checks(s.checks)}
        for s in result.senders or []
    ]
    return dumps(
        {
            "ok": result.ok,
            "orgs": {org: _org(result, org, verdicts, senders) for org in orgs},
            "endpoints": None if result.probed is None else endpoints,
            "senders": None if result.senders is None else pairs,
        }
    )


def _plan(plan: PartitionPlan) -> dict[str, Any]:
    return {
        "partition": plan.partition.name,
        "partitionGlobalId": plan.partition.guid,
        "defaults": plan.partition.target is None,
        "in_sync": plan.in_sync,
        "changes": [{"key": c.key, "old": c.old, "new": c.new} for c in plan.changes],
        "password": plan.password_reason,
        "credentials_from_host": plan.partition.crosses,
        "drift": plan.drift,
        "reset": [{"id": r.id, "key": r.key} for r in plan.reset_rows],
        "error": {"class": plan.error.kind, "message": plan.error.message} if plan.error else None,
    }


def platform_plan(result: PlanResult) -> str:
    return dumps({"in_sync": result.ok, "partitions": [_plan(p) for p in result.plans]})


def platform_apply(result: ApplyResult) -> str:
    return dumps(
        {
            "ok": result.ok,
            "partitions": [{**_plan(o.plan), "status": o.status, "reason": o.reason} for o in result.outcomes],
            "requests": result.requests,
        }
    )
