"""Work done once per test session, whatever the number of xdist workers: the first worker to ask
computes it under a file lock and leaves it as JSON in the session's shared temporary folder; the
others read it (xdist's documented way to run a session-scoped fixture once; its loadgroup scheduler
no longer groups tests under pytest 9.2)."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from typing import Any

import pytest


def once(tmp_path_factory: pytest.TempPathFactory, name: str, compute: Callable[[], Any]) -> Any:
    base = tmp_path_factory.getbasetemp()
    # under xdist each worker's folder sits in the session's own; without it, basetemp is the session's
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    result, lock = shared / f"{name}.json", shared / f"{name}.lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # released when the file closes
        if not result.exists():
            result.write_text(json.dumps(compute()), encoding="utf-8")
        return json.loads(result.read_text(encoding="utf-8"))
