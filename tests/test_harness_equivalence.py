"""The harness's SMTP class answers exactly as aiosmtpd's own does: the per-class
lookups it caches change speed, not behaviour."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP

from smtp_harness import smtp, tls
from smtp_harness.config import HarnessConfig
from smtp_harness.faults import FaultController
from smtp_harness.smtp import CaptureHandler, HarnessSMTP
from smtp_harness.store import MessageStore
from smtp_harness.views import Message


class RecordingHandler(CaptureHandler):
    """Records which hooks aiosmtpd calls, in order."""

    calls: list[str]

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]) -> list[str]:
        # aiosmtpd reads this hook's signature: it must name its five arguments.
        self.calls.append("EHLO")
        return await super().handle_EHLO(server, session, envelope, hostname, responses)

    async def handle_MAIL(self, *args: Any) -> str:
        self.calls.append("MAIL")
        return await super().handle_MAIL(*args)

    async def handle_RCPT(self, *args: Any) -> str:
        self.calls.append("RCPT")
        return await super().handle_RCPT(*args)

    async def handle_DATA(self, *args: Any) -> str:
        self.calls.append("DATA")
        return await super().handle_DATA(*args)


def _conversation(host: str, port: int, ca: str) -> list[Any]:
    out: list[Any] = []
    with smtplib.SMTP(host, port, timeout=10) as client:
        out.append(client.ehlo()[1].decode().splitlines())
        out.append(client.docmd("AUTH", "PLAIN AGFwcABwdw=="))  # refused before STARTTLS
        client.starttls(context=ssl.create_default_context(cafile=ca))
        out.append(client.ehlo()[1].decode().splitlines())
        out.append(client.docmd("AUTH", "CRAM-MD5"))  # not offered
        out.append(client.docmd("AUTH", "PLAIN AGFwcAB3cm9uZw=="))  # wrong password
        client.login("app", "pw")
        out.append(client.docmd("HELP"))
        out.append(client.docmd("VRFY", "someone@example.com"))
        client.sendmail("a@example.com", ["b@example.com"], b"Subject: same\r\n\r\nbody\r\n")
        out.append(client.docmd("NOOP"))
    return out


async def _run(protocol_class: type[SMTP]) -> tuple[list[Any], list[str], list[str | None]]:
    config = HarnessConfig(tls="starttls", users={"app": "pw"})
    server_tls = tls.throwaway()
    store: MessageStore[Message] = MessageStore()
    handler = RecordingHandler(store, FaultController(), False, None)
    handler.calls = []
    loop = asyncio.get_running_loop()
    server = await loop.create_server(smtp.smtp_factory(config, handler, server_tls.context, protocol_class), "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        transcript = await loop.run_in_executor(None, _conversation, "127.0.0.1", port, str(server_tls.ca_path))
    finally:
        server.close()
        handler.close_all()
        await handler.settle(timeout=1)
        await server.wait_closed()
        server_tls.cleanup()
    return transcript, handler.calls, [m.auth_user for m in store.messages()]


@pytest.fixture(scope="module")
def both() -> dict[str, tuple[list[Any], list[str], list[str | None]]]:
    """One conversation with each class (each takes about half a second)."""
    return {"aiosmtpd": asyncio.run(_run(SMTP)), "harness": asyncio.run(_run(HarnessSMTP))}


def test_same_transcript_before_and_after_starttls(both):
    ours, plain = both["harness"][0], both["aiosmtpd"][0]
    assert ours == plain
    before, after = ours[0], ours[2]
    assert "STARTTLS" in before and not any(line.startswith("AUTH") for line in before)
    assert "AUTH LOGIN PLAIN" in after and "STARTTLS" not in after


def test_same_hooks_run(both):
    assert both["harness"][1] == both["aiosmtpd"][1] == ["EHLO", "EHLO", "MAIL", "RCPT", "DATA"]


def test_same_capture(both):
    assert both["harness"][2] == both["aiosmtpd"][2] == ["app"]


def test_only_the_harness_classes_change_what_dir_lists():
    store: MessageStore[Message] = MessageStore()
    handler = CaptureHandler(store, FaultController(), False, None)
    assert set(dir(handler)) == {"handle_AUTH", "handle_DATA", "handle_EHLO", "handle_MAIL", "handle_RCPT"}
    loop = asyncio.new_event_loop()  # given, not made up by aiosmtpd (which would leave it open)
    try:
        protocol = HarnessSMTP(handler, loop=loop)
        plain = SMTP(handler, loop=loop)
        assert set(dir(protocol)) == {n for n in dir(plain) if n.startswith(("smtp_", "auth_"))}
        assert "transport" in dir(plain)  # aiosmtpd's own class is untouched
    finally:
        loop.close()
