"""Servers that misbehave on purpose, for doctor's tests: real sockets on loopback."""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from support import LoopThread


@contextlib.contextmanager
def _listening(host: str, port: int, talk: Callable[[socket.socket, threading.Event], None]) -> Iterator[int]:
    """A loopback listener that hands each connection to `talk` in a thread; everything closed on exit."""
    listener = socket.create_server((host, port))
    listener.settimeout(0.2)
    stop = threading.Event()
    clients: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            clients.append(conn)
            threading.Thread(target=talk, args=(conn, stop), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in clients:
            conn.close()
        listener.close()


@contextlib.contextmanager
def raw_server(behaviour: str, host: str = "127.0.0.1") -> Iterator[int]:
    """`silent`: accepts and never speaks; `endless`: a 220- banner that never ends;
    `garbage`: answers like a web server."""

    def talk(conn: socket.socket, stop: threading.Event) -> None:
        with contextlib.suppress(OSError):
            if behaviour == "garbage":
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            while behaviour == "endless" and not stop.is_set():
                conn.sendall(b"220-still greeting you\r\n")
            stop.wait(30)

    with _listening(host, 0, talk) as port:
        yield port


class _Accept:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"svc" and data.password == b"right"
    return AuthResult(success=ok, handled=False)


@contextlib.contextmanager
def early_auth_server(context: ssl.SSLContext) -> Iterator[int]:
    """aiosmtpd offering STARTTLS *and* AUTH before TLS (auth_require_tls=False)."""
    with LoopThread() as thread:

        def make() -> SMTP:
            return SMTP(_Accept(), tls_context=context, auth_require_tls=False, authenticator=_auth, loop=thread.loop)

        server = thread.run(thread.loop.create_server(make, "127.0.0.1", 0))
        try:
            yield server.sockets[0].getsockname()[1]
        finally:
            server.close()
            thread.run(server.wait_closed())


def certificate(folder: Path, ca: trustme.CA, name: str, *, days: int = 365, starts_in_days: int = -1) -> tuple[str, str]:
    """(certfile, keyfile) for `name`, valid from `starts_in_days` to `days` from now."""
    now = datetime.datetime.now(datetime.UTC)
    leaf = ca.issue_cert(name, not_before=now + datetime.timedelta(days=starts_in_days), not_after=now + datetime.timedelta(days=days))
    cert, key = folder / f"{name}-{days}-{starts_in_days}.pem", folder / f"{name}-{days}-{starts_in_days}.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    key.write_bytes(leaf.private_key_pem.bytes())
    return str(cert), str(key)


def ca_file(folder: Path, ca: trustme.CA, name: str = "ca.pem") -> str:
    path = folder / name
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@contextlib.contextmanager
def old_tls_server(host: str, port: int, certfile: str, keyfile: str) -> Iterator[None]:
    """Implicit TLS that stops at TLS 1.1: what doctor must call too old. Skips where OpenSSL cannot even offer it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():  # TLS 1.1 is deprecated: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1_1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError):
        import pytest

        pytest.skip("this OpenSSL cannot offer TLS 1.1 at all")
    context.load_cert_chain(certfile, keyfile)

    def talk(conn: socket.socket, stop: threading.Event) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            conn.settimeout(5)
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"220 old.example ESMTP\r\n")

    with _listening(host, port, talk):
        yield


@contextlib.contextmanager
def injecting_server(certfile: str, keyfile: str, host: str = "127.0.0.1") -> Iterator[tuple[int, list[bytes]]]:
    """STARTTLS response injection (the CVE-2011-0411 class): the 220 to STARTTLS comes in one
    segment with a forged EHLO reply and a forged `235`, sent before the handshake; then real
    TLS, where every AUTH is refused with 535. Yields (port, every command received after TLS)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certfile, keyfile)
    received: list[bytes] = []

    def talk(conn: socket.socket, stop: threading.Event) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            conn.settimeout(5)
            conn.sendall(b"220 inject.example ESMTP\r\n")
            plain = conn.makefile("rb")
            plain.readline()  # EHLO
            conn.sendall(b"250-inject.example\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n")
            plain.readline()  # STARTTLS
            conn.sendall(b"220 2.0.0 go ahead\r\n250-inject.example\r\n250 AUTH PLAIN LOGIN\r\n235 2.7.0 Authentication successful\r\n")
            with context.wrap_socket(conn, server_side=True) as tls:
                lines = tls.makefile("rb")
                while line := lines.readline(1024):
                    received.append(line.rstrip(b"\r\n"))
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        tls.sendall(b"250-inject.example\r\n250 AUTH PLAIN LOGIN\r\n")
                    elif verb == b"AUTH":
                        tls.sendall(b"535 5.7.8 Authentication credentials invalid\r\n")
                    elif verb == b"QUIT":
                        tls.sendall(b"221 bye\r\n")
                        return
                    else:
                        tls.sendall(b"250 OK\r\n")

    with _listening(host, 0, talk) as port:
        yield port, received
