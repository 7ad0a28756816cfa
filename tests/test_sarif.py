"""`validate --format sarif`: valid SARIF 2.1.0 (the official schema), every rule listed, exact locations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from conftest import CONFIGS, cli

from notifycfg.config.rules import RULES

SARIF_SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
BAD_ORG = "email:\n  smtp:\n    host: x\n    prot: 25\n    password: hunter2\n  from:\n    display_name: no\n"


def sarif(*args: str, cwd: Path | None = None) -> tuple[int, dict]:
    done = cli("validate", "--format", "sarif", *args, cwd=cwd)
    body = json.loads(done.stdout)
    jsonschema.Draft7Validator(SARIF_SCHEMA).validate(body)
    return done.returncode, body


def test_clean_environment_is_valid_sarif_with_every_rule():
    code, body = sarif(str(CONFIGS / "prod"))
    assert code == 0 and body["version"] == "2.1.0"
    (run,) = body["runs"]
    assert run["results"] == []
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    for rule in rules:
        source = RULES[rule["id"]]
        assert rule["name"] == source.name and rule["shortDescription"]["text"] == source.summary
        assert rule["defaultConfiguration"]["level"] == source.severity and rule["help"]["text"]


def test_problems_have_rule_level_message_and_relative_location(tmp_path):
    shutil.copytree(CONFIGS / "prod", tmp_path / "prod")
    (tmp_path / "prod" / "platform.yaml").unlink()  # bad.yaml would have no partition: not this test's subject
    (tmp_path / "prod" / "orgs" / "bad.yaml").write_text(BAD_ORG)
    code, body = sarif("prod", cwd=tmp_path)
    assert code == 1
    (run,) = body["runs"]
    rules = run["tool"]["driver"]["rules"]
    found = {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]}
    assert {("S001", 4), ("R003", 5), ("S003", 7)} <= found
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == RULES[result["ruleId"]].severity and result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": "prod/orgs/bad.yaml", "uriBaseId": "%SRCROOT%"}
        assert location["region"]["startColumn"] >= 1


def test_files_outside_the_working_directory_get_absolute_uris(tmp_path):
    env = tmp_path / "env with space"
    shutil.copytree(CONFIGS / "prod", env)
    (env / "platform.yaml").unlink()
    (env / "orgs" / "bad.yaml").write_text(BAD_ORG)
    work = tmp_path / "elsewhere"
    work.mkdir()
    _, body = sarif(str(env), cwd=work)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in body["runs"][0]["results"]}
    assert uris == {(env / "orgs" / "bad.yaml").as_uri()}


@pytest.mark.parametrize("fmt", ["text", "json", "github", "junit", "sarif"])
def test_every_format_is_listed_in_help(fmt):
    assert fmt in cli("validate", "--help").stdout
