"""What doctor finds: one Check per step and login, grouped by endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from notifycfg.compile.endpoint import Endpoint
from notifycfg.config.problems import failing

Status = Literal["ok", "warning", "error", "skipped"]
ORDER: dict[str, int] = {"ok": 0, "skipped": 1, "warning": 2, "error": 3}


@dataclass(frozen=True)
class Check:
    id: str  # dns, tcp, greeting, ehlo, tls, auth
    status: Status
    message: str
    login: str | None = None  # auth checks: whose login this was


@dataclass(frozen=True)
class Login:
    """A distinct login on an endpoint: the name sent (DOMAIN\\user) and its secret reference."""

    name: str
    password: tuple[tuple[str, str], ...]  # the reference's items, hashable; never a value


@dataclass
class Probed:
    endpoint: Endpoint
    orgs: list[str]
    logins: dict[str, Login | None]  # org -> its login (None: anonymous)
    checks: list[Check] = field(default_factory=list)

    def checks_for(self, org: str) -> list[Check]:
        """The endpoint's checks, with only this organization's auth check."""
        login = self.logins[org]
        name = login.name if login else None
        return [c for c in self.checks if c.id != "auth" or c.login == name]


@dataclass
class SenderProbe:
    """One (From domain, relay) pair: the addresses that deliver its mail, and what DNS says of them."""

    domain: str
    relay: str
    orgs: list[str]
    selectors: tuple[str, ...] = ()  # deliverability.yaml's dkim_selectors for the domain
    declared_ips: tuple[str, ...] = ()  # deliverability.yaml's sending_ips for the relay
    sending_ips: list[str] = field(default_factory=list)  # those, or the relay itself, or its A/AAAA
    checks: list[Check] = field(default_factory=list)
    spf_pass: bool = False  # SPF passes for every sending address (dmarc reads it)
    dkim_valid: bool = False  # a declared selector is valid (dmarc reads it)

    def __str__(self) -> str:
        return f"{self.domain} via {self.relay}"


@dataclass
class DoctorResult:
    """What was probed, and whether that passes: errors fail, and with `strict` warnings too.
    A part that --only left out is None."""

    probed: list[Probed] | None
    org_endpoint: dict[str, Endpoint]
    strict: bool = False
    senders: list[SenderProbe] | None = None
    org_sender: dict[str, SenderProbe] = field(default_factory=dict)

    def verdict(self, checks: list[Check]) -> Status:
        """The worst status; a `skipped` check does not change a verdict."""
        return max((c.status for c in checks if c.status != "skipped"), key=ORDER.__getitem__, default="ok")

    def org_verdicts(self) -> dict[str, Status]:
        by_endpoint = {p.endpoint: p for p in self.probed or []}
        return {org: self.verdict(by_endpoint[ep].checks_for(org)) for org, ep in sorted(self.org_endpoint.items()) if ep in by_endpoint}

    def sender_verdicts(self) -> dict[str, Status]:
        return {org: self.verdict(s.checks) for org, s in sorted(self.org_sender.items())}

    def all_checks(self) -> list[Check]:
        return [c for p in self.probed or [] for c in p.checks] + [c for s in self.senders or [] for c in s.checks]

    def summary(self) -> str:
        """`N endpoint(s), M sender pair(s), E error(s), W warning(s)`: the parts --only left out are not named."""
        parts = [] if self.probed is None else [f"{len(self.probed)} endpoint(s)"]
        parts += [] if self.senders is None else [f"{len(self.senders)} sender pair(s)"]
        checks = self.all_checks()
        parts += [f"{sum(c.status == 'error' for c in checks)} error(s)", f"{sum(c.status == 'warning' for c in checks)} warning(s)"]
        return ", ".join(parts)

    @property
    def ok(self) -> bool:
        counted = failing(self.strict)
        return not any(c.status in counted for c in self.all_checks())

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1
