"""Helpers the tests and the benchmarks share: one of each, imported as `support` (tests/ is on
the path under pytest; tox's bench environment sets PYTHONPATH to tests/). Nothing here is a test."""

from support.loop import LoopThread
from support.ports import closed_port, free_port, wait_for_port
from support.snapshot import snapshot

__all__ = ["LoopThread", "closed_port", "free_port", "snapshot", "wait_for_port"]
