"""DNS for both halves of doctor: resolvers set up one way (--dns-server or the system's), and a
failure named for what it was: timed out, SERVFAIL, NXDOMAIN, REFUSED, or another, said which."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Literal, TypeVar

import dns.exception
import dns.nameserver
import dns.resolver

FailureKind = Literal["timed out", "SERVFAIL", "NXDOMAIN", "REFUSED", "other"]


OVERTIME = "not asked: the time for these checks ran out"


class DnsFailure(Exception):
    """A question that got no usable answer (temperror for SPF): never to be reported as a missing record."""

    def __init__(self, name: str, rdtype: str, what: FailureKind, detail: str = "") -> None:
        super().__init__(f"{rdtype} {name}: {what}{f' ({detail})' if detail else ''}")
        self.name, self.rdtype, self.what, self.detail = name, rdtype, what, detail

    @property
    def overtime(self) -> bool:
        """Not asked at all: the pair's (or the run's) time had run out."""
        return self.what == "other" and self.detail == OVERTIME

    @property
    def said(self) -> str:
        """`timed out`, `SERVFAIL`, ... or `failed (why)`: what the words say happened."""
        return f"failed ({self.detail})" if self.what == "other" else self.what


def failure(name: str, rdtype: str, exc: dns.exception.DNSException) -> DnsFailure:
    """What dnspython's exception says went wrong, named."""
    if isinstance(exc, dns.exception.Timeout):
        return DnsFailure(name, rdtype, "timed out")
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return DnsFailure(name, rdtype, "NXDOMAIN")
    if isinstance(exc, dns.resolver.NoNameservers):
        # each server's outcome: the rcode's text when one answered, else the exception met
        said = [e[3] for e in exc.kwargs.get("errors", []) if len(e) > 3]
        rcodes = [s for s in said if isinstance(s, str)]
        if "SERVFAIL" in rcodes:
            return DnsFailure(name, rdtype, "SERVFAIL")
        if "REFUSED" in rcodes:
            return DnsFailure(name, rdtype, "REFUSED")
        if rcodes:
            return DnsFailure(name, rdtype, "other", f"rcode {rcodes[0]}")
        if said:
            return DnsFailure(name, rdtype, "other", type(said[-1]).__name__)
    return DnsFailure(name, rdtype, "other", type(exc).__name__)


def ip_literal(host: str) -> str | None:
    """The address a host written as an IP literal (IPv6 in brackets or not) is, else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


AnyResolver = TypeVar("AnyResolver", bound=dns.resolver.BaseResolver)


def configured(made: AnyResolver, servers: Sequence[tuple[str, int]], timeout: float) -> AnyResolver:
    """--dns-server addresses (IP, port), or as the system configured it; at most two tries per question within `timeout`."""
    if servers:
        made.nameservers = [dns.nameserver.Do53Nameserver(ip, port) for ip, port in servers]
    made.lifetime = timeout
    made.timeout = timeout / 2  # per try: a lost packet is asked once more, not again and again
    made.cache = None
    return made


def resolver(servers: Sequence[tuple[str, int]], timeout: float) -> dns.resolver.Resolver:
    """For the sender checks (threads: pyspf asks synchronously): --dns-server, or the system's resolvers."""
    return configured(dns.resolver.Resolver(configure=not servers), servers, timeout)


async def addresses_of(host: str, servers: Sequence[tuple[str, int]], timeout: float) -> list[str]:
    """The endpoint's addresses through --dns-server (an IP literal is its own). DnsFailure says why not;
    a name with neither A nor AAAA is the `other` failure `no A or AAAA record`."""
    import dns.asyncresolver

    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    made = configured(dns.asyncresolver.Resolver(configure=False), servers, timeout)
    found: list[str] = []
    for rdtype in ("A", "AAAA"):
        try:
            answer = await made.resolve(host, rdtype, search=False, raise_on_no_answer=False)
        except dns.exception.DNSException as exc:
            raise failure(host, rdtype, exc) from None
        found += [r.to_text() for r in answer.rrset or []]
    if not found:
        raise DnsFailure(host, "A", "other", "no A or AAAA record")
    return found
