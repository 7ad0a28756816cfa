"""`k=v; k=v` tag lists, as DMARC and DKIM records write them."""

from __future__ import annotations


def record_tags(record: str, *, fold_case: bool) -> dict[str, str]:
    """The tags, the first of a repeated key kept. DMARC's tag names are ABNF strings, matched in
    any case (RFC 5234 2.3): `fold_case=True` lower-cases them. DKIM's are case-sensitive
    (RFC 6376 3.2: "Tags MUST be interpreted in a case-sensitive manner"): `fold_case=False`."""
    out: dict[str, str] = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            key = key.strip()
            out.setdefault(key.lower() if fold_case else key, value.strip())
    return out
