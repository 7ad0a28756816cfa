"""The platform bridge at the edges of a CI runner: a platform that misbehaves on purpose, a real
HTTP proxy (Debian's tinyproxy) in between, and the audit log of every apply."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CONFIGS, cli
from platform_hostile import BEHAVIOURS, TOKEN, Hostile
from platform_standin import Client, Served, StandIn
from support import closed_port, free_port, wait_for_port
from support.platform import CLIENT_SECRET, HOST_PASSWORD, INITECH_PASSWORD, SECRETS, partitions_of, staging_copy
from support.process import measured

PEAK_KIB = 300 * 1024  # a bomb, stacked or not, costs at most the 8 MiB cap per partition read at once
WORDS = {
    "endless": "larger than 8 MiB",
    "gzip-bomb": "larger than 8 MiB",
    "stacked-gzip": "encoded 2 times (gzip, gzip)",
    "drip": "did not answer in full within 2s",
    "redirect": "redirects are never followed",
}


def _secrets_env() -> dict[str, str]:
    return dict(os.environ, STAGING_PLATFORM_CLIENT_SECRET=CLIENT_SECRET, STAGING_SMTP_PASSWORD=HOST_PASSWORD)


@pytest.mark.e2e
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_a_hostile_platform_cannot_hang_plan_or_sink_the_runner(tmp_path, behaviour):
    with Hostile(behaviour, tmp_path) as hostile:
        env = staging_copy(tmp_path, hostile.url)
        run = measured(
            "plan", str(env), "--cafile", hostile.ca_path, "--timeout", "2", env=_secrets_env(), bound=60
        )  # killed at 60 s: a failure
    assert run.code == 2, run.err
    assert run.peak_kib < PEAK_KIB, run.peak_kib
    assert WORDS[behaviour] in run.out, run.out
    assert all(f"{name} (" in run.out for name in partitions_of(env))  # each partition named with its failure
    assert TOKEN not in run.out + run.err
    assert hostile.elsewhere == []  # the bearer token never went to the other origin
    print(f"{behaviour}: peak {run.peak_kib / 1024:.0f} MiB")


# --- through a real proxy ----------------------------------------------------------------------

PROXY_USER, PROXY_PASSWORD = "ci-runner", "Pr0xy-Pa55-77c1"


@pytest.fixture
def tinyproxy(tmp_path):
    """tinyproxy on loopback, BasicAuth on; yields (port, log file)."""
    binary = shutil.which("tinyproxy")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tinyproxy is not installed (.ci/run installs it)")
        pytest.skip("tinyproxy is not installed (apt-get install tinyproxy)")
    port, log = free_port(), tmp_path / "tinyproxy.log"
    conf = tmp_path / "tinyproxy.conf"
    conf.write_text(f'Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile "{log}"\nLogLevel Info\nBasicAuth {PROXY_USER} {PROXY_PASSWORD}\n')
    process = subprocess.Popen([binary, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for_port(port), "tinyproxy did not start"
        yield port, log
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def platform(tmp_path):
    guids = partitions_of(CONFIGS / "staging")
    standin = StandIn(list(guids.values()), {"notifycfg-staging": Client(CLIENT_SECRET, {"PM.Setting.Read", "PM.Setting.Write"})})
    with Served(standin, tmp_path) as running:
        yield running, staging_copy(tmp_path, running.url)


def _run(platform, *args: str, environ: dict[str, str] | None = None):
    standin, env = platform
    done = cli(*args, str(env), "--cafile", standin.ca_path, "--timeout", "5", env=environ or _secrets_env())
    for secret in (*SECRETS, PROXY_PASSWORD):
        assert secret not in done.stdout + done.stderr, args
    return done


def test_plan_and_apply_through_the_proxy(platform, tinyproxy):
    standin, _ = platform
    port, log = tinyproxy
    proxy = f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{port}"
    assert _run(platform, "plan", "--proxy", proxy).returncode == 1
    assert _run(platform, "apply", "--proxy", proxy).returncode == 0
    environ = dict(_secrets_env(), HTTPS_PROXY=proxy)
    assert _run(platform, "plan", environ=environ).returncode == 0  # from the environment, in sync now
    host, platform_port = standin.url.split("//")[1].split("/")[0].split(":")
    assert log.read_text().count(f"CONNECT {host}:{platform_port}") >= 3  # every run went through the tunnel
    assert standin.puts()


def test_no_proxy_bypasses_the_environments_proxy(platform):
    with closed_port() as port:
        dead = f"http://127.0.0.1:{port}"
        environ = dict(_secrets_env(), HTTPS_PROXY=dead, NO_PROXY="localhost,127.0.0.0/8")
        assert _run(platform, "plan", environ=environ).returncode == 1
        environ.pop("NO_PROXY")
        done = _run(platform, "plan", environ=environ)
    assert done.returncode == 2 and f"cannot connect to proxy {dead}" in done.stderr


@pytest.mark.parametrize(
    ("credentials", "words"),
    [(f"{PROXY_USER}:wrong-pass@", "401"), ("", "407")],
    ids=["wrong-credentials", "no-credentials"],
)
def test_a_proxy_that_refuses_is_named_without_its_password(platform, tinyproxy, credentials, words):
    standin, _ = platform
    port, _ = tinyproxy
    done = _run(platform, "plan", "--proxy", f"http://{credentials}127.0.0.1:{port}")
    assert done.returncode == 2
    assert f"proxy http://127.0.0.1:{port} refused the tunnel" in done.stderr and words in done.stderr
    assert "wrong-pass" not in done.stderr
    assert standin.requests == [] and standin.token_requests == 0


def test_a_proxy_that_is_down(platform):
    standin, _ = platform
    with closed_port() as port:
        done = _run(platform, "apply", "--proxy", f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{port}")
    assert done.returncode == 2
    assert f"cannot connect to proxy http://127.0.0.1:{port}" in done.stderr and "nothing applied" in done.stderr
    assert standin.token_requests == 0


def test_a_proxy_url_that_is_not_one_is_a_usage_error(platform):
    done = _run(platform, "plan", "--proxy", "socks9://user:Pr0xy-Pa55-77c1@[bad")
    assert done.returncode == 2 and "--proxy" in done.stderr


# --- the audit of every apply ------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> str:
    environ = dict(
        os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com"
    )
    return subprocess.run(["git", *args], cwd=cwd, env=environ, capture_output=True, text=True, check=True, timeout=30).stdout.strip()


def test_apply_audit_lines(platform, tmp_path):
    standin, env = platform
    _git(env, "init", "-q")
    _git(env, "add", ".")
    _git(env, "commit", "-q", "-m", "staging")
    audit = tmp_path / "audit.jsonl"
    environ = dict(_secrets_env(), GITHUB_ACTOR="release-bot")
    done = _run(platform, "apply", "--audit", str(audit), environ=environ)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    names = {guid.lower(): name for name, guid in partitions_of(env).items()}
    assert (
        sorted(line["organization"] for line in lines)
        == sorted(names[p.lower()] for p in standin.puts())
        == [
            "globex",
            "hooli",
            "host",
            "initech",
            "umbrella-labs",
        ]
    )
    head = _git(env, "rev-parse", "HEAD")
    for line in lines:
        assert set(line) == {
            "time",
            "actor",
            "commit",
            "dirty",
            "environment",
            "partition",
            "organization",
            "keys",
            "secret_keys",
            "result",
            "reason",
        }
        assert (line["actor"], line["commit"], line["dirty"], line["environment"], line["result"]) == (
            "release-bot",
            head,
            False,
            "staging",
            "applied",
        )
        assert line["time"].endswith("Z") and "Email.Smtp.Host" in line["keys"]
    assert {tuple(line["secret_keys"]) for line in lines} == {(), ("Email.Smtp.Password",)}  # one relay takes no login
    text = audit.read_text()
    assert not any(secret in text for secret in (*SECRETS, INITECH_PASSWORD))
    # a second apply writes nothing, so appends nothing; a change made outside git shows as dirty
    assert _run(platform, "apply", "--audit", str(audit), environ=environ).returncode == 0
    assert len(audit.read_text().splitlines()) == 5
    globex = env / "orgs" / "globex.yaml"
    globex.write_text(globex.read_text().replace("Globex Platform Notifications", "Globex Alerts"))
    assert _run(platform, "apply", "--audit", str(audit), environ=environ).returncode == 0
    last = json.loads(audit.read_text().splitlines()[-1])
    assert (last["organization"], last["dirty"], last["keys"]) == ("globex", True, ["Email.Smtp.FromDisplayName"])


@pytest.mark.parametrize("where", ["directory", "missing-folder"])
def test_an_audit_file_that_cannot_be_written_stops_apply_before_any_request(platform, tmp_path, where):
    standin, _ = platform
    path = tmp_path if where == "directory" else tmp_path / "no" / "audit.jsonl"
    done = _run(platform, "apply", "--audit", str(path))
    assert done.returncode == 2 and "--audit" in done.stderr
    assert standin.requests == [] and standin.token_requests == 0


def test_plan_and_apply_write_no_audit_without_the_option(platform, tmp_path):
    _, env = platform
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert _run(platform, "apply").returncode == 0
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.e2e
def test_a_lone_surrogate_from_the_platform_is_shown_escaped_in_every_format(world):
    """JSON may carry "\\ud800", which no UTF-8 output can hold: plan exited 2 with UnicodeEncodeError and
    printed nothing. The value is reported, shown escaped, like any drifted value."""
    standin, env, env_vars, guids = world
    assert cli("apply", str(env), "--cafile", standin.ca_path, env=env_vars).returncode == 0
    standin.store[guids["host"].lower()]["Email.Smtp.Host"] = "smtp\ud800.example.com"
    outputs = {}
    for fmt in ("text", "json", "markdown"):
        run = measured("plan", str(env), "--cafile", standin.ca_path, "--format", fmt, env=env_vars)  # a real stdout, UTF-8
        assert run.code == 1, (fmt, run.err)
        assert "internal error" not in run.err and "ud800" in run.out, (fmt, run.out)
        outputs[fmt] = run.out
    as_json = json.loads(outputs["json"])
    host = next(p for p in as_json["partitions"] if p["partition"] == "host")
    (change,) = [c for c in host["changes"] if c["key"] == "Email.Smtp.Host"]
    assert change["old"] == "smtp\\ud800.example.com"  # the escape, as text


def test_a_proxy_that_echoes_the_request_never_reaches_the_output(platform):
    """A proxy's reason phrase is its own words: one that echoes the request would put our
    Proxy-Authorization (the credentials, base64) into every message. Shown: the code and its standard phrase."""
    import base64
    import socket
    import threading

    from doctor_servers import _listening

    def echo(conn: socket.socket, stop: threading.Event) -> None:
        request = b""
        while b"\r\n\r\n" not in request and len(request) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                return
            request += chunk
        echoed = b" ".join(line for line in request.split(b"\r\n") if line.lower().startswith(b"proxy-authorization"))
        conn.sendall(b"HTTP/1.1 407 " + echoed + b" \x1b[2J\r\nContent-Length: 0\r\n\r\n")

    secret = base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
    with _listening("127.0.0.1", 0, echo) as port:
        for fmt in ("text", "json", "markdown"):
            done = _run(platform, "plan", "--proxy", f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{port}", "--format", fmt)
            said = done.stdout + done.stderr
            assert done.returncode == 2 and "407 Proxy Authentication Required" in said, said
            assert secret not in said and "Basic" not in said and "\x1b" not in said, said


def test_a_refusal_carries_the_platforms_own_words_never_a_secret(platform):
    """The platform's message (`message`, `error`, `title` or `detail`) follows the status; what it echoes of
    the request is no way out for a secret, and its control characters are shown, not obeyed."""
    standin, _ = platform
    together = "Email.Smtp.Host, Email.Smtp.Port and Email.Smtp.FromEmail must be sent together"
    standin.faults.refuse_writes = (409, {"message": together})
    done = _run(platform, "apply")
    assert done.returncode == 1 and f"the platform answered 409: {together}" in done.stdout, done.stdout
    standin.faults.refuse_writes = (400, {"error": {"message": "bad value '{sent}' for Email.Smtp.Password\x1b[2J" + "x" * 400}})
    for fmt in ("text", "json", "markdown"):
        done = _run(platform, "apply", "--format", fmt)  # _run fails the test on any secret in the output
        said = done.stdout + done.stderr
        assert done.returncode == 1 and "bad value" in said and "(secret)" in said.replace("\\", ""), said
        assert "\x1b" not in said and "x" * 300 not in said  # shown escaped, and bounded
    standin.faults.refuse_writes = (403, {"title": "Forbidden", "detail": "scope missing"})
    done = _run(platform, "apply")
    assert "forbidden; the client needs the scope PM.Setting.Write: Forbidden" in done.stdout, done.stdout


def test_the_host_partition_written_as_the_platform_writes_it(tmp_path):
    """`host_partition: ""` is the host partition as UiPath's own release notes write it; it is sent exactly
    so (partitionGlobalId ""), and plans in sync after an apply."""
    import re

    guids = partitions_of(CONFIGS / "staging")
    standin = StandIn(
        ["", *(g for name, g in guids.items() if name != "host")],
        {"notifycfg-staging": Client(CLIENT_SECRET, {"PM.Setting.Read", "PM.Setting.Write"})},
    )
    with Served(standin, tmp_path) as running:
        env = staging_copy(tmp_path, running.url)
        platform_yaml = env / "platform.yaml"
        platform_yaml.write_text(re.sub(r"^host_partition: .*$", 'host_partition: ""', platform_yaml.read_text(), flags=re.M))
        assert cli("validate", str(env)).returncode == 0
        run = lambda *args: cli(*args, str(env), "--cafile", running.ca_path, env=_secrets_env())  # noqa: E731
        assert run("apply").returncode == 0
        assert "" in running.puts() and running.store[""]["Email.Smtp.Host"]  # the host's settings, under ""
        planned = run("plan")
    assert planned.returncode == 0, planned.stdout
