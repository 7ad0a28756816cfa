"""What a doctor run is told: the endpoint half's settings and the sender half's, each its own type."""

from __future__ import annotations

from dataclasses import dataclass

from notifycfg.secrets import Resolver

SUBMISSION_PORTS = (25, 465, 587, 2525)


@dataclass(frozen=True)
class EndpointOptions:
    timeout: float = 10.0  # each network step, revocation fetches included
    cafile: str | None = None
    login: Resolver | None = None  # --login: how the password is read; None: AUTH is looked at, never tried
    cert_warn_days: int = 30
    alternatives: tuple[int, ...] = SUBMISSION_PORTS
    concurrency: int = 32  # endpoints probed at once
    dns_servers: tuple[tuple[str, int], ...] = ()  # --dns-server; empty: the system's resolvers


@dataclass(frozen=True)
class SenderOptions:
    timeout: float = 10.0  # each DNS question, and each SPF evaluation
    concurrency: int = 32  # pairs checked at once
    dns_servers: tuple[tuple[str, int], ...] = ()  # --dns-server; empty: the system's resolvers
