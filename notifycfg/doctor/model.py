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
class DoctorResult:
    """What was probed, and whether that passes: errors fail, and with `strict` warnings too."""

    probed: list[Probed]
    org_endpoint: dict[str, Endpoint]
    strict: bool = False

    def verdict(self, checks: list[Check]) -> Status:
        return max((c.status for c in checks), key=ORDER.__getitem__, default="ok")

    def org_verdicts(self) -> dict[str, Status]:
        by_endpoint = {p.endpoint: p for p in self.probed}
        return {org: self.verdict(by_endpoint[ep].checks_for(org)) for org, ep in sorted(self.org_endpoint.items())}

    @property
    def ok(self) -> bool:
        counted = failing(self.strict)
        return not any(c.status in counted for p in self.probed for c in p.checks)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1
