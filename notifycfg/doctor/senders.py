"""Sender checks: for one (From domain, relay) pair, whether recipients will accept the mail.

spf, dmarc, dkim, mx and ptr, from DNS alone (no connection but DNS). Every DNS
question goes through the run's shared cache (dnscache.Lookups). A DNS timeout or
SERVFAIL is an error that says so: it is never reported as a missing record.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable, Sequence

import dns.reversename

from notifycfg.doctor.dmarc import record_tags
from notifycfg.doctor.dnscache import DnsFailure, Lookups, ip_literal
from notifycfg.doctor.model import ORDER, Check, SenderProbe, Status
from notifycfg.doctor.spfcheck import evaluate

MIN_RSA_BITS = 1024
_SPF_STATUS: dict[str, Status] = {"pass": "ok", "softfail": "warning", "neutral": "warning"}


def _worst(*statuses: Status) -> Status:
    return max(statuses, key=ORDER.__getitem__)


def sending_ips(lookups: Lookups, relay: str, declared: Sequence[str]) -> tuple[list[str], str]:
    """The relay's sending addresses and where they came from: declared, the relay itself, or its A/AAAA."""
    if declared:
        return list(declared), "declared"
    literal = ip_literal(relay)
    if literal is not None:
        return [literal], "literal"
    return list(lookups.addresses(relay)), "resolved"


def spf_check(lookups: Lookups, probe: SenderProbe, source: str, timeout: float) -> Check:
    if not probe.sending_ips:
        return Check("spf", "error", f"{probe.relay} has no A/AAAA and deliverability.yaml gives it no sending_ips: nothing to evaluate")
    results = {ip: evaluate(lookups, ip, probe.domain, timeout) for ip in probe.sending_ips}
    status: Status = "ok"
    parts = []
    for ip, r in results.items():
        status = _worst(status, _SPF_STATUS.get(r.result, "error"))
        cause = f" ({r.explanation})" if r.result in ("permerror", "temperror", "fail") and r.explanation else ""
        parts.append(f"{r.result} for {ip}{cause}")
    message = f"SPF for {probe.domain}: " + "; ".join(parts)
    if any(r.result == "none" for r in results.values()):
        message += f": publish a TXT record `v=spf1 ip4:… -all` at {probe.domain}"
    if source == "resolved":
        status = _worst(status, "warning")
        message += f" (the addresses are {probe.relay}'s A/AAAA: hosted relays often send from others; list them as sending_ips)"
    probe.spf_pass = all(r.result == "pass" for r in results.values())
    return Check("spf", status, message)


def dkim_check(lookups: Lookups, probe: SenderProbe) -> Check:
    if not probe.selectors:
        return Check("dkim", "skipped", f"no dkim_selectors for {probe.domain} in deliverability.yaml: nothing to check")
    status: Status = "ok"
    parts = []
    for selector in probe.selectors:
        one, text = _selector(lookups, f"{selector}._domainkey.{probe.domain}")
        status = _worst(status, one)
        probe.dkim_valid = probe.dkim_valid or one == "ok"
        parts.append(f"{selector}: {text}")
    return Check("dkim", status, "; ".join(parts))


def _selector(lookups: Lookups, name: str) -> tuple[Status, str]:
    records = [r for r in lookups.get(name, "TXT") if "p=" in r]
    if not records:
        return "error", f"no DKIM key record at {name}"
    tags = record_tags(records[0])
    if tags.get("v", "DKIM1") != "DKIM1":
        return "error", f"{name} is not a v=DKIM1 record"
    if not tags.get("p"):
        return "error", f"the key at {name} is revoked (empty p=)"
    if tags.get("k", "rsa").lower() == "ed25519":
        return "ok", "an Ed25519 key"
    bits = _rsa_bits(tags["p"])
    if bits is None:
        return "error", f"the key at {name} does not decode as an RSA public key"
    if bits < MIN_RSA_BITS:
        return "error", f"a {bits}-bit RSA key: under {MIN_RSA_BITS} bits, receivers treat the signature as absent"
    return "ok", f"a {bits}-bit RSA key"


def _rsa_bits(encoded: str) -> int | None:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    try:
        key = load_der_public_key(base64.b64decode("".join(encoded.split()), validate=True))
    except (ValueError, UnsupportedAlgorithm):
        return None
    return key.key_size if isinstance(key, rsa.RSAPublicKey) else None


def mx_check(lookups: Lookups, probe: SenderProbe) -> Check:
    mx = lookups.get(probe.domain, "MX")
    if mx:
        if any(r.split(" ", 1)[1] in (".", "") for r in mx):
            null = f"{probe.domain} publishes a null MX (RFC 7505): it receives no mail, and receivers may refuse mail from it"
            return Check("mx", "error", null)
        return Check("mx", "ok", f"MX {', '.join(r.split(' ', 1)[1] for r in mx)}")
    implicit = lookups.addresses(probe.domain)
    if implicit:
        return Check("mx", "ok", f"no MX; its A/AAAA serve as the implicit MX ({', '.join(implicit)})")
    return Check("mx", "warning", f"{probe.domain} has no MX, A or AAAA: replies and bounces have nowhere to go")


def ptr_check(lookups: Lookups, probe: SenderProbe) -> Check:
    if not probe.sending_ips:
        return Check("ptr", "skipped", "no sending address to check")
    missing = []
    for ip in probe.sending_ips:
        names = lookups.get(dns.reversename.from_address(ip).to_text(), "PTR")
        rdtype = "AAAA" if ":" in ip else "A"
        confirmed = [n for n in names if ip in {str(ipaddress.ip_address(a)) for a in lookups.get(n, rdtype)}]
        if not confirmed:
            missing.append(f"{ip} ({'PTR ' + ', '.join(names) + ' does not resolve back to it' if names else 'no PTR'})")
    if missing:
        return Check("ptr", "warning", f"no forward-confirmed reverse DNS for {'; '.join(missing)}: Gmail requires it of every sender")
    return Check("ptr", "ok", f"forward-confirmed reverse DNS for {', '.join(probe.sending_ips)}")


def guarded(check_id: str, run: Callable[[], Check]) -> Check:
    """A check whose DNS failed: an error saying what happened, never a missing record."""
    try:
        return run()
    except DnsFailure as exc:
        return Check(check_id, "error", f"DNS {exc.what} asking {exc.rdtype} {exc.name} (temperror): the check could not be made")
