"""The `dmarc` sender check: policy discovery by the DNS tree walk of RFC 9989 (DMARCbis), and
whether the pair can meet the policy.

The walk asks `_dmarc.<domain>`; without a valid record there, it drops labels
from the left (a name of more than 8 labels is first cut to 7) until a record is
found or no label is left. A record found above the From domain applies its `sp=`
(else `p=`); `psd=y` marks a public suffix domain's record. A pair meets the
policy when SPF passes for every sending address or a declared DKIM selector is
valid: both are aligned by construction (SPF is evaluated on the From domain, and
selectors are declared under it). That evidence comes in as arguments.
"""

from __future__ import annotations

from notifycfg.doctor.facts import Fact
from notifycfg.doctor.model import Check
from notifycfg.doctor.senders.lookups import Lookups
from notifycfg.doctor.senders.tags import record_tags

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


def _record(lookups: Lookups, name: str) -> tuple[str | None, Check | None]:
    """(the record, None), (None, the check saying why it is invalid), or (None, None) when there is none."""
    found = [r for r in lookups.get(f"_dmarc.{name}", "TXT") if r.lower().startswith("v=dmarc1")]
    if not found:
        return None, None
    if len(found) > 1:
        return None, Check("dmarc", "error", "dmarc.duplicate", {"name": name, "count": len(found)})
    tags = record_tags(found[0], fold_case=True)
    if found[0].split(";")[0].strip() != "v=DMARC1":
        return None, Check("dmarc", "error", "dmarc.bad_version", {"name": name})
    for key in ("p", "sp"):
        if key in tags and tags[key].lower() not in POLICIES:
            return None, Check("dmarc", "error", "dmarc.bad_policy", {"name": name, "tag": key, "value": tags[key]})
    return found[0], None


def dmarc_check(lookups: Lookups, domain: str, *, spf_pass: bool, dkim_valid: bool) -> Check:
    """`spf_pass`: SPF passes for every sending address; `dkim_valid`: a declared selector is valid."""
    for name in walk(domain):
        record, invalid = _record(lookups, name)
        if invalid is not None:
            return invalid
        if record is not None:
            return _judged(domain, name, record_tags(record, fold_case=True), spf_pass, dkim_valid)
    return Check("dmarc", "warning", "dmarc.none", {"domain": domain})


def _judged(domain: str, name: str, tags: dict[str, str], spf_pass: bool, dkim_valid: bool) -> Check:
    own = name == domain
    key = "p" if own or "sp" not in tags else "sp"
    policy = tags.get(key, "none").lower()
    facts: dict[str, Fact] = {
        "domain": domain,
        "tag": key,
        "policy": policy,
        "found_at": None if own else name,
        "psd": tags.get("psd", "").lower() == "y",
        "aspf": tags.get("aspf", "r"),
        "adkim": tags.get("adkim", "r"),
    }
    if policy == "none" or spf_pass or dkim_valid:
        how = "spf" if spf_pass else "dkim" if dkim_valid else "none"
        return Check("dmarc", "ok", "dmarc.met", {**facts, "by": how})
    return Check("dmarc", "error", "dmarc.unmet", facts)
