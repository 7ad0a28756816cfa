"""A doctor run: the endpoints (SMTP sessions, asyncio) and the sender pairs (DNS only, threads), or the one --only names."""

from __future__ import annotations

from typing import Literal

from notifycfg.compile.environment import Environment
from notifycfg.doctor.model import DoctorResult
from notifycfg.doctor.options import EndpointOptions, SenderOptions

Only = Literal["endpoints", "senders"]


def run(
    env: Environment,
    orgs: list[str] | None,
    endpoint_options: EndpointOptions,
    sender_options: SenderOptions,
    only: Only | None = None,
    strict: bool = False,
) -> DoctorResult:
    result = DoctorResult(None, {}, strict=strict)
    if only != "senders":
        from notifycfg.doctor.endpoints.run import endpoints, run_endpoints

        result.probed, result.org_endpoint = endpoints(env, orgs)
        run_endpoints(result.probed, endpoint_options)
    if only != "endpoints":
        from notifycfg.doctor.senders.run import pairs, run_senders  # DNS and SPF: only when senders are checked

        result.senders, result.org_sender = pairs(env, orgs)
        run_senders(result.senders, sender_options)
    return result
