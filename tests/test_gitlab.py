"""`validate --format gitlab`: GitLab Code Quality JSON, stable fingerprints across runs, unique within one."""

from __future__ import annotations

import json

import yaml
from conftest import cli, write_env

from notifycfg.config.problems import Problem
from notifycfg.config.validate import ValidationResult
from notifycfg.report import gitlab


def _bad_env(root):
    org = {"email": {"from": {"address": "alerts@example.com", "display_name": "<ceo@example.com>"}}}  # a warning
    broken = {"email": {"smtp": {"host": "smtp.example.com", "port": "five"}}}  # an error
    return write_env(
        root / "env",
        {"orgs/acme.yaml": yaml.safe_dump(org), "orgs/globex.yaml": yaml.safe_dump(broken), "orgs/initech.yaml": yaml.safe_dump(broken)},
    )


def test_code_quality_report(tmp_path):
    _bad_env(tmp_path)
    first = cli("validate", "env", "--format", "gitlab", cwd=tmp_path)
    second = cli("validate", "env", "--format", "gitlab", cwd=tmp_path)
    assert first.returncode == 1 and first.stdout == second.stdout
    issues = json.loads(first.stdout)
    assert len(issues) >= 3
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)  # initech's problem is globex's, in another file
    for issue in issues:
        assert issue["type"] == "issue" and issue["description"].startswith(issue["check_name"] + " ")
        assert not issue["location"]["path"].startswith(("/", "..")) and issue["location"]["path"].startswith("env/orgs/")
        assert isinstance(issue["location"]["lines"]["begin"], int) and issue["location"]["lines"]["begin"] >= 1
    severities = {i["location"]["path"]: i["severity"] for i in issues}
    assert severities["env/orgs/acme.yaml"] == "minor" and severities["env/orgs/globex.yaml"] == "major"


def test_fingerprints_follow_the_problem_not_its_line(tmp_path):
    _bad_env(tmp_path)
    before = json.loads(cli("validate", "env", "--format", "gitlab", cwd=tmp_path).stdout)
    globex = tmp_path / "env" / "orgs" / "globex.yaml"
    globex.write_text("# a comment moves every line down\n\n" + globex.read_text())
    after = json.loads(cli("validate", "env", "--format", "gitlab", cwd=tmp_path).stdout)
    assert {i["fingerprint"] for i in before} == {i["fingerprint"] for i in after}
    moved = [i for i in after if i["location"]["path"] == "env/orgs/globex.yaml"]
    assert moved and all(i["location"]["lines"]["begin"] > 2 for i in moved)


def test_identical_problems_in_one_file_get_distinct_fingerprints():
    same = Problem("env/orgs/acme.yaml", 3, 5, "email.from", "R014", "warning", "the display name looks like an address")
    issues = json.loads(gitlab.validation(ValidationResult(("env/orgs/acme.yaml",), (same, same))))
    assert len({i["fingerprint"] for i in issues}) == 2


def test_gitlab_and_sarif_agree_on_what_is_under_the_working_directory(tmp_path):
    """`..cfg/` is a folder under the directory, not a way out of it: both formats name it relative."""
    write_env(tmp_path / "..cfg" / "env", {"orgs/acme.yaml": yaml.safe_dump({"email": {"smtp": {"port": "five"}}})})
    outside = write_env(tmp_path / "elsewhere", {"orgs/acme.yaml": yaml.safe_dump({"email": {"smtp": {"port": "five"}}})})
    work = tmp_path / "work"
    work.mkdir()
    for target, expected in ((str(tmp_path / "..cfg" / "env"), "..cfg/env/orgs/acme.yaml"), (str(outside), None)):
        cwd = tmp_path if expected else work
        gl = json.loads(cli("validate", target, "--format", "gitlab", cwd=cwd).stdout)
        sarif = json.loads(cli("validate", target, "--format", "sarif", cwd=cwd).stdout)
        (location,) = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
        (path,) = {i["location"]["path"] for i in gl}
        if expected:
            assert path == location == expected
        else:  # outside: gitlab shows the path as given, sarif an absolute file URI
            assert path.startswith(str(outside)) and location.startswith("file://")
