"""GitLab Code Quality JSON: validation problems in a merge request's widget and diff.

A fingerprint names a problem, not a run: the rule, the file, the key's path in the
document and the message, so the same problem keeps its fingerprint when lines move
and GitLab can tell new problems from old. Identical problems in one file get the
occurrence number mixed in, so fingerprints stay unique within a report.
"""

from __future__ import annotations

import hashlib
import json

from notifycfg.config.problems import Problem
from notifycfg.config.validate import ValidationResult
from notifycfg.report.paths import under_cwd

SEVERITY = {"error": "major", "warning": "minor", "notice": "info"}


def _path(file: str) -> str:
    """Relative to the current directory (the repository root in a CI job) when under it."""
    return under_cwd(file) or file


def _issue(problem: Problem, path: str, fingerprint: str) -> dict[str, object]:
    return {
        "type": "issue",
        "description": f"{problem.rule} {problem.message}",
        "check_name": problem.rule,
        "fingerprint": fingerprint,
        "severity": SEVERITY.get(problem.severity, "info"),
        "location": {"path": path, "lines": {"begin": problem.line}},
    }


def validation(result: ValidationResult, strict: bool = False, verbose: bool = False) -> str:
    seen: dict[str, int] = {}
    issues = []
    for problem in result.problems:
        path = _path(problem.file)
        identity = "\0".join((problem.rule, path, problem.path, problem.message))
        seen[identity] = seen.get(identity, 0) + 1
        if seen[identity] > 1:
            identity += f"\0{seen[identity]}"
        issues.append(_issue(problem, path, hashlib.sha256(identity.encode()).hexdigest()))
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
