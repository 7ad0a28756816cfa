from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

# Hypothesis profiles, loaded before any test module builds its settings:
# `HYPOTHESIS_PROFILE=long` (tox -e fuzz) runs many more examples.
settings.register_profile("default", max_examples=120, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=5000, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"

HOST = """\
email:
  smtp:
    host: smtp.example.com
    port: 587
    username: mailer
    password: {env: HOST_SMTP_PASSWORD}
  from:
    address: noreply@example.com
    display_name: Example
notifications:
  job_alerts:
    enabled: true
    recipients: [ops@example.com]
"""


def write_env(root: Path, files: dict[str, str | bytes]) -> Path:
    """An environment directory; `host.yaml` defaults to a valid one."""
    files = {"host.yaml": HOST, **files}
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def env(tmp_path: Path):
    def make(files: dict[str, str | bytes] | None = None, name: str = "env") -> Path:
        return write_env(tmp_path / name, files or {})

    return make


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2 mixes by default
    except TypeError:
        return CliRunner()


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, input: str | None = None) -> Done:
    """The command line in this process (click's CliRunner): fast, and an unexpected
    exception fails the test with its traceback instead of hiding behind the guard.

    `env` is the whole environment, as for a subprocess: variables it leaves out are unset.
    """
    from notifycfg.cli import main

    overlay: dict[str, str | None] | None = None
    if env is not None:
        overlay = {k: None for k in os.environ if k not in env}
        overlay.update(env)
    with contextlib.chdir(cwd or Path.cwd()):
        result = _runner().invoke(main, list(args), env=overlay, input=input, catch_exceptions=False)
    done = Done(result.exit_code, result.stdout, result.stderr)
    _record(args, done)
    return done


def _record(args: tuple[str, ...], done: Done) -> None:
    """With NOTIFYCFG_RECORD_CLI=FILE, every cli() call's arguments and output are appended to FILE
    (one JSON line, the test named): two runs compared show what a refactoring changed in any output."""
    target = os.environ.get("NOTIFYCFG_RECORD_CLI")
    if target:
        test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
        line = {"test": test, "args": list(args), "rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
        with open(f"{target}.{os.getpid()}", "a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


def cli_process(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Done:
    """The installed command line as a real process: for what only a process shows
    (the entry point's guard, TMPDIR, signals)."""
    done = subprocess.run([sys.executable, "-m", "notifycfg", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    return Done(done.returncode, done.stdout, done.stderr)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest tests (pre-commit, static checks, real processes) first: with two
    workers they start at once, and the quick ones fill the other worker meanwhile."""
    weight = {"test_precommit.py": 0, "test_static.py": 1}
    items.sort(key=lambda item: weight.get(item.path.name, 2 if item.get_closest_marker("e2e") else 3))


pytest_plugins = ["pytester", "support.platform"]  # the platform world fixture, shared
