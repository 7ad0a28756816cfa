"""plan against the stand-in platform: 1,000 organizations, 20 ms added to every request.

Whole `notifycfg plan` processes with the default concurrency (8) and with
--concurrency 1, against the tests' stand-in (tests/platform_standin.py) over TLS
on loopback; then the same plan with 429 (Retry-After: 1) answered to 10% of the
requests, which must still report every partition in sync.

    python bench/bench_platform.py [--quick]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from common import WORK, timed
from platform_standin import Client, Served, StandIn

ORGS, LATENCY, SECRET = 1_000, 0.020, "bench-client-secret"


def make_env(url: str) -> tuple[Path, list[str]]:
    env = WORK / "platform-1000"
    if env.exists():
        import shutil

        shutil.rmtree(env)
    (env / "orgs").mkdir(parents=True)
    (env / "host.yaml").write_text(
        "email:\n  smtp: {host: smtp.example.com, port: 587, username: mailer, password: {env: BENCH_SMTP_PASSWORD}}\n"
        "  from: {address: noreply@example.com}\n"
    )
    guids = [str(uuid.uuid5(uuid.NAMESPACE_DNS, f"org-{i}.bench")) for i in range(ORGS)]
    lines = [
        f"url: {url}",
        "client_id: bench",
        "client_secret: {env: BENCH_PLATFORM_SECRET}",
        f"host_partition: {uuid.uuid5(uuid.NAMESPACE_DNS, 'host.bench')}",
        "orgs:",
    ]
    for i, guid in enumerate(guids):
        (env / "orgs" / f"org-{i:04d}.yaml").write_text(f"email:\n  from: {{address: alerts@org-{i}.example.com}}\n")
        lines.append(f"  org-{i:04d}: {guid}")
    (env / "platform.yaml").write_text("\n".join(lines) + "\n")
    return env, [str(uuid.uuid5(uuid.NAMESPACE_DNS, "host.bench")), *guids]


def run(quick: bool = False) -> dict:
    runs = 1 if quick else 3
    os.environ.update(BENCH_PLATFORM_SECRET=SECRET, BENCH_SMTP_PASSWORD="bench-smtp")
    with tempfile.TemporaryDirectory() as scratch:
        standin = StandIn([], {"bench": Client(SECRET, {"PM.Setting.Read", "PM.Setting.Write"})})
        with Served(standin, Path(scratch)) as running:
            env, guids = make_env(running.url)
            standin.store.update({g.lower(): {} for g in guids})
            me = [sys.executable, "-m", "notifycfg", "plan", str(env), "--cafile", running.ca_path]
            subprocess.run(
                [sys.executable, "-m", "notifycfg", "apply", str(env), "--cafile", running.ca_path], check=True, stdout=subprocess.DEVNULL
            )
            running.faults.latency = LATENCY
            concurrent = timed("plan, 1,000 orgs, 20 ms latency, concurrency 8", me, runs, {0})
            sequential = timed("plan, 1,000 orgs, 20 ms latency, concurrency 1", [*me, "--concurrency", "1"], runs, {0})
            running.faults.rate_limited, running.faults.retry_after = 0.10, 1
            before = running.answered_429
            limited = timed("plan, 1,000 orgs, 20 ms latency, 10% 429", me, 1, {0})  # exit 0: still all in sync
            answered = running.answered_429 - before
    return {
        "orgs": ORGS,
        "latency_ms": LATENCY * 1000,
        "concurrent": {"times": concurrent.times, "median": concurrent.median},
        "sequential": {"times": sequential.times, "median": sequential.median},
        "ratio": concurrent.median / sequential.median,
        "rate_limited": {"times": limited.times, "answered_429": answered},
    }


if __name__ == "__main__":
    result = run("--quick" in sys.argv)
    print(
        f"concurrency 8: {result['concurrent']['median']:.2f} s, concurrency 1: {result['sequential']['median']:.2f} s, "
        f"ratio {result['ratio']:.3f}; with 10% 429 (Retry-After 1): {result['rate_limited']['times'][0]:.2f} s, "
        f"{result['rate_limited']['answered_429']} answered 429, still in sync"
    )
