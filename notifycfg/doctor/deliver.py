"""Which (From domain, relay) pairs the selected organizations send as, checked on threads with one DNS cache."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

from notifycfg.compile.endpoint import connection
from notifycfg.compile.environment import Environment
from notifycfg.datapath import DataPath, JsonObject, dig
from notifycfg.doctor.dmarc import dmarc_check
from notifycfg.doctor.dnscache import DnsFailure, Lookups, resolver
from notifycfg.doctor.model import Check, SenderProbe
from notifycfg.doctor.probe import Options
from notifycfg.doctor.senders import dkim_check, guarded, mx_check, ptr_check, sending_ips, spf_check


def _strings(data: JsonObject, path: DataPath) -> tuple[str, ...]:
    found = dig(data, path)
    return tuple(str(item) for item in found) if isinstance(found, list) else ()


def pairs(env: Environment, orgs: list[str] | None) -> tuple[list[SenderProbe], dict[str, SenderProbe]]:
    """Distinct (From domain, relay) pairs, each with its organizations and what deliverability.yaml says of it."""
    doc = next((d for d in env.documents.values() if d.kind == "deliverability"), None)
    data = doc.data if doc is not None else {}
    by_pair: dict[tuple[str, str], SenderProbe] = {}
    org_sender: dict[str, SenderProbe] = {}
    for org, effective in env.all_effective(orgs).items():
        address = str(dig(effective.data, ("email", "from", "address")))
        domain, relay = address.rpartition("@")[2].lower(), connection(effective.data).endpoint.host
        probe = by_pair.get((domain, relay))
        if probe is None:
            selectors, declared = _strings(data, ("domains", domain, "dkim_selectors")), _strings(data, ("relays", relay, "sending_ips"))
            probe = by_pair[(domain, relay)] = SenderProbe(domain, relay, [], selectors=selectors, declared_ips=declared)
        probe.orgs.append(org)
        org_sender[org] = probe
    return sorted(by_pair.values(), key=lambda p: (p.domain, p.relay)), org_sender


def check_pair(lookups: Lookups, probe: SenderProbe, options: Options) -> list[Check]:
    """spf, dmarc, dkim, mx, ptr: dmarc reads what spf and dkim found."""
    try:
        probe.sending_ips, source = sending_ips(lookups, probe.relay, probe.declared_ips)
        spf = guarded("spf", partial(spf_check, lookups, probe, source, options.timeout))
    except DnsFailure as exc:
        spf = Check("spf", "error", f"DNS {exc.what} asking {exc.rdtype} {exc.name} for the relay's addresses (temperror)")
    dkim = guarded("dkim", partial(dkim_check, lookups, probe))
    dmarc = guarded("dmarc", partial(dmarc_check, lookups, probe))
    return [spf, dmarc, dkim, guarded("mx", partial(mx_check, lookups, probe)), guarded("ptr", partial(ptr_check, lookups, probe))]


def run_senders(probes: list[SenderProbe], options: Options) -> None:
    lookups = Lookups(resolver(options.dns_servers, options.timeout))
    with ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="doctor-dns") as pool:
        jobs = [pool.submit(check_pair, lookups, p, options) for p in probes]
        for probe, job in zip(probes, jobs, strict=True):
            probe.checks = job.result()
