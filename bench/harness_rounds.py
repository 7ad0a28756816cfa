"""Harness vs a bare aiosmtpd sink, round by round, as the issue measured it.

`notifycfg harness serve --tls off` and bench/sink.py (aiosmtpd's SMTP with a
handler that answers 250), each loaded by Postfix's `smtp-source -s 10` with
4,000 messages, alternating which goes first; prints each round's ratio of
throughputs. Every message sent must be captured by the harness.

    python bench/harness_rounds.py [ROUNDS]
"""

from __future__ import annotations

import json
import signal
import sys
import urllib.request

import bench_harness as bh
from common import BENCH

MESSAGES, SESSIONS = 4_000, 10


def _harness() -> tuple:
    return bh._start([sys.executable, "-m", "notifycfg", "harness", "serve", "--tls", "off", "--smtp-port", "0", "--http-port", "0"])


def _sink() -> tuple:
    return bh._start([sys.executable, str(BENCH / "sink.py")])


def _round(order: list[str]) -> dict[str, float]:
    rates = {}
    for name in order:
        proc, port, http = (_harness if name == "harness" else _sink)()
        try:
            rates[name] = MESSAGES / bh._load(port, SESSIONS, MESSAGES, reuse=False)
            if name == "harness":
                with urllib.request.urlopen(f"http://{http}/api/stats", timeout=10) as answer:
                    captured = json.loads(answer.read())["total"]
                assert captured == MESSAGES, f"captured {captured} of {MESSAGES}"
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    return rates


def run(rounds: int) -> dict[str, list[float]]:
    """Each round's rates (messages per second) and ratio; every message sent was captured (asserted)."""
    out: dict[str, list[float]] = {"harness": [], "sink": [], "ratio": []}
    for i in range(rounds):
        rates = _round(["harness", "sink"] if i % 2 == 0 else ["sink", "harness"])
        out["harness"].append(rates["harness"])
        out["sink"].append(rates["sink"])
        out["ratio"].append(rates["harness"] / rates["sink"])
        print(
            f"round {i + 1}: harness {rates['harness']:.0f} msg/s, sink {rates['sink']:.0f} msg/s, ratio {out['ratio'][-1]:.2f}", flush=True
        )
    return out


def main(rounds: int) -> None:
    ratios = run(rounds)["ratio"]
    print(f"ratios: {', '.join(f'{r:.2f}' for r in ratios)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
