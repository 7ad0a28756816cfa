from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, input: str | None = None):
    """Run the installed command line for real, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "notifycfg", *args],
        cwd=cwd, env=env, input=input, capture_output=True, text=True, timeout=120,
    )
pytest_plugins = ["pytester"]
