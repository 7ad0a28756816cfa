"""The CI recipes in docs/ci/ cannot rot: every notifycfg command in them runs, as the recipe writes it
(through bash), against a copy of the shipped configs, with the platform stand-in where a command
needs a platform, and each report it names is checked."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from conftest import CONFIGS, ROOT
from platform_standin import Client, Served, StandIn
from support.platform import CLIENT_SECRET, HOST_PASSWORD, INITECH_PASSWORD, partitions_of

RECIPES = ROOT / "docs" / "ci"


def _github_commands(doc: dict) -> list[str]:
    return [step["run"] for job in doc["jobs"].values() for step in job["steps"] if "run" in step]


def _gitlab_commands(doc: dict) -> list[str]:
    jobs = [job for name, job in doc.items() if isinstance(job, dict) and "script" in job and name != "default"]
    return [line for job in jobs for line in job["script"]]


def notifycfg_commands(name: str) -> list[str]:
    doc = yaml.safe_load((RECIPES / name).read_text())
    lines = _github_commands(doc) if name.startswith("github") else _gitlab_commands(doc)
    return [line.strip() for line in lines if line.strip().startswith("notifycfg ")]


@pytest.fixture
def repository(tmp_path):
    """A config repository: a copy of configs/ whose staging platform is the stand-in, trusted
    through SSL_CERT_FILE as a public CA would be; the recipes' secrets in the environment."""
    guids = partitions_of(CONFIGS / "staging")
    standin = StandIn(list(guids.values()), {"notifycfg-staging": Client(CLIENT_SECRET, {"PM.Setting.Read", "PM.Setting.Write"})})
    with Served(standin, tmp_path) as running:
        repo = tmp_path / "repo"
        shutil.copytree(CONFIGS, repo / "configs")
        staging = repo / "configs" / "staging"
        platform = staging / "platform.yaml"
        platform.write_text(re.sub(r"^url: .*$", f"url: {running.url}", platform.read_text(), flags=re.M))
        secret = tmp_path / "initech-password"
        secret.write_text(INITECH_PASSWORD + "\n")
        initech = staging / "orgs" / "initech.yaml"
        initech.write_text(initech.read_text().replace("/run/secrets/initech-smtp-password-staging", str(secret)))
        environ = dict(
            os.environ,
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # the installed notifycfg
            SSL_CERT_FILE=running.ca_path,
            STAGING_PLATFORM_CLIENT_SECRET=CLIENT_SECRET,
            STAGING_SMTP_PASSWORD=HOST_PASSWORD,
            GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
            GITHUB_ACTOR="octocat",
        )
        yield running, repo, environ


def _flows_passed(junit: Path) -> bool:
    suites = list(ET.parse(junit).getroot().iter("testsuite"))
    return bool(suites) and all(int(s.get("tests", 0)) > 0 and s.get("failures") == "0" for s in suites)


def _run(line: str, repo: Path, environ: dict[str, str]) -> None:
    done = subprocess.run(["bash", "-c", line], cwd=repo, env=environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (line, done.stdout, done.stderr)


@pytest.mark.e2e
def test_github_actions_recipe(repository):
    standin, repo, environ = repository
    commands = notifycfg_commands("github-actions.yml")
    assert [c.split()[1] for c in commands] == ["validate", "check", "plan", "apply"]
    for line in commands:
        _run(line, repo, environ)
    sarif = json.loads((repo / "notifycfg.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []
    assert _flows_passed(repo / "flows.xml")
    assert (repo / "flows.html").read_text().lower().startswith("<!doctype html>")
    summary = Path(environ["GITHUB_STEP_SUMMARY"]).read_text()
    assert "**check: ✅ ok**" in summary and "**plan: 📝 changes pending**" in summary and "**apply: ✅ ok**" in summary
    audit = [json.loads(line) for line in (repo / "apply-audit.jsonl").read_text().splitlines()]
    assert len(audit) == len(standin.puts()) > 0 and {a["actor"] for a in audit} == {"octocat"}


@pytest.mark.e2e
def test_gitlab_ci_recipe(repository):
    standin, repo, environ = repository
    commands = notifycfg_commands("gitlab-ci.yml")
    assert [c.split()[1] for c in commands] == ["validate", "check", "plan", "apply"]
    for line in commands:
        _run(line, repo, dict(environ, GITLAB_USER_LOGIN="tanuki"))
    assert json.loads((repo / "gl-code-quality-report.json").read_text()) == []
    assert _flows_passed(repo / "flows.xml")
    assert (repo / "plan.md").read_text().startswith("**plan: 📝 changes pending**")
    audit = (repo / "apply-audit.jsonl").read_text().splitlines()
    assert len(audit) == len(standin.puts()) > 0
