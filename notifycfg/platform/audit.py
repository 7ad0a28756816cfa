"""`apply --audit FILE`: one JSON line per partition written, each a single O_APPEND write.

The file is opened before the first request, so a log that cannot be written stops
apply before anything changes; lines are appended as each partition's outcome is
known, so a run cut short still leaves a line for every write it made.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from notifycfg.datapath import JsonObject
from notifycfg.gitinfo import actor, git
from notifycfg.platform.bridge import Outcome
from notifycfg.platform.mapping import PASSWORD


class AuditRefused(Exception):
    """The audit file cannot be written (a usage error: exit 2, before any request)."""


@dataclass(frozen=True)
class Provenance:
    actor: str
    commit: str | None  # the environment's repository HEAD; None outside a git work tree
    dirty: bool | None  # uncommitted changes under the environment; None outside a git work tree

    @classmethod
    def of(cls, env_root: Path) -> Provenance:
        commit = git("rev-parse", "HEAD", cwd=env_root)
        status = git("status", "--porcelain", "--", ".", cwd=env_root) if commit else None
        return cls(actor(), commit, None if status is None else bool(status))


class AuditLog:
    """An open, append-only audit file: `with AuditLog.open(path, env, root) as log: ... log.record(outcome)`."""

    def __init__(self, fd: int, environment: str, provenance: Provenance) -> None:
        self._fd, self._environment, self._provenance = fd, environment, provenance

    @classmethod
    def open(cls, path: str, environment: str, env_root: Path) -> AuditLog:
        try:  # O_NONBLOCK: a FIFO without a reader is refused, not waited on
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise AuditRefused(f"--audit {path}: cannot open it for appending: {exc.strerror}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise AuditRefused(f"--audit {path}: not a regular file")
        return cls(fd, environment, Provenance.of(env_root))

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)

    def line(self, outcome: Outcome) -> JsonObject:
        plan = outcome.plan
        # what the apply changed (every PUT carries all of the partition's keys: the platform wants them together);
        # the password's key is named when it was written, its value never is
        keys = sorted({c.key for c in plan.changes} | ({PASSWORD} if plan.password_reason else set()))
        if plan.drift:  # a reset: the rows it deleted
            keys = sorted(r.key for r in plan.reset_rows if r.id is not None)
        return {
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor": self._provenance.actor,
            "commit": self._provenance.commit,
            "dirty": self._provenance.dirty,
            "environment": self._environment,
            "partition": plan.partition.guid,
            "organization": plan.partition.name,
            "keys": keys,
            "secret_keys": [k for k in keys if k == PASSWORD],
            "result": outcome.status,
            "reason": outcome.reason,
        }

    def record(self, outcome: Outcome) -> None:
        data = (json.dumps(self.line(outcome), sort_keys=True, ensure_ascii=False) + "\n").encode()
        written = os.write(self._fd, data)  # one write: concurrent appenders never interleave within a line
        if written != len(data):
            raise OSError(f"audit line cut short ({written} of {len(data)} bytes)")
