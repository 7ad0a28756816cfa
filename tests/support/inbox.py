"""Talking to a running harness as a mail client and as a plain HTTP client (no browser)."""

from __future__ import annotations

import base64
import http.client
import smtplib
from email.message import EmailMessage

from smtp_harness import Harness


def send(h: Harness, subject: str = "Hello", to: str = "ops@example.com", html: str | None = None, attach: bytes | None = None) -> None:
    message = EmailMessage()
    message["From"] = "Alerts <alerts@example.com>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(f"text of {subject}")
    if html is not None:
        message.add_alternative(html, subtype="html")
    if attach is not None:
        message.add_attachment(attach, maintype="application", subtype="pdf", filename="../../report.pdf")
    with smtplib.SMTP(h.host, h.port, timeout=10) as smtp:
        smtp.send_message(message)


def request(h: Harness, path: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None):
    connection = http.client.HTTPConnection(h.config.host, h.http_port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
