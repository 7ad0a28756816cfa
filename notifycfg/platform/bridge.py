"""plan, apply and import: the repository and the running platform, kept in step."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Literal, get_args

from notifycfg.compile.environment import Environment
from notifycfg.platform.client import PlatformError, Retry, Row, SettingsClient
from notifycfg.platform.config import PlatformConfig
from notifycfg.platform.mapping import KEYS, PASSWORD, Partition, partitions, same
from notifycfg.platform.plan import PartitionPlan, PlanResult, gather_bounded, make_plan
from notifycfg.secrets import Resolver, SecretError


class NoPlatform(Exception):
    """The environment has no platform.yaml (a usage error)."""


@dataclass(frozen=True)
class Options:
    cafile: str | None = None
    timeout: float = 30.0
    concurrency: int = 8
    rotate_passwords: bool = False
    reset: bool = False  # --reset: delete the email settings of a partition the repository leaves at defaults
    retry: Retry = field(default_factory=Retry)
    proxy: str | None = None  # --proxy; None: HTTPS_PROXY/HTTP_PROXY and NO_PROXY decide


ApplyStatus = Literal["applied", "unchanged", "untouched", "failed"]


@dataclass
class Outcome:
    """apply's verdict for one partition."""

    plan: PartitionPlan
    status: ApplyStatus
    reason: str = ""
    written: bool = False  # a PUT or a DELETE was sent (whatever came of it)


@dataclass(frozen=True)
class ApplyResult:
    """What apply did to each partition, and the requests it took. Exit 0 all applied or nothing to
    do, 1 some partition failed, 2 the platform was unreachable for every partition."""

    outcomes: list[Outcome]
    requests: dict[str, int]

    @property
    def counts(self) -> dict[ApplyStatus, int]:
        """Partitions per status, every status named (in a fixed order), zeros included."""
        return {status: sum(o.status == status for o in self.outcomes) for status in get_args(ApplyStatus)}

    @property
    def ok(self) -> bool:
        return all(o.status in ("applied", "unchanged") for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        unreachable = self.outcomes and all(o.plan.error is not None and o.plan.error.kind == "connection" for o in self.outcomes)
        return 2 if unreachable else 0 if self.ok else 1


def platform_config(env: Environment) -> PlatformConfig:
    doc = next((d for d in env.documents.values() if d.kind == "platform"), None)
    if doc is None:
        raise NoPlatform(f"{env.root.as_posix()} has no platform.yaml: nothing says where its platform is")
    return PlatformConfig.from_data(doc.data)


def env_partitions(env: Environment, config: PlatformConfig, orgs: list[str] | None) -> list[Partition]:
    effective = {org: e.document() for org, e in env.all_effective(orgs).items()}
    chosen = partitions(env.host_data(), effective, config.host_partition, config.orgs)
    return chosen if orgs is None else [p for p in chosen if p.name != "host"]


def _client(config: PlatformConfig, resolve: Resolver, options: Options) -> SettingsClient:
    return SettingsClient(
        config,
        lambda: resolve(config.client_secret),
        cafile=options.cafile,
        timeout=options.timeout,
        retry=options.retry,
        proxy=options.proxy,
    )


async def _planned(client: SettingsClient, chosen: list[Partition], options: Options) -> list[PartitionPlan]:
    await client.token()  # a refused client or an unreachable platform: before anything else
    return await make_plan(client, chosen, options.rotate_passwords, options.concurrency)


def plan(env: Environment, orgs: list[str] | None, resolve: Resolver, options: Options) -> PlanResult:
    """PlatformError for a refused token or an unreachable platform; per-partition errors in the plans."""
    config = platform_config(env)
    chosen = env_partitions(env, config, orgs)

    async def run() -> list[PartitionPlan]:
        async with _client(config, resolve, options) as client:
            return await _planned(client, chosen, options)

    return PlanResult(asyncio.run(run()))


def apply(
    env: Environment, orgs: list[str] | None, resolve: Resolver, options: Options, record: Callable[[Outcome], None] | None = None
) -> ApplyResult:
    """One PUT per partition with exactly the changed keys, then a read-back; (outcomes, request counts).
    `record` hears of each partition written as soon as its outcome is known (the --audit log)."""
    config = platform_config(env)
    chosen = env_partitions(env, config, orgs)

    async def run() -> ApplyResult:
        async with _client(config, resolve, options) as client:
            plans = await _planned(client, chosen, options)
            jobs = [partial(_recorded, client, p, resolve, record, options.reset) for p in plans]
            outcomes = await gather_bounded(jobs, options.concurrency)
            requests = {"GET": client.stats.gets, "PUT": client.stats.puts, "token": client.stats.tokens}
            return ApplyResult(outcomes, requests | ({"DELETE": client.stats.deletes} if client.stats.deletes else {}))

    return asyncio.run(run())


async def _recorded(
    client: SettingsClient, plan: PartitionPlan, resolve: Resolver, record: Callable[[Outcome], None] | None, reset: bool = False
) -> Outcome:
    outcome = await _apply_one(client, plan, resolve, reset)
    if record is not None and outcome.written:
        record(outcome)
    return outcome


async def _apply_one(client: SettingsClient, plan: PartitionPlan, resolve: Resolver, reset: bool = False) -> Outcome:
    if plan.error is not None:
        return Outcome(plan, "failed", f"{plan.error.kind}: {plan.error.message}")
    if plan.drift and not reset:
        count = len(plan.reset_rows)
        return Outcome(
            plan,
            "untouched",
            f"the platform holds custom settings the repository leaves at defaults: apply --reset deletes them ({count} setting(s))",
        )
    if plan.drift:
        return await _reset(client, plan)
    target = plan.partition.target
    if plan.in_sync or target is None:  # defaults the platform also holds: in sync (drift is above)
        return Outcome(plan, "unchanged")
    body = plan.body()
    if PASSWORD in body and target.password is not None:
        try:
            body[PASSWORD] = resolve(target.password)
        except SecretError as exc:
            return Outcome(plan, "failed", f"secret: {exc}")
    hidden = [r.key for r in plan.removals if r.id is None]
    try:
        await client.write(plan.partition.guid, {k: v for k, v in body.items() if v is not None})
        await _delete_by_id(client, plan.partition.guid, plan.removals, [])  # after the PUT: a default is deleted, not written
        back = await client.read(plan.partition.guid, KEYS)
    except PlatformError as exc:
        return Outcome(plan, "failed", f"{exc.kind}: {exc.message}", written=True)
    finally:
        body.pop(PASSWORD, None)
    differ = sorted(k for k, v in target.values.items() if not same(k, back.get(k), v))
    differ += sorted(r.key for r in plan.removals if back.get(r.key) and r.key not in hidden)
    if differ:
        return Outcome(plan, "failed", f"server: read back differs for {', '.join(differ)}", written=True)
    return Outcome(plan, "applied", _may_remain(hidden), written=True)


async def _delete_by_id(client: SettingsClient, guid: str, rows: list[Row], deleted: list[Row]) -> None:
    """DELETE each row GET showed an id for; `deleted` holds those done, should a later one fail."""
    for row in rows:
        if row.id is not None:
            await client.delete(guid, row.id)
            deleted.append(row)


def _may_remain(hidden: list[str]) -> str:
    """What a row shown without an id means: nothing to delete it by."""
    return f"may remain: {', '.join(hidden)} (the platform showed no id for it)" if hidden else ""


async def _reset(client: SettingsClient, plan: PartitionPlan) -> Outcome:
    """Delete exactly the partition's Email.Smtp rows, by id, then read back: the partition then uses the host's settings."""
    guid, name = plan.partition.guid, plan.partition.name
    hidden = [r.key for r in plan.reset_rows if r.id is None]
    done: list[Row] = []
    try:
        await _delete_by_id(client, guid, plan.reset_rows, done)
        back = await client.read(guid, KEYS)
    except PlatformError as exc:
        return Outcome(plan, "failed", f"{exc.kind}: {exc.message} (reset: {len(done)} setting(s) deleted before)", written=bool(done))
    remaining = sorted(k for k, v in back.items() if v != "" and k not in hidden)
    if remaining:
        return Outcome(plan, "failed", f"server: read back after the reset still holds {', '.join(remaining)}", written=True)
    said = "; ".join(filter(None, [f"reset: deleted {len(done)} setting(s); {name} now uses the host's settings", _may_remain(hidden)]))
    return Outcome(plan, "applied", said, written=bool(done))
