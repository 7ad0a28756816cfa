"""Captured messages: envelope, raw bytes, parsed parts; mailboxes; waiting.

Memory policy (documented in README): at most `max_messages` messages and
`max_bytes` of raw data. When full, `on_full="reject"` (default) refuses the
next message with `452 4.3.1` (the sender sees a temporary failure, nothing
is lost silently); `on_full="evict"` drops the oldest messages and counts
them in `stats()["evicted"]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, cast

from smtp_harness import mime
from smtp_harness.config import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_MESSAGES, DEFAULT_MAX_PARTS, FILTERS
from smtp_harness.jsontypes import JsonObject


class StoreFull(Exception):
    """The store is full and its policy is to refuse."""


@dataclass(eq=False)
class Message:
    """A captured message: the envelope (`mail_from`, `rcpt_to`), the `raw` bytes
    as received, whether the session used TLS (`tls`, `tls_version`), who
    authenticated (`auth_user`, None when anonymous), the client (`peer`) and
    the arrival time. `subject`, `headers`, `text` and `html` are parsed from
    `raw` on first read; `summary()` and `detail()` are what the HTTP API shows.

    A message with more than `max_parts` MIME parts or nested deeper than
    `max_depth` is never handed to the parser: it is shown raw, with a `note`.
    Parsed values are cached in plain attributes, without a lock: two threads
    may both compute one, with the same result, and none ever waits for another.
    """

    id: str
    mail_from: str
    rcpt_to: tuple[str, ...]
    raw: bytes = field(repr=False)
    tls: bool
    tls_version: str | None
    auth_user: str | None
    peer: str
    received_at: float
    max_parts: int = DEFAULT_MAX_PARTS
    max_depth: int = DEFAULT_MAX_DEPTH
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    @property
    def footprint(self) -> int:
        return footprint(self.raw, self.mail_from, self.rcpt_to)

    def _cached(self, name: str, compute: Callable[[], Any]) -> Any:
        if name not in self._cache:
            self._cache[name] = compute()
        return self._cache[name]

    @property
    def note(self) -> str | None:
        """Why the message is shown raw and not parsed, or None."""
        over = self._cached("shape", lambda: mime.shape(self.raw, self.max_parts, self.max_depth)).over
        return None if over is None else f"not parsed: {over} (the harness's limit); shown raw"

    @property
    def parsed(self) -> EmailMessage | None:
        """The whole message parsed, or None when it is over a limit. Parsing happens on first
        read, never while the sender waits for 250."""
        if self.note is not None:
            return None
        return cast(EmailMessage | None, self._cached("parsed", lambda: _parse(self.raw)))

    @property
    def _block(self) -> bytes:
        """The top-level header block's bytes, found once."""
        return cast(bytes, self._cached("block", lambda: _header_block(self.raw)))

    @property
    def head(self) -> EmailMessage:
        """The top-level headers alone: cheap whatever the body holds."""
        return cast(EmailMessage, self._cached("head", lambda: _parse(self._block, headersonly=True)))

    def header(self, name: str) -> str | None:
        try:
            value = self.head.get(name)
        except Exception:  # a malformed header is still shown raw
            return None
        return None if value is None else str(value)

    @property
    def subject(self) -> str | None:
        return cast(str | None, self._cached("subject", self._subject))

    def _subject(self) -> str | None:
        # Most subjects are plain ASCII: read as written (unfolded), about five times faster than
        # email.policy.default's header objects, which decode anything else (encoded words, UTF-8).
        known, text = _plain_header(self._block, b"subject")
        return text if known else self.header("Subject")

    @property
    def headers(self) -> list[list[str]]:
        return [[name, str(value)] for name, value in self.head.raw_items()]

    def _body(self, subtype: str) -> str | None:
        try:
            parsed = self.parsed
            part = None if parsed is None else parsed.get_body(preferencelist=(subtype,))
            return None if part is None else part.get_content()
        except Exception:
            return None

    @property
    def text(self) -> str | None:
        return self._body("plain")

    @property
    def html(self) -> str | None:
        return self._body("html")

    @property
    def searchable(self) -> str:
        """Subject, addresses and text (the raw message, when it is not parsed), lower-cased: what the inbox's search looks in."""

        def compute() -> str:
            body = self.text if self.note is None else self.raw.decode("utf-8", "replace")
            parts = [self.subject or "", self.mail_from, *self.rcpt_to, self.header("From") or "", body or ""]
            return "\n".join(parts).lower()

        return cast(str, self._cached("searchable", compute))

    def attachments(self) -> list[tuple[str, str, bytes]]:
        """(file name, content type, bytes) of every attachment; names are never trusted as paths."""
        out = []
        try:
            parsed = self.parsed
            parts = [] if parsed is None else list(parsed.iter_attachments())
        except Exception:  # a malformed MIME tree lists no attachment rather than failing the view
            return []
        for index, part in enumerate(parts, 1):
            try:
                payload = part.get_payload(decode=True) or b""
            except Exception:
                payload = b""
            name = part.get_filename() or f"attachment-{index}"
            out.append((str(name), part.get_content_type(), payload if isinstance(payload, bytes) else b""))
        return out

    def summary(self) -> JsonObject:
        """What the list shows, computed on first read (every field is fixed at capture); a copy each time."""
        return dict(self._cached("summary", self._summary))

    def _summary(self) -> JsonObject:
        return {
            "id": self.id,
            "mail_from": self.mail_from,
            "rcpt_to": list(self.rcpt_to),
            "subject": self.subject,
            "tls": self.tls,
            "tls_version": self.tls_version,
            "auth_user": self.auth_user,
            "peer": self.peer,
            "received_at": datetime.fromtimestamp(self.received_at, UTC).isoformat(),
            "size": len(self.raw),
        }

    def detail(self) -> JsonObject:
        out = {
            **self.summary(),
            "headers": self.headers,
            "text": self.text,
            "html": self.html,
            "raw": self.raw.decode("utf-8", errors="replace"),
        }
        if self.note is not None:
            out["note"] = self.note
        return out


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


def footprint(raw: bytes, mail_from: str, rcpt_to: tuple[str, ...] | list[str]) -> int:
    """What a message holds in memory, envelope included: what the store's byte budget counts."""
    return len(raw) + len(mail_from) + sum(len(r) for r in rcpt_to)


def _parse(raw: bytes, headersonly: bool = False) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw, headersonly=headersonly)


_FOLD = re.compile(rb"\r?\n(?=[ \t])")
_LINE_END = re.compile(rb"\r?\n(?![ \t])")
_PLAIN = re.compile(rb"[\x21-\x7e]+(?: [\x21-\x7e]+)*")


def _plain_header(block: bytes, name: bytes) -> tuple[bool, str | None]:
    """(True, text) when policy.default would show the one `name:` header as written, unfolded (or
    (True, None): there is none); (False, None) for anything else: encoded words, other bytes, tabs,
    runs of spaces, repeats. Then policy.default decides."""
    found = list(re.finditer(rb"^" + name + rb"[ \t]*:", block, re.IGNORECASE | re.MULTILINE))
    if not found:
        return True, None
    if len(found) > 1:
        return False, None
    end = _LINE_END.search(block, found[0].end())
    # As the email package reads it: the first line's leading blanks dropped, continuation lines kept whole.
    first, *continued = _FOLD.split(block[found[0].end() : end.start() if end else len(block)])
    value = first.lstrip(b" \t") + b"".join(continued)
    if b"=?" in value or not _PLAIN.fullmatch(value):
        return False, None
    return True, value.decode("ascii")


def _header_block(raw: bytes) -> bytes:
    """The bytes up to the first empty line: the top-level headers."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return raw[: min(ends)] + b"\r\n" if ends else raw


def _matches(
    message: Message, rcpt: str | None, mail_from: str | None, auth_user: str | None, subject: str | None, q: str | None = None
) -> bool:
    if rcpt is not None and rcpt.lower() not in (r.lower() for r in message.rcpt_to):
        return False
    if mail_from is not None and message.mail_from.lower() != mail_from.lower():
        return False
    if auth_user is not None and message.auth_user != auth_user:
        return False
    if q is not None and q.lower() not in message.searchable:
        return False
    return subject is None or subject in (message.subject or "")


class MessageStore:
    """Thread-safe: the server adds on its event loop, tests read from anywhere."""

    def __init__(self, max_messages: int = DEFAULT_MAX_MESSAGES, max_bytes: int = DEFAULT_MAX_BYTES, on_full: str = "reject") -> None:
        if on_full not in ("reject", "evict"):
            raise ValueError("on_full must be 'reject' or 'evict'")
        self.max_messages, self.max_bytes, self.on_full = max_messages, max_bytes, on_full
        self._messages: dict[str, Message] = {}
        self._bytes = 0
        self._next = 1
        self._pending = 0  # reserved, not yet added (being persisted)
        self._pending_bytes = 0
        self.evicted = 0
        self.rejected = 0
        self._changed = threading.Condition()
        self._listeners: list[Callable[[Message], None]] = []

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

    def add(self, message: Message) -> None:
        with self._changed:
            self._pending -= 1
            self._pending_bytes -= message.footprint
            self._messages[message.id] = message
            self._bytes += message.footprint
            self._changed.notify_all()
        for listener in list(self._listeners):
            listener(message)

    def messages(
        self,
        rcpt: str | None = None,
        mail_from: str | None = None,
        auth_user: str | None = None,
        subject: str | None = None,
        q: str | None = None,
    ) -> list[Message]:
        """Messages in arrival order; filters select a mailbox (recipient, sender or AUTH user), q searches
        subject, addresses and text."""
        with self._changed:
            current = list(self._messages.values())
        if not any((rcpt, mail_from, auth_user, subject, q)):
            return current
        return [m for m in current if _matches(m, rcpt, mail_from, auth_user, subject, q)]

    def delete(self, ident: str) -> bool:
        with self._changed:
            message = self._messages.pop(ident, None)
            if message is not None:
                self._bytes -= message.footprint
            return message is not None

    def mailboxes(self) -> dict[str, dict[str, int]]:
        """Message counts by recipient, AUTH user and sender: the inbox's sidebar."""
        with self._changed:
            current = list(self._messages.values())
        out: dict[str, dict[str, int]] = {"rcpt": {}, "auth_user": {}, "mail_from": {}}
        for m in current:
            for rcpt in dict.fromkeys(r.lower() for r in m.rcpt_to):
                out["rcpt"][rcpt] = out["rcpt"].get(rcpt, 0) + 1
            if m.auth_user is not None:
                out["auth_user"][m.auth_user] = out["auth_user"].get(m.auth_user, 0) + 1
            sender = m.mail_from.lower()
            out["mail_from"][sender] = out["mail_from"].get(sender, 0) + 1
        return {kind: dict(sorted(counts.items())) for kind, counts in out.items()}

    def subscribe(self, listener: Callable[[Message], None]) -> Callable[[], None]:
        """Call `listener` with every message stored from now on (on the storing thread); returns the unsubscriber."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def get(self, ident: str) -> Message | None:
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

    def wait_for(self, count: int = 1, timeout: float = 5.0, **filters: str | None) -> list[Message]:
        """Block until at least `count` messages match; TimeoutError says what was seen."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [m for m in self._messages.values() if _matches(m, **_filters(filters))]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(found)} of {count} message(s) matching {filters} after {timeout}s")
                self._changed.wait(left)

    async def wait_for_async(self, count: int = 1, timeout: float = 5.0, **filters: str | None) -> list[Message]:
        """As wait_for, on the caller's loop: woken by each message stored (from any thread), never polling."""
        loop = asyncio.get_running_loop()
        stored = asyncio.Event()

        unsubscribe = self.subscribe(lambda message: run_on(loop, stored.set))
        deadline = loop.time() + timeout
        try:
            while True:
                stored.clear()  # before looking: a message stored from now on wakes the wait below
                found = self.messages(**_filters(filters))
                left = deadline - loop.time()
                if len(found) >= count:
                    return found
                if left <= 0:
                    raise TimeoutError(f"{len(found)} of {count} message(s) matching {filters} after {timeout}s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stored.wait(), left)
        finally:
            unsubscribe()


def _filters(filters: dict[str, Any]) -> dict[str, Any]:
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise TypeError(f"unknown filters: {', '.join(sorted(unknown))}")
    return {k: filters.get(k) for k in FILTERS}
