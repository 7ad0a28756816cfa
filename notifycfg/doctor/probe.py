"""One endpoint, probed step by step: dns, tcp, greeting, ehlo, tls, auth.

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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from notifycfg.compile.endpoint import Endpoint
from notifycfg.doctor.model import Check, Login, Status
from notifycfg.doctor.wire import MAX_LINE, WireError, command, read_reply, shown
from notifycfg.secrets import Resolver, SecretError
from notifycfg.tls import client_context

if TYPE_CHECKING:
    from notifycfg.doctor.revocation import Revocations

SUBMISSION_PORTS = (25, 465, 587, 2525)
STEPS = ("dns", "tcp", "greeting", "ehlo", "tls", "revocation", "auth")


@dataclass(frozen=True)
class Options:
    timeout: float = 10.0
    cafile: str | None = None
    login: bool = False
    cert_warn_days: int = 30
    alternatives: tuple[int, ...] = SUBMISSION_PORTS
    resolve: Resolver | None = None  # only with login
    concurrency: int = 32  # endpoints probed at once, and sender pairs
    dns_servers: tuple[tuple[str, int], ...] = ()  # --dns-server; empty: the system's resolvers


class Stop(Exception):
    """A step failed: the steps that depend on it are skipped."""


@dataclass
class Session:
    endpoint: Endpoint
    options: Options
    checks: list[Check] = field(default_factory=list)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    caps_before_tls: list[str] = field(default_factory=list)
    caps: list[str] = field(default_factory=list)
    chain: list[bytes] = field(default_factory=list)  # the verified chain (DER), leaf first; the leaf alone before 3.13
    address: str | None = None  # resolved through --dns-server: connect here (TLS still verifies the host name)

    def add(self, step: str, status: Status, message: str, login: str | None = None) -> None:
        self.checks.append(Check(step, status, message, login))

    def fail(self, step: str, message: str) -> Stop:
        self.add(step, "error", message)
        return Stop(step)


async def probe(endpoint: Endpoint, logins: list[Login | None], options: Options, revocations: Revocations | None = None) -> list[Check]:
    """Every check for `endpoint`, in order; after an error the dependent checks are `skipped`."""
    session = Session(endpoint, options)
    try:
        await _connect(session)
        await _auth_all(session, logins)
    except Stop:
        pass
    finally:
        await _quit(session)
    if session.chain and revocations is not None:  # over HTTP, after the SMTP session: it holds no connection open
        session.checks.append(await revocations.check(session.chain))
    elif any(c.id == "tls" and c.status != "error" for c in session.checks) and not session.chain:
        session.add("revocation", "skipped", "no TLS: no certificate to check")
    done = {c.id for c in session.checks}
    session.checks += [Check(step, "skipped", "skipped: an earlier check failed") for step in STEPS if step not in done]
    return sorted(session.checks, key=lambda c: STEPS.index(c.id))


async def _connect(s: Session) -> None:
    await _dns(s)
    await _tcp(s)
    if s.endpoint.implicit_tls:
        await _tls_handshake(s)
    await _greeting(s)
    s.caps = s.caps_before_tls = await _ehlo(s)
    if not s.endpoint.implicit_tls:
        await _starttls(s)


async def _dns(s: Session) -> None:
    if s.options.dns_servers:  # --dns-server: the endpoint is resolved there too, and connected to by address
        from notifycfg.doctor.dnscache import addresses_of

        try:
            addresses = await addresses_of(s.endpoint.host, s.options.dns_servers, s.options.timeout)
        except LookupError as exc:
            raise s.fail("dns", f"{s.endpoint.host} {exc}") from None
        s.address = addresses[0]
    else:
        addresses = await _system_dns(s)
    if addresses == [s.endpoint.host]:
        s.add("dns", "ok", f"{s.endpoint.host} is an address: nothing to resolve")
    else:
        s.add("dns", "ok", f"{s.endpoint.host} resolves to {', '.join(addresses)}")


async def _system_dns(s: Session) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(s.endpoint.host, s.endpoint.port, type=socket.SOCK_STREAM), s.options.timeout)
    except TimeoutError:
        raise s.fail("dns", f"{s.endpoint.host} did not resolve within {s.options.timeout:g} s") from None
    except OSError as exc:
        raise s.fail("dns", f"{s.endpoint.host} does not resolve: {exc.strerror or exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def _open(host: str, port: int, timeout: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection(host, port, limit=MAX_LINE), timeout)


async def _tcp(s: Session) -> None:
    started = time.monotonic()
    try:
        s.reader, s.writer = await _open(s.address or s.endpoint.host, s.endpoint.port, s.options.timeout)
    except (OSError, TimeoutError) as exc:
        reason = (
            "timed out"
            if isinstance(exc, TimeoutError)
            else "closed"
            if isinstance(exc, ConnectionRefusedError)
            else (exc.strerror or str(exc))
        )
        raise s.fail("tcp", f"{s.endpoint.port} {reason}{await _other_ports(s)}") from None
    s.add("tcp", "ok", f"port {s.endpoint.port} accepts connections ({(time.monotonic() - started) * 1000:.0f} ms)")


async def _other_ports(s: Session) -> str:
    """A hint, never a verdict: which usual submission ports do answer."""
    others = [p for p in s.options.alternatives if p != s.endpoint.port]

    async def is_open(port: int) -> bool:
        try:
            _, writer = await _open(s.address or s.endpoint.host, port, min(s.options.timeout, 3.0))
        except (OSError, TimeoutError):
            return False
        writer.close()
        return True

    found = [p for p, yes in zip(others, await asyncio.gather(*map(is_open, others)), strict=True) if yes]
    if not found:
        return f"; no other usual submission port ({', '.join(map(str, others))}) is open either"
    first = found[0]
    hint = f"port {first} with secure: true" if first == 465 else f"port {first}"
    return f"; {', '.join(f'{p} open' for p in found)}: did you mean {hint}?"


async def _greeting(s: Session) -> None:
    assert s.reader is not None
    try:
        code, lines = await read_reply(s.reader, s.options.timeout)
    except WireError as exc:
        raise s.fail("greeting", f"no SMTP greeting: {exc}") from None
    if code != 220:
        raise s.fail("greeting", f"the server refused the session: {code} {shown(' '.join(lines))}")
    s.add("greeting", "ok", f"220 {shown(lines[0])}")


async def _ehlo(s: Session, step: str = "ehlo") -> list[str]:
    assert s.reader is not None and s.writer is not None
    own = s.writer.get_extra_info("sockname")
    literal = f"[IPv6:{own[0]}]" if own and ":" in str(own[0]) else f"[{own[0]}]" if own else "[127.0.0.1]"
    try:
        code, lines = await command(s.reader, s.writer, f"EHLO {literal}", s.options.timeout)
    except (WireError, TimeoutError, OSError) as exc:
        raise s.fail(step, f"EHLO failed: {exc}") from None
    if code != 250:
        raise s.fail(step, f"EHLO refused: {code} {shown(' '.join(lines))}")
    caps = [line.strip() for line in lines[1:]]
    if step == "ehlo":
        s.add("ehlo", "ok", f"capabilities: {shown(', '.join(caps) or 'none', 200)}")
    return caps


async def _starttls(s: Session) -> None:
    offered = any(c.upper() == "STARTTLS" for c in s.caps)
    if not s.endpoint.secure:
        if offered:
            s.add("tls", "warning", "the server offers TLS; set secure: true")
        else:
            s.add("tls", "ok", "plain connection, as the settings say (secure: false)")
        return
    if not offered:
        raise s.fail("tls", "the server does not offer STARTTLS, and secure: true needs it (never downgraded)")
    assert s.reader is not None and s.writer is not None
    try:
        code, lines = await command(s.reader, s.writer, "STARTTLS", s.options.timeout)
    except (WireError, TimeoutError, OSError) as exc:
        raise s.fail("tls", f"STARTTLS failed: {exc}") from None
    if code != 220:
        raise s.fail("tls", f"STARTTLS refused: {code} {shown(' '.join(lines))}")
    await _nothing_pending(s, "after its 220 to STARTTLS, before the TLS handshake")
    await _tls_handshake(s)
    await _nothing_pending(s, "right after the TLS handshake, before the client spoke")
    s.caps = await _ehlo(s, step="tls")


async def _nothing_pending(s: Session, when: str) -> None:
    """Bytes the server sent unasked are a STARTTLS response injection (the CVE-2011-0411 class):
    read as answers to the encrypted commands, they would forge them. Never acted on: an error."""
    assert s.reader is not None
    extra = await _buffered(s.reader)
    if extra:
        raise s.fail(
            "tls",
            f"the server sent {len(extra)} byte(s) {when} ({shown(extra, 40)!r}): a STARTTLS response injection"
            " (CVE-2011-0411 class) would forge the encrypted replies; refusing to go on",
        )


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


async def _tls_handshake(s: Session) -> None:
    assert s.writer is not None
    try:
        await asyncio.wait_for(s.writer.start_tls(client_context(s.options.cafile), server_hostname=s.endpoint.host), s.options.timeout)
    except ssl.SSLCertVerificationError as exc:
        raise s.fail("tls", _certificate_problem(exc, s.endpoint.host)) from None
    except ssl.SSLError as exc:
        raise s.fail("tls", _handshake_problem(exc)) from None
    except TimeoutError:
        raise s.fail("tls", f"no TLS handshake within {s.options.timeout:g} s") from None
    except OSError as exc:
        raise s.fail("tls", f"the connection failed during the TLS handshake: {exc.strerror or exc}") from None
    ssl_object = s.writer.get_extra_info("ssl_object")
    s.add("tls", *_certificate_verdict(ssl_object, s.endpoint.host, s.options.cert_warn_days))
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


def _certificate_problem(exc: ssl.SSLCertVerificationError, host: str) -> str:
    code = exc.verify_code
    if code == 10:
        return f"the certificate for {host} has expired"
    if code == 9:
        return f"the certificate for {host} is not valid yet"
    if code == 62 or "mismatch" in (exc.verify_message or "").lower():
        return f"the certificate is not for {host} (host name mismatch)"
    if code in (18, 19, 20, 21, 2):
        return f"the certificate for {host} is not trusted ({exc.verify_message}): use --cafile for a private CA"
    return f"the certificate for {host} does not verify: {exc.verify_message}"


def _handshake_problem(exc: ssl.SSLError) -> str:
    reason = (exc.reason or str(exc)).lower()
    if "version" in reason or "protocol" in reason:
        return f"TLS handshake failed ({exc.reason}): the server offers no TLS 1.2 or later"
    return f"TLS handshake failed: {exc.reason or exc}"


def _certificate_verdict(ssl_object: ssl.SSLObject | None, host: str, warn_days: int) -> tuple[Status, str]:
    if ssl_object is None:
        return "error", "no TLS session after the handshake"
    version = ssl_object.version() or "TLS"
    cert = ssl_object.getpeercert() or {}
    expires = ssl.cert_time_to_seconds(str(cert["notAfter"])) if "notAfter" in cert else None
    if expires is None:
        return "ok", f"{version}; the certificate for {host} verifies"
    days = int((expires - time.time()) // 86400)
    when = time.strftime("%Y-%m-%d", time.gmtime(expires))
    if days < warn_days:
        return "warning", f"{version}; the certificate for {host} expires in {days} day(s), on {when}"
    return "ok", f"{version}; the certificate for {host} verifies, valid until {when} ({days} days)"


def _mechanisms(caps: list[str]) -> list[str]:
    for cap in caps:
        words = cap.upper().replace("=", " ").split()
        if words and words[0] == "AUTH":
            return words[1:]
    return []


async def _auth_all(s: Session, logins: list[Login | None]) -> None:
    named = [login for login in logins if login is not None]
    if None in logins:
        s.add("auth", "ok", "anonymous: no AUTH is needed, none is tried")
    for index, login in enumerate(named):
        if index and s.options.login:  # one AUTH per session: a fresh one for every further login
            await _quit(s)
            fresh = Session(s.endpoint, s.options)
            try:
                await _connect(fresh)
            except Stop:
                s.add("auth", "error", f"{login.name}: no session to log in with (a second connection failed)", login.name)
                continue
            finally:
                s.reader, s.writer = fresh.reader, fresh.writer
            s.caps, s.caps_before_tls = fresh.caps, fresh.caps_before_tls
        await _auth(s, login)


async def _auth(s: Session, login: Login) -> None:
    usable = [m for m in ("PLAIN", "LOGIN") if m in _mechanisms(s.caps)]
    early = s.endpoint.secure and not s.endpoint.implicit_tls and bool(_mechanisms(s.caps_before_tls))
    if not _mechanisms(s.caps):
        s.add("auth", "error", f"{login.name}: the server offers no AUTH, and the settings log in", login.name)
        return
    if not usable:
        s.add(
            "auth",
            "error",
            f"{login.name}: no usable AUTH mechanism (offered: {shown(' '.join(_mechanisms(s.caps)))}; notifycfg speaks PLAIN and LOGIN)",
            login.name,
        )
        return
    flag = "; the server also offers AUTH before TLS, where a password would travel in clear" if early else ""
    status: Status = "warning" if early else "ok"
    if not s.options.login:
        s.add("auth", status, f"{login.name}: AUTH {'/'.join(usable)} offered (not tried: --login tries it){flag}", login.name)
        return
    verdict, message = await _login(s, login, usable[0])
    s.add("auth", "error" if verdict == "error" else status, f"{login.name}: {message}{flag}", login.name)


async def _login(s: Session, login: Login, mechanism: str) -> tuple[Status, str]:
    assert s.options.resolve is not None and s.reader is not None and s.writer is not None
    try:
        password = s.options.resolve(dict(login.password))
    except SecretError as exc:
        return "error", f"secret: {exc}"
    try:
        if mechanism == "PLAIN":
            token = base64.b64encode(f"\0{login.name}\0{password}".encode()).decode()
            code, lines = await command(s.reader, s.writer, f"AUTH PLAIN {token}", s.options.timeout)
        else:
            code, lines = await command(s.reader, s.writer, "AUTH LOGIN", s.options.timeout)
            for value in (login.name, password):
                if code != 334:
                    break
                code, lines = await command(s.reader, s.writer, base64.b64encode(value.encode()).decode(), s.options.timeout)
    except (WireError, TimeoutError, OSError) as exc:
        return "error", f"AUTH {mechanism} failed: {exc}"
    finally:
        del password
    if code == 235:
        return "ok", f"logged in with AUTH {mechanism}"
    return "error", f"login refused: {code} {shown(' '.join(lines))}"


async def _quit(s: Session) -> None:
    if s.writer is None:
        return
    writer, s.writer = s.writer, None
    try:
        if s.reader is not None and not writer.is_closing():
            await command(s.reader, writer, "QUIT", min(s.options.timeout, 2.0))
    except (WireError, TimeoutError, OSError):
        pass
    writer.close()
    with contextlib.suppress(TimeoutError, OSError, ssl.SSLError):
        await asyncio.wait_for(writer.wait_closed(), min(s.options.timeout, 2.0))
