"""The SMTP side: an aiosmtpd handler that captures and applies faults, the
harness's own SMTP protocol class, and a server factory for each TLS mode."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import warnings
import weakref
from collections.abc import Callable
from functools import cache
from typing import Any

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session

from smtp_harness.config import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_ENCODED_WORDS,
    DEFAULT_MAX_HEADER_DECODE,
    DEFAULT_MAX_PARTS,
    DEFAULT_MAX_RCPT,
    HarnessConfig,
)
from smtp_harness.counters import Counters
from smtp_harness.faults import FaultController, Stage
from smtp_harness.maildir import Maildir
from smtp_harness.store import MessageStore, StoreFull, footprint
from smtp_harness.views import Message

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
HOSTNAME = "localhost"
# Loop turns an accepted connection takes to have its protocol and its transport connected (asyncio's accept task).
_ACCEPT_TURNS = 3


@cache
def _class_names(cls: type, prefixes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({name for klass in cls.__mro__ for name in vars(klass) if name.startswith(prefixes)}))


def _names(obj: object, prefixes: tuple[str, ...]) -> list[str]:
    """What aiosmtpd looks for in dir(obj): the class's names with these prefixes, and the instance's own."""
    own = [name for name in vars(obj) if name.startswith(prefixes)]
    cls: type = type(obj)
    return [*_class_names(cls, prefixes), *own]


class HarnessSMTP(SMTP):
    """aiosmtpd's SMTP, with what it looks up per connection answered once per class.

    aiosmtpd's __init__ runs `dir()` and `inspect.getmembers()` on the protocol
    and the handler for every new connection, only to keep the names starting
    with `smtp_`, `auth_` and `handle_`: about a third of the server's time when
    each message comes on its own connection. `__dir__` is the documented hook
    for what `dir()` lists, so this class (and CaptureHandler) list just those
    names, computed once per class. Nothing outside the harness is affected;
    tests/test_harness_equivalence.py checks the server behaves exactly as the
    plain SMTP class does.
    """

    def __dir__(self) -> list[str]:
        # aiosmtpd sets no smtp_/auth_ attribute on instances: the class's names are all of them.
        cls: type = type(self)
        return list(_class_names(cls, ("smtp_", "auth_")))

    socket_transport: asyncio.BaseTransport | None = None
    _counted = False  # this session is in the counters

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The first transport is the socket's; after STARTTLS the protocol is handed the TLS one.
        # Kept so that stop can always close the socket: a TLS transport closed twice (QUIT, then
        # the session's end) forgets its socket while that socket still waits for close_notify.
        if self.socket_transport is None:
            self.socket_transport = transport
        handler = self.event_handler
        if isinstance(handler, CaptureHandler):
            if not self._counted:
                self._counted = True
                handler.counters.sessions += 1
            if transport.get_extra_info("ssl_object") is not None:
                handler.counters.tls_handshakes += 1
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        if isinstance(self.event_handler, CaptureHandler):
            self.event_handler.connections.discard(self)


class CaptureHandler:
    """aiosmtpd hooks: each one applies faults, DATA also stores the message."""

    def __dir__(self) -> list[str]:
        return _names(self, ("handle_", "auth_"))

    def __init__(
        self,
        store: MessageStore[Message],
        faults: FaultController,
        implicit_tls: bool,
        maildir: Maildir | None,
        offer_auth: bool = True,
        *,
        max_rcpt: int = DEFAULT_MAX_RCPT,
        max_parts: int = DEFAULT_MAX_PARTS,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_encoded_words: int = DEFAULT_MAX_ENCODED_WORDS,
        max_header_decode: int = DEFAULT_MAX_HEADER_DECODE,
        counters: Counters | None = None,
    ) -> None:
        self.store = store
        self.counters = counters if counters is not None else Counters()
        self.max_rcpt, self.max_parts, self.max_depth = max_rcpt, max_parts, max_depth
        self.max_encoded_words, self.max_header_decode = max_encoded_words, max_header_decode
        self.offer_auth = offer_auth
        self.faults = faults
        self.implicit_tls = implicit_tls
        self.maildir = maildir
        self.transactions = 0
        self.connections: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self.handshakes: set[asyncio.Task[None]] = set()

    def close_all(self) -> None:
        """Drop every open client connection (on stop).

        abort, not close: a TLS close waits for the peer's close_notify, which a
        stopping loop never sees, and leaves the socket open behind it. Every
        acknowledged message is already stored.
        """
        for protocol in list(self.connections):
            for transport in (protocol.transport, getattr(protocol, "socket_transport", None)):
                if isinstance(transport, asyncio.WriteTransport):  # closing ones too: a TLS close may wait forever
                    transport.abort()

    async def settle(self, timeout: float) -> None:
        """Close every connection and wait (bounded) until each has run connection_lost.

        A connection accepted just before gets its protocol and transport within the
        next loop turns: those turns pass first, then everything is aborted, again each
        turn (an aborted socket closes on the next turn; a late arrival is caught), until
        none is left.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        for _ in range(_ACCEPT_TURNS):
            await asyncio.sleep(0)
        self.close_all()
        while self.connections and loop.time() < deadline:
            await asyncio.sleep(0.01)
            self.close_all()
        await asyncio.sleep(0)

    async def _fault(self, server: SMTP, stage: Stage, recipients: list[str], transaction: int) -> str | None:
        """The reply to send instead of the normal one, or None to carry on."""
        for fault in self.faults:
            if not fault.matches(stage, transaction, recipients):
                continue
            self.counters.faults[stage] += 1
            if fault.action == "delay":
                await asyncio.sleep(fault.delay)
                continue
            if fault.action == "drop":
                if isinstance(server.transport, asyncio.WriteTransport):
                    server.transport.abort()
                self.counters.refused["fault"] += 1
                return "421 4.4.2 Connection dropped by fault injection"
            self.counters.refused["fault"] += 1
            return fault.reply
        return None

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        reply = await self._fault(server, "ehlo", [], self.transactions + 1)
        if reply:
            return [reply]
        # aiosmtpd advertises an empty "AUTH" line when no user is configured.
        return [r for r in responses if self.offer_auth or not r.startswith("250-AUTH")]

    async def handle_AUTH(self, server: SMTP, session: Session, envelope: Envelope, args: list[str]) -> object:  # a reply or MISSING
        reply = await self._fault(server, "auth", [], self.transactions + 1)
        return reply if reply else MISSING

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]) -> str:
        self.transactions += 1
        envelope.transaction = self.transactions  # type: ignore[attr-defined]
        reply = await self._fault(server, "mail", [], self.transactions)
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]) -> str:
        if len(envelope.rcpt_tos) >= self.max_rcpt:  # each recipient costs memory until DATA, and in every view after
            self.counters.refused["too_many_recipients"] += 1
            return f"452 4.5.3 Too many recipients (at most {self.max_rcpt:,} per message)"
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
        size = footprint(raw, envelope.mail_from or "", envelope.rcpt_tos)
        try:
            ident = self.store.reserve(size)
        except StoreFull:
            self.counters.refused["store_full"] += 1
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
            max_parts=self.max_parts,
            max_depth=self.max_depth,
            max_encoded_words=self.max_encoded_words,
            max_header_decode=self.max_header_decode,
        )
        if self.maildir is not None:
            try:
                await asyncio.get_running_loop().run_in_executor(None, self._persist, self.maildir, message)
            except OSError as exc:
                self.store.release(size)
                log.error("maildir write failed: %s", exc.strerror)
                self.counters.refused["not_persisted"] += 1
                return "451 4.3.0 Could not persist the message"
        self.store.add(message)
        self.counters.accepted += 1
        self.counters.accepted_bytes += len(raw)
        return f"250 OK id={ident}"

    def _persist(self, maildir: Maildir, message: Message) -> None:
        meta = (
            f"X-Harness-Mail-From: <{message.mail_from}>\r\n"
            f"X-Harness-Rcpt-To: {', '.join(f'<{r}>' for r in message.rcpt_to)}\r\n"
            f"X-Harness-TLS: {'yes' if message.tls else 'no'}\r\n"
            f"X-Harness-Auth-User: {message.auth_user or '-'}\r\n"
        )
        maildir.write(message.id, meta.encode("utf-8", "replace"), message.raw)


def _auth_user(session: Session) -> str | None:
    data: object = session.auth_data  # aiosmtpd types it loosely; the authenticator sets a str
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


class _Handshaking(asyncio.Protocol):
    """The TLS transport's protocol until the SMTP protocol takes over: it keeps whatever arrives
    in between (a client should wait for the greeting, but nothing it sends is lost)."""

    def __init__(self) -> None:
        self.early: list[bytes] = []
        self.lost = False

    def data_received(self, data: bytes) -> None:
        self.early.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True


class ImplicitTLS(asyncio.Protocol):
    """Implicit TLS (the 465 way) with the socket's transport in hand from the first byte.

    The loop's own `ssl=` server hides the socket until the handshake ends, so a
    connection stuck in (or failing) its handshake could outlive a stopped harness.
    Here the handshake runs through loop.start_tls; the SMTP protocol knows its socket
    at once (stop aborts it at any stage) and is connected to the finished TLS transport.
    """

    def __init__(self, smtp: SMTP, handler: CaptureHandler, context: ssl.SSLContext, handshake_timeout: float) -> None:
        self.smtp, self.handler, self.context, self.timeout = smtp, handler, context, handshake_timeout

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not isinstance(transport, asyncio.Transport):  # a stream server's socket transport; nothing else can start TLS
            transport.close()
            return
        if isinstance(self.smtp, HarnessSMTP):
            self.smtp.socket_transport = transport
        task = asyncio.get_running_loop().create_task(self._handshake(transport))
        self.handler.handshakes.add(task)  # held until done: the loop keeps only weak references to tasks
        task.add_done_callback(self.handler.handshakes.discard)

    def connection_lost(self, exc: Exception | None) -> None:
        # Called only while this is the socket's protocol: gone (or aborted) before its handshake began.
        self.handler.connections.discard(self.smtp)

    async def _handshake(self, transport: asyncio.Transport) -> None:
        waiting = _Handshaking()
        loop = asyncio.get_running_loop()
        try:
            tls = await loop.start_tls(transport, waiting, self.context, server_side=True, ssl_handshake_timeout=self.timeout)
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError, asyncio.CancelledError):
            tls = None
        if tls is None or waiting.lost:  # refused, timed out, or gone: never an SMTP session
            transport.abort()
            self.handler.connections.discard(self.smtp)
            return
        tls.set_protocol(self.smtp)
        self.smtp.connection_made(tls)
        for data in waiting.early:
            self.smtp.data_received(data)


def smtp_factory(
    settings: HarnessConfig, handler: CaptureHandler, tls_context: ssl.SSLContext | None, protocol_class: type[SMTP] = HarnessSMTP
) -> Callable[[], asyncio.BaseProtocol]:
    """A protocol factory for loop.create_server (port 0 works, unlike aiosmtpd's Controller);
    with tls="implicit", every connection's SMTP protocol behind an ImplicitTLS handshake."""
    kwargs: dict[str, Any] = {
        "hostname": HOSTNAME,
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

    # aiosmtpd warns from __init__ when AUTH is required without STARTTLS: deliberate here
    # (implicit TLS, or a plain server the user asked for). Only then is the warning caught:
    # catch_warnings on every connection costs measurable throughput.
    quiet = settings.auth_required and not kwargs["auth_require_tls"]

    def make() -> SMTP:
        # The running loop, passed in: aiosmtpd would otherwise look it up per connection.
        loop = asyncio.get_running_loop()
        if quiet:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                protocol = protocol_class(handler, loop=loop, **kwargs)
        else:
            protocol = protocol_class(handler, loop=loop, **kwargs)
        handler.connections.add(protocol)
        return protocol

    if settings.tls == "implicit" and tls_context is not None:
        context, timeout = tls_context, min(settings.idle_timeout, 60.0)
        return lambda: ImplicitTLS(make(), handler, context, timeout)
    return make
