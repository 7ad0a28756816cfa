"""The one documented place where effective settings become platform settings.

| platform key                     | from                                                        |
|----------------------------------|-------------------------------------------------------------|
| Email.Smtp.Host                  | email.smtp.host                                             |
| Email.Smtp.Port                  | email.smtp.port, as a decimal string                        |
| Email.Smtp.EnableSsl             | email.smtp.secure, "true" or "false"                        |
| Email.Smtp.Domain                | email.smtp.domain, or ""                                    |
| Email.Smtp.UserName              | email.smtp.username, or "" (anonymous)                      |
| Email.Smtp.Password              | the resolved secret; never written for anonymous settings   |
| Email.Smtp.UseDefaultCredentials | always "false": never the platform's own service identity   |
| Email.Smtp.FromEmail             | email.from.address                                          |
| Email.Smtp.FromDisplayName       | email.from.display_name, or ""                              |

An organization whose values all equal the host's uses the platform's default
mail settings: nothing is written to its partition. One that overrides only its
sender becomes "custom" on the platform, which stores a whole server block per
partition: its partition receives the host's server, login and password (the
one place credentials cross from host to organization; `crosses` says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from notifycfg.datapath import Json

PREFIX = "Email.Smtp."
HOST, PORT, SSL, DOMAIN, USER, PASSWORD, DEFAULT_CREDENTIALS, FROM, FROM_NAME = (
    f"{PREFIX}{name}"
    for name in ("Host", "Port", "EnableSsl", "Domain", "UserName", "Password", "UseDefaultCredentials", "FromEmail", "FromDisplayName")
)
KEYS = (HOST, PORT, SSL, DOMAIN, USER, PASSWORD, DEFAULT_CREDENTIALS, FROM, FROM_NAME)
SERVER_KEYS = (HOST, PORT, SSL, DOMAIN, USER)  # a change here writes the password again
BOOLEANS = frozenset({SSL, DEFAULT_CREDENTIALS})  # the platform (.NET) reads and may answer these in any case
SecretRef = Mapping[str, str]


@dataclass(frozen=True)
class Desired:
    """What one partition should hold: every key but the password as a string, the password as a reference."""

    values: dict[str, str]
    password: SecretRef | None  # None: anonymous, no Password key is written

    def comparable(self) -> tuple[tuple[str, str], ...]:
        ref = tuple(sorted(self.password.items())) if self.password else ()
        return (*sorted(self.values.items()), ("password-ref", repr(ref)))


def desired(effective: Mapping[str, Json]) -> Desired:
    smtp, sender = effective["email"]["smtp"], effective["email"]["from"]
    username = smtp.get("username")
    return Desired(
        {
            HOST: str(smtp["host"]),
            PORT: str(int(smtp["port"])),
            SSL: "true" if smtp["secure"] else "false",  # effective settings carry the schema's default
            DOMAIN: str(smtp.get("domain", "")) if username else "",
            USER: str(username or ""),
            DEFAULT_CREDENTIALS: "false",
            FROM: str(sender["address"]),
            FROM_NAME: str(sender.get("display_name", "")),
        },
        smtp.get("password") if username else None,
    )


def equal(key: str, one: str, other: str) -> bool:
    """Whether two values of `key` say the same: `True` is `true`."""
    return one.lower() == other.lower() if key in BOOLEANS else one == other


def same(key: str, current: str | None, wanted: str) -> bool:
    """Whether the platform's value (None: not set) already says what the repository wants."""
    return current is not None and equal(key, current, wanted)


@dataclass(frozen=True)
class Partition:
    name: str  # "host" or the organization id
    guid: str
    target: Desired | None  # None: the platform's defaults, nothing written
    crosses: bool = False  # the host's credentials are written to this organization's partition


def partitions(
    host: Mapping[str, Json], orgs: Mapping[str, Mapping[str, Json]], host_guid: str, guids: Mapping[str, str]
) -> list[Partition]:
    """The host's partition and one per organization, in that order."""
    base = desired(host)
    out = [Partition("host", host_guid, base)]
    for org in sorted(orgs):
        effective = orgs[org]
        mine = desired(effective)
        if mine.comparable() == base.comparable():
            out.append(Partition(org, guids[org], None))
        else:
            crosses = effective.get("mail_settings") == "host" and mine.password is not None
            out.append(Partition(org, guids[org], mine, crosses))
    return out
