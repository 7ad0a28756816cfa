"""The mailer against servers that really misbehave (the harness, over real sockets)."""

from __future__ import annotations

import email
import json
import os
import shutil
import xml.etree.ElementTree as ET
from email import policy

import pytest
from conftest import CONFIGS, cli
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from support import closed_port

from notifycfg.config import events
from notifycfg.notify import mailer, messages, render
from smtp_harness import Harness

SENDER = {"address": "noreply@example.com", "display_name": "Plateforme Éxample"}
TO = ["ops@example.com"]


def message():
    rendered = render.render(events.EVENTS["job_faulted"], {"job_name": "J", "process": "P", "error": "E <b>", "severity": "error"})
    return messages.build(rendered, SENDER, TO)


def transport(port: int = 587, secure: bool = True, username: str | None = "svc", domain: str | None = None):
    return _connection("mail.example.com", port, secure, username, {"env": "NC_TEST_PW"} if username else None, domain)


def _connection(host: str, port: int, secure: bool, username: str | None, password: dict[str, str] | None, domain: str | None):
    from notifycfg.compile.endpoint import Connection, Endpoint, tls_mode

    return Connection(Endpoint(host, port, tls_mode(port, secure)), username, domain, password)


@pytest.fixture(autouse=True)
def password(monkeypatch):
    monkeypatch.setenv("NC_TEST_PW", "pa55-word")


def send(h, t, **kwargs):
    return mailer.send(message(), TO, t, server=(h.host, h.port), cafile=str(h.ca_path) if h.ca_path else None, timeout=10, **kwargs)


@pytest.mark.parametrize(("port", "secure", "mode"), [(587, True, "starttls"), (465, True, "implicit"), (25, False, "off")])
def test_each_security_mode_sends_what_it_promises(port, secure, mode):
    users = {"svc": "pa55-word"}
    with Harness(tls=mode, users=users, auth_required=True, require_tls=mode == "starttls") as h:
        sent = send(h, transport(port, secure))
        (m,) = h.wait_for()
    assert sent.tls is secure and m.tls is secure and m.auth_user == "svc"
    parsed = email.message_from_bytes(m.raw, policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert str(parsed["From"]) == "Plateforme Éxample <noreply@example.com>"
    assert b"=?utf-8?" in m.raw.split(b"\r\n\r\n")[0]  # the non-ASCII name is encoded on the wire
    assert parsed["Message-ID"].endswith("@example.com>") and parsed["Date"]
    assert "E &lt;b&gt;" in m.html and "E <b>" in m.text
    assert m.subject == "[ERROR] Job J faulted"


def test_domain_is_applied_to_the_username():
    with Harness(tls="implicit", users={"CORP\\svc": "pa55-word"}, auth_required=True) as h:
        send(h, transport(465, True, "svc", "CORP"))
        assert h.wait_for()[0].auth_user == "CORP\\svc"


def test_secure_without_starttls_is_refused_not_downgraded():
    with Harness(tls="off") as h:
        with pytest.raises(mailer.SendError) as info:
            send(h, transport(587, True, None))
        assert info.value.kind == "tls" and "STARTTLS" in info.value.message
        assert h.messages() == []


def test_untrusted_certificate():
    with Harness(tls="starttls") as h, pytest.raises(mailer.SendError) as info:
        mailer.send(message(), TO, transport(587, True, None), server=(h.host, h.port), timeout=10)
    assert info.value.kind == "certificate" and "not trusted" in info.value.message


def test_wrong_password_never_shows_it(monkeypatch):
    monkeypatch.setenv("NC_TEST_PW", "Wr0ng-S3cret")
    with Harness(tls="implicit", users={"svc": "right"}) as h, pytest.raises(mailer.SendError) as info:
        send(h, transport(465))
    assert info.value.kind == "auth" and "535" in info.value.message and "Wr0ng" not in str(info.value)


def test_missing_secret_names_the_reference(monkeypatch):
    monkeypatch.delenv("NC_TEST_PW")
    with Harness(tls="implicit", users={"svc": "x"}) as h, pytest.raises(mailer.SendError) as info:
        send(h, transport(465))
    assert (info.value.kind, info.value.message) == ("secret", "NC_TEST_PW is not set")


def test_secret_from_file(tmp_path):
    (tmp_path / "pw").write_text("from-file\n")
    t = _connection("h", 465, True, "svc", {"file": str(tmp_path / "pw")}, None)
    with Harness(tls="implicit", users={"svc": "from-file"}) as h:
        send(h, t)
    missing = _connection("h", 465, True, "svc", {"file": str(tmp_path / "nope")}, None)
    with Harness(tls="implicit", users={"svc": "x"}) as h, pytest.raises(mailer.SendError, match="does not exist"):
        send(h, missing)


@pytest.mark.parametrize(
    ("fault", "kind", "code"),
    [
        ("rcpt=450 4.2.1 Mailbox busy", "temporary", "450"),
        ("rcpt=550 5.1.1 No such user", "recipient", "550"),
        ("data=554 5.6.0 Content rejected", "permanent", "554"),
        ("data=451 4.3.0 Try later", "temporary", "451"),
        ("mail=421 4.7.0 Too many", "temporary", "421"),
    ],
)
def test_replies_are_classified(fault, kind, code):
    with Harness(faults=[fault]) as h, pytest.raises(mailer.SendError) as info:
        send(h, transport(25, False, None))
    assert info.value.kind == kind and code in info.value.message


def test_connection_refused_and_dropped():
    with closed_port() as port, pytest.raises(mailer.SendError) as info:
        mailer.send(message(), TO, transport(25, False, None), server=("127.0.0.1", port), timeout=5)
    assert info.value.kind == "connection" and "refused" in info.value.message
    with Harness(faults=["data=drop"]) as h, pytest.raises(mailer.SendError) as info:
        send(h, transport(25, False, None))
    assert info.value.kind == "connection"


def test_no_header_injection_possible():
    rendered = render.Rendered("ok", "t", "<p>h</p>")
    with pytest.raises(ValueError):
        messages.build(rendered, {"address": "a@example.com", "display_name": "x\r\nBcc: evil@example.com"}, TO)
    with pytest.raises(render.ParameterError, match="line break"):
        render.render(events.EVENTS["license_expired"], {"license_name": "x\r\nBcc: evil@example.com"})


def test_catalogue_and_flow_schema_agree():
    schema = json.loads((CONFIGS.parent / "schemas" / "flow.schema.json").read_text())
    assert schema["properties"]["event"]["enum"] == sorted(events.EVENTS)
    assert {e.category for e in events.EVENTS.values()} == {
        "password_recovery",
        "license_status",
        "product_updates",
        "job_alerts",
        "robot_alerts",
    }


def test_send_test_command(tmp_path):
    env = dict(os.environ, PROD_SMTP_PASSWORD="Sup3r-S3cret-Value")
    with Harness(tls="starttls", users={"platform-mailer": "Sup3r-S3cret-Value"}, require_tls=True) as h:
        done = cli(
            "send-test",
            str(CONFIGS / "prod"),
            "--org",
            "acme",
            "--to",
            "me@example.com",
            "--server",
            f"{h.host}:{h.port}",
            "--cafile",
            str(h.ca_path),
            env=env,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"sent to me@example.com via {h.host}:{h.port} (STARTTLS, as platform-mailer)\n"
        (m,) = h.wait_for(rcpt="me@example.com")
        assert m.subject == "Test email for acme" and m.tls and m.auth_user == "platform-mailer"
    assert "Sup3r" not in done.stdout + done.stderr


def test_send_test_failures_are_one_line():
    env = {k: v for k, v in os.environ.items() if k != "PROD_SMTP_PASSWORD"}
    done = cli("send-test", str(CONFIGS / "prod"), "--org", "acme", "--to", "me@example.com", "--server", "127.0.0.1:9", env=env)
    assert (done.returncode, done.stderr) == (1, "notifycfg: send failed (secret): PROD_SMTP_PASSWORD is not set\n")
    assert cli("send-test", str(CONFIGS / "prod"), "--org", "acme", "--to", "not an address").returncode == 2
    assert cli("send-test", str(CONFIGS / "prod"), "--org", "nobody", "--to", "a@example.com").returncode == 2
    assert cli("send-test", str(CONFIGS / "prod"), "--org", "acme", "--to", "a@example.com", "--server", "nope").returncode == 2


@pytest.mark.parametrize("name", ["dev", "staging", "prod"])
def test_check_passes_on_the_shipped_configs(name, tmp_path):
    junit = tmp_path / "flows.xml"
    done = cli("check", str(CONFIGS / name), "--junit", str(junit))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("check: ok") and " 0 failed" in done.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert int(suite.get("tests")) >= 9 and suite.get("failures") == "0"
    categories = {events.EVENTS[c.get("name") and _event_of(name, c.get("name"))].category for c in suite.iter("testcase")}
    assert categories == {"password_recovery", "license_status", "product_updates", "job_alerts", "robot_alerts"}


def _event_of(env: str, flow: str) -> str:
    import yaml

    return yaml.safe_load((CONFIGS / env / "flows" / f"{flow}.yaml").read_text())["event"]


def test_failing_flow_fails_check_and_flows_run(tmp_path):
    env = tmp_path / "prod"
    shutil.copytree(CONFIGS / "prod", env)
    (env / "flows" / "wrong.yaml").write_text(
        "org: acme\nevent: license_expired\nparams: {license_name: X}\nexpect: {messages: 1, to: [someone-else@example.com]}\n"
    )
    done = cli("flows", "run", str(env), "--junit", str(tmp_path / "j.xml"))
    assert done.returncode == 1
    assert "FAIL wrong (acme, license_expired)" in done.stdout
    assert "expected recipients ['someone-else@example.com'], got ['licensing@example.com']" in done.stdout
    assert ET.parse(tmp_path / "j.xml").getroot().find("testsuite").get("failures") == "1"
    assert cli("check", str(env)).returncode == 1


def test_check_on_invalid_environment(tmp_path):
    env = tmp_path / "prod"
    shutil.copytree(CONFIGS / "prod", env)
    (env / "host.yaml").write_text("email: {}\n")
    done = cli("check", str(env))
    assert done.returncode == 1 and "S002" in done.stdout and "compile and flows skipped" in done.stdout


def test_send_test_never_acts_on_bytes_sent_before_the_tls_handshake(tmp_path):
    """A forged `235` injected with the 220 to STARTTLS: smtplib drops its plaintext buffer at
    STARTTLS, the real AUTH is refused, and nothing is sent."""
    import trustme
    from doctor_servers import injecting_server

    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    certfile, keyfile, cafile = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    leaf.cert_chain_pems[0].write_to_path(str(certfile))
    leaf.private_key_pem.write_to_path(str(keyfile))
    ca.cert_pem.write_to_path(str(cafile))
    env = dict(os.environ, PROD_SMTP_PASSWORD="wrong-pw-5d0e")
    with injecting_server(str(certfile), str(keyfile)) as (port, received):
        done = cli(
            "send-test", str(CONFIGS / "prod"), "--org", "acme", "--to", "me@example.com",
            "--server", f"127.0.0.1:{port}", "--cafile", str(cafile), "--timeout", "5", env=env,
        )  # fmt: skip
    assert done.returncode == 1 and "send failed (auth)" in done.stderr and "535" in done.stderr, done.stderr
    verbs = [line.split(b" ")[0].upper() for line in received]
    assert verbs[0] == b"EHLO" and b"AUTH" in verbs and set(verbs) <= {b"EHLO", b"AUTH", b"QUIT"}, verbs  # no MAIL, RCPT or DATA
    assert "wrong-pw-5d0e" not in done.stdout + done.stderr


_NAME_CHARS = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x85\u2028\u2029", min_codepoint=0x20)
_SPECIALS = st.sampled_from(list("<>()[]:;@\\,.\"'|=?!#") + ["<img src=x onerror=alert(1)>", "on-call: <ops@initech.example>, x", " "])
_ADDRESSES = ["alerts@globex.example", "it-alerts+robots@mail.initech.example.net", "a" * 64 + "@example.com"]


@pytest.fixture(scope="module")
def plain_harness():
    with Harness(http=False) as h:
        yield h


@settings(max_examples=max(80, settings.default.max_examples))
@given(
    name=st.lists(st.one_of(st.text(_NAME_CHARS, min_size=1, max_size=12), _SPECIALS), min_size=1, max_size=12).map("".join),
    address=st.sampled_from(_ADDRESSES),
)
def test_the_from_header_arrives_as_the_settings_hold_it(plain_harness, name, address):
    """Every display name the schema and rules accept, long and full of RFC 5322 specials, parses back
    exactly (with its address, and as one address) from a message really sent to the harness."""
    from email.utils import getaddresses

    from notifycfg.compile.endpoint import Connection, Endpoint
    from notifycfg.config.formats import display_name_change, header_text_problem

    name = name[:128]
    assume(name and not header_text_problem(name) and not display_name_change(name))
    plain_harness.clear()
    message = messages.build(render.Rendered("s", "t", "<p>h</p>"), {"address": address, "display_name": name}, TO)
    mailer.send(message, TO, Connection(Endpoint(plain_harness.host, plain_harness.port, "plain"), None, None, None), timeout=10)
    (captured,) = plain_harness.wait_for(1, timeout=10)
    parsed = email.message_from_bytes(captured.raw, policy=policy.default)
    assert [(a.display_name, a.addr_spec) for a in parsed["From"].addresses] == [(name, address)]
    assert getaddresses([str(parsed["From"])]) == [(name, address)]  # the classic parser agrees
