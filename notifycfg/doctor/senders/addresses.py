"""The sender's addresses in DNS: where the relay sends from, the `mx` check and the `ptr` check."""

from __future__ import annotations

import dns.reversename

from notifycfg.doctor.dns import DnsFailure, ip_literal
from notifycfg.doctor.facts import MAX_ADDRESSES, MAX_NAMES, Fact
from notifycfg.doctor.model import Check, CheckId
from notifycfg.doctor.senders.lookups import Lookups, confirmed
from notifycfg.doctor.senders.spf import Source


def sending_ips(lookups: Lookups, relay: str, declared: tuple[str, ...]) -> tuple[list[str], Source]:
    """The relay's sending addresses and where they came from: declared, the relay itself, or its A/AAAA
    (DnsFailure when those cannot be had)."""
    if declared:
        return list(declared), "declared"
    literal = ip_literal(relay)
    if literal is not None:
        return [literal], "literal"
    return list(lookups.addresses(relay)), "resolved"


def mx_check(lookups: Lookups, domain: str) -> Check:
    mx = lookups.mx(domain)
    if mx:
        if any(not r.exchange for r in mx):
            return Check("mx", "error", "mx.null", {"domain": domain})
        return Check("mx", "ok", "mx.found", {"domain": domain, "exchanges": [r.exchange for r in mx]})
    implicit = lookups.addresses(domain)
    if implicit:
        return Check("mx", "ok", "mx.implicit", {"domain": domain, "addresses": list(implicit)})
    return Check("mx", "warning", "mx.none", {"domain": domain})


def ptr_check(lookups: Lookups, ips: list[str]) -> Check:
    """Forward-confirmed reverse DNS for every sending address, at most MAX_ADDRESSES of them and
    MAX_NAMES names each; what was not checked (over a cap, or past the pair's deadline) is named."""
    if not ips:
        return Check("ptr", "skipped", "ptr.no_address")
    unconfirmed: list[Fact] = []
    unchecked: list[Fact] = list(ips[MAX_ADDRESSES:])
    names_left = 0
    for ip in ips[:MAX_ADDRESSES]:
        try:
            names = lookups.get(dns.reversename.from_address(ip).to_text(), "PTR")
            names_left += max(0, len(names) - MAX_NAMES)
            if not any(confirmed(lookups, ip, n) for n in names[:MAX_NAMES]):
                unconfirmed.append({"ip": ip, "names": list(names[:MAX_NAMES])})
        except DnsFailure as exc:
            if not exc.overtime:
                raise
            unchecked.append(ip)
    left: dict[str, Fact] = {"unchecked": unchecked, "names_not_checked": names_left}
    if unconfirmed:
        return Check("ptr", "warning", "ptr.unconfirmed", {"unconfirmed": unconfirmed, **left})
    checked = [ip for ip in ips[:MAX_ADDRESSES] if ip not in unchecked]
    if unchecked:
        return Check("ptr", "warning", "ptr.unfinished", {"addresses": list[Fact](checked), **left})
    return Check("ptr", "ok", "ptr.confirmed", {"addresses": list[Fact](checked), **left})


def dns_failed(check_id: CheckId, exc: DnsFailure, of_relay: bool = False) -> Check:
    """A check whose DNS failed: an error naming what happened, never a missing record."""
    facts: dict[str, Fact] = {"failure": exc.what, "detail": exc.detail, "rdtype": exc.rdtype, "name": exc.name}
    return Check(check_id, "error", f"{check_id}.relay_dns_failure" if of_relay else f"{check_id}.dns_failure", facts)
