"""A notifycfg command as a real process, killed at a bound (a failure), with its peak RSS: what the
reliability and hostile-platform tests hold commands to."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BOUND_S = 30  # a hang ends here, as a failure: far above the second or so these take

# A process whose only child is the command: its children's peak RSS is the command's.
_MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=float(sys.argv[1]))
print(json.dumps({"code": done.returncode, "out": done.stdout, "err": done.stderr,
                  "peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    peak_kib: int


def measured(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, bound: float = BOUND_S) -> Run:
    """The command as a real process, killed at `bound` seconds (a failure), with its peak RSS."""
    command = [sys.executable, "-c", _MEASURE, str(bound), sys.executable, "-m", "notifycfg", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=bound + 5, env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr  # the launcher itself; the command's code is inside
    return Run(**json.loads(done.stdout))
