"""The harness's Python API beyond `Harness`: AsyncHarness, HarnessPool, waiting, faults from Python."""

from __future__ import annotations

import asyncio
import gc
import smtplib
import ssl

import pytest

from smtp_harness import AsyncHarness, HarnessPool, parse_fault
from smtp_harness.harness import Harness

RAW = b"Subject: api\r\n\r\nbody\r\n"


def _send(host: str, port: int, rcpt: str = "b@example.com") -> None:
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        smtp.sendmail("a@example.com", [rcpt], RAW)


def test_async_harness_on_the_callers_loop():
    async def scenario() -> tuple[list, list]:
        async with AsyncHarness(tls="starttls", users={"app": "pw"}) as h:
            context = ssl.create_default_context(cafile=str(h.ca_path))

            def send() -> None:
                with smtplib.SMTP(h.host, h.port, timeout=10) as smtp:
                    smtp.starttls(context=context)
                    smtp.login("app", "pw")
                    smtp.sendmail("a@example.com", ["b@example.com"], RAW)

            sending = asyncio.get_running_loop().run_in_executor(None, send)
            found = await h.wait_for(rcpt="b@example.com", timeout=10)
            await sending
            return found, h.listening

    found, listening = asyncio.run(scenario())
    assert len(found) == 1 and found[0].tls and found[0].auth_user == "app" and found[0].subject == "api"
    assert listening and all(kind in ("smtp", "http") for kind, _, _ in listening)


def test_wait_for_async_times_out_with_what_it_saw():
    async def scenario() -> None:
        async with AsyncHarness(http=False) as h:
            await asyncio.get_running_loop().run_in_executor(None, _send, h.host, h.port, "other@example.com")
            with pytest.raises(TimeoutError, match="0 of 1"):
                await h.wait_for(rcpt="b@example.com", timeout=0.2)
            with pytest.raises(TypeError, match="unknown filters"):
                await h.wait_for(recipient="b@example.com", timeout=0.2)

    asyncio.run(scenario())


def test_pool_runs_several_harnesses_on_one_loop():
    with HarnessPool() as pool:
        plain = pool.start(http=False)
        implicit = pool.start(tls="implicit", http=False)
        assert plain.port != implicit.port and implicit.ca_path is not None
        _send(plain.host, plain.port)
        context = ssl.create_default_context(cafile=str(implicit.ca_path))
        with smtplib.SMTP_SSL(implicit.host, implicit.port, context=context, timeout=10) as smtp:
            smtp.sendmail("a@example.com", ["c@example.com"], RAW)
        assert [m.rcpt_to for m in plain.messages()] == [("b@example.com",)]
        assert [m.tls for m in implicit.messages()] == [True]
        ca = implicit.ca_path
    assert not ca.exists()  # the throwaway CA leaves with the pool


def test_faults_added_and_cleared_from_python():
    with Harness(http=False) as h:
        fault = h.add_fault("rcpt=550 5.1.1 No such user,rcpt=^bounce@")
        assert fault == parse_fault("rcpt=550 5.1.1 No such user,rcpt=^bounce@") and h.faults == [fault]
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            _send(h.host, h.port, "bounce@example.com")
        assert refused.value.recipients["bounce@example.com"][0] == 550
        _send(h.host, h.port, "fine@example.com")
        h.clear_faults()
        assert h.faults == []
        _send(h.host, h.port, "bounce@example.com")
        assert [m.rcpt_to[0] for m in h.messages()] == ["fine@example.com", "bounce@example.com"]


def test_async_harness_faults_and_clear():
    async def scenario() -> list[str]:
        async with AsyncHarness(http=False) as h:
            h.add_fault({"stage": "mail", "code": 421, "message": "4.3.2 busy", "times": 1})
            loop = asyncio.get_running_loop()
            with pytest.raises(smtplib.SMTPSenderRefused):
                await loop.run_in_executor(None, _send, h.host, h.port)
            await loop.run_in_executor(None, _send, h.host, h.port)  # `times: 1` is spent
            h.clear_faults()
            return [m.subject or "" for m in h.messages()]

    assert asyncio.run(scenario()) == ["api"]


def test_public_names_explain_themselves():
    import inspect

    from smtp_harness import Fault, HarnessConfig, Message

    assert "tls" in inspect.getdoc(HarnessConfig) and "on_full" in inspect.getdoc(HarnessConfig)
    assert "parse_fault" in inspect.getdoc(Fault) and "auth_user" in inspect.getdoc(Message)


def test_fixtures_are_documented_in_pytest_fixtures(pytester):
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:randomly")
    text = result.stdout.str()
    assert "A running capturing SMTP server" in text and "Start harnesses with" in text


def _quit_but_stay(host: str, port: int, context: ssl.SSLContext) -> ssl.SSLSocket:
    """STARTTLS, QUIT, read the 221, and keep the connection open: no close_notify ever comes."""
    import socket

    raw = socket.create_connection((host, port), timeout=10)
    reader = raw.makefile("rb")
    reader.readline()
    raw.sendall(b"EHLO client.example\r\n")
    while reader.readline()[3:4] == b"-":
        pass
    raw.sendall(b"STARTTLS\r\n")
    assert reader.readline().startswith(b"220")
    tls = context.wrap_socket(raw, server_hostname=host)
    tls.sendall(b"EHLO client.example\r\nQUIT\r\n")
    answers = tls.makefile("rb")
    while not answers.readline().startswith(b"221"):
        pass
    return tls


def test_stop_closes_a_tls_connection_left_in_its_shutdown():
    """The server's TLS close after QUIT waits for the client's close_notify; stopping the harness
    must still close that connection (it used to stay open until the garbage collector found it)."""

    async def scenario() -> ssl.SSLSocket:
        async with AsyncHarness(tls="starttls", http=False) as h:
            context = ssl.create_default_context(cafile=str(h.ca_path))
            return await asyncio.get_running_loop().run_in_executor(None, _quit_but_stay, h.host, h.port, context)

    client = asyncio.run(scenario())
    gc.collect()  # a transport left open is reported now, in this test (warnings are errors)
    try:
        client.settimeout(5)
        try:
            closed = client.recv(1) == b""
        except (ssl.SSLError, ConnectionResetError):
            closed = True
        assert closed  # the server's side is gone, not waiting for a garbage collection
    finally:
        client.close()
