"""Mailpit's search syntax over captured messages (https://mailpit.axllent.org/docs/usage/search-filters/),
and the address lists and search text it looks in.

Words are split on spaces, a double-quoted phrase is one word (its quotes dropped), and a word that
starts with `-` or `!` excludes what it would match. `to:` `from:` `cc:` `bcc:` `reply-to:`
`addressed:` `subject:` `message-id:` match a part of that field, any case; `has:attachment`,
`has:inline`, `before:` and `after:` (a date, or a date and time, in `tz` or the harness's zone),
`larger:` and `smaller:` (`2kb`, `1.5m`) filter as Mailpit does; any other word is searched for in
the headers, the text (or the HTML without its tags) and the attachment names. As in Mailpit's
storage/search.go, an unreadable date is ignored rather than refused. `is:` and `tag:` (read state
and tags, which the harness does not keep) match nothing, or everything when excluded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from email.utils import getaddresses
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smtp_harness.views import Message

MAX_QUERY = 1000  # characters of a search; a longer one is refused (the HTTP layer says so)
MAX_WORDS = 50

Address = tuple[str, str]  # (name, address)


def words(search: str) -> list[str]:
    """Mailpit's ArgsParser: spaces split words except inside double quotes; the quotes are dropped."""
    out: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in search:
        if ch == '"':
            quoted = not quoted
        elif ch == " " and not quoted:
            out.append("".join(current))
            current = []
            continue
        current.append(ch)
    out.append("".join(current))
    return [w.replace('"', "").strip() for w in out if w.replace('"', "").strip()]


_UNWANTED = re.compile(r"(\r?\n|\t|>|<|\"|,|;|\(|\))")


def clean(text: str) -> str:
    """Mailpit's cleanString: separators as spaces, runs of blanks as one, lower case."""
    return " ".join(_UNWANTED.sub(" ", text.replace("\ufeff", " ")).split()).lower()


def addresses(message: Message, header: str) -> list[Address]:
    value = message.header(header)
    return [(name, addr) for name, addr in getaddresses([value]) if addr or name] if value else []


def bcc(message: Message) -> list[Address]:
    """The envelope's recipients that no To or Cc header names (the Bcc header, when one came, too)."""
    shown = {a.lower() for _, a in addresses(message, "To") + addresses(message, "Cc")}
    listed = addresses(message, "Bcc")
    listed += [("", r) for r in message.rcpt_to if r.lower() not in shown and r.lower() not in {a.lower() for _, a in listed}]
    return listed


def _said(found: list[Address]) -> str:
    return " ".join(f"{name} {addr}" for name, addr in found).lower()


_TAGS = re.compile(r"<[^>]*>")


def body_text(message: Message) -> str:
    """The HTML without its tags, or else the text: what Mailpit searches (and, text first, shows as a snippet)."""
    return _TAGS.sub(" ", message.html) if message.html else message.text or ""


def search_text(message: Message) -> str:
    """Headers, then the body (body_text), then the attachment names, cleaned."""
    heads = [message.header(h) or "" for h in ("From", "Subject", "To", "Cc", "Bcc", "Reply-To", "Return-Path")]
    body = body_text(message)
    return clean(" ".join([*heads, body, *(name for name, _, _ in message.attachments())]))


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([km]?)b?", re.IGNORECASE)


def size_in_bytes(text: str) -> int:
    found = _SIZE.fullmatch(text.strip())
    if not found:
        return 0
    return int(float(found.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[found.group(2).lower()])


_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y")


def parse_date(text: str, zone: tzinfo) -> datetime | None:
    """A day, or a day and time, as people write them (Mailpit uses dateparse); None if unreadable."""
    text = text.strip().replace("T", " ").rstrip("Z")
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=zone)


def zone_of(name: str | None) -> tzinfo:
    """`tz` (an IANA name), or the harness's own zone when it is missing or unknown (as Mailpit does)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # an unknown, malformed or directory-like name
            pass
    local = datetime.now().astimezone().tzinfo
    return local if local is not None else ZoneInfo("UTC")


Test = Callable[[Message], bool]


@dataclass(frozen=True)
class Term:
    test: Test
    exclude: bool

    def __call__(self, message: Message) -> bool:
        return self.test(message) != self.exclude


def _contains(part: str, field: Callable[[Message], str]) -> Test:
    wanted = part.lower()
    return lambda m: wanted in field(m)


_ADDRESS_FIELDS: dict[str, Callable[[Message], list[Address]]] = {
    "to:": lambda m: addresses(m, "To"),
    "from:": lambda m: addresses(m, "From"),
    "cc:": lambda m: addresses(m, "Cc"),
    "bcc:": bcc,
    "reply-to:": lambda m: addresses(m, "Reply-To"),
}


def _in(field: Callable[[Message], list[Address]]) -> Callable[[Message], str]:
    return lambda m: _said(field(m))


def _addressed(m: Message) -> str:
    return " ".join(_said(f(m)) for f in _ADDRESS_FIELDS.values())


def _dated(prefix: str, value: str, zone: tzinfo) -> Test | None:
    when = parse_date(value, zone)
    if when is None:
        return None
    stamp = when.timestamp()
    return (lambda m: m.received_at >= stamp) if prefix == "after:" else (lambda m: m.received_at <= stamp)


def _sized(limit: int, larger: bool) -> Test:
    return (lambda m: len(m.raw) > limit) if larger else (lambda m: len(m.raw) < limit)


def _term(word: str, zone: tzinfo) -> Test | None:
    low = word.lower()
    for prefix, field in _ADDRESS_FIELDS.items():
        if low.startswith(prefix):
            value = clean(word[len(prefix) :])
            return _contains(value, _in(field)) if value else None
    if low.startswith("addressed:"):
        value = clean(word[10:])
        return _contains(value, _addressed) if value else None
    if low.startswith("subject:"):
        return _contains(word[8:], lambda m: (m.subject or "").lower()) if word[8:] else None
    if low.startswith("message-id:"):
        value = clean(word[11:])
        return _contains(value, lambda m: (m.header("Message-ID") or "").lower()) if value else None
    if low in ("has:attachment", "has:attachments"):
        return lambda m: bool(m.attachments())
    if low in ("has:inline", "has:inlines"):
        return lambda m: False  # inline parts are shown as attachments here
    if low.startswith(("is:", "tag:")):
        return lambda m: False
    if low.startswith(("after:", "before:")):
        prefix = low.split(":", 1)[0] + ":"
        return _dated(prefix, word[len(prefix) :], zone)
    for prefix in ("larger:", "smaller:"):
        limit = size_in_bytes(word[len(prefix) :]) if low.startswith(prefix) else 0
        if limit > 0:
            return _sized(limit, larger=prefix == "larger:")
    wanted = clean(word)
    return _contains(wanted, search_text) if wanted else None


def parse(search: str, tz: str | None = None) -> list[Term]:
    """The search's terms, every one to be met. ValueError when it is over the bounds."""
    if len(search) > MAX_QUERY:
        raise ValueError(f"the search is longer than {MAX_QUERY} characters")
    found = words(search)
    if len(found) > MAX_WORDS:
        raise ValueError(f"the search has more than {MAX_WORDS} words")
    zone, terms = zone_of(tz), []
    for word in found:
        exclude = len(word) > 1 and word[0] in "-!"
        test = _term(word[1:] if exclude else word, zone)
        if test is not None:
            terms.append(Term(test, exclude))
    return terms


def matching(messages: list[Message], terms: list[Term]) -> list[Message]:
    return [m for m in messages if all(t(m) for t in terms)]
