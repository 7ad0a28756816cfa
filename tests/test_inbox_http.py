"""The harness's HTTP surface as an attacker and as the inbox page see it (no browser here; see test_inbox_browser.py)."""

from __future__ import annotations

import json
import socket

import pytest
from served import SMTP_HARNESS
from support.inbox import basic, request, send

from smtp_harness import Harness, HarnessConfig

HOSTILE_HTML = (
    '<html><head><meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/refresh"><base href="http://127.0.0.1:9/">'
    '<link rel="stylesheet" href="http://127.0.0.1:9/x.css"><script>document.title="pwned"</script></head>'
    '<body onload="alert(1)"><a href="javascript:alert(2)">click</a><img src="http://127.0.0.1:9/pixel.png">'
    '<svg><script>alert(3)</script></svg><form action="http://127.0.0.1:9/f"><input name=a></form><p>Hello</p></body></html>'
)


def test_every_answer_carries_the_security_headers():
    with Harness() as h:
        send(h, html="<p>hi</p>")
        for path in ("/", "/static/app.js", "/api/messages", "/api/messages/1/body.html", "/api/nothing"):
            status, headers, _ = request(h, path)
            assert headers["X-Content-Type-Options"] == "nosniff", path
            assert "frame-ancestors" in headers["Content-Security-Policy"], path
            assert not any(k.lower().startswith("access-control-") for k in headers), path
        _, page, _ = request(h, "/")
        assert "script-src 'self'" in page["Content-Security-Policy"] and page["X-Frame-Options"] == "DENY"


def test_foreign_host_header_is_refused():
    with Harness() as h:
        send(h)
        status, _, body = request(h, "/api/messages", headers={"Host": "evil.example"})
        assert status == 421 and b"ops@example.com" not in body
        assert request(h, "/api/messages", headers={"Host": f"localhost:{h.http_port}"})[0] == 200
    with Harness(http_allowed_hosts=["harness.internal"]) as h:
        assert request(h, "/api/health", headers={"Host": "harness.internal:8025"})[0] == 200


def test_cross_site_state_changes_are_refused():
    with Harness() as h:
        simple = {"Content-Type": "text/plain", "Origin": "http://evil.example"}
        status, _, _ = request(h, "/api/faults", "POST", simple, b'{"spec": "mail=550"}')
        assert status == 403 and h.faults == []
        assert request(h, "/api/messages", "DELETE", {"Origin": "http://evil.example"})[0] == 403
        preflight = {
            "Origin": "http://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-harness-request",
        }
        status, headers, _ = request(h, "/api/faults", "OPTIONS", preflight)
        assert status == 403 and "Access-Control-Allow-Origin" not in headers
        ok = request(h, "/api/faults", "POST", {"Content-Type": "application/json", "X-Harness-Request": "1"}, b'{"spec": "mail=550"}')
        assert ok[0] == 201 and len(h.faults) == 1


def test_http_auth_protects_page_api_and_stream():
    with Harness(http_auth=("viewer", "pa55")) as h:
        send(h)
        for path in ("/", "/api/messages", "/api/events", "/api/openapi.json"):
            status, headers, _ = request(h, path)
            assert status == 401 and headers["WWW-Authenticate"].startswith("Basic"), path
        assert request(h, "/api/messages", headers=basic("viewer", "wrong"))[0] == 401
        status, _, body = request(h, "/api/messages", headers=basic("viewer", "pa55"))
        assert status == 200 and json.loads(body)["total"] == 1


def test_binding_beyond_loopback_needs_auth_or_the_loud_opt_out():
    with pytest.raises(ValueError, match="beyond loopback, with no authentication"):
        HarnessConfig(host="0.0.0.0").check()
    HarnessConfig(host="0.0.0.0", http_auth=("u", "p")).check()
    HarnessConfig(host="0.0.0.0", http_public_without_auth=True).check()
    HarnessConfig(host="0.0.0.0", http=False).check()


def test_serve_refuses_a_public_http_bind_without_auth():
    import subprocess

    done = subprocess.run(
        [*SMTP_HARNESS[:4], "--host", "0.0.0.0", "--smtp-port", "0", "--http-port", "0"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "add --http-auth USER:PASS" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_mailboxes_search_order_and_delete():
    with Harness() as h:
        send(h, "Invoice run failed", "ops@a.example")
        send(h, "License expires", "lic@b.example")
        send(h, "Another failure", "ops@a.example")
        _, _, body = request(h, "/api/mailboxes")
        boxes = json.loads(body)
        assert boxes["total"] == 3 and boxes["rcpt"] == {"lic@b.example": 1, "ops@a.example": 2}
        found = json.loads(request(h, "/api/messages?q=FAIL&order=newest")[2])
        assert [m["subject"] for m in found["messages"]] == ["Another failure", "Invoice run failed"]
        assert json.loads(request(h, "/api/messages?q=text%20of%20license")[2])["total"] == 1
        assert request(h, "/api/messages?order=sideways")[0] == 400
        assert request(h, "/api/messages/2", "DELETE", {"X-Harness-Request": "1"})[0] == 200
        assert json.loads(request(h, "/api/messages")[2])["total"] == 2
        assert request(h, "/api/messages/2")[0] == 404


def test_hostile_html_is_served_inert_and_boxed():
    with Harness() as h:
        send(h, '<b onmouseover="alert(1)">Bold</b> subject', html=HOSTILE_HTML, attach=b"%PDF-1.4 pretend")
        status, headers, body = request(h, "/api/messages/1/body.html")
        html = body.decode()
        assert status == 200 and "sandbox" in headers["Content-Security-Policy"]
        assert "img-src data: cid:" in headers["Content-Security-Policy"] and "http:" not in headers["Content-Security-Policy"]
        for gone in ("<meta", "<base", "<link", "<script", "onload", "javascript:", "alert(3)"):
            assert gone not in html, gone
        assert "<p>Hello</p>" in html
        _, remote, _ = request(h, "/api/messages/1/body.html?remote=1")
        assert "img-src data: cid: https: http:" in remote["Content-Security-Policy"]
        detail = json.loads(request(h, "/api/messages/1")[2])
        assert detail["attachments"] == [{"index": 1, "filename": "../../report.pdf", "content_type": "application/pdf", "size": 16}]
        status, headers, data = request(h, "/api/messages/1/attachments/1")
        assert data == b"%PDF-1.4 pretend" and headers["Content-Type"] == "application/octet-stream"
        assert headers["Content-Disposition"] == 'attachment; filename="report.pdf"'
        _, headers, raw = request(h, "/api/messages/1/raw?download=1")
        assert headers["Content-Disposition"] == 'attachment; filename="message-1.eml"' and b"\r\nSubject: " in raw


def test_live_stream_announces_each_message():
    with Harness() as h, socket.create_connection((h.config.host, h.http_port), timeout=10) as raw:
        raw.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{h.http_port}\r\n\r\n".encode())
        stream = raw.makefile("rb")
        while stream.readline() not in (b"\r\n", b""):
            pass  # the response head
        send(h, "Live one")
        seen = b""
        while b"event: message" not in seen:
            line = stream.readline()
            assert line, "the stream closed"
            seen += line
        data = json.loads(stream.readline().split(b"data: ", 1)[1])
        assert data["id"] == "1" and data["rcpt_to"] == ["ops@example.com"]


def test_openapi_description_is_served_and_shipped():
    from importlib import resources

    with Harness() as h:
        status, _, body = request(h, "/api/openapi.json")
    spec = json.loads(body)
    assert status == 200 and spec["openapi"].startswith("3.1")
    assert spec == json.loads(resources.files("smtp_harness").joinpath("web", "openapi.json").read_text())
    assert {"/api/messages", "/api/events", "/api/mailboxes", "/api/faults/{n}"} <= set(spec["paths"])
