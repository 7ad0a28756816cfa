"""Per partition: what the platform holds, what the repository wants, and what would change."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from notifycfg.platform.client import PlatformError, Row, SettingsClient
from notifycfg.platform.mapping import HOST, KEYS, OPTIONAL, PASSWORD, SERVER_KEYS, Partition, same

T = TypeVar("T")


@dataclass(frozen=True)
class KeyChange:
    key: str
    old: str | None  # None: not set on the platform
    new: str | None  # None: the platform's default, so its row is deleted (only an optional key: the timeout)


@dataclass
class PartitionPlan:
    partition: Partition
    current: dict[str, str] = field(default_factory=dict)
    changes: list[KeyChange] = field(default_factory=list)
    password_reason: str | None = None  # why the password is written; None: it is not
    drift: list[str] = field(default_factory=list)  # keys set on a partition the repository leaves at defaults
    rows: list[Row] = field(default_factory=list)  # what GET showed, with ids: what a reset deletes
    error: PlatformError | None = None

    @property
    def reset_rows(self) -> list[Row]:
        """With drift, every Email.Smtp row GET showed (the masked password's included): what --reset deletes."""
        return sorted(self.rows, key=lambda r: r.key) if self.drift else []

    @property
    def removals(self) -> list[Row]:
        """The rows of keys the repository leaves at the platform's default: apply deletes them by id."""
        gone = {c.key for c in self.changes if c.new is None}
        return [r for r in self.rows if r.key in gone]

    @property
    def in_sync(self) -> bool:
        return not (self.changes or self.password_reason or self.drift or self.error)

    def body(self) -> dict[str, str | None]:
        """The keys to PUT: every mapped key of the partition, as the portal's Save sends them, since the
        platform wants related keys (Host, Port, FromEmail) together in one request ("uip admin smtp" in
        UiPath's CLI guide: its update "merges, it doesn't replace"); the password (None: resolve it) only
        when it is written, never read back nor re-sent masked. What changes is still `changes`."""
        target = self.partition.target
        out: dict[str, str | None] = dict(target.values) if target is not None else {}
        out.pop(PASSWORD, None)
        if self.password_reason:
            out[PASSWORD] = None
        return out


@dataclass(frozen=True)
class PlanResult:
    """Every partition's plan: in sync (exit 0), changes pending (1), or a partition unreadable (2)."""

    plans: list[PartitionPlan]

    @property
    def pending(self) -> int:
        """Partitions read, and not in sync."""
        return sum(not p.in_sync and p.error is None for p in self.plans)

    @property
    def unreadable(self) -> int:
        return sum(p.error is not None for p in self.plans)

    @property
    def ok(self) -> bool:
        return all(p.in_sync for p in self.plans)

    @property
    def exit_code(self) -> int:
        return 2 if self.unreadable else 0 if self.ok else 1


def compare(partition: Partition, current: dict[str, str], rotate: bool) -> PartitionPlan:
    plan = PartitionPlan(partition, current)
    if partition.target is None:
        plan.drift = sorted(k for k in current if k != PASSWORD and current[k] != "")
        return plan
    wanted = partition.target.values
    plan.changes = [KeyChange(k, current.get(k), v) for k, v in wanted.items() if not same(k, current.get(k), v)]
    plan.changes += [KeyChange(k, current[k], None) for k in KEYS if k in OPTIONAL - {PASSWORD} and k not in wanted and current.get(k)]
    if partition.target.password is not None:
        changed = {c.key for c in plan.changes}
        if HOST not in current:
            plan.password_reason = "the partition has no custom settings yet"
        elif changed & set(SERVER_KEYS):
            plan.password_reason = "its server or login changes"
        elif rotate:
            plan.password_reason = "--rotate-passwords"
    return plan


async def gather_bounded(jobs: Sequence[Callable[[], Awaitable[T]]], concurrency: int) -> list[T]:
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def make_plan(client: SettingsClient, partitions: list[Partition], rotate: bool, concurrency: int) -> list[PartitionPlan]:
    async def job(partition: Partition) -> PartitionPlan:
        try:
            rows = await client.rows(partition.guid, KEYS)
        except PlatformError as exc:
            return PartitionPlan(partition, error=exc)
        plan = compare(partition, {r.key: r.value for r in rows}, rotate)
        plan.rows = rows
        return plan

    return await gather_bounded([partial(job, p) for p in partitions], concurrency)
