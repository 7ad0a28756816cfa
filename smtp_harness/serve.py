"""Run a harness until SIGINT/SIGTERM, announcing readiness on stdout."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import TextIO

from smtp_harness.config import HarnessConfig
from smtp_harness.harness import AsyncHarness, _hostport


class ServeError(Exception):
    """The harness could not start (port in use, unreadable certificate...)."""


async def _serve(config: HarnessConfig, out: TextIO, err: TextIO) -> None:
    harness = AsyncHarness(config)
    try:
        await harness.start()
    except OSError as exc:
        await harness.stop()
        raise ServeError(f"cannot listen on {config.host}: {exc.strerror or exc}") from None
    except Exception as exc:  # ssl.SSLError and friends from the user's cert files
        await harness.stop()
        raise ServeError(f"cannot start: {exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    http = _hostport(harness.http_host, harness.http_port) if config.http else "off"
    print(f"ready smtp={_hostport(harness.host, harness.port)} http={http}", file=out, flush=True)
    if harness.ca_path:
        print(f"ca={harness.ca_path}", file=err, flush=True)
    try:
        await stop.wait()
    finally:
        # Every acknowledged message is already stored (and, with a maildir,
        # on disk): closing the listeners is all that is left.
        await harness.stop()
        stats = harness.store.stats()
        print(
            f"stopped: {stats['total']} message(s) captured, {stats['rejected']} refused, {stats['evicted']} evicted", file=err, flush=True
        )


class _OneLine(logging.Formatter):
    """Log lines without tracebacks: a misbehaving client is news, not a crash."""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return super().format(record)


def _logging(err: TextIO) -> None:
    handler = logging.StreamHandler(err)
    handler.setFormatter(_OneLine("smtp_harness: %(levelname)s %(message)s"))
    for name in ("mail.log", "smtp_harness"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False


def _runner(config: HarnessConfig) -> asyncio.Runner:
    """uvloop's event loop where it is installed (the `fast` extra): the same asyncio API, and the harness
    accepts mail faster than a bare aiosmtpd sink on the default loop (bench/RESULTS.md); else asyncio's.
    Implicit TLS keeps asyncio's loop: its handshake starts with loop.start_tls on a connection already
    open (smtp.ImplicitTLS), and uvloop hands the client's first bytes (its ClientHello) to the protocol
    before start_tls takes over, so the handshake never completes (uvloop 0.23, seen here)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner() if config.tls == "implicit" else asyncio.Runner(loop_factory=uvloop.new_event_loop)


def run(config: HarnessConfig, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
    config.check()
    _logging(err)
    with _runner(config) as runner:
        runner.run(_serve(config, out, err))
