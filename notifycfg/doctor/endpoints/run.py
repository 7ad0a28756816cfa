"""The endpoint half of a doctor run: which endpoints the selected organizations use, probed
concurrently on one event loop (many sockets, each wait bounded), the whole run bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from notifycfg.compile.endpoint import Endpoint, connection
from notifycfg.compile.environment import Environment
from notifycfg.doctor.endpoints.probe import probe
from notifycfg.doctor.endpoints.revocation import Revocations
from notifycfg.doctor.model import STEPS, Check, Login, Probed, unfinished
from notifycfg.doctor.options import EndpointOptions

# Steps per endpoint (revocation fetches included), and one more session per further login: what bounds the whole run.
_STEPS_PER_SESSION = 10


def endpoints(env: Environment, orgs: list[str] | None) -> tuple[list[Probed], dict[str, Endpoint]]:
    """Distinct (host, port, secure) endpoints, the organizations on each, and each one's login."""
    by_endpoint: dict[Endpoint, Probed] = {}
    org_endpoint: dict[str, Endpoint] = {}
    for org, effective in env.all_effective(orgs).items():
        settings = connection(effective.data)
        endpoint = settings.endpoint
        login = Login(settings.login, tuple(sorted(settings.password.items()))) if settings.login and settings.password else None
        probed = by_endpoint.setdefault(endpoint, Probed(endpoint, [], {}))
        probed.orgs.append(org)
        probed.logins[org] = login
        probed.timeouts[org] = settings.timeout_ms
        org_endpoint[org] = endpoint
    return sorted(by_endpoint.values(), key=lambda p: p.endpoint.sort_key()), org_endpoint


def _logins(probed: Probed) -> list[Login | None]:
    return list(dict.fromkeys(probed.logins.values()))


def run_endpoints(probed: list[Probed], options: EndpointOptions) -> None:
    asyncio.run(_probe_all(probed, options))


async def _probe_all(probed: list[Probed], options: EndpointOptions) -> None:
    sessions = max((len(_logins(p)) for p in probed), default=1) if options.login is not None else 1
    waves = -(-len(probed) // options.concurrency)
    deadline = options.timeout * _STEPS_PER_SESSION * sessions * max(waves, 1) + 5
    gate = asyncio.Semaphore(options.concurrency)
    async with Revocations(options.timeout, options.cafile, dns_servers=options.dns_servers) as revocations:

        async def bounded(p: Probed) -> list[Check]:
            async with gate:
                return await probe(p.endpoint, _logins(p), options, revocations, p.timeouts)

        await _gather(probed, bounded, deadline)


async def _gather(probed: list[Probed], bounded: Callable[[Probed], Awaitable[list[Check]]], deadline: float) -> None:
    tasks = {asyncio.ensure_future(bounded(p)): p for p in probed}
    done, pending = await asyncio.wait(tasks, timeout=deadline) if tasks else (set(), set())
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task, p in tasks.items():
        p.checks = task.result() if task in done and not task.cancelled() else unfinished(STEPS, deadline)
