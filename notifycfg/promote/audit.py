"""The audit line each promotion appends to the target's promotions.jsonl: who, when, what."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from notifycfg.datapath import JsonObject
from notifycfg.gitinfo import actor
from notifycfg.promote.plan import Plan

AUDIT_LOG = "promotions.jsonl"


def record(the_plan: Plan, before: str, after: str | None) -> JsonObject:
    return {
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "actor": actor(),
        "source": the_plan.source,
        "target": the_plan.target,
        "files": {f.name: {"action": f.action, "keys": [c.path for c in f.changes]} for f in the_plan.effective_files},
        "inputs_sha256_before": before,
        "inputs_sha256_after": after,
    }


def append(root: Path, line: JsonObject) -> None:
    with open(root / AUDIT_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n")
