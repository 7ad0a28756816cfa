"""Effective settings -> an SMTP session with the promised security, or a clear refusal.

- `secure: true` on port 465: implicit TLS; on any other port: STARTTLS, and
  a server that does not offer it is refused (never a plaintext fallback).
- Certificates are verified against the system CAs or a given CA file.
- AUTH when a username is set (`DOMAIN\\username` with an SMTP domain).
- Every failure is a SendError with a failure class and one line of text;
  neither carries a secret.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal, get_args

from notifycfg import secrets
from notifycfg.compile.endpoint import Connection
from notifycfg.tls import client_context

FailureClass = Literal["config", "secret", "connection", "tls", "certificate", "auth", "recipient", "temporary", "permanent"]
FAILURE_CLASSES: tuple[FailureClass, ...] = get_args(FailureClass)


class SendError(Exception):
    def __init__(self, kind: FailureClass, message: str, reply: tuple[int, str] | None = None, host: str | None = None) -> None:
        super().__init__(message)
        self.kind: FailureClass = kind
        self.message = message
        self.reply = reply  # the server's refusal (code, text) when there was one
        self.host = host  # the configured SMTP host, whose provider's notes an explanation adds

    @property
    def explained(self) -> str | None:
        """The relay catalogue's reading of the refusal, in words (None: no refusal, or none it knows)."""
        from notifycfg.providers.catalogue import catalogue, words

        found = catalogue().explain(*self.reply, self.host) if self.reply else None
        return None if found is None else words(found)


@dataclass(frozen=True)
class Sent:
    tls: bool
    authenticated_as: str | None
    refused: dict[str, tuple[int, str]]


def send(
    message: EmailMessage,
    recipients: list[str],
    connection: Connection,
    *,
    server: tuple[str, int] | None = None,
    cafile: str | None = None,
    timeout: float = 30.0,
    resolve: secrets.Resolver = secrets.resolve,
) -> Sent:
    """Send `message` to `recipients`; `server` only changes where to connect."""
    host, port = server or (connection.endpoint.host, connection.endpoint.port)
    password = _password(connection, resolve)
    try:
        return _send(message, recipients, connection, host, port, cafile, timeout, password)
    except SendError as exc:
        exc.host = connection.endpoint.host
        raise


def _send(
    message: EmailMessage,
    recipients: list[str],
    connection: Connection,
    host: str,
    port: int,
    cafile: str | None,
    timeout: float,
    password: str | None,
) -> Sent:
    try:
        with _connect(connection, host, port, cafile, timeout) as session:
            tls = connection.endpoint.secure
            if connection.login is not None:
                _authenticate(session, connection.login, password or "")
            refused = session.send_message(message, to_addrs=recipients)
            return Sent(tls, connection.login, {k: (v[0], _text(v[1])) for k, v in refused.items()})
    except SendError:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise _by_code(code, "recipient", "every recipient was refused: ", reply) from None
    except smtplib.SMTPSenderRefused as exc:
        raise _by_code(exc.smtp_code, None, "sender refused: ", exc.smtp_error) from None
    except smtplib.SMTPDataError as exc:
        raise _by_code(exc.smtp_code, None, "message refused: ", exc.smtp_error) from None
    except smtplib.SMTPServerDisconnected:
        raise SendError("connection", f"{host}:{port} closed the connection") from None
    except smtplib.SMTPResponseException as exc:
        raise _by_code(exc.smtp_code, None, "", exc.smtp_error) from None
    except smtplib.SMTPException as exc:
        raise SendError("connection", f"SMTP error talking to {host}:{port}: {type(exc).__name__}") from None
    except ssl.SSLCertVerificationError as exc:
        raise SendError("certificate", f"certificate of {host} not trusted: {exc.verify_message}") from None
    except ssl.SSLError as exc:
        raise SendError("tls", f"TLS failure with {host}:{port}: {exc.reason or exc.__class__.__name__}") from None
    except ConnectionRefusedError:
        raise SendError("connection", f"connection refused by {host}:{port}") from None
    except socket.gaierror:
        raise SendError("connection", f"cannot resolve {host}") from None
    except TimeoutError:
        raise SendError("connection", f"timed out talking to {host}:{port} after {timeout:g}s") from None
    except OSError as exc:
        raise SendError("connection", f"cannot reach {host}:{port}: {exc.strerror or type(exc).__name__}") from None


def _password(connection: Connection, resolve: secrets.Resolver) -> str | None:
    if connection.login is None:
        return None
    if connection.password is None:
        raise SendError("config", "a username is set but no password reference")
    try:
        return resolve(connection.password)
    except secrets.SecretError as exc:
        raise SendError("secret", str(exc)) from None


def _connect(connection: Connection, host: str, port: int, cafile: str | None, timeout: float) -> smtplib.SMTP:
    if connection.endpoint.implicit_tls:
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=client_context(cafile))
    session = smtplib.SMTP(host, port, timeout=timeout)
    try:
        session.ehlo()
        if connection.endpoint.secure:
            if not session.has_extn("starttls"):
                raise SendError("tls", f"{host}:{port} does not offer STARTTLS; refusing to send without TLS (secure: true)")
            session.starttls(context=client_context(cafile))
            session.ehlo()
    except BaseException:
        session.close()
        raise
    return session


def _authenticate(session: smtplib.SMTP, login: str, password: str) -> None:
    try:
        session.login(login, password)
    except smtplib.SMTPAuthenticationError as exc:
        text = _text(exc.smtp_error)
        raise SendError("auth", f"authentication failed for {login}: {exc.smtp_code} {text}", (exc.smtp_code, text)) from None
    except smtplib.SMTPNotSupportedError:
        raise SendError("auth", f"the server does not offer AUTH, but {login} must log in") from None
    except smtplib.SMTPException as exc:
        raise SendError("auth", f"authentication failed for {login}: {type(exc).__name__}") from None


def _by_code(code: int, kind: str | None, what: str, reply: bytes | str) -> SendError:
    """A refusal: `<what><code> <text>`, classed by its code, the reply kept for its explanation."""
    text = _text(reply)
    message, refusal = f"{what}{code} {text}", (code, text)
    if kind == "recipient" and 500 <= code < 600:
        return SendError("recipient", message, refusal)
    return SendError("temporary" if 400 <= code < 500 else "permanent", message, refusal)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
