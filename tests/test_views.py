"""The harness's store keeps raw bytes, capacity and waiting; views parse, outside its lock. A part the
email package cannot read is a note with its reason, never a silent blank."""

from __future__ import annotations

import threading

from smtp_harness import views
from smtp_harness.store import MessageStore
from smtp_harness.views import Message

BOGUS_CHARSET = (
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: bad part\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: text/plain; charset="x-no-such-charset"\r\n\r\nbody\r\n'
)


def message(ident: str, raw: bytes, kind: type[Message] = Message) -> Message:
    return kind(ident, "a@example.com", ("b@example.com",), raw, False, None, None, "127.0.0.1:1", 0.0)


def stored(store: MessageStore[Message], m: Message) -> None:
    store.reserve(m.footprint)
    store.add(m)


def test_matching_runs_outside_the_store_lock():
    """A search (q) parses the message; meanwhile the SMTP side must still be able to reserve room."""
    store: MessageStore[Message] = MessageStore()
    reserved: list[str] = []

    class Watched(Message):
        @property
        def searchable(self) -> str:
            sender = threading.Thread(target=lambda: reserved.append(store.reserve(10)))
            sender.start()
            sender.join(2)  # a reserve() blocked by a lock held around matching would not finish
            return super().searchable

    stored(store, message("1", b"Subject: hello\r\n\r\nneedle\r\n", Watched))
    found = views.wait_for(store, 1, 2.0, {"q": "needle"})
    assert [m.id for m in found] == ["1"] and reserved == ["2"]


def test_a_message_stored_while_matching_is_not_missed():
    store: MessageStore[Message] = MessageStore()
    calls: list[int] = []

    def ready(current: list[Message]) -> list[Message] | None:
        calls.append(len(current))
        if len(calls) == 1:  # stored after the snapshot was taken, before the waiter sleeps
            stored(store, message("1", b"Subject: late\r\n\r\nx\r\n"))
        return current or None

    assert [m.id for m in store.wait_until(ready, 2.0) or []] == ["1"]
    assert calls == [0, 1]


def test_an_unreadable_part_is_a_note_with_its_reason():
    m = message("1", BOGUS_CHARSET)
    assert m.subject == "bad part" and m.text is None
    detail = m.detail()
    assert detail["text"] is None
    assert "the plain part could not be read (LookupError" in str(detail["note"]) and "x-no-such-charset" in str(detail["note"])


def test_a_readable_message_has_no_note():
    m = message("1", b"Subject: fine\r\nContent-Type: text/plain\r\n\r\nall good\r\n")
    assert m.text == "all good\r\n" and "note" not in m.detail() and m.notes == []
