"""What doctor finds, shared by its two halves: a Check is a verdict (status), a stable code and the
facts behind it; its words are rendered from the code and the facts, in one module (words.py).

Endpoints (real SMTP servers, probed without sending) and senders (each (From domain, relay) pair
in DNS) each make Checks; DoctorResult groups them for every reporter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from notifycfg.compile.endpoint import Endpoint
from notifycfg.config.problems import failing
from notifycfg.doctor.facts import SENDER_STEPS as SENDER_STEPS
from notifycfg.doctor.facts import STEPS as STEPS
from notifycfg.doctor.facts import CheckId as CheckId
from notifycfg.doctor.facts import EndpointStep as EndpointStep
from notifycfg.doctor.facts import Fact, Facts
from notifycfg.doctor.words import explanation_words, sentence
from notifycfg.providers.catalogue import Explanation

Status = Literal["ok", "warning", "error", "skipped"]
ORDER: dict[Status, int] = {"ok": 0, "skipped": 1, "warning": 2, "error": 3}


def worst(*statuses: Status) -> Status:
    return max(statuses, key=ORDER.__getitem__)


@dataclass(frozen=True)
class Outcome:
    """One finding inside a check (a CRL, an OCSP answer, a DKIM selector): a check made of several
    holds them as facts, each rendered by its own code."""

    status: Status
    code: str
    facts: Facts = field(default_factory=dict)

    def as_fact(self) -> dict[str, Fact]:
        return {"status": self.status, "code": self.code, **self.facts}


@dataclass(frozen=True)
class Check:
    id: CheckId
    status: Status
    code: str  # stable, `<id>.<what>`: docs/doctor.md lists every one
    facts: Facts = field(default_factory=dict)
    login: str | None = None  # auth checks: whose login this was
    explanation: Explanation | None = None  # a refusal the relay catalogue knows: its cause, fix and source

    @property
    def message(self) -> str:
        return sentence(self.code, self.facts)

    @property
    def explained(self) -> str | None:
        """The explanation in words, for text, junit and markdown (json carries it as an object)."""
        return None if self.explanation is None else explanation_words(self.explanation)


def skipped(step: CheckId) -> Check:
    return Check(step, "skipped", f"{step}.skipped")


def unfinished(steps: tuple[CheckId, ...], deadline: float) -> list[Check]:
    """A probe or a pair the run's bound cut short: its first check an error (`<step>.unfinished`), the rest skipped."""
    first, *rest = steps
    return [Check(first, "error", f"{first}.unfinished", {"deadline": deadline}), *(skipped(step) for step in rest)]


def combined(step: CheckId, outcomes: list[Outcome], key: str = "outcomes") -> Check:
    """A check made of several outcomes: the worst decides its status and code (the first of equals)."""
    first = max(outcomes, key=lambda o: ORDER[o.status])
    return Check(step, first.status, first.code, {key: [o.as_fact() for o in outcomes]})


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
    timeouts: dict[str, int | None] = field(default_factory=dict)  # org -> its timeout_ms (None: the platform's default)

    def checks_for(self, org: str) -> list[Check]:
        """The endpoint's checks, with only this organization's auth check and timeout check."""
        login = self.logins[org]
        name = login.name if login else None
        return [c for c in self.checks if (c.id != "auth" or c.login == name) and (c.id != "timeout" or _names(c, org))]


def _names(check: Check, org: str) -> bool:
    orgs = check.facts.get("orgs")
    return isinstance(orgs, list) and org in orgs


@dataclass
class SenderPair:
    """One (From domain, relay) pair and what deliverability.yaml declares of it."""

    domain: str
    relay: str
    orgs: list[str]
    selectors: tuple[str, ...] = ()  # deliverability.yaml's dkim_selectors for the domain
    declared_ips: tuple[str, ...] = ()  # deliverability.yaml's sending_ips for the relay
    sending_ips: list[str] = field(default_factory=list)  # those, or the relay itself, or its A/AAAA: set by the run
    checks: list[Check] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.domain} via {self.relay}"


GroupKind = Literal["endpoint", "sender"]


@dataclass(frozen=True)
class Group:
    """An endpoint or a sender pair with its checks: what every reporter lists, in this order."""

    kind: GroupKind
    name: str  # `host:port (mode)` or `domain via relay`
    suite: str  # a stable dotted name (JUnit's classname)
    orgs: list[str]
    checks: list[Check]
    verdict: Status

    @property
    def title(self) -> str:
        """How reports head the group: `host:port (mode)`, or `sender domain via relay`."""
        return f"sender {self.name}" if self.kind == "sender" else self.name


@dataclass
class DoctorResult:
    """What was probed, and whether that passes: errors fail, and with `strict` warnings too.
    A part that --only left out is None."""

    probed: list[Probed] | None
    org_endpoint: dict[str, Endpoint]
    strict: bool = False
    senders: list[SenderPair] | None = None
    org_sender: dict[str, SenderPair] = field(default_factory=dict)

    def verdict(self, checks: list[Check]) -> Status:
        """The worst status; a `skipped` check does not change a verdict."""
        return worst("ok", *(c.status for c in checks if c.status != "skipped"))

    def org_verdicts(self) -> dict[str, Status]:
        by_endpoint = {p.endpoint: p for p in self.probed or []}
        return {org: self.verdict(by_endpoint[ep].checks_for(org)) for org, ep in sorted(self.org_endpoint.items()) if ep in by_endpoint}

    def sender_verdicts(self) -> dict[str, Status]:
        return {org: self.verdict(s.checks) for org, s in sorted(self.org_sender.items())}

    def groups(self) -> list[Group]:
        """Every endpoint, then every sender pair."""
        out = [
            Group(
                "endpoint",
                str(p.endpoint),
                f"notifycfg.doctor.{p.endpoint.host}:{p.endpoint.port}",
                p.orgs,
                p.checks,
                self.verdict(p.checks),
            )
            for p in self.probed or []
        ]
        out += [
            Group("sender", str(s), f"notifycfg.doctor.sender.{s.domain}.via.{s.relay}", s.orgs, s.checks, self.verdict(s.checks))
            for s in self.senders or []
        ]
        return out

    def all_checks(self) -> list[Check]:
        return [c for g in self.groups() for c in g.checks]

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
