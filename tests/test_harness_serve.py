"""`smtp-harness serve` (and `notifycfg harness serve`) as a process: readiness, signals, maildir durability, the pytest plugin."""

from __future__ import annotations

import json
import signal
import smtplib
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from served import NOTIFYCFG_HARNESS, SMTP_HARNESS, Served


def _hostport(value: str) -> tuple[str, int]:
    host, port = value.rsplit(":", 1)
    return host, int(port)


@pytest.mark.parametrize("command", [SMTP_HARNESS, NOTIFYCFG_HARNESS], ids=["smtp_harness", "notifycfg"])
def test_ready_line_api_and_clean_sigint(command):
    with Served(command) as served:
        fields = served.ready()
        host, port = _hostport(fields["smtp"])
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: via serve\r\n\r\nhi\r\n")
        with urllib.request.urlopen(f"http://{fields['http']}/api/messages", timeout=10) as response:
            body = json.loads(response.read())
        assert body["total"] == 1 and body["messages"][0]["subject"] == "via serve"
        code, err = served.stop(signal.SIGINT)
    assert code == 0 and "Traceback" not in err and "1 message(s) captured" in err


def test_sigterm_under_load_loses_no_acknowledged_message(tmp_path):
    maildir = tmp_path / "mail"
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    with Served([*SMTP_HARNESS, "--tls", "starttls", "--auth", "app:pw", "--maildir", str(maildir)]) as served:
        host, port = _hostport(served.ready()["smtp"])
        ca = served.line("stderr")
        assert ca.startswith("ca="), ca
        context = ssl.create_default_context(cafile=ca[3:])

        def sender(worker: int) -> None:
            try:
                with smtplib.SMTP(host, port, timeout=10) as smtp:
                    smtp.starttls(context=context)
                    smtp.login("app", "pw")
                    for i in range(2_000):
                        if stop.is_set():
                            return
                        ident = f"w{worker}-m{i}"
                        smtp.sendmail("a@example.com", ["b@example.com"], f"Subject: {ident}\r\n\r\nbody\r\n".encode())
                        with lock:
                            acknowledged.append(ident)
            except (smtplib.SMTPException, OSError):
                return  # the server went away mid-conversation: only acknowledged messages count

        threads = [threading.Thread(target=sender, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(acknowledged) >= 60, f"only {len(acknowledged)} message(s) acknowledged in 30 s"
        code, _ = served.stop(signal.SIGTERM)
        stop.set()
        for t in threads:
            t.join(timeout=30)
    stored = {_subject(p) for p in (maildir / "new").iterdir()}
    assert code == 0
    assert set(acknowledged) <= stored, set(acknowledged) - stored
    assert list((maildir / "tmp").iterdir()) == []


def _subject(path: Path) -> str:
    for line in path.read_bytes().split(b"\r\n"):
        if line.startswith(b"Subject: "):
            return line[9:].decode()
    raise AssertionError(f"no subject in {path}")


def test_port_in_use_is_a_clear_usage_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [*SMTP_HARNESS[:-4], "--smtp-port", str(port), "--http-port", "0"], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 2 and "cannot listen" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args", [["--fault", "rcpt=999"], ["--auth", "nopassword"], ["--tls", "maybe"], ["--require-tls"], ["--smtp-port", "70000"]]
)
def test_bad_options_are_usage_errors(args):
    done = subprocess.run([*SMTP_HARNESS, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr


def test_pytest_fixture_from_a_test_file(pytester):
    pytester.makepyfile(
        """
        import smtplib, ssl
        import pytest

        def test_plain(smtp_harness):
            with smtplib.SMTP(smtp_harness.host, smtp_harness.port) as smtp:
                smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: x\\r\\n\\r\\ny\\r\\n")
            assert smtp_harness.wait_for(rcpt="b@example.com")[0].subject == "x"

        @pytest.mark.smtp_harness(tls="starttls", users={"u": "p"}, faults=["rcpt=550,rcpt=^bounce@"])
        def test_configured(smtp_harness):
            with smtplib.SMTP(smtp_harness.host, smtp_harness.port) as smtp:
                smtp.starttls(context=ssl.create_default_context(cafile=str(smtp_harness.ca_path)))
                smtp.login("u", "p")
                with pytest.raises(smtplib.SMTPRecipientsRefused):
                    smtp.sendmail("a@example.com", ["bounce@example.com"], b"x")

        def test_two_at_once(smtp_harness_factory):
            a, b = smtp_harness_factory(), smtp_harness_factory(tls="implicit")
            assert a.port != b.port and b.ca_path is not None
        """
    )
    result = pytester.runpytest_subprocess()  # found through the pytest11 entry point, as after pip install
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize("tls", ["off", "starttls", "implicit"])
def test_serve_accepts_mail_in_every_tls_mode_on_whichever_loop_it_runs(tls):
    """`smtp-harness serve` runs on uvloop when the `fast` extra is installed (not for implicit TLS, whose
    handshake uvloop loses): mail arrives in every mode, TLS verified."""
    with Served([*SMTP_HARNESS, "--tls", tls]) as served:
        fields = served.ready()
        port = int(fields["smtp"].rsplit(":", 1)[1])
        context = ssl.create_default_context(cafile=served.line("stderr")[3:]) if tls != "off" else None
        for _ in range(3):
            if tls == "implicit":
                with smtplib.SMTP_SSL("127.0.0.1", port, context=context, timeout=10) as smtp:
                    smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\ny\r\n")
            else:
                with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
                    if context is not None:
                        smtp.starttls(context=context)
                    smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\ny\r\n")
        code, err = served.stop(signal.SIGTERM)
    assert code == 0 and "3 message(s) captured" in err
