"""The SMTP harness over real sockets, real TLS, and the stdlib smtplib client."""

from __future__ import annotations

import base64
import ipaddress
import json
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
import warnings

import pytest

from smtp_harness import Harness, HarnessConfig
from smtp_harness.faults import FaultError, parse_fault

MESSAGE = (
    b"From: Sender <a@example.com>\r\nTo: b@example.com\r\nSubject: Hello\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="XX"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nplain body\r\n'
    b"--XX\r\nContent-Type: text/html\r\n\r\n<p>html body</p>\r\n--XX--\r\n"
)


def client(h, starttls: bool = True) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=str(h.ca_path)) if h.ca_path else None
    if h.config.tls == "implicit":
        return smtplib.SMTP_SSL(h.host, h.port, context=context, timeout=10)
    smtp = smtplib.SMTP(h.host, h.port, timeout=10)
    if h.config.tls == "starttls" and starttls:
        smtp.starttls(context=context)
    return smtp


def api(h, path: str, method: str = "GET", body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "X-Harness-Request": "1"}  # what the inbox page sends on state changes
    request = urllib.request.Request(h.http_url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize("tls", ["off", "starttls", "implicit"])
@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_every_tls_mode_and_auth_mechanism(tls, mechanism):
    with Harness(tls=tls, users={"alice": "s3cret"}) as h, client(h) as smtp:
        smtp.ehlo()
        assert mechanism in smtp.esmtp_features["auth"]
        code, _ = _login(smtp, mechanism)
        assert code == 235
        smtp.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        (message,) = h.wait_for(rcpt="b@example.com")
    assert message.tls is (tls != "off") and message.auth_user == "alice"
    assert (message.tls_version in ("TLSv1.2", "TLSv1.3")) is (tls != "off")
    assert message.subject == "Hello" and message.text.strip() == "plain body" and "html body" in message.html


def _login(smtp: smtplib.SMTP, mechanism: str):
    smtp.user, smtp.password = "alice", "s3cret"
    authobject = smtp.auth_plain if mechanism == "PLAIN" else smtp.auth_login
    return smtp.auth(mechanism, authobject, initial_response_ok=mechanism == "PLAIN")


def test_auth_refused_before_starttls_and_not_advertised():
    with Harness(tls="starttls", users={"alice": "s3cret"}) as h, client(h, starttls=False) as smtp:
        smtp.ehlo()
        assert "auth" not in smtp.esmtp_features and "starttls" in smtp.esmtp_features
        token = base64.b64encode(b"\0alice\0s3cret").decode()
        code, text = smtp.docmd("AUTH", f"PLAIN {token}")
        assert code == 538 and b"Encryption required" in text


def test_wrong_password_is_refused():
    with Harness(tls="starttls", users={"alice": "s3cret"}) as h, client(h) as smtp, pytest.raises(smtplib.SMTPAuthenticationError) as info:
        smtp.login("alice", "wrong")
    assert info.value.smtp_code == 535


def test_unknown_user_and_no_users_means_no_auth():
    with Harness(tls="off") as h, client(h) as smtp:
        smtp.ehlo()
        assert "auth" not in smtp.esmtp_features


def test_require_tls_refuses_mail_before_starttls():
    with Harness(tls="starttls", require_tls=True) as h, client(h, starttls=False) as smtp:
        smtp.ehlo()
        code, text = smtp.docmd("MAIL FROM:<a@example.com>")
        assert code == 530 and b"STARTTLS" in text


def test_auth_required_refuses_anonymous_mail():
    with Harness(tls="implicit", users={"alice": "s3cret"}, auth_required=True) as h, client(h) as smtp:
        smtp.ehlo()
        code, _ = smtp.docmd("MAIL FROM:<a@example.com>")
        assert code == 530
        smtp.login("alice", "s3cret")
        smtp.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        assert h.wait_for()[0].auth_user == "alice"


def test_fault_by_recipient_pattern_returns_exact_reply():
    with Harness(faults=["rcpt=550 5.1.1 No such user here,rcpt=^bounce@"]) as h, client(h) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as info:
            smtp.sendmail("a@example.com", ["bounce@example.com"], MESSAGE)
        assert info.value.recipients["bounce@example.com"] == (550, b"5.1.1 No such user here")
        refused = smtp.sendmail("a@example.com", ["ok@example.com", "bounce@example.org"], MESSAGE)
        assert refused == {"bounce@example.org": (550, b"5.1.1 No such user here")}
        (message,) = h.wait_for()
        assert message.rcpt_to == ("ok@example.com",)


def test_fault_on_nth_message_at_data():
    with Harness(faults=["data=451 4.3.2 Try again later,nth=2"]) as h, client(h) as smtp:
        smtp.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        with pytest.raises(smtplib.SMTPDataError) as info:
            smtp.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        assert (info.value.smtp_code, info.value.smtp_error) == (451, b"4.3.2 Try again later")
        smtp.sendmail("a@example.com", ["b@example.com"], MESSAGE)
    assert len(h.messages()) == 2


def test_fault_at_mail_and_times_limit():
    with Harness(faults=["mail=421 4.7.0 Slow down,times=1"]) as h, client(h) as smtp:
        with pytest.raises(smtplib.SMTPSenderRefused) as info:
            smtp.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        assert info.value.smtp_code == 421
    with Harness(faults=["mail=421 4.7.0 Slow down,times=1"]) as h:
        with client(h) as smtp, pytest.raises(smtplib.SMTPSenderRefused):
            smtp.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        with client(h) as smtp:
            smtp.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        assert len(h.messages()) == 1


def test_fault_at_auth():
    with (
        Harness(tls="implicit", users={"alice": "s3cret"}, faults=["auth=454 4.7.0 Temporary authentication failure"]) as h,
        client(h) as smtp,
        pytest.raises(smtplib.SMTPAuthenticationError) as info,
    ):
        smtp.login("alice", "s3cret")
    assert info.value.smtp_code == 454


def test_probability_faults_are_reproducible_with_a_seed():
    def outcomes():
        with Harness(faults=["rcpt=450,probability=0.5,seed=42"]) as h, client(h) as smtp:
            result = []
            for i in range(20):
                refused = {}
                try:
                    refused = smtp.sendmail("a@example.com", [f"r{i}@example.com"], MESSAGE)
                except smtplib.SMTPRecipientsRefused as exc:
                    refused = exc.recipients
                result.append(bool(refused))
            return result

    first, second = outcomes(), outcomes()
    assert first == second and 0 < sum(first) < 20


def test_dropped_connection_and_delay():
    with Harness(faults=["data=drop"]) as h, client(h) as smtp, pytest.raises(smtplib.SMTPServerDisconnected):
        smtp.sendmail("a@example.com", ["b@example.com"], MESSAGE)
    assert h.messages() == []
    with Harness(faults=["mail=delay:0.05"]) as h, client(h) as smtp:
        smtp.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        assert h.faults[0].hits == 1 and len(h.messages()) == 1  # delayed, then carried on


def test_fault_specs_are_validated():
    for bad in [
        "nowhere=550",
        "rcpt=250",
        "rcpt=explode",
        "rcpt=550,nth=x",
        "rcpt=550,colour=red",
        "rcpt=550,rcpt=(",
        '{"stage": "rcpt", "message": "a\\r\\nb"}',
        "{bad json",
    ]:
        with pytest.raises(FaultError):
            parse_fault(bad)
    fault = parse_fault('{"stage": "data", "code": 554, "message": "5.6.0 Rejected"}')
    assert fault.reply == "554 5.6.0 Rejected"


def test_size_is_advertised_and_enforced():
    with Harness(size_limit=2000) as h, client(h) as smtp:
        smtp.ehlo()
        assert smtp.esmtp_features["size"] == "2000"
        big = b"Subject: big\r\n\r\n" + b"x" * 70 + b"\r\n"
        with pytest.raises(smtplib.SMTPException) as info:
            smtp.sendmail("a@example.com", ["b@example.com"], big * 40)
        assert getattr(info.value, "smtp_code", None) == 552
        smtp.sendmail("a@example.com", ["b@example.com"], big)
    assert len(h.messages()) == 1


def test_smtputf8_and_garbage_survived():
    with Harness() as h:
        with socket.create_connection((h.host, h.port), timeout=10) as raw:
            stream = raw.makefile("rwb")
            assert stream.readline().startswith(b"220")
            for garbage in (b"\x00\xff\xfe garbage\r\n", b"HELO\r\n", b"A" * 5000 + b"\r\n", b"DATA\r\n"):
                stream.write(garbage)
                stream.flush()
                assert stream.readline()[:1] == b"5"
        with client(h) as smtp:
            smtp.ehlo()
            assert "smtputf8" in smtp.esmtp_features
            smtp.sendmail("josé@example.com", ["zoë@example.com"], "Subject: ¡hola!\r\n\r\nünïcode\r\n".encode(), mail_options=["SMTPUTF8"])
        (message,) = h.wait_for(rcpt="zoë@example.com")
        assert message.mail_from == "josé@example.com"


def test_idle_connections_are_timed_out():
    with Harness(idle_timeout=0.5) as h, socket.create_connection((h.host, h.port), timeout=10) as raw:
        stream = raw.makefile("rb")
        assert stream.readline().startswith(b"220")
        raw.sendall(b"NOOP\r\n")
        assert stream.readline().startswith(b"250")  # alive while used
        assert stream.readline() == b""  # then, left idle, closed by the server (within the socket's 10 s bound)


def test_mailboxes_keep_flows_apart():
    with Harness(tls="implicit", users={"org-a": "x", "org-b": "y"}) as h:
        for user, password, rcpt in [("org-a", "x", "ops@a.example"), ("org-b", "y", "ops@b.example"), ("org-a", "x", "it@a.example")]:
            with client(h) as smtp:
                smtp.login(user, password)
                smtp.sendmail("a@example.com", [rcpt], MESSAGE)
        assert len(h.wait_for(count=2, auth_user="org-a")) == 2
        assert [m.rcpt_to for m in h.messages(auth_user="org-b")] == [("ops@b.example",)]
        assert len(h.messages(rcpt="OPS@a.example")) == 1


def test_wait_for_times_out_with_a_clear_message():
    with Harness() as h, pytest.raises(TimeoutError, match="0 of 1 message"):
        h.wait_for(rcpt="nobody@example.com", timeout=0.2)


def test_store_full_rejects_with_452_and_counts():
    with Harness(max_messages=2) as h, client(h) as smtp:
        for _ in range(2):
            smtp.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        with pytest.raises(smtplib.SMTPDataError) as info:
            smtp.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        assert info.value.smtp_code == 452
        assert h.store.stats()["rejected"] == 1 and len(h.messages()) == 2


def test_store_full_evicts_oldest_and_counts():
    with Harness(max_messages=2, on_full="evict") as h, client(h) as smtp:
        for i in range(3):
            smtp.sendmail("a@example.com", [f"r{i}@example.com"], MESSAGE)
        assert [m.rcpt_to[0] for m in h.messages()] == ["r1@example.com", "r2@example.com"]
        assert h.store.stats()["evicted"] == 1


def test_http_api():
    with Harness(tls="starttls", users={"alice": "s3cret"}) as h:
        with client(h) as smtp:
            smtp.login("alice", "s3cret")
            smtp.sendmail("a@example.com", ["b@example.com", "c@example.com"], MESSAGE)
            smtp.sendmail("z@example.com", ["d@example.com"], b"Subject: other\r\n\r\nx\r\n")
        assert api(h, "/api/health")[1]["status"] == "ok"
        status, body = api(h, "/api/messages")
        assert status == 200 and body["total"] == 2
        first = body["messages"][0]
        assert {k: first[k] for k in ("mail_from", "rcpt_to", "subject", "tls", "auth_user")} == {
            "mail_from": "a@example.com",
            "rcpt_to": ["b@example.com", "c@example.com"],
            "subject": "Hello",
            "tls": True,
            "auth_user": "alice",
        }
        assert api(h, "/api/messages?rcpt=d@example.com")[1]["total"] == 1
        assert api(h, "/api/messages?subject=Hel&limit=1")[1]["count"] == 1
        assert api(h, "/api/messages?colour=red")[0] == 400
        assert api(h, "/api/messages?limit=-1")[0] == 400
        status, detail = api(h, f"/api/messages/{first['id']}")
        assert detail["text"].strip() == "plain body" and "html body" in detail["html"]
        assert ["Subject", "Hello"] in detail["headers"] and detail["raw"].startswith("From: Sender")
        with urllib.request.urlopen(f"{h.http_url}/api/messages/{first['id']}/raw") as response:
            assert response.read() == MESSAGE and response.headers["Content-Type"] == "message/rfc822"
        assert api(h, "/api/messages/999")[0] == 404
        assert api(h, "/api/stats")[1]["total"] == 2
        assert api(h, "/api/messages", "DELETE")[1] == {"deleted": 2}
        assert api(h, "/api/messages")[1]["total"] == 0


def test_http_api_faults():
    with Harness() as h:
        status, fault = api(h, "/api/faults", "POST", {"spec": "rcpt=550 5.7.1 Denied,rcpt=blocked"})
        assert status == 201 and fault["code"] == 550
        assert api(h, "/api/faults", "POST", {"stage": "nowhere"})[0] == 400
        assert len(api(h, "/api/faults")[1]["faults"]) == 1
        with client(h) as smtp, pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("a@example.com", ["blocked@example.com"], MESSAGE)
        assert api(h, "/api/faults", "DELETE")[1] == {"deleted": 1}
        with client(h) as smtp:
            smtp.sendmail("a@example.com", ["blocked@example.com"], MESSAGE)


def test_users_own_certificate(tmp_path):
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with Harness(tls="implicit", certfile=str(tmp_path / "cert.pem"), keyfile=str(tmp_path / "key.pem")) as h:
        assert h.ca_path is None
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        with smtplib.SMTP_SSL(h.host, h.port, context=context, timeout=10) as smtp:
            smtp.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        assert h.wait_for()[0].tls


def test_untrusted_client_fails_and_tls_below_12_is_refused():
    with Harness(tls="implicit") as h:
        with pytest.raises(ssl.SSLCertVerificationError):
            smtplib.SMTP_SSL(h.host, h.port, context=ssl.create_default_context(), timeout=10)
        with pytest.raises(ssl.SSLError) as refused:
            smtplib.SMTP_SSL(h.host, h.port, context=_client_up_to(ssl.TLSVersion.TLSv1_1), timeout=10)
        assert refused.value.reason != "NO_PROTOCOLS_AVAILABLE", refused.value  # the server refused it, not our own client
        smtplib.SMTP_SSL(h.host, h.port, context=_client_up_to(ssl.TLSVersion.TLSv1_2), timeout=10).quit()  # the same client at 1.2


def _client_up_to(highest: ssl.TLSVersion) -> ssl.SSLContext:
    """A client that really offers TLS 1.0 to `highest` (SECLEVEL 0: OpenSSL 3 refuses 1.1 otherwise)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with warnings.catch_warnings():  # TLS 1.1 is deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
            context.minimum_version, context.maximum_version = ssl.TLSVersion.TLSv1, highest
        except (ValueError, ssl.SSLError):
            pytest.skip("this OpenSSL cannot offer TLS below 1.2 at all")
    return context


def test_binds_loopback_by_default():
    with Harness() as h:
        bound = h.listening
    assert {kind for kind, _, _ in bound} == {"smtp", "http"}
    assert all(ipaddress.ip_address(address).is_loopback for _, address, _ in bound), bound


def test_config_errors_are_clear():
    cases: list[tuple[dict[str, object], str]] = [
        ({"tls": "sometimes"}, "tls must be"),
        ({"require_tls": True}, "require_tls"),
        ({"auth_required": True}, "needs at least one user"),
        ({"certfile": "x"}, "go together"),
    ]
    for options, words in cases:
        with pytest.raises(ValueError, match=words):
            Harness(HarnessConfig.from_options(options))
