"""Captured messages as received: the envelope and raw bytes, capacity, and waiting. Nothing is parsed
here (views.py does that), and so nothing is ever parsed under the store's lock.

Memory policy (documented in README): at most `max_messages` messages and
`max_bytes` of raw data. When full, `on_full="reject"` (default) refuses the
next message with `452 4.3.1` (the sender sees a temporary failure, nothing
is lost silently); `on_full="evict"` drops the oldest messages and counts
them in `stats()["evicted"]`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from smtp_harness.config import DEFAULT_MAX_BYTES, DEFAULT_MAX_MESSAGES

OnFull = Literal["reject", "evict"]


class StoreFull(Exception):
    """The store is full and its policy is to refuse."""


@dataclass(eq=False)
class Captured:
    """A message as received: the envelope (`mail_from`, `rcpt_to`), the `raw` bytes, whether the
    session used TLS (`tls`, `tls_version`), who authenticated (`auth_user`, None when anonymous),
    the client (`peer`) and the arrival time."""

    id: str
    mail_from: str
    rcpt_to: tuple[str, ...]
    raw: bytes = field(repr=False)
    tls: bool
    tls_version: str | None
    auth_user: str | None
    peer: str
    received_at: float

    @property
    def footprint(self) -> int:
        return footprint(self.raw, self.mail_from, self.rcpt_to)


def footprint(raw: bytes, mail_from: str, rcpt_to: tuple[str, ...] | list[str]) -> int:
    """What a message holds in memory, envelope included: what the store's byte budget counts."""
    return len(raw) + len(mail_from) + sum(len(r) for r in rcpt_to)


def run_on(loop: asyncio.AbstractEventLoop, callback: Callable[[], object]) -> None:
    """Run `callback` on `loop`: at once when called there (a message stored by the SMTP side on the
    same loop needs no wake-up through the self-pipe), else thread-safely on its next turn."""
    try:
        here = asyncio.get_running_loop() is loop
    except RuntimeError:
        here = False
    if here:
        callback()
    else:
        loop.call_soon_threadsafe(callback)


M = TypeVar("M", bound=Captured)
R = TypeVar("R")


class MessageStore(Generic[M]):
    """Thread-safe: the server adds on its event loop, tests read from anywhere. The lock guards the
    messages, counts and reservations only: callers read or match what they got outside it."""

    def __init__(self, max_messages: int = DEFAULT_MAX_MESSAGES, max_bytes: int = DEFAULT_MAX_BYTES, on_full: OnFull = "reject") -> None:
        if on_full not in ("reject", "evict"):
            raise ValueError("on_full must be 'reject' or 'evict'")
        self.max_messages, self.max_bytes, self.on_full = max_messages, max_bytes, on_full
        self._messages: dict[str, M] = {}
        self._bytes = 0
        self._next = 1
        self._pending = 0  # reserved, not yet added (being persisted)
        self._pending_bytes = 0
        self._generation = 0  # bumped by every add: a waiter knows whether it missed one
        self.evicted = 0
        self.rejected = 0
        self._changed = threading.Condition()
        self._listeners: list[Callable[[M], None]] = []

    def reserve(self, size: int) -> str:
        """An id for a message of `size` bytes about to be stored; StoreFull to refuse it."""
        with self._changed:
            if self._full(size):
                if self.on_full == "reject" or size > self.max_bytes:
                    self.rejected += 1
                    raise StoreFull
                while self._messages and self._full(size):
                    oldest = next(iter(self._messages))
                    self._bytes -= self._messages.pop(oldest).footprint
                    self.evicted += 1
            ident = str(self._next)
            self._next += 1
            self._pending += 1
            self._pending_bytes += size
            return ident

    def _full(self, size: int) -> bool:
        count = len(self._messages) + self._pending + 1
        return count > self.max_messages or self._bytes + self._pending_bytes + size > self.max_bytes

    def release(self, size: int) -> None:
        """Give back a reservation whose message was not stored."""
        with self._changed:
            self._pending -= 1
            self._pending_bytes -= size

    def add(self, message: M) -> None:
        with self._changed:
            self._pending -= 1
            self._pending_bytes -= message.footprint
            self._messages[message.id] = message
            self._bytes += message.footprint
            self._generation += 1
            self._changed.notify_all()
        for listener in list(self._listeners):
            listener(message)

    def messages(self) -> list[M]:
        """Every message, in arrival order: a copy of the list, taken under the lock."""
        with self._changed:
            return list(self._messages.values())

    def delete(self, ident: str) -> bool:
        with self._changed:
            message = self._messages.pop(ident, None)
            if message is not None:
                self._bytes -= message.footprint
            return message is not None

    def mailboxes(self) -> dict[str, dict[str, int]]:
        """Message counts by recipient, AUTH user and sender (envelope only): the inbox's sidebar."""
        out: dict[str, dict[str, int]] = {"rcpt": {}, "auth_user": {}, "mail_from": {}}
        for m in self.messages():
            for rcpt in dict.fromkeys(r.lower() for r in m.rcpt_to):
                out["rcpt"][rcpt] = out["rcpt"].get(rcpt, 0) + 1
            if m.auth_user is not None:
                out["auth_user"][m.auth_user] = out["auth_user"].get(m.auth_user, 0) + 1
            sender = m.mail_from.lower()
            out["mail_from"][sender] = out["mail_from"].get(sender, 0) + 1
        return {kind: dict(sorted(counts.items())) for kind, counts in out.items()}

    def subscribe(self, listener: Callable[[M], None]) -> Callable[[], None]:
        """Call `listener` with every message stored from now on (on the storing thread); returns the unsubscriber."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @property
    def subscribers(self) -> int:
        """Listeners subscribed now (a waiting HTTP list is one): how a test sees a waiter freed."""
        return len(self._listeners)

    def get(self, ident: str) -> M | None:
        with self._changed:
            return self._messages.get(ident)

    def clear(self) -> int:
        with self._changed:
            count = len(self._messages)
            self._messages.clear()
            self._bytes = 0
            return count

    def stats(self) -> dict[str, int]:
        with self._changed:
            return {
                "total": len(self._messages),
                "bytes": self._bytes,
                "evicted": self.evicted,
                "rejected": self.rejected,
                "max_messages": self.max_messages,
                "max_bytes": self.max_bytes,
            }

    def wait_until(self, ready: Callable[[list[M]], R | None], timeout: float) -> R | None:
        """Call `ready` with the messages, outside the lock, until it returns something (returned) or
        `timeout` passes (None). A message stored while `ready` runs is never missed."""
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                current, generation = list(self._messages.values()), self._generation
            found = ready(current)
            if found is not None:
                return found
            with self._changed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                if self._generation == generation:
                    self._changed.wait(left)
