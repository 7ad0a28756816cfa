"""What git says about a directory, asked with a bounded wait (None when git cannot say), and who is acting."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def git(*args: str, cwd: Path | None = None) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def actor() -> str:
    """Who did this, for every audit line (promotions.jsonl, apply --audit): the CI's user ($GITHUB_ACTOR,
    $GITLAB_USER_LOGIN), else git's configured user (`name <email>`, or whichever is set), else the OS user."""
    for variable in ("GITHUB_ACTOR", "GITLAB_USER_LOGIN"):
        if os.environ.get(variable):
            return os.environ[variable]
    name, mail = git("config", "user.name") or "", git("config", "user.email") or ""
    if name or mail:
        return f"{name} <{mail}>" if name and mail else name or mail
    return os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown"
