"""Distinctive secret values never appear in any output, file, log or report, whatever the command."""

from __future__ import annotations

import os
import shutil
import signal
import smtplib
import ssl
from pathlib import Path

import pytest
from conftest import CONFIGS, Done, cli
from served import SMTP_HARNESS, Served

from smtp_harness import Harness

PROD = "Pr0d-S3cret-7f2c91"
STAGING = "St4ging-S3cret-a81d"
INITECH = "In1tech-S3cret-55e0"
SECRETS = (PROD, STAGING, INITECH)


@pytest.fixture
def world(tmp_path: Path):
    for name in ("staging", "prod"):
        shutil.copytree(CONFIGS / name, tmp_path / name)
    secret_file = tmp_path / "initech-password"
    secret_file.write_text(INITECH + "\n")
    for name in ("staging", "prod"):
        org = tmp_path / name / "orgs" / "initech.yaml"
        org.write_text(
            org.read_text()
            .replace("/run/secrets/initech-smtp-password-staging", str(secret_file))
            .replace("/run/secrets/initech-smtp-password", str(secret_file))
        )
    env = dict(os.environ, PROD_SMTP_PASSWORD=PROD, STAGING_SMTP_PASSWORD=STAGING)
    return tmp_path, env


def clean(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret} leaked"


def files_clean(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file() and path.name != "initech-password":
            clean(path.read_text(errors="replace"))


def run_all(world_root: Path, env: dict[str, str]) -> list[Done]:
    prod, staging = str(world_root / "prod"), str(world_root / "staging")
    calls = [
        ("validate", prod),
        ("validate", "--format", "json", prod),
        ("validate", "--format", "github", prod),
        ("validate", "--format", "junit", prod),
        ("compile", prod, "-o", str(world_root / "out")),
        ("compile", prod, "--format", "json"),
        ("explain", prod, "initech", "email.smtp"),
        ("explain", prod, "acme", "email"),
        ("diff", staging, prod),
        ("diff", "--format", "json", staging, prod),
        ("flows", "run", prod, "--junit", str(world_root / "flows.xml")),
        ("check", prod),
        ("promote", staging, prod, "--dry-run"),
        ("promote", staging, prod),
    ]
    return [cli(*args, env=env) for args in calls]


def test_no_secret_in_any_command_output_or_file(world):
    root, env = world
    for done in run_all(root, env):
        clean(done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
    files_clean(root)


def test_no_secret_when_things_fail(world):
    root, env = world
    prod = root / "prod"
    # a plaintext secret in a file: reported without its value
    (prod / "orgs" / "globex.yaml").write_text(
        f"email:\n  smtp:\n    host: h.example.com\n    port: 587\n    username: u\n    password: {PROD}\n"
    )
    for done in run_all(root, env):
        clean(done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
    (prod / "orgs" / "globex.yaml").write_text(
        f"email:\n  smtp:\n    host: h.example.com\n    port: 587\n    username: u\n    password: {{env: {PROD}}}\n"
    )
    clean(*(d.stdout + d.stderr for d in run_all(root, env)))


def test_send_test_success_and_failure_paths(world):
    root, env = world
    prod = str(root / "prod")
    with Harness(tls="implicit", users={"INITECH\\svc-notify": INITECH}) as h:
        ok = cli(
            "send-test",
            prod,
            "--org",
            "initech",
            "--to",
            "x@example.com",
            "--server",
            f"{h.host}:{h.port}",
            "--cafile",
            str(h.ca_path),
            env=env,
        )
        assert ok.returncode == 0, ok.stderr
        clean(ok.stdout, ok.stderr)
    with Harness(tls="starttls", users={"platform-mailer": "something-else"}) as h:
        wrong = cli(
            "send-test",
            prod,
            "--org",
            "acme",
            "--to",
            "x@example.com",
            "--server",
            f"{h.host}:{h.port}",
            "--cafile",
            str(h.ca_path),
            env=env,
        )
        assert wrong.returncode == 1 and "(auth)" in wrong.stderr
        clean(wrong.stdout, wrong.stderr)
        untrusted = cli("send-test", prod, "--org", "acme", "--to", "x@example.com", "--server", f"{h.host}:{h.port}", env=env)
        assert untrusted.returncode == 1 and "(certificate)" in untrusted.stderr
        clean(untrusted.stdout, untrusted.stderr)
    refused = cli("send-test", prod, "--org", "acme", "--to", "x@example.com", "--server", "127.0.0.1:9", env=env)
    assert refused.returncode == 1
    clean(refused.stdout, refused.stderr)


def test_harness_logs_never_show_passwords():
    with Served([*SMTP_HARNESS, "--tls", "implicit", "--auth", f"svc:{PROD}"]) as served:
        fields = served.ready()
        ca = served.line("stderr")[3:]
        port = int(fields["smtp"].rsplit(":", 1)[1])
        context = ssl.create_default_context(cafile=ca)
        for password in (PROD, STAGING):
            try:
                with smtplib.SMTP_SSL("127.0.0.1", port, context=context, timeout=10) as smtp:
                    smtp.login("svc", password)
                    smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\ny\r\n")
            except smtplib.SMTPAuthenticationError:
                pass
        code, err = served.stop(signal.SIGTERM)
    clean(str(fields), err)
    assert code == 0 and "Traceback" not in err
