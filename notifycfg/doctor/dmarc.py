"""DMARC policy discovery by the DNS tree walk of RFC 9989 (DMARCbis), and whether a pair can meet the policy.

The walk asks `_dmarc.<domain>`; without a valid record there, it drops labels
from the left (a name of more than 8 labels is first cut to 7) until a record is
found or no label is left. A record found above the From domain applies its `sp=`
(else `p=`); `psd=y` marks a public suffix domain's record. A pair meets the
policy when SPF passes for every sending address or a declared DKIM selector is
valid: both are aligned by construction (SPF is evaluated on the From domain, and
selectors are declared under it).
"""

from __future__ import annotations

from notifycfg.doctor.dnscache import Lookups
from notifycfg.doctor.model import Check, SenderProbe

POLICIES = ("none", "quarantine", "reject")
MAX_LABELS = 8


def walk(domain: str) -> list[str]:
    labels = domain.split(".")
    names = [domain]
    if len(labels) > MAX_LABELS:
        labels = labels[-(MAX_LABELS - 1) :]
        names.append(".".join(labels))
    while len(labels) > 1:
        labels = labels[1:]
        names.append(".".join(labels))
    return list(dict.fromkeys(names))


def _record(lookups: Lookups, name: str) -> tuple[str | None, str | None]:
    """(the record, None), (None, why it is invalid), or (None, None) when there is none."""
    found = [r for r in lookups.get(f"_dmarc.{name}", "TXT") if r.lower().startswith("v=dmarc1")]
    if not found:
        return None, None
    if len(found) > 1:
        return None, f"_dmarc.{name} has {len(found)} DMARC records: receivers ignore them all"
    tags = record_tags(found[0])
    if found[0].split(";")[0].strip() != "v=DMARC1":
        return None, f"_dmarc.{name}: the record must start with exactly `v=DMARC1`"
    for key in ("p", "sp"):
        if key in tags and tags[key].lower() not in POLICIES:
            return None, f"_dmarc.{name}: `{key}={tags[key]}` is not one of none, quarantine, reject"
    return found[0], None


def record_tags(record: str) -> dict[str, str]:
    """`k=v; k=v` tags (DMARC and DKIM records alike), keys lower case, the first of a repeated key kept."""
    out: dict[str, str] = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            out.setdefault(key.strip().lower(), value.strip())
    return out


def dmarc_check(lookups: Lookups, probe: SenderProbe) -> Check:
    for name in walk(probe.domain):
        record, invalid = _record(lookups, name)
        if invalid:
            return Check("dmarc", "error", invalid)
        if record is not None:
            return _judged(probe, name, record_tags(record))
    advice = f"publish `v=DMARC1; p=none; rua=mailto:…` at _dmarc.{probe.domain}"
    return Check("dmarc", "warning", f"no DMARC record for {probe.domain} or any parent: {advice}")


def _judged(probe: SenderProbe, name: str, tags: dict[str, str]) -> Check:
    own = name == probe.domain
    key = "p" if own or "sp" not in tags else "sp"
    policy = tags.get(key, "none").lower()
    where = "" if own else f" (found at {name}{', a public suffix domain: psd=y' if tags.get('psd', '').lower() == 'y' else ''})"
    shown = f"{key}={policy}{where}, aspf={tags.get('aspf', 'r')}, adkim={tags.get('adkim', 'r')}"
    met = probe.spf_pass or probe.dkim_valid
    if policy == "none" or met:
        how = "SPF passes for every sending address" if probe.spf_pass else "a declared DKIM selector is valid" if met else "no enforcement"
        return Check("dmarc", "ok", f"DMARC {shown}: {how}")
    fate = "quarantined (spam folder)" if policy == "quarantine" else "rejected"
    return Check(
        "dmarc",
        "error",
        f"DMARC {shown}, and this pair cannot meet it (no SPF pass and no valid DKIM selector): its mail will be {fate}",
    )
