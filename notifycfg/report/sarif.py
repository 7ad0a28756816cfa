"""SARIF 2.1.0 for code scanning (GitHub accepts only this version).

Every rule of the catalogue is listed in `tool.driver.rules`, so a result's
`ruleIndex` is stable across runs; locations are relative to the working
directory (`%SRCROOT%`, the repository root in a CI checkout) when they can be.
"""

from __future__ import annotations

import json
import os
from typing import Any

from notifycfg import __version__
from notifycfg.config.problems import Problem
from notifycfg.config.rules import RULES, Rule
from notifycfg.config.validate import ValidationResult
from notifycfg.report.paths import under_cwd

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"


LEVELS = {"error": "error", "warning": "warning", "notice": "note"}  # SARIF 2.1.0's level names (3.27.10)


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "help": {
            "text": f"{rule.summary} See docs/rules.md, rule {rule.id} ({rule.name}).",
            "markdown": f"{rule.summary}\n\nSee `docs/rules.md`, rule **{rule.id}** (`{rule.name}`).",
        },
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
    }


def _location(file: str) -> dict[str, Any]:
    """A relative URI against %SRCROOT% when the file is under the working directory, else an absolute file URI."""
    from urllib.parse import quote  # only for this format: keep it off the plain validate path

    relative = under_cwd(file)
    if relative is not None:
        return {"uri": quote(relative), "uriBaseId": SRCROOT}
    return {"uri": "file://" + quote(os.path.abspath(file).replace(os.sep, "/"))}


def _result(p: Problem, index: dict[str, int]) -> dict[str, Any]:
    return {
        "ruleId": p.rule,
        "ruleIndex": index[p.rule],
        "level": LEVELS[p.severity],
        "message": {"text": p.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _location(p.file),
                    "region": {"startLine": p.line, "startColumn": p.column},
                }
            }
        ],
    }


def validation(result: ValidationResult, strict: bool = False, verbose: bool = False) -> str:
    rules = list(RULES.values())
    index = {rule.id: i for i, rule in enumerate(rules)}
    run = {
        "tool": {
            "driver": {"name": "notifycfg", "version": __version__, "semanticVersion": __version__, "rules": [_rule(r) for r in rules]}
        },
        "columnKind": "unicodeCodePoints",
        "results": [_result(p, index) for p in result.problems],
    }
    return json.dumps({"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}, indent=2, ensure_ascii=False) + "\n"
