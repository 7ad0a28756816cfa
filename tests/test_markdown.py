"""`--format markdown`, rendered by GitHub's own renderer (cmarkgfm, GFM extensions on): tables render as
tables, and hostile text from configs, the platform, SMTP servers and captured mail stays literal text."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
import yaml
from conftest import CONFIGS, cli, write_env
from doctor_servers import _listening
from support.markdown import Rendered
from support.platform import SECRETS

from notifycfg.report.markdown import LIMIT

HOSTILE = "<img src=x onerror=alert(1)> a|b `tick` [x](javascript:alert(1)) www.evil.example https://evil.example/p bob@evil.example"
# What must survive as text; the renderer may split it around the empty comment after `@`.
LITERALS = ("<img src=x onerror=alert(1)>", "a|b", "`tick`", "[x](javascript:alert(1))", "www.evil.example", "https://evil.example/p")
# doctor shows at most 80 characters of a banner (79 and an ellipsis): the same attacks, shorter
BANNER = "<img src=x onerror=alert(1)> a|b `tick` [x](javascript:alert(1)) www.evil.example"
ALLOWED = {"p", "strong", "table", "thead", "tbody", "tr", "th", "td", "details", "summary", "ul", "li"}


def rendered(markdown: str, hostile: bool = True, literals: tuple[str, ...] = (*LITERALS, "bob@evil.example")) -> Rendered:
    page = Rendered(markdown)
    assert set(page.tags) <= ALLOWED, set(page.tags) - ALLOWED  # no a, img, script, code...
    assert page.attrs == []  # no href, src, on*
    assert "table" in page.tags
    for literal in literals if hostile else ():
        assert literal in page.plain, literal
    return page


def _env_pair(tmp_path: Path) -> tuple[Path, Path]:
    org = {"email": {"from": {"address": "alerts@example.com", "display_name": HOSTILE}}}
    a = write_env(tmp_path / "a", {"orgs/acme.yaml": yaml.safe_dump(org), "orgs/globex.yaml": ""})
    b = write_env(tmp_path / "b", {"orgs/acme.yaml": "", "orgs/initech.yaml": ""})
    return a, b


def test_diff_and_promote_dry_run(tmp_path):
    a, b = _env_pair(tmp_path)
    done = cli("diff", str(a), str(b), "--format", "markdown")
    assert done.returncode == 1
    assert done.stdout.startswith("**diff ") and "1 added, 1 removed, 1 changed" in done.stdout
    page = rendered(done.stdout)
    assert page.tags.count("details") == 1
    done = cli("promote", str(a), str(b), "--dry-run", "--format", "markdown")
    assert done.returncode == 0, done.stderr
    assert "dry run: nothing written" in done.stdout.splitlines()[0]
    rendered(done.stdout)
    assert (b / "orgs" / "acme.yaml").read_text() == ""  # a dry run


def _platform(world, *args: str):
    standin, env, env_vars, _ = world
    done = cli(*args, str(env), "--cafile", standin.ca_path, "--format", "markdown", env=env_vars)
    for secret in SECRETS:
        assert secret not in done.stdout + done.stderr
    return done


def test_plan_and_apply(world):
    standin, env, env_vars, guids = world
    assert _platform(world, "apply").returncode == 0
    standin.store[guids["host"].lower()]["Email.Smtp.FromDisplayName"] = HOSTILE  # the platform's answer, hostile
    done = _platform(world, "plan")
    assert done.returncode == 1
    assert done.stdout.startswith("**plan: 📝 changes pending**: 1 partition(s) to change")
    page = rendered(done.stdout)
    assert page.tags.count("table") == 2 and page.tags.count("details") == 1
    done = _platform(world, "apply")
    assert done.returncode == 0
    assert done.stdout.startswith("**apply: ✅ ok**: 1 applied, 5 unchanged, 0 untouched, 0 failed")
    rendered(done.stdout, hostile=False)


@contextlib.contextmanager
def _hostile_smtp():
    def talk(conn: socket.socket, stop: threading.Event) -> None:
        with contextlib.suppress(OSError):
            conn.sendall(f"220 {BANNER}\r\n".encode())
            reader = conn.makefile("rb")
            for line in reader:
                verb = line[:4].upper()
                conn.sendall(b"221 bye\r\n" if verb == b"QUIT" else f"250 {HOSTILE}\r\n".encode() if verb == b"EHLO" else b"502 no\r\n")
                if verb == b"QUIT":
                    break

    with _listening("127.0.0.1", 0, talk) as port:
        yield port


def test_doctor_shows_a_hostile_banner_as_text(tmp_path):
    with _hostile_smtp() as port:
        host = {"email": {"smtp": {"host": "127.0.0.1", "port": port}, "from": {"address": "noreply@example.com"}}}
        env = write_env(tmp_path / "env", {"host.yaml": yaml.safe_dump(host), "orgs/acme.yaml": ""})
        done = cli("doctor", str(env), "--only", "endpoints", "--timeout", "2", "--format", "markdown")
    assert done.stdout.startswith("**doctor: ")
    page = rendered(done.stdout, literals=LITERALS[:-2])
    assert "www.evil.exa" in page.plain
    assert page.tags.count("details") == 1


def _flows_env(tmp_path: Path) -> Path:
    env = tmp_path / "prod"
    shutil.copytree(CONFIGS / "prod", env)
    for flow in (env / "flows").iterdir():
        if flow.name != "password-reset.yaml":
            flow.unlink()
    acme = {"email": {"from": {"address": "noreply@example.com", "display_name": HOSTILE}}}
    (env / "orgs" / "acme.yaml").write_text(yaml.safe_dump(acme))
    return env


@pytest.mark.parametrize("command", [("flows", "run"), ("check",)])
def test_flows_and_check_show_captured_mail_as_text(tmp_path, command):
    env = _flows_env(tmp_path)
    done = cli(*command, str(env), "--format", "markdown", env=dict(os.environ, PROD_SMTP_PASSWORD="x"))
    assert done.returncode == 1  # the flow expects another display name: its failure quotes the captured one
    assert done.stdout.startswith(f"**{command[0]}: ❌ failed**")
    page = rendered(done.stdout)
    assert page.tags.count("details") == 1


def test_output_over_the_limit_is_cut_with_a_last_line_that_says_so(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    orgs: dict[str, str | bytes] = {
        f"orgs/org-{i:04d}.yaml": yaml.safe_dump({"email": {"from": {"display_name": f"Org {i} " + "x" * 80}}}) for i in range(600)
    }
    write_env(a, orgs)
    write_env(b, dict.fromkeys(orgs, ""))
    whole = cli("diff", str(a), str(b), "--format", "json")
    done = cli("diff", str(a), str(b), "--format", "markdown")
    assert done.returncode == 1
    assert len(done.stdout) <= LIMIT < len(whole.stdout)
    last = done.stdout.rstrip("\n").splitlines()[-1]
    assert last.startswith("**Cut here:**") and "more characters" in last and "--format text" in last
    page = Rendered(done.stdout)
    assert page.tags.count("table") >= 2 and set(page.tags) <= ALLOWED | {"code"}  # the notice names the option as code
    assert done.stdout.count("<details>") == done.stdout.count("</details>")


@pytest.mark.parametrize("name", ["fe80::1%<img alt >", "<img src=x onerror=alert(1)>", "a</summary><img src=x>", "x\u202ey\nz"])
def test_a_summary_is_html_escaped_not_markdown_escaped(name):
    """<summary> sits in a raw HTML block, where backslash escapes do nothing: what reaches it from outside
    is HTML-escaped, control and format characters shown as escapes."""
    from notifycfg.report.markdown import details, document, table

    page = Rendered(document(details(f"{name} (error), used by acme", table(["check"], [["dns"]]))))
    assert set(page.tags) <= ALLOWED and page.attrs == [], (page.tags, page.attrs)
    assert page.tags.count("summary") == 1
    assert name.replace("\u202e", "\\u202e").replace("\n", "\\n") in page.plain


def test_a_scoped_ipv6_host_is_refused_where_it_is_written(tmp_path):
    env = write_env(tmp_path / "env", {"orgs/acme.yaml": "email:\n  smtp:\n    host: fe80::1%eth0\n    port: 587\n"})
    done = cli("validate", str(env))
    assert done.returncode == 1
    assert f"{env / 'orgs' / 'acme.yaml'}:3:11: error S006" in done.stdout and "scoped IPv6" in done.stdout, done.stdout
    doctor = cli("doctor", str(env), "--only", "endpoints", "--timeout", "1")  # it crashed with AddressValueError
    assert doctor.returncode == 2 and "internal error" not in doctor.stderr and "S006" in doctor.stdout + doctor.stderr
