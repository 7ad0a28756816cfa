"""`notifycfg validate` as users run it: exit codes, formats, no tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET

import click
import pytest
from conftest import CONFIGS, cli, cli_process

BAD_ORG = 'email:\n  from:\n    display_name: "a\\nb"\n    adress: x@example.com\n'


def test_shipped_configs_pass_silently_from_any_directory(tmp_path):
    done = cli("validate", *(str(CONFIGS / e) for e in ("dev", "staging", "prod")), cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_verbose_summary(tmp_path):
    done = cli("validate", "-v", str(CONFIGS / "prod"), cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("ok: 16 file(s), 0 error(s)")


def test_text_format_lines(env):
    root = env({"orgs/o.yaml": BAD_ORG})
    done = cli("validate", str(root))
    lines = done.stdout.splitlines()
    assert done.returncode == 1
    assert (
        lines[0]
        == f"{root}/orgs/o.yaml:3:19: error R002 `email.from.display_name` contains a line break or control character: header injection"
    )
    assert lines[1].startswith(f"{root}/orgs/o.yaml:4:5: error S001 `adress`: unknown key, did you mean `address`?")


def test_json_format_shape(env):
    root = env({"orgs/o.yaml": BAD_ORG})
    done = cli("validate", "--format", "json", str(root))
    body = json.loads(done.stdout)
    assert done.returncode == 1 and body["ok"] is False and body["files"] == 2
    assert set(body["problems"][0]) == {"file", "line", "column", "path", "rule", "severity", "message"}
    assert body["problems"][1]["path"] == "email.from.adress"


def test_json_ok(tmp_path):
    done = cli("validate", "--format", "json", str(CONFIGS / "prod"))
    assert json.loads(done.stdout) == {"ok": True, "files": 16, "problems": []}


def test_github_annotations_escape(env):
    root = env({"orgs/o.yaml": "email:\n  from:\n    display_name: 'a, b: 100%'\n    x: 1\n"})
    done = cli("validate", "--format", "github", str(root))
    assert (
        done.stdout
        == f"::error file={root}/orgs/o.yaml,line=4,col=5,title=S001 unknown-key::`x`: unknown key, expected one of: address, display_name\n"
    )


def test_junit_is_valid_xml(env):
    root = env({"orgs/o.yaml": BAD_ORG, "orgs/fine.yaml": ""})
    done = cli("validate", "--format", "junit", str(root))
    suite = ET.fromstring(done.stdout).find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "1"
    failing = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failing] == [f"{root}/orgs/o.yaml"]
    assert {f.get("type") for f in failing[0].iter("failure")} == {"R002", "S001"}


def test_warnings_fail_only_with_strict(env):
    root = env({"orgs/o.yaml": "email:\n  smtp: {host: relay.example.com, port: 25, secure: false}\n"})
    assert cli("validate", str(root)).returncode == 0
    done = cli("validate", "--strict", str(root))
    assert done.returncode == 1 and "warning R012" in done.stdout


def test_missing_path_is_usage_error(tmp_path):
    done = cli("validate", str(tmp_path / "nope"))
    assert done.returncode == 2 and "no such file or directory" in done.stderr and "Traceback" not in done.stderr


def test_no_arguments_is_usage_error():
    done = cli("validate")
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_bad_format_choice_is_usage_error():
    assert cli("validate", "--format", "xml", str(CONFIGS / "prod")).returncode == 2


def test_single_org_file_uses_its_environment_host(tmp_path):
    shutil.copytree(CONFIGS / "prod", tmp_path / "prod")
    org = tmp_path / "prod" / "orgs" / "new.yaml"
    org.write_text("notifications:\n  product_updates: {enabled: true}\n")
    done = cli("validate", "orgs/new.yaml", cwd=tmp_path / "prod")
    assert done.returncode == 1
    assert done.stdout.startswith("orgs/new.yaml:2:30: error R010 `product_updates` is enabled but has no recipients")


def test_unknown_file_kind(tmp_path):
    stray = tmp_path / "settings.yaml"
    stray.write_text("a: 1\n")
    done = cli("validate", str(stray))
    assert done.returncode == 1 and "L013" in done.stdout


def test_help_explains():
    done = cli("validate", "--help")
    assert done.returncode == 0 and "--strict" in done.stdout and "pre-commit" in done.stdout


def test_internal_errors_never_show_a_traceback(monkeypatch, capsys):
    """The entry point's last guard: an exception nothing else caught is one line and exit 2."""
    from notifycfg.cli import app

    @click.command()
    def boom() -> None:
        raise RuntimeError("a bug")

    monkeypatch.delenv("NOTIFYCFG_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exited:
        app.run(lambda standalone_mode: boom.main([], standalone_mode=standalone_mode))
    assert exited.value.code == 2
    assert capsys.readouterr().err == "notifycfg: internal error (RuntimeError); rerun with NOTIFYCFG_DEBUG=1 for details\n"


@pytest.mark.e2e
def test_the_installed_entry_point_guards_against_internal_errors(tmp_path):
    """Through the real console entry: a validate that raises gives one line and exit 2, no traceback."""
    plugin = tmp_path / "sitecustomize.py"
    plugin.write_text(
        "import notifycfg.config.validate as v\ndef _raise(paths):\n    raise RuntimeError('injected fault')\nv.validate = _raise\n"
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path), NOTIFYCFG_DEBUG="")
    done = cli_process("validate", str(CONFIGS / "prod"), env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr == "notifycfg: internal error (RuntimeError); rerun with NOTIFYCFG_DEBUG=1 for details\n"
