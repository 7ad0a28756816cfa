"""The inbox at 10,000 captured messages, and the live stream's cost to SMTP throughput.

- first paint in headless Chromium (Debian's chromium + chromium-driver): the
  browser's first-contentful-paint, and the time until the first page of rows is
  shown, from the start of navigation;
- GET /api/messages: p50, p95 and max of 100 requests, for the page's own request
  (newest first, 50 a page) and for the API's default (1,000 messages), over
  realistic mail: Subject, From, To, Date, multipart text and HTML, about 2 KB;
- one summary() pass over 1,000 such messages, as the list shows them: ours
  (headers parsed once, then cached) against what the first read cost before (the
  whole message parsed with email.policy.default), 20 passes each, p50/p95/max;
- harness throughput (Postfix smtp-source -s 10, 4,000 messages, a new connection
  per message) with one live-stream client connected, against none, 3 rounds in
  alternating order.

    python bench/bench_inbox.py [--quick]
"""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import bench_harness as bh
from common import ROOT
from postfix_tools import tools
from support.browser import chrome

LOADED, ROUND = 10_000, 4_000


def _serve() -> tuple[subprocess.Popen, int, str]:
    return bh._start([sys.executable, "-m", "smtp_harness", "serve", "--smtp-port", "0", "--http-port", "0", "--max-messages", "60000"])


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)


def _load(port: int, messages: int, reuse: bool) -> float:
    return bh._load(port, 10, messages, reuse)


def realistic(i: int) -> bytes:
    """A notification as the platform sends it: about 2 KB, multipart text and HTML."""
    from datetime import UTC, datetime, timedelta
    from email.message import EmailMessage
    from email.utils import format_datetime

    message = EmailMessage()
    message["Subject"] = f"[Globex] Job 'Nightly invoice run #{i}' faulted on robot BOT-{i % 97:02d}"
    message["From"] = "Globex Platform Notifications <alerts@globex.example>"
    message["To"] = f"ops-{i % 40}@globex.example"
    message["Date"] = format_datetime(datetime(2026, 11, 30, tzinfo=UTC) + timedelta(seconds=i))
    message["Message-ID"] = f"<job-{i}@platform.example>"
    lines = [f"Process InvoiceRun, step {n}: posting batch {i}-{n} to the ledger, 250 records." for n in range(9)]
    message.set_content("The job faulted.\n\n" + "\n".join(lines) + "\n\nOpen the job: https://platform.example/jobs/" + str(i))
    rows = "".join(f"<tr><td>{n}</td><td>{line}</td></tr>\n" for n, line in enumerate(lines))
    message.add_alternative(f"<html><body><h1>Job faulted</h1><table>{rows}</table></body></html>", subtype="html")
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))  # SMTP lines end in CRLF


def _load_realistic(port: int, count: int, sessions: int = 8) -> None:
    import smtplib
    from concurrent.futures import ThreadPoolExecutor

    def send(share: range) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            for i in share:
                smtp.sendmail("alerts@globex.example", [f"ops-{i % 40}@globex.example"], realistic(i))

    with ThreadPoolExecutor(sessions) as pool:
        list(pool.map(send, (range(s, count, sessions) for s in range(sessions))))


def summary_passes(passes: int = 20, count: int = 1_000) -> dict[str, dict[str, float]]:
    """One summary() pass over `count` messages, timed: first read (parsing included) and later reads."""
    from email import policy
    from email.parser import BytesParser

    from smtp_harness.views import Message

    raws = [realistic(i) for i in range(count)]

    def fresh() -> list[Message]:
        return [
            Message(str(i), "a@example.com", ("b@example.com",), raw, False, None, None, "127.0.0.1:1", 0.0) for i, raw in enumerate(raws)
        ]

    def previous(raw: bytes) -> str | None:  # what the first read cost before: the whole message parsed
        value = BytesParser(policy=policy.default).parsebytes(raw).get("Subject")
        return None if value is None else str(value)

    before = "the whole message parsed (the previous first read)"
    out: dict[str, list[float]] = {"ours, first read": [], "ours, later reads": [], before: []}
    for _ in range(passes):
        messages = fresh()
        for name in ("ours, first read", "ours, later reads"):
            started = time.perf_counter()
            for m in messages:
                m.summary()
            out[name].append(time.perf_counter() - started)
        started = time.perf_counter()
        for raw in raws:
            previous(raw)
        out[before].append(time.perf_counter() - started)
    return {name: _distribution(times) for name, times in out.items()}


def _distribution(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def _get(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as answer:
        answer.read()
    return time.perf_counter() - started


def api_latency(http: str) -> dict[str, dict[str, float]]:
    out = {}
    for name, path in (("page (newest, 50)", "/api/messages?order=newest&limit=50"), ("default (1,000)", "/api/messages")):
        _get(f"http://{http}{path}")  # warm: messages are parsed on first read
        out[name] = _distribution([_get(f"http://{http}{path}") for _ in range(100)])
    return out


def first_paint(http: str, runs: int) -> dict[str, float]:
    paints, rows = [], []
    for driver in chrome():
        for _ in range(runs):
            driver.get("about:blank")
            driver.get(f"http://{http}/")
            driver.implicitly_wait(10)
            driver.find_element("css selector", "#messages tbody tr")
            timing = driver.execute_script(
                "const p = performance.getEntriesByName('first-contentful-paint')[0];return [p ? p.startTime : null, performance.now()];"
            )
            paints.append(timing[0])
            rows.append(timing[1])
    return {"first_contentful_paint_ms": statistics.median(p for p in paints if p is not None), "rows_shown_ms": statistics.median(rows)}


def _listen(http: str, stop: threading.Event, seen: list[int]) -> None:
    with urllib.request.urlopen(f"http://{http}/api/events", timeout=60) as stream:
        for line in stream:
            if line.startswith(b"event: message"):
                seen[0] += 1
            if stop.is_set():
                return


def throughput_with_stream(rounds: int) -> dict[str, object]:
    ratios: list[float] = []
    announced: list[int] = []
    for i in range(rounds):
        rates = {}
        for mode in ("none", "stream") if i % 2 == 0 else ("stream", "none"):
            proc, port, http = _serve()
            stop, seen = threading.Event(), [0]
            listener = None
            if mode == "stream":
                listener = threading.Thread(target=_listen, args=(http, stop, seen), daemon=True)
                listener.start()
                time.sleep(0.3)
            rates[mode] = ROUND / _load(port, ROUND, reuse=False)
            if listener is not None:
                deadline = time.monotonic() + 10
                while seen[0] < ROUND and time.monotonic() < deadline:
                    time.sleep(0.05)
                stop.set()
                announced.append(seen[0])
            _stop(proc)
        ratios.append(rates["stream"] / rates["none"])
    # A viewer that falls 1,000 events behind misses some (the page reloads its list on the next one): never the server's wait.
    return {"ratios": ratios, "median": statistics.median(ratios), "announced": announced, "sent": ROUND}


def run(quick: bool = False) -> dict:
    tools()
    proc, port, http = _serve()
    try:
        _load_realistic(port, LOADED)
        with urllib.request.urlopen(f"http://{http}/api/stats", timeout=30) as answer:
            assert json.loads(answer.read())["total"] == LOADED
        latency = api_latency(http)
        paint = first_paint(http, 3 if quick else 5)
    finally:
        _stop(proc)
    stream = throughput_with_stream(1 if quick else 3)
    return {"messages": LOADED, "api": latency, "paint": paint, "stream": stream, "summary": summary_passes(5 if quick else 20)}


if __name__ == "__main__":
    result = run("--quick" in sys.argv)
    print(json.dumps(result, indent=2))
    Path(ROOT / "bench" / ".work").mkdir(exist_ok=True)
