"""What the harness shows of a captured message: parsed headers and parts, the summary and detail the
HTTP API serves, search and mailbox filters, and waiting for messages that match them.

The store (store.py) keeps raw bytes, capacity and waiting; nothing here runs under its lock. A
message is parsed on first read, never while the sender waits for 250. One with more than
`max_parts` MIME parts or nested deeper than `max_depth` is never handed to the parser: it is shown
raw, with a note. A part the email package cannot read is not a silent blank: it becomes a note on
the message, with the reason. Computed values are cached per message without a lock: two threads may
both compute one, with the same result, and none ever waits for another.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Generic, TypeVar, overload

from smtp_harness import mime
from smtp_harness.config import DEFAULT_MAX_DEPTH, DEFAULT_MAX_ENCODED_WORDS, DEFAULT_MAX_HEADER_DECODE, DEFAULT_MAX_PARTS, FILTERS
from smtp_harness.jsontypes import JsonObject
from smtp_harness.store import Captured, MessageStore, run_on

Owner = TypeVar("Owner")
Value = TypeVar("Value")


class computed(Generic[Owner, Value]):  # noqa: N801 - used as a decorator, like property
    """A value computed on first read and kept on the instance: functools.cached_property without the
    lock Python 3.11 shares across every instance of the class."""

    def __init__(self, compute: Callable[[Owner], Value]) -> None:
        self.compute, self.name = compute, compute.__name__

    @overload
    def __get__(self, instance: None, owner: type[Owner]) -> computed[Owner, Value]: ...
    @overload
    def __get__(self, instance: Owner, owner: type[Owner]) -> Value: ...
    def __get__(self, instance: Owner | None, owner: type[Owner]) -> computed[Owner, Value] | Value:
        if instance is None:
            return self
        kept: dict[str, Value] = instance.__dict__
        if self.name not in kept:
            kept[self.name] = self.compute(instance)
        return kept[self.name]


@dataclass(eq=False)
class Message(Captured):
    """A captured message as the harness shows it. As received: the envelope (`mail_from`, `rcpt_to`),
    the `raw` bytes, whether the session used TLS (`tls`, `tls_version`), who authenticated
    (`auth_user`, None when anonymous), the client (`peer`) and the arrival time (`received_at`).
    Parsed from `raw` on first read: `subject`, `headers`, `text`, `html` and `attachments()`.
    `summary()` and `detail()` are what the HTTP API shows; `notes` say what could not be parsed, and why."""

    max_parts: int = DEFAULT_MAX_PARTS
    max_depth: int = DEFAULT_MAX_DEPTH
    max_encoded_words: int = DEFAULT_MAX_ENCODED_WORDS
    max_header_decode: int = DEFAULT_MAX_HEADER_DECODE
    _notes: list[str] = field(default_factory=list, init=False, repr=False)

    @computed
    def note(self) -> str | None:
        """Why the message is shown raw and not parsed, or None."""
        over = mime.shape(self.raw, self.max_parts, self.max_depth).over
        return None if over is None else f"not parsed: {over} (the harness's limit); shown raw"

    @property
    def notes(self) -> list[str]:
        """What could not be read, each with its reason: the size note first, then each part that failed."""
        return ([self.note] if self.note else []) + list(self._notes)

    def _failed(self, what: str, exc: Exception) -> None:
        text = f"{what} could not be read ({type(exc).__name__}: {exc})"[:300]
        if text not in self._notes:
            self._notes.append(text)

    @computed
    def parsed(self) -> EmailMessage | None:
        """The whole message parsed, or None when it is over a limit."""
        return None if self.note is not None else _parse(self.raw)

    @computed
    def _block(self) -> bytes:
        """The top-level header block's bytes, found once."""
        return _header_block(self.raw)

    @computed
    def head(self) -> EmailMessage:
        """The top-level headers alone: cheap whatever the body holds."""
        return _parse(self._block, headersonly=True)

    def header(self, name: str) -> str | None:
        """The header decoded (encoded words and all), or as it came when it is over the decoding caps."""
        raw = next((str(v) for n, v in self.head.raw_items() if n.lower() == name.lower()), None)
        if raw is None:
            return None
        words = raw.count("=?")  # at least as many as the encoded words it holds: cheap, and never decodes
        if words > self.max_encoded_words or len(raw) > self.max_header_decode:
            note = (
                f"the {name} header is shown as it came, not decoded: {words} encoded word(s) in {len(raw)} characters "
                f"(the harness decodes at most {self.max_encoded_words} words and {self.max_header_decode} bytes)"
            )
            if note not in self._notes:
                self._notes.append(note)
            return raw
        try:
            value = self.head.get(name)
        except Exception as exc:  # the email package raises many kinds on hostile headers: shown raw instead
            self._failed(f"the {name} header", exc)
            return None
        return None if value is None else str(value)

    @computed
    def subject(self) -> str | None:
        # Most subjects are plain ASCII: read as written (unfolded), about five times faster than
        # email.policy.default's header objects, which decode anything else (encoded words, UTF-8).
        known, text = _plain_header(self._block, b"subject")
        return text if known else self.header("Subject")

    @property
    def headers(self) -> list[list[str]]:
        return [[name, str(value)] for name, value in self.head.raw_items()]

    def _body(self, subtype: str) -> str | None:
        try:
            part = None if self.parsed is None else self.parsed.get_body(preferencelist=(subtype,))
            return None if part is None else str(part.get_content())
        except Exception as exc:  # a malformed part: noted, the rest of the message still shown
            self._failed(f"the {subtype} part", exc)
            return None

    @computed
    def text(self) -> str | None:
        return self._body("plain")

    @computed
    def html(self) -> str | None:
        return self._body("html")

    @computed
    def searchable(self) -> str:
        """Subject, addresses and text (the raw message, when it is not parsed), lower-cased: what the inbox's search looks in."""
        body = self.text if self.note is None else self.raw.decode("utf-8", "replace")
        parts = [self.subject or "", self.mail_from, *self.rcpt_to, self.header("From") or "", body or ""]
        return "\n".join(parts).lower()

    def attachments(self) -> list[tuple[str, str, bytes]]:
        """(file name, content type, bytes) of every attachment; names are never trusted as paths."""
        try:
            parts = [] if self.parsed is None else list(self.parsed.iter_attachments())
        except Exception as exc:  # a malformed MIME tree lists no attachment rather than failing the view
            self._failed("the attachment list", exc)
            return []
        out = []
        for index, part in enumerate(parts, 1):
            name = part.get_filename() or f"attachment-{index}"
            try:
                payload = part.get_payload(decode=True) or b""
            except Exception as exc:
                self._failed(f"attachment {index} ({name})", exc)
                payload = b""
            out.append((str(name), part.get_content_type(), payload if isinstance(payload, bytes) else b""))
        return out

    def summary(self) -> JsonObject:
        """What the list shows, computed on first read (every field is fixed at capture); a copy each time."""
        return dict(self._summary)

    @computed
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
        notes = self.notes
        if notes:
            out["note"] = "; ".join(notes)
        return out


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


Filters = Mapping[str, str | None]


def filters_of(given: Mapping[str, str | None]) -> dict[str, str | None]:
    """Every known filter (absent ones None); TypeError names the unknown."""
    unknown = set(given) - set(FILTERS)
    if unknown:
        raise TypeError(f"unknown filters: {', '.join(sorted(unknown))}")
    return {k: given.get(k) for k in FILTERS}


def matches(message: Message, filters: Filters) -> bool:
    """A mailbox (recipient, sender or AUTH user), a subject fragment, and q: a search of subject, addresses and text."""
    rcpt, mail_from, auth_user, subject, q = (filters.get(k) for k in ("rcpt", "mail_from", "auth_user", "subject", "q"))
    if rcpt is not None and rcpt.lower() not in (r.lower() for r in message.rcpt_to):
        return False
    if mail_from is not None and message.mail_from.lower() != mail_from.lower():
        return False
    if auth_user is not None and message.auth_user != auth_user:
        return False
    if q is not None and q.lower() not in message.searchable:
        return False
    return subject is None or subject in (message.subject or "")


def select(messages: list[Message], filters: Filters) -> list[Message]:
    """The messages (in arrival order) that match every filter given."""
    if not any(filters.values()):
        return messages
    return [m for m in messages if matches(m, filters)]


def wait_for(store: MessageStore[Message], count: int, timeout: float, filters: Filters) -> list[Message]:
    """Block until at least `count` messages match; TimeoutError says what was seen. Matching (which
    may parse) happens outside the store's lock."""
    chosen = filters_of(filters)
    seen: list[Message] = []

    def ready(current: list[Message]) -> list[Message] | None:
        seen[:] = select(current, chosen)
        return seen if len(seen) >= count else None

    found = store.wait_until(ready, timeout)
    if found is None:
        raise TimeoutError(f"{len(seen)} of {count} message(s) matching {dict(filters)} after {timeout}s")
    return found


async def wait_for_async(store: MessageStore[Message], count: int, timeout: float, filters: Filters) -> list[Message]:
    """As wait_for, on the caller's loop: woken by each message stored (from any thread), never polling."""
    chosen = filters_of(filters)
    loop = asyncio.get_running_loop()
    stored = asyncio.Event()
    unsubscribe = store.subscribe(lambda message: run_on(loop, stored.set))
    deadline = loop.time() + timeout
    try:
        while True:
            stored.clear()  # before looking: a message stored from now on wakes the wait below
            found = select(store.messages(), chosen)
            left = deadline - loop.time()
            if len(found) >= count:
                return found
            if left <= 0:
                raise TimeoutError(f"{len(found)} of {count} message(s) matching {dict(filters)} after {timeout}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stored.wait(), left)
    finally:
        unsubscribe()
