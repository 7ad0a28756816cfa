"""Shared timing helpers: whole commands, medians of several runs, peak memory."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"

# Runs the target and prints its peak RSS (KiB): works on any Linux, no GNU time needed.
# The wrapper's own start-up is outside the timed span.
_PEAK = (
    "import resource, subprocess, sys, time;"
    "t = time.perf_counter();"
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode;"
    "t = time.perf_counter() - t;"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc, t)"
)


@dataclass
class Figure:
    name: str
    times: list[float]
    peak_kib: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def cell(self) -> str:
        return f"{self.median * 1000:.1f} ms ({min(self.times) * 1000:.1f}–{max(self.times) * 1000:.1f})"


def timed(name: str, argv: list[str], runs: int, expect_rc: set[int] | None = None) -> Figure:
    """Wall time of a whole command, `runs` times, plus its peak memory."""
    times, peak = [], 0
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", _PEAK, *argv], capture_output=True, text=True)
        kib, rc, elapsed = done.stdout.split()
        times.append(float(elapsed))
        peak = max(peak, int(kib))
        if expect_rc is not None and int(rc) not in expect_rc:
            raise SystemExit(f"{name}: exit {rc} (expected {expect_rc}): {' '.join(argv[:4])} ...")
    return Figure(name, times, peak)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {platform.python_version()}"


def versions(*packages: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in packages:
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            out.append(f"{name} (not installed)")
    return ", ".join(out)


def save_json(name: str, data: object) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / f"{name}.json").write_text(json.dumps(data, indent=2))
