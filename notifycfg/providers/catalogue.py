"""The relay catalogue (catalogue.json, its schema beside it) as types, and the questions asked of it:
which provider a host is, which advisories are in force on a day, what a refusal means.

Every fact carries the public page it comes from; tests validate the file against its schema.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

Tls = Literal["starttls", "implicit", "plain"]
Severity = Literal["error", "warning"]
CATALOGUE = Path(__file__).with_name("catalogue.json")
SCHEMA = Path(__file__).with_name("catalogue.schema.json")
NOTICE_DAYS = 60  # an advisory is a notice this many days before it takes effect
MODES: dict[Tls, str] = {"implicit": "TLS from the first byte", "starttls": "STARTTLS", "plain": "no TLS"}  # how people say them


@dataclass(frozen=True)
class Refusal:
    code: int
    enhanced: str | None
    pattern: str | None
    cause: str
    fix: str
    source: str

    def matches(self, code: int, text: str) -> bool:
        """The reply code, the enhanced status code it starts with, and the pattern, where given."""
        if code != self.code:
            return False
        if self.enhanced is not None and _enhanced(text) != self.enhanced:
            return False
        return self.pattern is None or re.search(self.pattern, text, re.IGNORECASE) is not None


@dataclass(frozen=True)
class Advisory:
    id: str
    effective: datetime.date
    severity: Severity
    applies: Literal["password", "all"]
    what: str
    do: str
    source: str


@dataclass(frozen=True)
class UsernameRule:
    pattern: str
    severity: Severity
    says: str


@dataclass(frozen=True)
class Login:
    required: bool
    anonymous: bool
    username: UsernameRule | None
    sender_is_login: bool
    source: str


@dataclass(frozen=True)
class Note:
    text: str
    source: str


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    hosts: tuple[str, ...]
    patterns: tuple[str, ...]
    accepts: tuple[tuple[int, Tls], ...]
    others: Severity
    source: str
    login: Login
    notes: tuple[Note, ...]
    advisories: tuple[Advisory, ...]
    refusals: tuple[Refusal, ...]

    def serves(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        return name in self.hosts or any(_pattern(p).fullmatch(name) for p in self.patterns)

    def in_force(self, today: datetime.date) -> list[Advisory]:
        return [a for a in self.advisories if a.effective <= today]

    def coming(self, today: datetime.date) -> list[Advisory]:
        """Advisories taking effect within NOTICE_DAYS."""
        return [a for a in self.advisories if today < a.effective <= today + datetime.timedelta(days=NOTICE_DAYS)]


@dataclass(frozen=True)
class Explanation:
    """What a refusal means: who says so, why it happened, what to do, and where that is written."""

    provider: str  # the provider's name, or "SMTP" for a refusal any server gives
    cause: str
    fix: str
    source: str
    notes: tuple[str, ...] = ()  # what the catalogue says of the host's own provider, each with its source


def words(e: Explanation) -> str:
    """How every output says an explanation: `why (provider): cause fix: … source: …`, then the host's notes."""
    notes = "".join(f" note: {n}" for n in e.notes)
    return f"why ({e.provider}): {e.cause} fix: {e.fix} source: {e.source}{notes}"


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str]:
    """`*.mail.protection.outlook.com`: `*` is one or more DNS labels."""
    return re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*".join(re.escape(part) for part in pattern.split("*")))


_ENHANCED = re.compile(r"\s*([245]\.\d{1,3}\.\d{1,3})\b")


def _enhanced(text: str) -> str | None:
    found = _ENHANCED.match(text)
    return found.group(1) if found else None


def _refusal(item: dict[str, object]) -> Refusal:
    return Refusal(
        cast(int, item["code"]),
        cast(str | None, item.get("enhanced")),
        cast(str | None, item.get("pattern")),
        str(item["cause"]),
        str(item["fix"]),
        str(item["source"]),
    )


def _login(item: dict[str, object]) -> Login:
    rule = cast(dict[str, str] | None, item.get("username"))
    username = None if rule is None else UsernameRule(rule["pattern"], cast(Severity, rule["severity"]), rule["says"])
    return Login(
        bool(item["required"]), bool(item.get("anonymous", False)), username, bool(item.get("sender_is_login", False)), str(item["source"])
    )


def _provider(item: dict[str, object]) -> Provider:
    def items(key: str) -> list[dict[str, object]]:
        return cast(list[dict[str, object]], item.get(key, []))

    return Provider(
        str(item["id"]),
        str(item["name"]),
        tuple(str(h) for h in cast(list[str], item.get("hosts", []))),
        tuple(str(p) for p in cast(list[str], item.get("patterns", []))),
        tuple((cast(int, a["port"]), cast(Tls, a["tls"])) for a in items("accepts")),
        cast(Severity, item["others"]),
        str(item["source"]),
        _login(cast(dict[str, object], item["login"])),
        tuple(Note(str(n["text"]), str(n["source"])) for n in items("notes")),
        tuple(
            Advisory(
                str(a["id"]),
                datetime.date.fromisoformat(str(a["effective"])),
                cast(Severity, a["severity"]),
                cast(Literal["password", "all"], a["applies"]),
                str(a["what"]),
                str(a["do"]),
                str(a["source"]),
            )
            for a in items("advisories")
        ),
        tuple(_refusal(r) for r in items("refusals")),
    )


@dataclass(frozen=True)
class Catalogue:
    checked: str
    providers: tuple[Provider, ...]
    refusals: tuple[Refusal, ...]  # any server's

    def provider_for(self, host: str) -> Provider | None:
        return next((p for p in self.providers if p.serves(host)), None)

    def explain(self, code: int, text: str, host: str | None = None) -> Explanation | None:
        """What a refusal means, on any host (a relay in front of Microsoft 365 still gives its words): the
        host's own provider first, then every provider, then the refusals any server gives; None if unknown."""
        own = self.provider_for(host) if host else None
        notes = tuple(f"{own.name}: {n.text} ({n.source})" for n in own.notes) if own else ()
        candidates = [(p, r) for p in self.providers for r in p.refusals] + [(None, r) for r in self.refusals]
        matched = [(p, r) for p, r in candidates if r.matches(code, text)]
        if not matched:
            return None
        # The most specific reading wins: the host's own provider, then an enhanced status code matched, then
        # a text pattern too (5.7.8 is RFC 4954's bad credentials on any server, even where SES's words appear).
        provider, found = max(
            matched, key=lambda m: (m[0] is not None and m[0] is own, m[1].enhanced is not None, m[1].pattern is not None)
        )
        return Explanation(provider.name if provider else "SMTP", found.cause, found.fix, found.source, notes)


@functools.cache
def catalogue() -> Catalogue:
    data = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return Catalogue(
        str(data["checked"]),
        tuple(_provider(p) for p in data["providers"]),
        tuple(_refusal(r) for r in data["refusals"]),
    )


def today() -> datetime.date:
    """The system's date, or SOURCE_DATE_EPOCH's when it is set (reproducible CI runs)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).date()
    return datetime.date.today()
