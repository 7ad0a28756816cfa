"""SPF with pyspf, the RFC 7208 reference implementation, asking its DNS questions through the run's cache.

pyspf bounds a whole evaluation with `querytime` and only inside its own `dns()`,
which we replace (the cache): the deadline is kept here instead, so --timeout
bounds the evaluation, not each lookup.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

from notifycfg.doctor.dnscache import DnsFailure, Lookups

with warnings.catch_warnings():
    # pyspf 2.0.14's docstrings hold invalid escape sequences: a compile-time warning, nothing at run time
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    import spf

_TYPES = {"A", "AAAA", "MX", "PTR", "TXT"}


class _Query(spf.query):  # type: ignore[misc]
    """pyspf's evaluator, its DNS answered from the shared cache and bounded by a deadline."""

    def __init__(self, lookups: Lookups, deadline: float, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._lookups, self._deadline = lookups, deadline

    def dns(self, name: str, qtype: str, cnames: object = None, ignore_void: bool = False) -> list[object]:
        # the void-lookup count is pyspf's own rule (RFC 7208 4.6.4), kept as its dns() keeps it
        name = str(name).rstrip(".")
        if qtype not in _TYPES or not name or not all(0 < len(label) < 64 for label in name.split(".")):
            return []  # not a DNS name (a label empty or over 63): pyspf's own dns() answers nothing too
        if time.monotonic() > self._deadline:
            raise spf.TempError("DNS: the evaluation took longer than --timeout")
        try:
            records = self._lookups.get(name, qtype)
        except DnsFailure as exc:
            raise spf.TempError(f"DNS {exc.what}: {qtype} {exc.name}") from None
        result: list[object] = [_value(qtype, r) for r in records]
        if not result and not ignore_void:
            self.void_lookups += 1
            if self.void_lookups > spf.MAX_VOID_LOOKUPS:
                raise spf.PermError(f"Void lookup limit of {spf.MAX_VOID_LOOKUPS} exceeded")
        return result


def _value(qtype: str, record: str) -> object:
    """A record as pyspf's own lookups return it."""
    if qtype == "MX":
        preference, exchange = record.split(" ", 1)
        return (int(preference), exchange)
    if qtype == "TXT":
        return (record.encode("utf-8"),)
    return record


@dataclass(frozen=True)
class SpfResult:
    result: str  # pass, fail, softfail, neutral, none, permerror, temperror
    explanation: str


def evaluate(lookups: Lookups, ip: str, domain: str, timeout: float) -> SpfResult:
    """SPF for `ip` sending as `domain` (the From domain is the envelope domain: the platform sends with its From address)."""
    query = _Query(lookups, time.monotonic() + timeout, i=ip, s=f"postmaster@{domain}", h=domain, timeout=timeout, querytime=0)
    result, _code, explanation = query.check()
    return SpfResult(str(result), str(explanation))
