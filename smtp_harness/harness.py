"""Lifecycle: start the SMTP server (and the HTTP API) on an event loop, and
return only once they accept connections.

`AsyncHarness` runs on the caller's loop; `Harness` owns a loop in a thread,
for synchronous tests and tools.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from smtp_harness import views
from smtp_harness.config import HarnessConfig
from smtp_harness.counters import Counters
from smtp_harness.faults import Fault, FaultController, FaultSpec
from smtp_harness.store import MessageStore
from smtp_harness.views import Message


class AsyncHarness:
    """`async with AsyncHarness(tls="starttls") as h:` on the running loop."""

    def __init__(self, config: HarnessConfig | None = None, **options: object) -> None:
        self.config = config or HarnessConfig.from_options(options)
        self.config.check()
        self.fault_controller = FaultController(self.config.faults)
        self.store: MessageStore[Message] = MessageStore(self.config.max_messages, self.config.max_bytes, self.config.on_full)
        self.counters = Counters()  # what /metrics and Mailpit's /api/v1/info report
        self.ca_path: Path | None = None
        self.host = self.config.host
        self.port = 0
        self.http_host = self.config.http_host or self.config.host
        self.http_port = 0
        self._servers: list[Any] = []
        self._tls: Any = None
        self._handler: Any = None
        self._http_runner: Any = None

    @property
    def listening(self) -> list[tuple[str, str, int]]:
        """("smtp" or "http", address, port) for every socket listening now, as the OS reports it."""
        out = [("smtp", *sock.getsockname()[:2]) for server in self._servers for sock in server.sockets]
        if self._http_runner is not None:
            out += [("http", *address[:2]) for address in self._http_runner.addresses]
        return out

    @property
    def http_url(self) -> str | None:
        return f"http://{_hostport(self.http_host, self.http_port)}" if self.config.http else None

    async def start(self) -> AsyncHarness:
        from smtp_harness import smtp, tls
        from smtp_harness.maildir import Maildir

        cfg = self.config
        server_tls = None
        if cfg.tls != "off":
            server_tls = tls.from_files(cfg.certfile, cfg.keyfile) if cfg.certfile and cfg.keyfile else tls.throwaway()
            self._tls = server_tls
            self.ca_path = server_tls.ca_path
        handler = smtp.CaptureHandler(
            self.store,
            self.fault_controller,
            cfg.tls == "implicit",
            Maildir(cfg.maildir) if cfg.maildir else None,
            offer_auth=bool(cfg.users),
            max_rcpt=cfg.max_rcpt,
            max_parts=cfg.max_parts,
            max_depth=cfg.max_depth,
            max_encoded_words=cfg.max_encoded_words,
            max_header_decode=cfg.max_header_decode,
            counters=self.counters,
        )
        self._handler = handler
        context = server_tls.context if server_tls else None
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            smtp.smtp_factory(cfg, handler, context),
            cfg.host,
            cfg.port,
            reuse_address=True,
        )
        self._servers.append(server)
        self.port = server.sockets[0].getsockname()[1]
        if cfg.http:
            await self._start_http()
        return self

    async def _start_http(self) -> None:
        from smtp_harness.http_api import start_http
        from smtp_harness.http_state import HttpSettings, HttpState

        cfg = self.config
        settings = HttpSettings(
            bound_host=self.http_host,
            auth=cfg.http_auth,
            allowed_hosts=tuple(cfg.http_allowed_hosts),
            smtp=f"{self.host}:{self.port}",
            tls=cfg.tls,
            limits=cfg.limits(),
        )
        self._http_runner, self.http_port = await start_http(
            HttpState(self.store, self.fault_controller, settings, self.counters), cfg.http_port
        )

    async def stop(self) -> None:
        # Connections first, the listening socket after: on Python 3.11 a connection accepted
        # in the loop turn before Server.close() leaves its socket open for the garbage collector
        # (the transport fails to attach to the closed server). Late arrivals are aborted too.
        if self._handler is not None:
            await self._handler.settle(timeout=0.5)
        for server in self._servers:
            server.close()
        if self._http_runner is not None:
            await self._http_runner.cleanup()
            self._http_runner = None
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        if self._tls is not None:
            self._tls.cleanup()  # the throwaway CA leaves with the server
            self._tls = None

    async def __aenter__(self) -> AsyncHarness:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # The test-facing surface, shared with Harness.
    def messages(self, **filters: str | None) -> list[Message]:
        return views.select(self.store.messages(), views.filters_of(filters))

    async def wait_for(self, count: int = 1, timeout: float = 5.0, **filters: str | None) -> list[Message]:
        return await views.wait_for_async(self.store, count, timeout, filters)

    @property
    def faults(self) -> list[Fault]:
        """The faults in force, in order (change them with add_fault and clear_faults)."""
        return self.fault_controller.active

    def add_fault(self, fault: FaultSpec) -> Fault:
        return self.fault_controller.add(fault)

    def clear_faults(self) -> None:
        self.fault_controller.clear()


async def _cancel_others() -> None:
    """Let closed connections' tasks finish instead of dying pending with the loop."""
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _LoopThread:
    """An event loop running in a daemon thread, for synchronous callers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="smtp-harness", daemon=True)
        self._thread.start()

    def run(self, coro: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=timeout)

    def close(self) -> None:
        if self._thread.is_alive():
            self.run(_cancel_others(), timeout=30)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=30)
        self.loop.close()


class HarnessPool:
    """Several harnesses on one loop thread (one per security profile, say)."""

    def __init__(self) -> None:
        self._loop = _LoopThread()
        self.harnesses: list[AsyncHarness] = []

    def start(self, config: HarnessConfig | None = None, **options: object) -> AsyncHarness:
        harness = AsyncHarness(config, **options)
        self._loop.run(harness.start())
        self.harnesses.append(harness)
        return harness

    def close(self) -> None:
        for harness in self.harnesses:
            self._loop.run(harness.stop(), timeout=30)
        self._loop.close()

    def __enter__(self) -> HarnessPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Harness:
    """A harness on its own loop in a daemon thread: `with Harness(...) as h:`."""

    def __init__(self, config: HarnessConfig | None = None, **options: object) -> None:
        self._inner = AsyncHarness(config, **options)
        self._loop: _LoopThread | None = None

    def start(self) -> Harness:
        self._loop = _LoopThread()
        try:
            self._loop.run(self._inner.start())
        except BaseException:
            self._loop.close()
            raise
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.run(self._inner.stop(), timeout=30)
            self._loop.close()
            self._loop = None

    def __enter__(self) -> Harness:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def config(self) -> HarnessConfig:
        return self._inner.config

    @property
    def store(self) -> MessageStore[Message]:
        return self._inner.store

    host = property(lambda self: self._inner.host)
    port = property(lambda self: self._inner.port)
    http_port = property(lambda self: self._inner.http_port)
    http_url = property(lambda self: self._inner.http_url)
    ca_path = property(lambda self: self._inner.ca_path)
    faults = property(lambda self: self._inner.faults)
    listening = property(lambda self: self._inner.listening)

    def messages(self, **filters: str | None) -> list[Message]:
        return self._inner.messages(**filters)

    def wait_for(self, count: int = 1, timeout: float = 5.0, **filters: str | None) -> list[Message]:
        return views.wait_for(self.store, count, timeout, filters)

    def add_fault(self, fault: FaultSpec) -> Fault:
        return self._inner.add_fault(fault)

    def clear_faults(self) -> None:
        self._inner.clear_faults()

    def clear(self) -> int:
        return self.store.clear()
