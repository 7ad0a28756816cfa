"""DNS answers for one doctor run, each distinct question asked once and shared by every probe.

Questions are asked with dnspython, to the --dns-server addresses or the system's
resolvers. An answer, an empty answer and a failure are all remembered, so a name
that timed out is not asked again by the next pair: a server sees each question at
most twice (dnspython's one retry after a lost packet, or TCP after truncation).
Probes run on threads; a question already in flight is waited for, not asked again.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Sequence
from typing import Literal, TypeVar

import dns.exception
import dns.message
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

Failure = Literal["timed out", "SERVFAIL"]
MAX_ANSWERS = 64  # records kept per answer: more is an attack, not a zone


class DnsFailure(Exception):
    """A temporary failure (temperror): never to be reported as a missing record."""

    def __init__(self, name: str, rdtype: str, what: Failure) -> None:
        super().__init__(f"{rdtype} {name}: {what} (temperror)")
        self.name, self.rdtype, self.what = name, rdtype, what


# An answer: each record's text (TXT strings joined, names without the final dot), sorted;
# empty for NXDOMAIN and for no data alike (SPF's void lookup, DMARC's absent record).
Records = tuple[str, ...]


def _text(rdtype: str, rdata: object) -> str:
    if rdtype == "TXT":
        return b"".join(rdata.strings).decode("utf-8", "replace")  # type: ignore[attr-defined]
    if rdtype == "MX":
        return f"{rdata.preference} {rdata.exchange.to_text(omit_final_dot=True)}"  # type: ignore[attr-defined]
    if rdtype in ("PTR", "CNAME"):
        return str(rdata.target.to_text(omit_final_dot=True))  # type: ignore[attr-defined]
    return str(rdata.to_text())  # type: ignore[attr-defined]


def ip_literal(host: str) -> str | None:
    """The address a host written as an IP literal (IPv6 in brackets or not) is, else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


AnyResolver = TypeVar("AnyResolver", bound=dns.resolver.BaseResolver)


def _configured(made: AnyResolver, servers: Sequence[tuple[str, int]], timeout: float) -> AnyResolver:
    """--dns-server addresses (IP, port), or as the system configured it; at most two tries per question within `timeout`."""
    if servers:
        made.nameservers = [dns.nameserver.Do53Nameserver(ip, port) for ip, port in servers]
    made.lifetime = timeout
    made.timeout = timeout / 2  # per try: a lost packet is asked once more, not again and again
    made.cache = None
    return made


def resolver(servers: Sequence[tuple[str, int]], timeout: float) -> dns.resolver.Resolver:
    """For the sender checks: --dns-server, or the system's resolvers."""
    return _configured(dns.resolver.Resolver(configure=not servers), servers, timeout)


async def addresses_of(host: str, servers: Sequence[tuple[str, int]], timeout: float) -> list[str]:
    """The endpoint's addresses through --dns-server (an IP literal is its own); LookupError says why not."""
    import dns.asyncresolver

    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    made = _configured(dns.asyncresolver.Resolver(configure=False), servers, timeout)
    found: list[str] = []
    for rdtype in ("A", "AAAA"):
        try:
            answer = await made.resolve(host, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            raise LookupError("does not resolve: no such name (NXDOMAIN)") from None
        except dns.exception.Timeout:
            raise LookupError(f"did not resolve within {timeout:g} s") from None
        except dns.exception.DNSException:
            raise LookupError("does not resolve: SERVFAIL") from None
        found += [r.to_text() for r in answer.rrset or []]
    if not found:
        raise LookupError("does not resolve: no A or AAAA record")
    return found


class Lookups:
    """The run's shared cache: `lookups.get(name, "TXT")` -> Records, or DnsFailure."""

    def __init__(self, resolver: dns.resolver.Resolver) -> None:
        self._resolver = resolver
        self._lock = threading.Lock()
        self._done: dict[tuple[str, str], Records | DnsFailure] = {}
        self._pending: dict[tuple[str, str], threading.Event] = {}

    def addresses(self, name: str) -> Records:
        """A and AAAA together."""
        return self.get(name, "A") + self.get(name, "AAAA")

    def get(self, name: str, rdtype: str) -> Records:
        key = (name.lower().rstrip("."), rdtype)
        while True:
            with self._lock:
                if key in self._done:
                    return self._result(key)
                waiting = self._pending.get(key)
                if waiting is None:
                    self._pending[key] = threading.Event()
                    break
            waiting.wait()
        outcome: Records | DnsFailure = DnsFailure(*key, "SERVFAIL")
        try:
            outcome = self._ask(*key)
        finally:  # whatever happens, whoever waits for this question is answered
            with self._lock:
                self._done[key] = outcome
                self._pending.pop(key).set()
        return self._result(key)

    def _result(self, key: tuple[str, str]) -> Records:
        outcome = self._done[key]
        if isinstance(outcome, DnsFailure):
            raise outcome
        return outcome

    def _ask(self, name: str, rdtype: str) -> Records | DnsFailure:
        try:
            answer = self._resolver.resolve(name, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return ()
        except dns.exception.Timeout:
            return DnsFailure(name, rdtype, "timed out")
        except (dns.resolver.NoNameservers, dns.resolver.YXDOMAIN, dns.exception.DNSException):
            return DnsFailure(name, rdtype, "SERVFAIL")
        return tuple(sorted(_text(rdtype, r) for r in list(answer.rrset or [])[:MAX_ANSWERS]))
