"""The harness speaks Mailpit's API v1: the npm client mailpit-api (2.1.0, unchanged, installed by .ci/run)
drives it against mail a test sends; the search syntax, the server-side wait, /metrics and the safety
rules for the new paths are checked here too."""

from __future__ import annotations

import base64
import json
import os
import shutil
import smtplib
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from support.inbox import request, send

from smtp_harness import Harness

CLIENT = ROOT / ".cache" / "npm" / "node_modules" / "mailpit-api" / "dist" / "index.mjs"
SCRIPT = Path(__file__).parent / "node" / "mailpit_client.mjs"
PDF = b"%PDF-1.4 pretend \x00\xff bytes"


def _node() -> str:
    node = shutil.which("node")
    if node is None or not CLIENT.exists():
        if os.environ.get("CI"):
            pytest.fail(f"node and mailpit-api 2.1.0 at {CLIENT} are needed: .ci/run installs them")
        pytest.skip("node or mailpit-api not installed (.ci/run installs them)")
    return node


def _mailbox(h: Harness) -> None:
    send(h, "Invoice run failed", "ops@a.example")
    send(h, "License expires", "lic@b.example", html="<p>Your <b>licence</b> expires</p>")
    send(h, "Report attached", "ops@a.example", html="<p>The report</p>", attach=PDF)


def test_the_mailpit_api_npm_client_drives_the_harness():
    node = _node()
    with Harness() as h:
        _mailbox(h)
        seen: dict[str, Any] = {}
        command = [node, str(SCRIPT), str(CLIENT), f"http://{h.config.host}:{h.http_port}"]
        with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
            assert process.stdin is not None and process.stdout is not None and process.stderr is not None
            watchdog = threading.Timer(120, process.kill)  # a hung client fails the test, never the run
            watchdog.start()
            for line in process.stdout:
                step = json.loads(line)
                seen[step["step"]] = step["value"]
                if step["step"] == "waiting":
                    time.sleep(0.5)  # the client is polling by now: the message arrives during its wait
                    send(h, "Latecomer", "late@c.example")
                    process.stdin.write("sent\n")
                    process.stdin.flush()
            errors = process.stderr.read()
            watchdog.cancel()
        assert process.returncode == 0, errors

    listed = seen["listMessages"]
    assert listed["total"] == 3 and [m["Subject"] for m in listed["messages"]] == [
        "Report attached",
        "License expires",
        "Invoice run failed",
    ]
    assert seen["latest"]["Subject"] == "Report attached"
    summary = seen["getMessageSummary"]
    assert summary["From"] == {"Name": "Alerts", "Address": "alerts@example.com"} and summary["To"][0]["Address"] == "ops@a.example"
    assert summary["Attachments"][0]["FileName"] == "../../report.pdf" and summary["Attachments"][0]["Size"] == len(PDF)
    assert seen["getMessageHeaders"]["Subject"] == ["Report attached"]
    assert "Subject: Report attached" in seen["getMessageSource"]
    attachment = seen["getMessageAttachment"]
    assert base64.b64decode(attachment["base64"]) == PDF and attachment["type"] == "application/pdf"
    assert [m["Subject"] for m in seen["search to:"]["messages"]] == ["Report attached", "Invoice run failed"]
    assert [m["Subject"] for m in seen["search subject:"]["messages"]] == ["Invoice run failed"]
    assert [m["Subject"] for m in seen["search has:attachment"]["messages"]] == ["Report attached"]
    assert "<p>The report</p>" in seen["renderMessageHTML"] and seen["renderMessageText"].startswith("text of Report attached")
    assert seen["waitForMessage"]["Subject"] == "Latecomer"
    assert seen["deleteMessagesBySearch"] == "ok"
    assert [m["Subject"] for m in seen["after deleteMessagesBySearch"]["messages"]] == [
        "Latecomer",
        "Report attached",
        "Invoice run failed",
    ]
    remaining = [m["Subject"] for m in seen["after deleteMessages"]["messages"]]
    assert seen["deleteMessages"] == "ok" and remaining == ["Latecomer", "Invoice run failed"]  # the first latest is gone
    assert seen["deleteMessages all"] == "ok" and seen["after all"]["total"] == 0


# --- Mailpit's search syntax -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("search", "subjects"),
    [
        ("to:ops@a.example", ["Report attached", "Invoice run failed"]),
        ("TO:OPS@A.EXAMPLE", ["Report attached", "Invoice run failed"]),
        ("-to:ops@a.example", ["License expires"]),
        ("!to:ops@a.example", ["License expires"]),
        ("from:alerts", ["Report attached", "License expires", "Invoice run failed"]),
        ('subject:"run failed"', ["Invoice run failed"]),
        ("subject:run failed", ["Invoice run failed"]),  # two words: subject has "run", text has "failed"
        ("has:attachment", ["Report attached"]),
        ("-has:attachment", ["License expires", "Invoice run failed"]),
        ("licence", ["License expires"]),  # a free word: in the HTML, without its tags
        ('"text of invoice"', ["Invoice run failed"]),
        ("report.pdf", ["Report attached"]),  # attachment names are searched
        ("after:2000-01-01 before:2999-01-01", ["Report attached", "License expires", "Invoice run failed"]),
        ("before:2000-01-01", []),
        ("after:not-a-date", ["Report attached", "License expires", "Invoice run failed"]),  # ignored, as Mailpit does
        ("is:read", []),
        ("larger:1b smaller:100m", ["Report attached", "License expires", "Invoice run failed"]),
    ],
)
def test_search_syntax(search, subjects):
    from urllib.parse import quote

    with Harness() as h:
        _mailbox(h)
        status, _, body = request(h, f"/api/v1/search?query={quote(search)}")
    assert status == 200, body
    found = json.loads(body)
    assert [m["Subject"] for m in found["messages"]] == subjects and found["messages_count"] == len(subjects) and found["total"] == 3


def test_the_mailbox_extension_keeps_to_one_tenant():
    with Harness() as h:
        _mailbox(h)
        only = json.loads(request(h, "/api/v1/messages?rcpt=lic@b.example")[2])
        assert [m["Subject"] for m in only["messages"]] == ["License expires"]
        searched = json.loads(request(h, "/api/v1/search?query=expires&rcpt=ops@a.example")[2])
        assert searched["messages"] == []


def test_errors_are_mailpits():
    with Harness() as h:
        _mailbox(h)
        assert request(h, "/api/v1/message/nope")[0] == 404
        assert request(h, "/api/v1/message/latest/part/9")[0] == 404
        assert request(h, "/view/1.html")[0] == 404  # no HTML part
        status, headers, body = request(h, "/api/v1/search")
        assert status == 400 and headers["Content-Type"].startswith("text/plain") and body == b"query is required"
        assert request(h, "/api/v1/messages?limit=-1")[0] == 400
        assert request(h, "/api/v1/search?query=" + "x" * 2000)[0] == 400
        assert request(h, "/api/v1/messages", "DELETE", {"Content-Type": "application/json"}, b'{"IDs": 7}')[0] == 400
        assert request(h, "/readyz")[:1] == (200,) and request(h, "/livez")[2] == b"ok"


def test_view_html_is_inert_and_boxed():
    hostile = '<p>Hi</p><script>alert(1)</script><img src="http://127.0.0.1:9/pixel.png" onerror="alert(2)">'
    with Harness() as h:
        send(h, "Hostile", html=hostile)
        status, headers, body = request(h, "/view/latest.html")
    assert status == 200 and "sandbox" in headers["Content-Security-Policy"] and "<script" not in body.decode()
    assert "onerror" not in body.decode() and headers["X-Content-Type-Options"] == "nosniff"


# --- the same safety on the new paths ------------------------------------------------------------------------

WRITES = [("DELETE", "/api/v1/messages"), ("DELETE", "/api/v1/search?query=ops"), ("DELETE", "/api/messages"), ("POST", "/api/faults")]


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_write_from_another_origin_is_refused_on_every_path(method, path):
    with Harness() as h:
        _mailbox(h)
        for origin in ("http://evil.example", "null", f"http://localhost:{h.http_port + 1}"):
            headers = {"Origin": origin, "Content-Type": "application/json", "X-Harness-Request": "1"}
            assert request(h, path, method, headers, b'{"spec": "mail=550"}')[0] == 403, (path, origin)
        assert len(h.messages()) == 3 and h.faults == []


def test_writes_without_an_origin_need_no_custom_header_but_a_post_needs_one_or_json():
    with Harness() as h:
        _mailbox(h)
        assert request(h, "/api/v1/search?query=lic@b.example", "DELETE")[0] == 200  # what Mailpit clients send
        assert len(h.messages()) == 2
        assert request(h, "/api/faults", "POST", {"Content-Type": "text/plain"}, b'{"spec": "mail=550"}')[0] == 403
        assert request(h, "/api/faults", "POST", {"Content-Type": "application/json"}, b'{"spec": "mail=550"}')[0] == 201
        own = {"Origin": f"http://{h.config.host}:{h.http_port}"}
        assert request(h, "/api/v1/messages", "DELETE", own)[0] == 200 and h.messages() == []


NEW_PATHS = [
    "/api/v1/info",
    "/api/v1/messages",
    "/api/v1/message/latest",
    "/api/v1/message/latest/headers",
    "/api/v1/message/latest/raw",
    "/api/v1/message/latest/part/1",
    "/api/v1/search?query=hello",
    "/view/latest.html",
    "/view/latest.txt",
    "/readyz",
    "/livez",
    "/metrics",
    "/api/messages?wait=1",
]


@pytest.mark.parametrize("path", NEW_PATHS)
def test_the_new_paths_need_the_host_and_the_auth(path):
    """DNS rebinding (a foreign Host) gets 421 and nothing else; without the credentials, 401; with them, served."""
    from support.inbox import basic

    with Harness(http_auth=("viewer", "pa55")) as h:
        send(h, html="<p>hi</p>", attach=PDF)
        assert request(h, path)[0] == 401
        status, _, body = request(h, path, headers={"Host": "evil.example", **basic("viewer", "pa55")})
        assert status == 421 and b"hi" not in body and b"Hello" not in body
        assert request(h, path, headers=basic("viewer", "pa55"))[0] == 200


# --- the server-side wait ------------------------------------------------------------------------------------


def test_the_wait_answers_soon_after_the_match_and_empty_after_the_wait():
    with Harness() as h:
        timer = threading.Timer(1.0, lambda: send(h, "Awaited", "wait@d.example"))
        started = time.monotonic()
        timer.start()
        status, _, body = request(h, "/api/messages?rcpt=wait@d.example&wait=20")
        took = time.monotonic() - started
        timer.join()
        assert status == 200 and [m["subject"] for m in json.loads(body)["messages"]] == ["Awaited"]
        print(f"answered {took:.2f} s after the request, the message sent at 1.0 s")  # measured, not asserted
        started = time.monotonic()
        status, _, body = request(h, "/api/messages?rcpt=nobody@d.example&wait=1")
        assert status == 200 and json.loads(body)["messages"] == [] and time.monotonic() - started >= 1.0

        def send_two() -> None:
            for i in range(2):
                send(h, f"n{i}", "two@d.example")

        two = threading.Timer(0.3, send_two)
        two.start()
        status, _, body = request(h, "/api/messages?rcpt=two@d.example&wait=20&count=2")
        two.join()
        assert json.loads(body)["total"] == 2
        assert request(h, "/api/messages?wait=61")[0] == 400 and request(h, "/api/messages?wait=abc")[0] == 400
        assert request(h, "/api/messages?count=2")[0] == 400 and request(h, "/api/messages?wait=1&count=0")[0] == 400


def test_a_wait_whose_client_goes_away_frees_its_waiter():
    import socket

    with Harness() as h:
        before = h.store.subscribers
        raw = socket.create_connection((h.config.host, h.http_port), timeout=5)
        raw.sendall(f"GET /api/messages?rcpt=never@d.example&wait=60 HTTP/1.1\r\nHost: 127.0.0.1:{h.http_port}\r\n\r\n".encode())
        deadline = time.monotonic() + 5
        while h.store.subscribers == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert h.store.subscribers == before + 1  # waiting
        raw.close()
        deadline = time.monotonic() + 5
        while h.store.subscribers > before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert h.store.subscribers == before  # freed long before its 60 s


# --- /metrics --------------------------------------------------------------------------------------------------


def test_metrics_parse_and_count_what_was_sent():
    from prometheus_client.parser import text_string_to_metric_families

    with Harness(faults=["rcpt=550 5.1.1 No such user,rcpt=^nobody@"]) as h:
        _mailbox(h)
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            send(h, "Refused", "nobody@e.example")
        request(h, "/api/v1/search?query=lic@b.example", "DELETE")
        status, headers, body = request(h, "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(body.decode()) for s in f.samples}
    assert samples[("smtp_harness_messages_accepted_total", ())] == 3
    assert samples[("smtp_harness_messages_refused_total", (("reason", "fault"),))] == 1
    assert samples[("smtp_harness_faults_fired_total", (("stage", "rcpt"),))] == 1
    assert samples[("smtp_harness_sessions_total", ())] == 4
    assert samples[("smtp_harness_messages_deleted_total", ())] == 1
    assert samples[("smtp_harness_store_messages", ())] == 2
    assert samples[("smtp_harness_store_bytes", ())] > 0


def test_metrics_count_tls_handshakes():
    import ssl

    from prometheus_client.parser import text_string_to_metric_families

    with Harness(tls="starttls") as h:
        context = ssl.create_default_context(cafile=str(h.ca_path))
        for _ in range(2):
            with smtplib.SMTP(h.host, h.port, timeout=10) as smtp:
                smtp.starttls(context=context)
                smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\nbody\r\n")
        body = request(h, "/metrics")[2].decode()
    samples = {s.name: s.value for f in text_string_to_metric_families(body) for s in f.samples}
    assert samples["smtp_harness_tls_handshakes_total"] == 2 and samples["smtp_harness_messages_accepted_total"] == 2


def test_the_remote_wait_is_one_request_answered_when_the_mail_arrives():
    from smtp_harness.remote import RemoteHarness

    with Harness() as h:
        remote = RemoteHarness(f"http://{h.config.host}:{h.http_port}")
        timer = threading.Timer(0.5, lambda: send(h, "Remote", "remote@f.example"))
        timer.start()
        (found,) = remote.wait_for(rcpt="remote@f.example", timeout=20)
        timer.join()
        assert found["subject"] == "Remote"
        with pytest.raises(TimeoutError, match="0 of 1"):
            remote.wait_for(rcpt="nobody@f.example", timeout=0.5)
        with pytest.raises(ValueError):
            remote.wait_for(timeout=61)
