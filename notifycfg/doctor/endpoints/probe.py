"""One endpoint, probed step by step: dns, tcp, greeting, ehlo, tls, revocation, auth; then how long
the server's answers took against the time the platform waits for them (timing.py).

Never MAIL, RCPT or DATA: the only commands sent are EHLO, STARTTLS, AUTH (with
--login) and QUIT. Every network step is bounded by `timeout`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from notifycfg.compile.endpoint import Endpoint
from notifycfg.doctor.endpoints.timing import timing_checks
from notifycfg.doctor.endpoints.wire import MAX_LINE, WireError, command, read_reply
from notifycfg.doctor.facts import AnsweredStep, Fact, Facts
from notifycfg.doctor.model import STEPS, Check, EndpointStep, Login, Status, skipped
from notifycfg.doctor.options import EndpointOptions
from notifycfg.providers.catalogue import Explanation
from notifycfg.secrets import Resolver, SecretError
from notifycfg.tls import client_context

if TYPE_CHECKING:
    from notifycfg.doctor.endpoints.revocation import Revocations

_STEP_ORDER: dict[str, int] = {step: i for i, step in enumerate(STEPS)}


def _explained(facts: Facts, host: str) -> Explanation | None:
    """A server's refusal (its reply code and text) as the relay catalogue explains it, if it does."""
    code, text = facts.get("reply_code"), facts.get("text")
    if not isinstance(code, int) or not isinstance(text, str):
        return None
    from notifycfg.providers.catalogue import catalogue

    return catalogue().explain(code, text, host)


class Stop(Exception):
    """A step failed: the steps that depend on it are skipped."""


@dataclass
class Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


@dataclass
class Session:
    endpoint: Endpoint
    options: EndpointOptions
    checks: list[Check] = field(default_factory=list)
    conn: Conn | None = None
    caps_before_tls: list[str] = field(default_factory=list)
    caps: list[str] = field(default_factory=list)
    chain: list[bytes] = field(default_factory=list)  # the verified chain (DER), leaf first; the leaf alone before 3.13
    address: str | None = None  # resolved through --dns-server: connect here (TLS still verifies the host name)
    answers: dict[AnsweredStep, float] = field(default_factory=dict)  # the slowest answer per step, in seconds

    def answered(self, step: AnsweredStep, started: float) -> None:
        self.took(step, time.monotonic() - started)

    def took(self, step: AnsweredStep, seconds: float) -> None:
        """Keep the slowest answer of each step (a session per login: every one counts)."""
        self.answers[step] = max(self.answers.get(step, 0.0), seconds)

    def add(self, step: EndpointStep, status: Status, code: str, facts: Facts | None = None, login: str | None = None) -> None:
        facts = facts or {}
        self.checks.append(Check(step, status, code, facts, login, _explained(facts, self.endpoint.host) if status == "error" else None))

    def fail(self, step: EndpointStep, code: str, facts: Facts | None = None) -> Stop:
        self.add(step, "error", code, facts)
        return Stop(step)


async def probe(
    endpoint: Endpoint,
    logins: list[Login | None],
    options: EndpointOptions,
    revocations: Revocations | None = None,
    timeouts: Mapping[str, int | None] | None = None,
) -> list[Check]:
    """Every check for `endpoint`, in order; after an error the dependent checks are `skipped`.
    `timeouts`: each organization's timeout_ms (None: the platform's default), for the timing checks."""
    session = Session(endpoint, options)
    try:
        await _auth_all(session, await _connect(session), logins)
    except Stop:
        pass
    finally:
        await _quit(session)
    if session.chain and revocations is not None:  # over HTTP, after the SMTP session: it holds no connection open
        session.checks.append(await revocations.check(session.chain))
    elif any(c.id == "tls" and c.status != "error" for c in session.checks) and not session.chain:
        session.add("revocation", "skipped", "revocation.no_tls")
    done = {c.id for c in session.checks}
    session.checks += [skipped(step) for step in STEPS if step not in done]
    return sorted(session.checks, key=lambda c: _STEP_ORDER[c.id]) + timing_checks(session.answers, timeouts or {})


async def _connect(s: Session) -> Conn:
    await _dns(s)
    conn = s.conn = await _tcp(s)
    if s.endpoint.implicit_tls:
        await _tls_handshake(s, conn)
    await _greeting(s, conn)
    s.caps = s.caps_before_tls = await _ehlo(s, conn)
    if not s.endpoint.implicit_tls:
        await _starttls(s, conn)
    return conn


async def _dns(s: Session) -> None:
    host = s.endpoint.host
    if s.options.dns_servers:  # --dns-server: the endpoint is resolved there too, and connected to by address
        from notifycfg.doctor.dns import DnsFailure, addresses_of

        try:
            addresses = await addresses_of(host, s.options.dns_servers, s.options.timeout)
        except DnsFailure as exc:
            if exc.what == "timed out":
                raise s.fail("dns", "dns.timeout", {"host": host, "timeout": s.options.timeout}) from None
            raise s.fail("dns", "dns.unresolvable", {"host": host, "failure": exc.what, "detail": exc.detail}) from None
        s.address = addresses[0]
    else:
        addresses = await _system_dns(s)
    if addresses == [host]:
        s.add("dns", "ok", "dns.literal", {"host": host})
    else:
        s.add("dns", "ok", "dns.resolved", {"host": host, "addresses": list(addresses)})


async def _system_dns(s: Session) -> list[str]:
    loop, host = asyncio.get_running_loop(), s.endpoint.host
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, s.endpoint.port, type=socket.SOCK_STREAM), s.options.timeout)
    except TimeoutError:
        raise s.fail("dns", "dns.timeout", {"host": host, "timeout": s.options.timeout}) from None
    except OSError as exc:
        raise s.fail("dns", "dns.unresolvable", {"host": host, "failure": "other", "detail": exc.strerror or str(exc)}) from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def _open(host: str, port: int, timeout: float) -> Conn:
    return Conn(*await asyncio.wait_for(asyncio.open_connection(host, port, limit=MAX_LINE), timeout))


async def _tcp(s: Session) -> Conn:
    started, port = time.monotonic(), s.endpoint.port
    try:
        conn = await _open(s.address or s.endpoint.host, port, s.options.timeout)
    except (OSError, TimeoutError) as exc:
        others = [p for p in s.options.alternatives if p != port]
        facts: dict[str, Fact] = {"port": port, "others": list[Fact](others), "open": list[Fact](await _open_ports(s, others))}
        if isinstance(exc, TimeoutError):
            raise s.fail("tcp", "tcp.timeout", facts) from None
        if isinstance(exc, ConnectionRefusedError):
            raise s.fail("tcp", "tcp.closed", facts) from None
        raise s.fail("tcp", "tcp.unreachable", {**facts, "reason": exc.strerror or str(exc)}) from None
    s.add("tcp", "ok", "tcp.open", {"port": port, "ms": round((time.monotonic() - started) * 1000)})
    return conn


async def _open_ports(s: Session, others: list[int]) -> list[int]:
    """A hint, never a verdict: which usual submission ports do answer."""

    async def is_open(port: int) -> bool:
        try:
            conn = await _open(s.address or s.endpoint.host, port, min(s.options.timeout, 3.0))
        except (OSError, TimeoutError):
            return False
        conn.writer.close()
        return True

    return [p for p, yes in zip(others, await asyncio.gather(*map(is_open, others)), strict=True) if yes]


def _reply(code: int, lines: list[str]) -> dict[str, int | str]:
    """A server's reply as facts: its code and its text, as sent (words.py shows it safely)."""
    return {"reply_code": code, "text": " ".join(lines)}


async def _greeting(s: Session, conn: Conn) -> None:
    started = time.monotonic()
    try:
        code, lines = await read_reply(conn.reader, s.options.timeout)
    except WireError as exc:
        raise s.fail("greeting", "greeting.none", {"error": str(exc)}) from None
    s.answered("greeting", started)
    if code != 220:
        raise s.fail("greeting", "greeting.refused", _reply(code, lines))
    s.add("greeting", "ok", "greeting.ok", {"banner": lines[0]})


async def _ehlo(s: Session, conn: Conn, step: EndpointStep = "ehlo") -> list[str]:
    own = conn.writer.get_extra_info("sockname")
    literal = f"[IPv6:{own[0]}]" if own and ":" in str(own[0]) else f"[{own[0]}]" if own else "[127.0.0.1]"
    prefix = "ehlo." if step == "ehlo" else f"{step}.ehlo_"
    started = time.monotonic()
    try:
        code, lines = await command(conn.reader, conn.writer, f"EHLO {literal}", s.options.timeout)
    except (WireError, TimeoutError, OSError) as exc:
        raise s.fail(step, f"{prefix}failed", {"error": str(exc)}) from None
    s.answered("ehlo", started)
    if code != 250:
        raise s.fail(step, f"{prefix}refused", _reply(code, lines))
    caps = [line.strip() for line in lines[1:]]
    if step == "ehlo":
        s.add("ehlo", "ok", "ehlo.ok", {"capabilities": list(caps)})
    return caps


async def _starttls(s: Session, conn: Conn) -> None:
    offered = any(c.upper() == "STARTTLS" for c in s.caps)
    if not s.endpoint.secure:
        if offered:
            s.add("tls", "warning", "tls.offered_unused")
        else:
            s.add("tls", "ok", "tls.plain")
        return
    if not offered:
        raise s.fail("tls", "tls.not_offered")
    started = time.monotonic()
    try:
        code, lines = await command(conn.reader, conn.writer, "STARTTLS", s.options.timeout)
    except (WireError, TimeoutError, OSError) as exc:
        raise s.fail("tls", "tls.starttls_failed", {"error": str(exc)}) from None
    s.answered("tls", started)
    if code != 220:
        raise s.fail("tls", "tls.starttls_refused", _reply(code, lines))
    await _nothing_pending(s, conn, "after_starttls")
    await _tls_handshake(s, conn)
    await _nothing_pending(s, conn, "after_handshake")
    s.caps = await _ehlo(s, conn, step="tls")


async def _nothing_pending(s: Session, conn: Conn, when: str) -> None:
    """Bytes the server sent unasked are a STARTTLS response injection (the CVE-2011-0411 class):
    read as answers to the encrypted commands, they would forge them. Never acted on: an error."""
    extra = await _buffered(conn.reader)
    if extra:
        sample = extra[:200].decode("ascii", "replace")
        raise s.fail("tls", "tls.injection", {"bytes": len(extra), "sample": sample, "when": when})


async def _buffered(reader: asyncio.StreamReader) -> bytes:
    """What the reader already holds, without waiting for more: a read of buffered data
    completes on its first step, so one turn of the loop tells (public API only)."""
    pending = asyncio.ensure_future(reader.read(MAX_LINE))
    await asyncio.sleep(0)
    if pending.done():
        return b"" if pending.cancelled() or pending.exception() else pending.result()
    pending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pending
    return b""


async def _tls_handshake(s: Session, conn: Conn) -> None:
    host, started = s.endpoint.host, time.monotonic()
    try:
        await asyncio.wait_for(conn.writer.start_tls(client_context(s.options.cafile), server_hostname=host), s.options.timeout)
    except ssl.SSLCertVerificationError as exc:
        raise s.fail("tls", *_certificate_problem(exc, host)) from None
    except ssl.SSLError as exc:
        raise s.fail("tls", *_handshake_problem(exc)) from None
    except TimeoutError:
        raise s.fail("tls", "tls.timeout", {"timeout": s.options.timeout}) from None
    except OSError as exc:
        raise s.fail("tls", "tls.connection_failed", {"reason": exc.strerror or str(exc)}) from None
    s.answered("tls", started)
    ssl_object = conn.writer.get_extra_info("ssl_object")
    s.add("tls", *_certificate_verdict(ssl_object, host, s.options.cert_warn_days))
    s.chain = _verified_chain(ssl_object)


def _verified_chain(ssl_object: ssl.SSLObject | None) -> list[bytes]:
    """Leaf first; with intermediates where the runtime exposes the verified chain (3.13's get_verified_chain)."""
    if ssl_object is None:
        return []
    chain = getattr(ssl_object, "get_verified_chain", None)
    if chain is not None:
        return [bytes(c) for c in chain()]
    leaf = ssl_object.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def _certificate_problem(exc: ssl.SSLCertVerificationError, host: str) -> tuple[str, Facts]:
    code, reason = exc.verify_code, exc.verify_message
    if code == 10:
        return "tls.expired", {"host": host}
    if code == 9:
        return "tls.not_yet_valid", {"host": host}
    if code == 62 or "mismatch" in (reason or "").lower():
        return "tls.name_mismatch", {"host": host}
    if code in (18, 19, 20, 21, 2):
        return "tls.untrusted", {"host": host, "reason": reason}
    return "tls.unverified", {"host": host, "reason": reason}


def _handshake_problem(exc: ssl.SSLError) -> tuple[str, Facts]:
    reason = str(exc.reason or exc)
    if "version" in reason.lower() or "protocol" in reason.lower():
        return "tls.old_protocol", {"reason": reason}
    return "tls.handshake_failed", {"reason": reason}


def _certificate_verdict(ssl_object: ssl.SSLObject | None, host: str, warn_days: int) -> tuple[Status, str, Facts]:
    if ssl_object is None:
        return "error", "tls.no_session", {}
    version = ssl_object.version() or "TLS"
    cert = ssl_object.getpeercert() or {}
    if "notAfter" not in cert:
        return "ok", "tls.verified", {"version": version, "host": host, "until": None, "days": None}
    expires = ssl.cert_time_to_seconds(str(cert["notAfter"]))
    days = int((expires - time.time()) // 86400)
    facts: Facts = {"version": version, "host": host, "until": time.strftime("%Y-%m-%d", time.gmtime(expires)), "days": days}
    if days < warn_days:
        return "warning", "tls.expiring", facts
    return "ok", "tls.verified", facts


def _mechanisms(caps: list[str]) -> list[str]:
    for cap in caps:
        words = cap.upper().replace("=", " ").split()
        if words and words[0] == "AUTH":
            return words[1:]
    return []


async def _auth_all(s: Session, conn: Conn, logins: list[Login | None]) -> None:
    named = [login for login in logins if login is not None]
    if None in logins:
        s.add("auth", "ok", "auth.anonymous")
    for index, login in enumerate(named):
        if index and s.options.login is not None:  # one AUTH per session: a fresh one for every further login
            await _quit(s)
            fresh = Session(s.endpoint, s.options)
            try:
                conn = await _connect(fresh)
            except Stop:
                s.conn = fresh.conn
                s.add("auth", "error", "auth.no_session", {"login": login.name}, login.name)
                continue
            s.conn, s.caps, s.caps_before_tls = conn, fresh.caps, fresh.caps_before_tls
            for step, seconds in fresh.answers.items():
                s.took(step, seconds)
        await _auth(s, conn, login)


async def _auth(s: Session, conn: Conn, login: Login) -> None:
    offered = _mechanisms(s.caps)
    usable = [m for m in ("PLAIN", "LOGIN") if m in offered]
    early = s.endpoint.secure and not s.endpoint.implicit_tls and bool(_mechanisms(s.caps_before_tls))
    who = {"login": login.name}
    if not offered:
        s.add("auth", "error", "auth.not_offered", who, login.name)
        return
    if not usable:
        s.add("auth", "error", "auth.no_mechanism", {**who, "offered": list(offered)}, login.name)
        return
    status: Status = "warning" if early else "ok"
    if s.options.login is None:
        s.add("auth", status, "auth.offered", {**who, "mechanisms": list(usable), "early": early}, login.name)
        return
    started = time.monotonic()
    code, facts = await _login(s.options.login, s.options.timeout, conn, login, usable[0])
    if code in ("auth.ok", "auth.refused"):  # the server answered
        s.answered("auth", started)
    s.add("auth", status if code == "auth.ok" else "error", code, {**who, **facts, "early": early}, login.name)


async def _login(resolve: Resolver, timeout: float, conn: Conn, login: Login, mechanism: str) -> tuple[str, Facts]:
    try:
        password = resolve(dict(login.password))
    except SecretError as exc:
        return "auth.secret", {"error": str(exc)}
    try:
        if mechanism == "PLAIN":
            token = base64.b64encode(f"\0{login.name}\0{password}".encode()).decode()
            code, lines = await command(conn.reader, conn.writer, f"AUTH PLAIN {token}", timeout)
        else:
            code, lines = await command(conn.reader, conn.writer, "AUTH LOGIN", timeout)
            for value in (login.name, password):
                if code != 334:
                    break
                code, lines = await command(conn.reader, conn.writer, base64.b64encode(value.encode()).decode(), timeout)
    except (WireError, TimeoutError, OSError) as exc:
        return "auth.failed", {"mechanism": mechanism, "error": str(exc)}
    finally:
        del password
    if code == 235:
        return "auth.ok", {"mechanism": mechanism}
    return "auth.refused", _reply(code, lines)


async def _quit(s: Session) -> None:
    if s.conn is None:
        return
    conn, s.conn = s.conn, None
    try:
        if not conn.writer.is_closing():
            await command(conn.reader, conn.writer, "QUIT", min(s.options.timeout, 2.0))
    except (WireError, TimeoutError, OSError):
        pass
    conn.writer.close()
    with contextlib.suppress(TimeoutError, OSError, ssl.SSLError):
        await asyncio.wait_for(conn.writer.wait_closed(), min(s.options.timeout, 2.0))
