"""The sender half of a doctor run: which (From domain, relay) pairs the selected organizations send
as, each checked on a thread (pyspf asks synchronously) with one DNS cache for the run.

Bounded as the endpoints are: a pair asks no question after PAIR_BUDGET x --timeout from its start,
and the run none after ceil(pairs / --concurrency) x that + 5 s; a pair still unfinished then is
reported so. Zones decide how many addresses and PTR names there are: at most 10 of each are
checked per pair (facts.MAX_ADDRESSES, facts.MAX_NAMES), and the rest are named, unchecked."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from notifycfg.compile.endpoint import connection
from notifycfg.compile.environment import Environment
from notifycfg.datapath import DataPath, JsonObject, dig
from notifycfg.doctor.dns import DnsFailure, resolver
from notifycfg.doctor.model import SENDER_STEPS, Check, CheckId, SenderPair, unfinished
from notifycfg.doctor.options import SenderOptions
from notifycfg.doctor.senders.addresses import dns_failed, mx_check, ptr_check, sending_ips
from notifycfg.doctor.senders.dkim import dkim_check, valid_selector
from notifycfg.doctor.senders.dmarc import dmarc_check
from notifycfg.doctor.senders.lookups import Lookups
from notifycfg.doctor.senders.spf import spf_check


def _strings(data: JsonObject, path: DataPath) -> tuple[str, ...]:
    found = dig(data, path)
    return tuple(str(item) for item in found) if isinstance(found, list) else ()


def pairs(env: Environment, orgs: list[str] | None) -> tuple[list[SenderPair], dict[str, SenderPair]]:
    """Distinct (From domain, relay) pairs, each with its organizations and what deliverability.yaml says of it."""
    doc = next((d for d in env.documents.values() if d.kind == "deliverability"), None)
    data = doc.data if doc is not None else {}
    by_pair: dict[tuple[str, str], SenderPair] = {}
    org_sender: dict[str, SenderPair] = {}
    for org, effective in env.all_effective(orgs).items():
        address = str(dig(effective.data, ("email", "from", "address")))
        domain, relay = address.rpartition("@")[2].lower(), connection(effective.data).endpoint.host
        pair = by_pair.get((domain, relay))
        if pair is None:
            selectors, declared = _strings(data, ("domains", domain, "dkim_selectors")), _strings(data, ("relays", relay, "sending_ips"))
            pair = by_pair[(domain, relay)] = SenderPair(domain, relay, [], selectors=selectors, declared_ips=declared)
        pair.orgs.append(org)
        org_sender[org] = pair
    return sorted(by_pair.values(), key=lambda p: (p.domain, p.relay)), org_sender


def _guarded(check_id: CheckId, run: Callable[[], Check]) -> Check:
    try:
        return run()
    except DnsFailure as exc:
        return dns_failed(check_id, exc)


PAIR_BUDGET = 6  # x --timeout: a pair's questions (addresses, SPF, DMARC's walk, DKIM, MX, PTR) all fit in it


def run_bound(pairs: int, options: SenderOptions) -> float:
    """How long a sender run can take at most, in seconds (docs/doctor.md gives the same formula)."""
    return -(-pairs // options.concurrency) * PAIR_BUDGET * options.timeout + 5


def check_pair(shared: Lookups, pair: SenderPair, timeout: float) -> list[Check]:
    """spf, dmarc, dkim, mx, ptr. Each check gets what it needs as arguments: dmarc is handed what spf
    and dkim found, so no order of lines can change a verdict."""
    lookups = shared.within(time.monotonic() + PAIR_BUDGET * timeout)
    try:
        pair.sending_ips, source = sending_ips(lookups, pair.relay, pair.declared_ips)
    except DnsFailure as exc:  # neither spf nor ptr can be made: both say why
        spf, ptr = dns_failed("spf", exc, of_relay=True), dns_failed("ptr", exc, of_relay=True)
    else:
        spf = spf_check(lookups, pair.domain, pair.relay, pair.sending_ips, source, timeout)
        ptr = _guarded("ptr", lambda: ptr_check(lookups, pair.sending_ips))
    dkim = _guarded("dkim", lambda: dkim_check(lookups, pair.domain, pair.selectors))
    spf_pass, dkim_valid = spf.code == "spf.pass", valid_selector(dkim)
    dmarc = _guarded("dmarc", lambda: dmarc_check(lookups, pair.domain, spf_pass=spf_pass, dkim_valid=dkim_valid))
    return [spf, dmarc, dkim, _guarded("mx", lambda: mx_check(lookups, pair.domain)), ptr]


def run_senders(pairs: list[SenderPair], options: SenderOptions) -> None:
    bound = run_bound(len(pairs), options)
    lookups = Lookups(resolver(options.dns_servers, options.timeout), deadline=time.monotonic() + bound)
    with ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="doctor-dns") as pool:
        jobs = [pool.submit(check_pair, lookups, p, options.timeout) for p in pairs]
        done, _ = wait(jobs, timeout=bound)
        for pair, job in zip(pairs, jobs, strict=True):
            pair.checks = job.result() if job in done else unfinished(SENDER_STEPS, bound)
        # threads still running ask no more questions (the run's deadline has passed): they end within --timeout
