"""flows run end to end: 10 and 100 flows (copies of the shipped prod flows), one harness start per run."""

from __future__ import annotations

import shutil
import sys

from common import ROOT, WORK, timed

SIZES = (10, 100)


def make_env(count: int):
    env = WORK / f"flows-{count}"
    if env.exists():
        shutil.rmtree(env)
    shutil.copytree(ROOT / "configs" / "prod", env, ignore=shutil.ignore_patterns("flows"))
    (env / "flows").mkdir()
    shipped = sorted((ROOT / "configs" / "prod" / "flows").glob("*.yaml"))
    for index in range(count):
        source = shipped[index % len(shipped)]
        shutil.copy(source, env / "flows" / f"{source.stem}-{index:03d}.yaml")
    return env


def run(quick: bool = False) -> dict:
    out = {}
    for count in SIZES:
        env = make_env(count)
        figure = timed(f"flows run ({count})", [sys.executable, "-m", "notifycfg", "flows", "run", str(env)], 3 if quick else 5, {0})
        out[count] = {"times": figure.times, "median": figure.median, "peak_kib": figure.peak_kib}
    return out
