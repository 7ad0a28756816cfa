"""Loopback ports for the tests and the bench: one free for a server another process starts, one that
refuses every connection, and waiting for a started server to accept."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator


def free_port() -> int:
    """A port the OS just gave and took back: for a server that binds it itself (a small race, named here once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A port held bound and never listened on, for as long as the block runs: connections are refused, and no one
    else can take it meanwhile."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


def wait_for_port(port: int, host: str = "127.0.0.1", seconds: float = 5.0) -> bool:
    """Whether `host:port` accepts a connection within `seconds` (polled every 50 ms)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False
