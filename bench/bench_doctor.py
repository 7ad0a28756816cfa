"""doctor's concurrency: 50 endpoints, each greeting after 200 ms, probed at once vs one by one.

The servers are plain SMTP on loopback (asyncio, one process): each waits
200 ms before its 220 banner, then answers EHLO and QUIT. The environment has
50 organizations, each with its own server (secure: false, anonymous), so every
probe is dns, tcp, greeting, ehlo, tls (plain, as asked), auth (anonymous).

    python bench/bench_doctor.py [--quick]
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
from collections.abc import Iterator

from common import WORK, timed
from support import LoopThread

ENDPOINTS, DELAY = 50, 0.2


async def _client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(DELAY)
    writer.write(b"220 slow.example ESMTP\r\n")
    while line := await reader.readline():
        verb = line[:4].upper()
        writer.write(b"250-slow.example\r\n250 8BITMIME\r\n" if verb == b"EHLO" else b"221 bye\r\n" if verb == b"QUIT" else b"502 no\r\n")
        await writer.drain()
        if verb == b"QUIT":
            break
    writer.close()


@contextlib.contextmanager
def slow_servers(count: int) -> Iterator[list[int]]:
    async def start() -> list[asyncio.Server]:
        return [await asyncio.start_server(_client, "127.0.0.1", 0) for _ in range(count)]

    with LoopThread() as thread:
        servers = thread.run(start())
        try:
            yield [s.sockets[0].getsockname()[1] for s in servers]
        finally:
            for server in servers:
                server.close()


def make_env(ports: list[int]):
    env = WORK / "doctor-50"
    if env.exists():
        shutil.rmtree(env)
    (env / "orgs").mkdir(parents=True)
    (env / "host.yaml").write_text(
        f"email:\n  smtp: {{host: 127.0.0.1, port: {ports[0]}, secure: false}}\n  from: {{address: noreply@example.com}}\n"
    )
    for index, port in enumerate(ports):
        (env / "orgs" / f"org-{index:02d}.yaml").write_text(
            f"email:\n  smtp: {{host: 127.0.0.1, port: {port}, secure: false, anonymous: true}}\n"
        )
    return env


def run(quick: bool = False) -> dict:
    runs = 3 if quick else 5
    with slow_servers(ENDPOINTS) as ports:
        env = make_env(ports)
        me = [sys.executable, "-m", "notifycfg", "doctor", str(env), "--only", "endpoints", "--timeout", "5"]
        concurrent = timed("doctor, 50 endpoints, concurrent (default)", me, runs, {0})
        sequential = timed("doctor, 50 endpoints, --concurrency 1", [*me, "--concurrency", "1"], runs, {0})
    return {
        "endpoints": ENDPOINTS,
        "delay_s": DELAY,
        "concurrent": {"times": concurrent.times, "median": concurrent.median},
        "sequential": {"times": sequential.times, "median": sequential.median},
        "ratio": concurrent.median / sequential.median,
    }


if __name__ == "__main__":
    result = run("--quick" in sys.argv)
    print(
        f"concurrent median {result['concurrent']['median']:.2f} s, sequential median {result['sequential']['median']:.2f} s, "
        f"ratio {result['ratio']:.3f}"
    )
