"""DNS answers for one doctor run, each distinct question asked once and shared by every sender pair.

An answer, an empty answer and a failure are all remembered, so a name that timed out is not
asked again by the next pair: a server sees each question at most twice (dnspython's one retry
after a lost packet, or TCP after truncation). Pairs are checked on threads (pyspf asks its
questions synchronously); a question already in flight is waited for, not asked again.
"""

from __future__ import annotations

import copy
import ipaddress
import threading
import time
from typing import Literal, NamedTuple

import dns.exception
import dns.resolver

from notifycfg.doctor.dns import OVERTIME, DnsFailure, failure

MAX_ANSWERS = 64  # records kept per answer: more is an attack, not a zone
TextType = Literal["A", "AAAA", "TXT", "PTR"]


class MX(NamedTuple):
    preference: int
    exchange: str  # without the final dot; "" for the null MX (RFC 7505)


# An answer: names and addresses as text (TXT strings joined, names without the final dot), or MX
# records; sorted; empty for NXDOMAIN and for no data alike (SPF's void lookup, DMARC's absent record).
Records = tuple[str, ...]


class _Crashed:
    """A question whose asking raised something unforeseen (a bug, not a DNS answer): raised again to
    every thread that waits for it, never cached as a DNS verdict."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _text(rdtype: str, rdata: object) -> str:
    if rdtype == "TXT":
        return b"".join(rdata.strings).decode("utf-8", "replace")  # type: ignore[attr-defined]
    if rdtype in ("PTR", "CNAME"):
        return str(rdata.target.to_text(omit_final_dot=True))  # type: ignore[attr-defined]
    return str(rdata.to_text())  # type: ignore[attr-defined]


def _mx(rdata: object) -> MX:
    exchange = rdata.exchange.to_text(omit_final_dot=True)  # type: ignore[attr-defined]
    return MX(int(rdata.preference), "" if exchange in (".", "") else str(exchange))  # type: ignore[attr-defined]


Answer = tuple[str, ...] | tuple[MX, ...]
Key = tuple[str, str]


class Lookups:
    """The run's shared cache: `lookups.get(name, "TXT")` -> Records, `lookups.mx(name)` -> MX records;
    DnsFailure for a question that got no usable answer."""

    def __init__(self, resolver: dns.resolver.Resolver, deadline: float | None = None) -> None:
        self._resolver = resolver
        self._deadline = deadline  # time.monotonic(): no question is asked after it
        self._lock = threading.Lock()
        self._done: dict[Key, Answer | DnsFailure | _Crashed] = {}
        self._pending: dict[Key, threading.Event] = {}

    def within(self, deadline: float) -> Lookups:
        """The same cache, for one pair: no question after `deadline` (or the run's, if sooner)."""
        view = copy.copy(self)  # shares the answers, the lock and the questions in flight
        view._deadline = deadline if self._deadline is None else min(deadline, self._deadline)
        return view

    def addresses(self, name: str) -> Records:
        """A and AAAA together."""
        return self.get(name, "A") + self.get(name, "AAAA")

    def get(self, name: str, rdtype: TextType) -> Records:
        return tuple(str(r) for r in self._answer(name, rdtype))

    def mx(self, name: str) -> tuple[MX, ...]:
        return tuple(r for r in self._answer(name, "MX") if isinstance(r, MX))

    def _answer(self, name: str, rdtype: str) -> Answer:
        key = (name.lower().rstrip("."), rdtype)
        if self._deadline is not None and time.monotonic() > self._deadline and key not in self._done:
            raise DnsFailure(*key, "other", OVERTIME)
        while True:
            with self._lock:
                if key in self._done:
                    return self._result(key)
                waiting = self._pending.get(key)
                if waiting is None:
                    self._pending[key] = threading.Event()
                    break
            waiting.wait()
        outcome: Answer | DnsFailure | _Crashed
        try:
            outcome = self._ask(*key)
        except BaseException as exc:  # whatever happens, whoever waits for this question is answered
            outcome = _Crashed(exc)
        with self._lock:
            self._done[key] = outcome
            self._pending.pop(key).set()
        return self._result(key)

    def _result(self, key: Key) -> Answer:
        outcome = self._done[key]
        if isinstance(outcome, DnsFailure):
            raise outcome
        if isinstance(outcome, _Crashed):
            raise outcome.exc
        return outcome

    def _ask(self, name: str, rdtype: str) -> Answer | DnsFailure:
        try:
            answer = self._resolver.resolve(name, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return ()
        except dns.exception.DNSException as exc:
            return failure(name, rdtype, exc)
        records = list(answer.rrset or [])[:MAX_ANSWERS]
        if rdtype == "MX":
            return tuple(sorted(_mx(r) for r in records))
        return tuple(sorted(_text(rdtype, r) for r in records))


def confirmed(lookups: Lookups, ip: str, name: str) -> bool:
    """Whether `name` resolves back to `ip` (forward-confirmed reverse DNS)."""
    rdtype: TextType = "AAAA" if ":" in ip else "A"
    return ip in {str(ipaddress.ip_address(a)) for a in lookups.get(name, rdtype)}
