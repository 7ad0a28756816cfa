"""Harness throughput vs a bare aiosmtpd sink vs Postfix's C smtp-sink, loaded by smtp-source.

Each server runs in its own process; smtp-source sends N messages over S
concurrent sessions: a new connection per message (as most application
mailers send), and once with connections reused (`-d`). For the harness, messages captured must equal messages sent.
"""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

from common import BENCH
from postfix_tools import tools
from support import free_port, wait_for_port

MESSAGES = 10_000
SESSIONS = (1, 10, 50)


def _start(argv: list[str]) -> tuple[subprocess.Popen, int, str]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().split()
    fields = dict(part.split("=", 1) for part in line[1:])
    return proc, int(fields["smtp"].rsplit(":", 1)[1]), fields.get("http", "off")


def _tls_servers() -> dict:
    def harness():
        proc, port, http = _start(
            [sys.executable, "-m", "notifycfg", "harness", "serve", "--smtp-port", "0", "--http-port", "0", "--tls", "starttls"]
        )
        ca = proc.stderr.readline().strip().split("=", 1)[1]
        return proc, port, http, ca

    def sink():
        proc = subprocess.Popen(
            [sys.executable, str(BENCH / "sink.py"), "--tls"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        fields = dict(part.split("=", 1) for part in proc.stdout.readline().split()[1:])
        return proc, int(fields["smtp"].rsplit(":", 1)[1]), "off", fields["ca"]

    return {"notifycfg harness": harness, "bare aiosmtpd sink": sink}


def run_tls(messages: int, sessions: int = 10, runs: int = 3) -> dict:
    """STARTTLS, verified certificates, connections reused: our own generator (tls_load.py)."""
    import tls_load

    rates: dict[str, list[float]] = {name: [] for name in _tls_servers()}
    captured: list[int] = []
    for _ in range(runs):
        for name, start in _tls_servers().items():
            proc, port, http, ca = start()
            try:
                rates[name].append(tls_load.run("127.0.0.1", port, ca, sessions, messages))
                if http != "off":
                    with urllib.request.urlopen(f"http://{http}/api/stats", timeout=30) as response:
                        captured.append(json.loads(response.read())["total"])
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
    return {
        "sessions": sessions,
        "messages": messages,
        "captured": captured,
        "rates": {n: {"median": statistics.median(v), "min": min(v), "max": max(v)} for n, v in rates.items()},
    }


def _c_sink() -> tuple[subprocess.Popen, int, str]:
    _, sink, env = tools()
    port = free_port()
    proc = subprocess.Popen(
        [str(sink), "-u", "nobody", f"127.0.0.1:{port}", "256"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for_port(port)
    return proc, port, "off"


SERVERS = {
    "notifycfg harness": lambda: _start(
        [sys.executable, "-m", "notifycfg", "harness", "serve", "--smtp-port", "0", "--http-port", "0", "--idle-timeout", "30"]
    ),
    "bare aiosmtpd sink": lambda: _start([sys.executable, str(BENCH / "sink.py")]),
    "postfix smtp-sink (C)": _c_sink,
}


def _load(port: int, sessions: int, messages: int, reuse: bool) -> float:
    source, _, env = tools()
    started = time.perf_counter()
    keep = ["-d"] if reuse else []  # -d: many messages per connection
    subprocess.run(
        [
            str(source),
            *keep,
            "-s",
            str(sessions),
            "-m",
            str(messages),
            "-l",
            "1000",
            "-f",
            "load@example.com",
            "-t",
            "sink@example.com",
            f"127.0.0.1:{port}",
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=600,
    )
    return time.perf_counter() - started


def run(quick: bool = False, runs: int = 3) -> dict:
    messages = 2_000 if quick else MESSAGES
    results: dict = {"messages": messages, "rates": {}, "captured": {}}
    for sessions, reuse in [(s, False) for s in SESSIONS] + [(10, True)]:
        label = f"{sessions}{' reused' if reuse else ''}"
        rates: dict[str, list[float]] = {name: [] for name in SERVERS}
        for _ in range(runs):
            for name, start in SERVERS.items():  # interleaved: drift hits every server alike
                proc, port, http = start()
                try:
                    elapsed = _load(port, sessions, messages, reuse)
                    rates[name].append(messages / elapsed)
                    if http != "off":
                        with urllib.request.urlopen(f"http://{http}/api/stats", timeout=30) as response:
                            results["captured"].setdefault(label, []).append(json.loads(response.read())["total"])
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=30)
        results["rates"][label] = {name: {"median": statistics.median(v), "min": min(v), "max": max(v)} for name, v in rates.items()}
    results["starttls"] = run_tls(messages // 5, runs=runs)
    return results


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv, runs=1 if "--quick" in sys.argv else 3), indent=2))
