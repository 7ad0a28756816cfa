"""Every option of a harness, with its default, in one place.

The Python API (`Harness(**options)`), the pytest marker and the `serve`
command line all read their defaults from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from smtp_harness.faults import Fault
from smtp_harness.jsontypes import JsonObject

TlsMode = Literal["off", "starttls", "implicit"]
OnFull = Literal["reject", "evict"]
TLS_MODES: tuple[TlsMode, ...] = get_args(TlsMode)
ON_FULL: tuple[OnFull, ...] = get_args(OnFull)
# Names a message list can be filtered by: the store, the Python API and the HTTP API.
FILTERS = ("rcpt", "mail_from", "auth_user", "subject", "q")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_SIZE_LIMIT = 10 * 1024 * 1024
DEFAULT_IDLE_TIMEOUT = 60.0
DEFAULT_MAX_MESSAGES = 50_000
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
# Past these a message is stored and shown raw, never parsed (see smtp_harness.mime).
DEFAULT_MAX_PARTS = 1000
DEFAULT_MAX_DEPTH = 50
# Past these a header is shown raw, never decoded (a Subject of 300,000 encoded words took 4.5 GiB to decode).
DEFAULT_MAX_ENCODED_WORDS = 100  # RFC 2047 encoded words (=?charset?q?...?=) in one header
DEFAULT_MAX_HEADER_DECODE = 64 * 1024  # bytes of one header's raw value
DEFAULT_MAX_RCPT = 1000  # RCPT per transaction; the next is answered 452 4.5.3 (RFC 5321 asks servers for at least 100)


@dataclass
class HarnessConfig:
    """How a harness listens, secures, authenticates, stores and misbehaves.

    host: address to bind, loopback unless told otherwise. port: SMTP port (0 picks a free one).
    tls: "off", "starttls" (offered on the plain port) or "implicit" (TLS from the first byte, like 465).
    users: login -> password accepted by AUTH PLAIN and LOGIN.
    auth_required: refuse MAIL from clients that did not authenticate (needs users).
    require_tls: with tls="starttls", refuse MAIL until STARTTLS.
    certfile, keyfile: the server certificate (PEM); default: a throwaway CA and certificate per run.
    http, http_host, http_port: the JSON API and inbox page (http_host defaults to host; port 0 picks a free one).
    http_auth: (user, password) required by the page, the API and the live stream (HTTP basic).
    http_allowed_hosts: Host header names accepted besides the bound address, localhost and loopback literals.
    http_public_without_auth: the loud opt-out that lets the HTTP server bind beyond loopback without http_auth.
    maildir: also write every message there (fsync) before answering 250.
    faults: Fault objects, spec strings or dicts (see smtp_harness.faults).
    size_limit: largest message in bytes (SIZE; 552 beyond). idle_timeout: seconds before an idle connection is closed.
    max_messages, max_bytes, on_full: the memory policy; "reject" answers 452 when full, "evict" drops the oldest.
        max_bytes counts each message's envelope (sender and recipients) as well as its bytes.
    max_parts, max_depth: a message with more MIME parts, or nested deeper, is stored and shown raw, never parsed.
    max_encoded_words, max_header_decode: a header with more RFC 2047 encoded words, or a longer raw value,
    is shown as it came, never decoded, with a note.
    max_rcpt: recipients per transaction; the next RCPT is answered 452 4.5.3.
    """

    host: str = DEFAULT_HOST
    port: int = 0
    tls: TlsMode = "off"
    users: dict[str, str] = field(default_factory=dict)
    auth_required: bool = False
    require_tls: bool = False
    certfile: str | None = None
    keyfile: str | None = None
    http: bool = True
    http_host: str | None = None
    http_port: int = 0
    http_auth: tuple[str, str] | None = None
    http_allowed_hosts: list[str] = field(default_factory=list)
    http_public_without_auth: bool = False
    maildir: str | None = None
    faults: list[Fault | str | JsonObject] = field(default_factory=list)
    size_limit: int = DEFAULT_SIZE_LIMIT
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    max_messages: int = DEFAULT_MAX_MESSAGES
    max_bytes: int = DEFAULT_MAX_BYTES
    on_full: OnFull = "reject"
    max_parts: int = DEFAULT_MAX_PARTS
    max_depth: int = DEFAULT_MAX_DEPTH
    max_encoded_words: int = DEFAULT_MAX_ENCODED_WORDS
    max_header_decode: int = DEFAULT_MAX_HEADER_DECODE
    max_rcpt: int = DEFAULT_MAX_RCPT

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> HarnessConfig:
        """A config from keyword options (the Python API, the pytest marker); TypeError names an unknown one.
        Their types are checked where they are used (check(), aiosmtpd), as for the command line."""
        return cls(**cast(dict[str, Any], options))

    def limits(self) -> dict[str, int]:
        """The caps a client or a viewer runs into, as /api/stats shows them."""
        return {
            "max_parts": self.max_parts,
            "max_depth": self.max_depth,
            "max_encoded_words": self.max_encoded_words,
            "max_header_decode": self.max_header_decode,
            "max_rcpt": self.max_rcpt,
            "size_limit": self.size_limit,
        }

    def check(self) -> None:
        """ValueError naming the first option combination that cannot work."""
        if self.tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {', '.join(TLS_MODES)}")
        if self.require_tls and self.tls != "starttls":
            raise ValueError("require_tls applies to tls='starttls' (implicit TLS is always encrypted)")
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("certfile and keyfile go together")
        if self.auth_required and not self.users:
            raise ValueError("auth_required needs at least one user")
        if self.on_full not in ON_FULL:
            raise ValueError(f"on_full must be one of {', '.join(ON_FULL)}")
        for name in ("max_parts", "max_depth", "max_encoded_words", "max_header_decode", "max_rcpt"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a whole number of at least 1")
        http_host = self.http_host or self.host
        if self.http and not self.http_auth and not self.http_public_without_auth and not is_loopback(http_host):
            raise ValueError(
                f"the HTTP server would bind {http_host}, beyond loopback, with no authentication: captured mail (password-reset "
                "links included) would be open to the network; add --http-auth USER:PASS (or, knowingly, "
                "--http-public-without-auth)"
            )


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 and ::1; anything else (0.0.0.0 included) reaches beyond this machine."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
