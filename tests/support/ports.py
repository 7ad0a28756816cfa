"""Waiting for a server another process starts: its port accepts a connection, or the wait ends."""

from __future__ import annotations

import socket
import time


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
