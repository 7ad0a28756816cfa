"""The static checks run inside the test suite, so tox runs them beside the slow
end-to-end tests on the second worker instead of after everything else."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CHECKS = {
    "ruff": ["ruff", "check", "."],
    "ruff-format": ["ruff", "format", "--check", "."],
    "mypy": ["mypy"],
    "import-linter": ["lint-imports"],
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_static_check(name):
    command = CHECKS[name]
    assert shutil.which(command[0]), f"{command[0]} is not installed: tox installs it (deps of the py environment)"
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stdout + done.stderr
