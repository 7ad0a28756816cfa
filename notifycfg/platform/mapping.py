"""The one documented place where effective settings become platform settings, and back.

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
| Email.Smtp.ConnectionTimeout     | email.smtp.timeout_ms, as a decimal string; only when set   |

A key the repository leaves out (only the timeout can be) is the platform's default: not written, and
a row the platform holds for it is deleted (`PartitionPlan.removals`), so nothing overrides the default.

An organization whose values all equal the host's uses the platform's default
mail settings: nothing is written to its partition. One that overrides only its
sender becomes "custom" on the platform, which stores a whole server block per
partition: its partition receives the host's server, login and password (the
one place credentials cross from host to organization; `crosses` says so).

The other direction (import) is here too: `host_settings` and `org_settings`
turn what partitions hold into settings that `desired` maps back to exactly
those values, or refuse with the key named.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from notifycfg.config.problems import Refused
from notifycfg.datapath import Json, JsonObject
from notifycfg.secrets import SecretRef

PREFIX = "Email.Smtp."
HOST, PORT, SSL, DOMAIN, USER, PASSWORD, DEFAULT_CREDENTIALS, FROM, FROM_NAME, TIMEOUT = (
    f"{PREFIX}{name}"
    for name in (
        *("Host", "Port", "EnableSsl", "Domain", "UserName", "Password", "UseDefaultCredentials", "FromEmail", "FromDisplayName"),
        "ConnectionTimeout",
    )
)
KEYS = (HOST, PORT, SSL, DOMAIN, USER, PASSWORD, DEFAULT_CREDENTIALS, FROM, FROM_NAME, TIMEOUT)
OPTIONAL = frozenset({PASSWORD, TIMEOUT})  # keys a partition may lack: anonymous, or the platform's default timeout
SERVER_KEYS = (HOST, PORT, SSL, DOMAIN, USER)  # a change here writes the password again
SERVER_BLOCK = (*SERVER_KEYS, TIMEOUT)  # what an organization's own `email.smtp` holds (the password aside)
MAX_TIMEOUT_MS = 300_000  # what UiPath's CLI accepts for --connection-timeout (1-300,000); the schema says the same
DEFAULTED = "(the platform's default: its row is deleted)"  # how every report says a change to a left-out key
BOOLEANS = frozenset({SSL, DEFAULT_CREDENTIALS})  # the platform (.NET) reads and may answer these in any case


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
    timeout = smtp.get("timeout_ms")
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
            **({} if timeout is None else {TIMEOUT: str(int(timeout))}),
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


# --- the other direction: what a partition holds, as settings (import) ---------------------------
# Written exactly, or refused with the key named: whatever comes out, desired() gives back and plan
# compares equal (tests/test_platform.py::test_every_platform_state_that_imports_plans_in_sync).


def secret_name(partition: str) -> str:
    """HOST_SMTP_PASSWORD, ACME_CORP_SMTP_PASSWORD: the environment variable a reference names."""
    return f"{partition.upper().replace('-', '_')}_SMTP_PASSWORD"


def _inexact(message: str) -> Refused:
    """A value the repository cannot hold exactly: `plan` would disagree with what import wrote (exit 1)."""
    return Refused(f"{message}; nothing written")


_PLAIN_PORT = re.compile(r"[1-9][0-9]{0,4}", re.ASCII)
_PLAIN_TIMEOUT = re.compile(r"[1-9][0-9]{0,5}", re.ASCII)


def _timeout(values: Mapping[str, str]) -> str | None:
    """The partition's ConnectionTimeout; an empty value is no value (the platform's default)."""
    return values.get(TIMEOUT) or None


def _exact(values: Mapping[str, str], name: str) -> None:
    """Every key plan compares is there, and written so that the repository can say it exactly."""
    for key in KEYS:
        if key not in OPTIONAL and key not in values:
            raise _inexact(f"{name}: {key} is not set on the platform; plan would write it, so no repository matches it")
    if not _PLAIN_PORT.fullmatch(values[PORT]):
        raise _inexact(f"{name}: {PORT} is {values[PORT]!r}, not a port number in plain ASCII digits (no sign, separator or leading zero)")
    for key in (SSL, DEFAULT_CREDENTIALS):
        if values[key].lower() not in ("true", "false"):
            raise _inexact(f"{name}: {key} is {values[key]!r}, neither true nor false (any case, nothing around it)")
    if values[DEFAULT_CREDENTIALS].lower() != "false":
        raise _inexact(f"{name}: {DEFAULT_CREDENTIALS} is true: notifycfg never sends as the platform's own service identity")
    if values[DOMAIN] and not values[USER]:
        raise _inexact(f"{name}: {DOMAIN} is {values[DOMAIN]!r} with an empty {USER}: a domain only qualifies a login")
    timeout = _timeout(values)
    if timeout is not None and not (_PLAIN_TIMEOUT.fullmatch(timeout) and int(timeout) <= MAX_TIMEOUT_MS):
        raise _inexact(
            f"{name}: {TIMEOUT} is {timeout!r}, not a whole number of milliseconds from 1 to {MAX_TIMEOUT_MS} in plain ASCII digits"
        )


def _server(values: Mapping[str, str], name: str) -> JsonObject:
    """The server block of a partition `_exact` has passed."""
    smtp: JsonObject = {"host": values[HOST], "port": int(values[PORT]), "secure": values[SSL].lower() == "true"}
    if values[USER]:
        if values[DOMAIN]:
            smtp["domain"] = values[DOMAIN]
        smtp["username"] = values[USER]
        smtp["password"] = {"env": secret_name(name)}
    timeout = _timeout(values)
    if timeout is not None:
        smtp["timeout_ms"] = int(timeout)
    return smtp


def _sender(values: Mapping[str, str], base: Mapping[str, str] | None, name: str) -> dict[str, str]:
    sender = {}
    for key, field in ((FROM, "address"), (FROM_NAME, "display_name")):
        if values[key] == (base[key] if base is not None else ""):
            continue  # inherited (the host's), or the host without a display name
        if not values[key] and base is not None:  # (the host's own empty value is the line above)
            raise _inexact(f"{name}: {key} is empty while the host's is {base[key]!r}: the repository cannot clear it for one organization")
        sender[field] = values[key]
    return sender


def host_settings(values: Mapping[str, str]) -> JsonObject:
    """The host's `email` block that says what its partition holds."""
    _exact(values, "host")
    return {"smtp": _server(values, "host"), "from": _sender(values, None, "host")}


def org_settings(org: str, values: Mapping[str, str], host: Mapping[str, str]) -> JsonObject | None:
    """An organization's `email` block that says what its partition holds (None: the platform's defaults)."""
    if not values.get(HOST):
        stray = [k for k in KEYS if k != PASSWORD and values.get(k)]
        if stray:
            raise _inexact(f"{org}: {stray[0]} is set but {HOST} is not: the platform's defaults hold no values of their own")
        return None
    email: JsonObject = {}
    _exact(values, org)
    if any(not equal(k, values[k], host[k]) for k in SERVER_KEYS) or _timeout(values) != _timeout(host):
        smtp = _server(values, org)
        if "username" not in smtp:
            smtp["anonymous"] = True
        email["smtp"] = smtp
    sender = _sender(values, host, org)
    if sender:
        email["from"] = sender
    if not email:
        raise _inexact(
            f"{org}: {HOST} and every other key hold the host's values: the repository says that by leaving {org} at the"
            " platform's defaults, which plan would then report as drift (the API cannot reset a partition to defaults)"
        )
    return email
