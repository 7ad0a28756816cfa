"""A STARTTLS load generator (Postfix's smtp-source speaks no TLS): sessions spread over
processes, each session one verified STARTTLS handshake then many messages.

python tls_load.py HOST PORT CAFILE SESSIONS MESSAGES -> prints messages per second.
"""

from __future__ import annotations

import smtplib
import ssl
import sys
import threading
import time
from multiprocessing import Pool

BODY = b"Subject: load\r\n\r\n" + (b"x" * 76 + b"\r\n") * 12


def _session(args: tuple[str, int, str, int]) -> int:
    host, port, cafile, count = args
    context = ssl.create_default_context(cafile=cafile)
    sent = 0
    with smtplib.SMTP(host, port, timeout=60) as smtp:
        smtp.starttls(context=context)
        for _ in range(count):
            smtp.sendmail("load@example.com", ["sink@example.com"], BODY)
            sent += 1
    return sent


def _process(args: tuple[str, int, str, int, int]) -> int:
    host, port, cafile, sessions, per_session = args
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(_session((host, port, cafile, per_session)))) for _ in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(results)


def run(host: str, port: int, cafile: str, sessions: int, messages: int, processes: int = 2) -> float:
    per_session = messages // sessions
    split = [sessions // processes + (1 if i < sessions % processes else 0) for i in range(processes)]
    with Pool(processes) as pool:
        started = time.perf_counter()
        sent = sum(pool.map(_process, [(host, port, cafile, n, per_session) for n in split if n]))
        elapsed = time.perf_counter() - started
    return sent / elapsed


if __name__ == "__main__":
    host, port, cafile, sessions, messages = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    print(f"{run(host, port, cafile, sessions, messages):.1f}")
