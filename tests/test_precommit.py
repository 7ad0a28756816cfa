"""The pre-commit hook, end to end, through the real `pre-commit` tool."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import CONFIGS, ROOT

# pre-commit builds a virtual environment and installs notifycfg into it: minutes on a cold cache.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def try_repo(repo):
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "notifycfg-validate", "--all-files"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_try_repo_passes_then_catches_a_bad_org(tmp_path):
    repo = tmp_path / "config-repo"
    shutil.copytree(CONFIGS / "prod", repo / "prod")
    (repo / "README.md").write_text("not a config file: the hook must not look at it\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    good = try_repo(repo)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "notifycfg validate" in good.stdout and "Passed" in good.stdout

    (repo / "prod" / "orgs" / "bad.yaml").write_text("email:\n  from:\n    address: not-an-address\n")
    (repo / "prod" / "orgs" / "Typo.yml").write_text("")
    git(repo, "add", "-A")
    bad = try_repo(repo)
    assert bad.returncode == 1
    assert "prod/orgs/bad.yaml:3:14: error R001" in bad.stdout
    assert "prod/orgs/Typo.yml:1:1: error L009" in bad.stdout
