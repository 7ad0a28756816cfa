"""The `dkim` sender check: every declared selector's key record, and whether one is valid."""

from __future__ import annotations

import base64

from notifycfg.doctor.model import Check, Outcome, combined
from notifycfg.doctor.senders.lookups import Lookups
from notifycfg.doctor.senders.tags import record_tags

MIN_RSA_BITS = 1024


def dkim_check(lookups: Lookups, domain: str, selectors: tuple[str, ...]) -> Check:
    """`dkim.no_selectors` (skipped) without declared selectors; else each selector's outcome, the worst naming the check."""
    if not selectors:
        return Check("dkim", "skipped", "dkim.no_selectors", {"domain": domain})
    outcomes = [_selector(lookups, selector, f"{selector}._domainkey.{domain}") for selector in selectors]
    return combined("dkim", outcomes, key="selectors")


def valid_selector(check: Check) -> bool:
    """Whether a declared selector's key is valid: DMARC's evidence of an aligned DKIM signature."""
    found = check.facts.get("selectors")
    return isinstance(found, list) and any(isinstance(s, dict) and s.get("status") == "ok" for s in found)


def _selector(lookups: Lookups, selector: str, name: str) -> Outcome:
    records = [r for r in lookups.get(name, "TXT") if "p=" in r]
    where = {"selector": selector, "name": name}
    if not records:
        return Outcome("error", "dkim.missing", where)
    tags = record_tags(records[0], fold_case=False)
    if tags.get("v", "DKIM1") != "DKIM1":
        return Outcome("error", "dkim.not_dkim1", where)
    if not tags.get("p"):
        return Outcome("error", "dkim.revoked", where)
    if tags.get("k", "rsa").lower() == "ed25519":
        return Outcome("ok", "dkim.ed25519", where)
    bits = _rsa_bits(tags["p"])
    if bits is None:
        return Outcome("error", "dkim.undecodable", where)
    if bits < MIN_RSA_BITS:
        return Outcome("error", "dkim.weak", {**where, "bits": bits, "minimum": MIN_RSA_BITS})
    return Outcome("ok", "dkim.rsa", {**where, "bits": bits})


def _rsa_bits(encoded: str) -> int | None:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    try:
        key = load_der_public_key(base64.b64decode("".join(encoded.split()), validate=True))
    except (ValueError, UnsupportedAlgorithm):
        return None
    return key.key_size if isinstance(key, rsa.RSAPublicKey) else None
