"""The SMTP side: an aiosmtpd handler that captures, applies faults, and
a server factory for each TLS mode."""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session

from smtp_harness import speedups
from smtp_harness.faults import Fault
from smtp_harness.maildir import Maildir
from smtp_harness.store import Message, MessageStore, StoreFull

log = logging.getLogger("smtp_harness")


_BENIGN = (
    # aiosmtpd sets its own deprecated Session.login_data on every AUTH, and warns.
    "login_data is deprecated",
    # Deliberate with implicit TLS: the whole connection is encrypted (see smtp_factory).
    "auth_required == True but auth_require_tls == False",
)


def _not_benign(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not any(text in message for text in _BENIGN)


logging.getLogger("mail.log").addFilter(_not_benign)
speedups.install()
TLS_MODES = ("off", "starttls", "implicit")
DEFAULT_SIZE_LIMIT = 10 * 1024 * 1024


@dataclass
class SMTPSettings:
    tls: str = "off"
    users: dict[str, str] = field(default_factory=dict)
    auth_required: bool = False
    require_tls: bool = False
    size_limit: int = DEFAULT_SIZE_LIMIT
    idle_timeout: float = 60.0
    hostname: str = "localhost"


class CaptureHandler:
    """aiosmtpd hooks: each one applies faults, DATA also stores the message."""

    def __init__(self, store: MessageStore, faults: list[Fault], implicit_tls: bool, maildir: Maildir | None,
                 offer_auth: bool = True) -> None:
        self.store = store
        self.offer_auth = offer_auth
        self.faults = faults
        self.implicit_tls = implicit_tls
        self.maildir = maildir
        self.transactions = 0
        self.connections: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def close_all(self) -> None:
        """Close every open client connection (on stop)."""
        for protocol in list(self.connections):
            if protocol.transport is not None:
                protocol.transport.close()

    async def _fault(self, server: SMTP, stage: str, recipients: list[str], transaction: int) -> str | None:
        """The reply to send instead of the normal one, or None to carry on."""
        for fault in list(self.faults):
            if not fault.matches(stage, transaction, recipients):
                continue
            if fault.action == "delay":
                await asyncio.sleep(fault.delay)
                continue
            if fault.action == "drop":
                server.transport.abort()
                return "421 4.4.2 Connection dropped by fault injection"
            return fault.reply
        return None

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        reply = await self._fault(server, "ehlo", [], self.transactions + 1)
        if reply:
            return [reply]
        # aiosmtpd advertises an empty "AUTH" line when no user is configured.
        return [r for r in responses if self.offer_auth or not r.startswith("250-AUTH")]

    async def handle_AUTH(self, server: SMTP, session: Session, envelope: Envelope, args: list[str]) -> Any:
        reply = await self._fault(server, "auth", [], self.transactions + 1)
        return reply if reply else MISSING

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        self.transactions += 1
        envelope.transaction = self.transactions  # type: ignore[attr-defined]
        reply = await self._fault(server, "mail", [], self.transactions)
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        reply = await self._fault(server, "rcpt", [address], getattr(envelope, "transaction", 0))
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await self._fault(server, "data", list(envelope.rcpt_tos), getattr(envelope, "transaction", 0))
        if reply:
            return reply
        raw = envelope.original_content or b""
        try:
            ident = self.store.reserve(len(raw))
        except StoreFull:
            return "452 4.3.1 Insufficient storage: the harness store is full (see its memory policy)"
        ssl_object = server.transport.get_extra_info("ssl_object") if server.transport else None
        message = Message(
            id=ident,
            mail_from=envelope.mail_from or "",
            rcpt_to=tuple(envelope.rcpt_tos),
            raw=raw,
            tls=self.implicit_tls or session.ssl is not None,
            tls_version=ssl_object.version() if ssl_object else None,
            auth_user=_auth_user(session),
            peer=_peer(session.peer),
            received_at=time.time(),
        )
        if self.maildir is not None:
            try:
                await asyncio.get_running_loop().run_in_executor(None, self._persist, message)
            except OSError as exc:
                self.store.release(len(raw))
                log.error("maildir write failed: %s", exc.strerror)
                return "451 4.3.0 Could not persist the message"
        self.store.add(message)
        return f"250 OK id={ident}"

    def _persist(self, message: Message) -> None:
        assert self.maildir is not None
        meta = (
            f"X-Harness-Mail-From: <{message.mail_from}>\r\n"
            f"X-Harness-Rcpt-To: {', '.join(f'<{r}>' for r in message.rcpt_to)}\r\n"
            f"X-Harness-TLS: {'yes' if message.tls else 'no'}\r\n"
            f"X-Harness-Auth-User: {message.auth_user or '-'}\r\n"
        )
        self.maildir.write(message.id, meta.encode("utf-8", "replace"), message.raw)


def _auth_user(session: Session) -> str | None:
    data = session.auth_data
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    if isinstance(data, str):
        return data
    return None


def _peer(peer: Any) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


def authenticator(users: dict[str, str]) -> Callable[..., AuthResult]:
    def check(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        if login in users and users[login] == password:
            return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    return check


def smtp_factory(settings: SMTPSettings, handler: CaptureHandler, tls_context: Any) -> Callable[[], SMTP]:
    """A protocol factory for loop.create_server (port 0 works, unlike aiosmtpd's Controller)."""
    kwargs: dict[str, Any] = {
        "hostname": settings.hostname,
        "data_size_limit": settings.size_limit,
        "enable_SMTPUTF8": True,
        "timeout": settings.idle_timeout,
        "auth_required": settings.auth_required,
        # Implicit TLS: every connection is already encrypted, so AUTH may be
        # offered at once (aiosmtpd only counts STARTTLS: upstream issue #281).
        # Without TLS configured at all, AUTH over plaintext is the user's choice.
        "auth_require_tls": settings.tls == "starttls",
        "tls_context": tls_context if settings.tls == "starttls" else None,
        "require_starttls": settings.require_tls and settings.tls == "starttls",
    }
    if settings.users:
        kwargs["authenticator"] = authenticator(settings.users)
    else:
        kwargs["auth_exclude_mechanism"] = ["LOGIN", "PLAIN"]

    def make() -> SMTP:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "AUTH without TLS": deliberate in implicit and off modes
            protocol = SMTP(handler, **kwargs)
        handler.connections.add(protocol)
        return protocol

    return make
