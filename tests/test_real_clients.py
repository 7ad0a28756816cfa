"""Real SMTP clients (Debian's curl, swaks and msmtp) through the harness in each TLS mode, with AUTH:
every message captured with the right TLS flag and AUTH user."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from smtp_harness import Harness

pytestmark = pytest.mark.e2e
MESSAGE = "From: a@example.com\r\nTo: b@example.com\r\nSubject: via {client} {tls}\r\n\r\nhello\r\n"


def need(tool: str) -> str:
    found = shutil.which(tool)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{tool} is missing: .ci/run installs curl, swaks and msmtp")
    pytest.skip(f"{tool} is not installed (apt-get install curl swaks msmtp)")


def curl(h: Harness, tls: str, message: Path) -> list[str]:
    scheme = "smtps" if tls == "implicit" else "smtp"
    command = [
        need("curl"),
        "-sS",
        "--url",
        f"{scheme}://127.0.0.1:{h.port}",
        "--mail-from",
        "a@example.com",
        "--mail-rcpt",
        "b@example.com",
        "--upload-file",
        str(message),
        "--user",
        "app:pw",
        "--max-time",
        "20",
    ]
    if tls != "off":
        command += ["--cacert", str(h.ca_path)]
    if tls == "starttls":
        command.append("--ssl-reqd")
    return command


def swaks(h: Harness, tls: str, message: Path) -> list[str]:
    command = [
        need("swaks"),
        "--server",
        f"127.0.0.1:{h.port}",
        "--from",
        "a@example.com",
        "--to",
        "b@example.com",
        "--auth",
        "LOGIN",
        "--auth-user",
        "app",
        "--auth-password",
        "pw",
        "--data",
        f"@{message}",
        "--timeout",
        "20",
    ]
    if tls == "starttls":
        command += ["--tls", "--tls-verify", "--tls-ca-path", str(h.ca_path)]
    elif tls == "implicit":
        command += ["--tls-on-connect", "--tls-verify", "--tls-ca-path", str(h.ca_path)]
    return command


def msmtp(h: Harness, tls: str, message: Path) -> list[str]:
    command = [
        need("msmtp"),
        "--host=127.0.0.1",
        f"--port={h.port}",
        "--auth=plain",
        "--user=app",
        "--passwordeval=echo pw",
        "--from=a@example.com",
        "--timeout=20",
    ]
    if tls == "off":
        command += ["--tls=off"]
    else:
        command += ["--tls=on", f"--tls-starttls={'on' if tls == 'starttls' else 'off'}", f"--tls-trust-file={h.ca_path}"]
    return [*command, "b@example.com"]


@pytest.mark.parametrize("tls", ["off", "starttls", "implicit"])
@pytest.mark.parametrize("client", [curl, swaks, msmtp], ids=["curl", "swaks", "msmtp"])
def test_real_client_is_captured_with_tls_and_auth(tmp_path, client, tls):
    message = tmp_path / "message.eml"
    message.write_text(MESSAGE.format(client=client.__name__, tls=tls))
    with Harness(tls=tls, users={"app": "pw"}, auth_required=True) as h:
        command = client(h, tls, message)
        with message.open("rb") as stdin:
            done = subprocess.run(command, stdin=stdin, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        (captured,) = h.wait_for(rcpt="b@example.com", timeout=10)
    assert captured.subject == f"via {client.__name__} {tls}"
    assert captured.tls is (tls != "off") and captured.auth_user == "app"
