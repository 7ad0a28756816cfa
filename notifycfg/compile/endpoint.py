"""Effective SMTP settings as what a client connects to: the one place the TLS rule lives.

`secure: true` on port 465 is implicit TLS (encrypted from the first byte); on
any other port it is STARTTLS, never downgraded; `secure: false` is plain.
The mailer, doctor, flows and the command line all ask here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast

from notifycfg.secrets import SecretRef

TlsMode = Literal["implicit", "starttls", "plain"]
IMPLICIT_TLS_PORT = 465
# How long the platform waits for the SMTP server when `timeout_ms` is left out: the example on UiPath's
# "Custom email settings" page (https://docs.uipath.com/orchestrator/standalone/2025.10/user-guide/custom-email-settings).
DEFAULT_TIMEOUT_MS = 180_000
_LABELS: dict[TlsMode, str] = {"implicit": "implicit TLS", "starttls": "STARTTLS", "plain": "plain"}


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    tls: TlsMode

    @property
    def secure(self) -> bool:
        return self.tls != "plain"

    @property
    def implicit_tls(self) -> bool:
        return self.tls == "implicit"

    @property
    def mode(self) -> str:
        """How people say it: `implicit TLS`, `STARTTLS` or `plain`."""
        return _LABELS[self.tls]

    def sort_key(self) -> tuple[str, int, bool]:
        return self.host, self.port, self.secure

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port} ({self.mode})"


def tls_mode(port: int, secure: bool) -> TlsMode:
    if not secure:
        return "plain"
    return "implicit" if port == IMPLICIT_TLS_PORT else "starttls"


@dataclass(frozen=True)
class Connection:
    """Where to connect and how to log in: a password stays a reference."""

    endpoint: Endpoint
    username: str | None
    domain: str | None
    password: SecretRef | None
    timeout_ms: int | None = None  # how long the platform waits for the server; None: DEFAULT_TIMEOUT_MS

    @property
    def login(self) -> str | None:
        """The name AUTH sends: `DOMAIN\\username` with an SMTP domain."""
        if self.username is None:
            return None
        return f"{self.domain}\\{self.username}" if self.domain else self.username


def connection(effective: Mapping[str, object]) -> Connection:
    """The connection an organization's effective settings (defaults filled in by compile) describe."""
    smtp = cast(Mapping[str, object], cast(Mapping[str, object], effective["email"])["smtp"])
    host, port, secure = str(smtp["host"]), cast(int, smtp["port"]), bool(smtp["secure"])
    password = cast(SecretRef | None, smtp.get("password"))
    username, domain, timeout = smtp.get("username"), smtp.get("domain"), smtp.get("timeout_ms")
    return Connection(
        Endpoint(host, port, tls_mode(port, secure)),
        None if username is None else str(username),
        None if domain is None else str(domain),
        password,
        None if timeout is None else int(cast(int, timeout)),
    )
