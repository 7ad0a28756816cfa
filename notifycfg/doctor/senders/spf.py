"""The `spf` sender check, with pyspf (the RFC 7208 reference implementation) asking its DNS
questions through the run's cache.

pyspf bounds a whole evaluation with `querytime` and only inside its own `dns()`,
which we replace (the cache): the deadline is kept here instead, so --timeout
bounds the evaluation, not each lookup.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Literal

from notifycfg.doctor.dns import DnsFailure
from notifycfg.doctor.facts import MAX_ADDRESSES, SPF_RESULTS, Fact, SpfVerdict
from notifycfg.doctor.model import Check, Status, worst
from notifycfg.doctor.senders.lookups import Lookups, TextType

with warnings.catch_warnings():
    # pyspf 2.0.14's docstrings hold invalid escape sequences: a compile-time warning, nothing at run time
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    import spf

_TEXT_TYPES: dict[str, TextType] = {"A": "A", "AAAA": "AAAA", "PTR": "PTR", "TXT": "TXT"}


class _Query(spf.query):  # type: ignore[misc]
    """pyspf's evaluator, its DNS answered from the shared cache and bounded by a deadline."""

    def __init__(self, lookups: Lookups, deadline: float, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._lookups, self._deadline = lookups, deadline

    def dns(self, name: str, qtype: str, cnames: object = None, ignore_void: bool = False) -> list[object]:
        # the void-lookup count is pyspf's own rule (RFC 7208 4.6.4), kept as its dns() keeps it
        name = str(name).rstrip(".")
        if (qtype != "MX" and qtype not in _TEXT_TYPES) or not name or not all(0 < len(label) < 64 for label in name.split(".")):
            return []  # not a DNS name (a label empty or over 63): pyspf's own dns() answers nothing too
        if time.monotonic() > self._deadline:
            raise spf.TempError("DNS: the evaluation took longer than --timeout")
        try:
            result = self._answer(name, qtype)
        except DnsFailure as exc:
            raise spf.TempError(f"DNS {exc.said}: {qtype} {exc.name}") from None
        if not result and not ignore_void:
            self.void_lookups += 1
            if self.void_lookups > spf.MAX_VOID_LOOKUPS:
                raise spf.PermError(f"Void lookup limit of {spf.MAX_VOID_LOOKUPS} exceeded")
        return result

    def _answer(self, name: str, qtype: str) -> list[object]:
        """Records as pyspf's own lookups return them: MX as (preference, name), TXT as a tuple of bytes."""
        if qtype == "MX":
            return [(r.preference, r.exchange) for r in self._lookups.mx(name)]
        records = self._lookups.get(name, _TEXT_TYPES[qtype])
        return [(r.encode("utf-8"),) for r in records] if qtype == "TXT" else list(records)


_STATUS: dict[SpfVerdict, Status] = {"pass": "ok", "softfail": "warning", "neutral": "warning"}


@dataclass(frozen=True)
class SpfResult:
    result: SpfVerdict
    explanation: str


def evaluate(lookups: Lookups, ip: str, domain: str, timeout: float) -> SpfResult:
    """SPF for `ip` sending as `domain` (the From domain is the envelope domain: the platform sends with its From address)."""
    query = _Query(lookups, time.monotonic() + timeout, i=ip, s=f"postmaster@{domain}", h=domain, timeout=timeout, querytime=0)
    result, _code, explanation = query.check()
    verdict = str(result)
    known = next((r for r in SPF_RESULTS if r == verdict), None)  # pyspf's own words, read as our Literal
    return SpfResult(known or "permerror", str(explanation))


Source = Literal["declared", "literal", "resolved"]  # where the sending addresses came from


def spf_check(lookups: Lookups, domain: str, relay: str, ips: list[str], source: Source, timeout: float) -> Check:
    """SPF for every sending address of the pair; `spf.<the worst result>`."""
    if not ips:
        return Check("spf", "error", "spf.no_address", {"relay": relay})
    results = [(ip, evaluate(lookups, ip, domain, timeout)) for ip in ips[:MAX_ADDRESSES]]
    status = worst("ok", *(_STATUS.get(r.result, "error") for _, r in results))
    if source == "resolved":  # hosted relays often send from other addresses than their name's
        status = worst(status, "warning")
    code = max((r.result for _, r in results), key=SPF_RESULTS.index)
    found: list[Fact] = [{"ip": ip, "result": r.result, "explanation": r.explanation} for ip, r in results]
    facts: dict[str, Fact] = {"domain": domain, "relay": relay, "source": source, "results": found}
    return Check("spf", status, f"spf.{code}", {**facts, "unchecked": list[Fact](ips[MAX_ADDRESSES:])})
