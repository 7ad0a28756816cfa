"""Every sentence doctor says: a check's code and facts, rendered into words here and only here.

Text from outside reaches no output unescaped: a server's reply goes through `outside.shown()`, and
every sentence through `outside.visible()` (a DNS record's newline or escape byte is shown, not obeyed).
docs/doctor.md lists every code; `CODES` is that list (a test holds them equal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from notifycfg.doctor.facts import MAX_ADDRESSES, MAX_NAMES, SENDER_STEPS, SPF_RESULTS, STEPS, Fact, Facts
from notifycfg.outside import shown, visible
from notifycfg.providers.catalogue import Explanation, words


def _items(value: Fact) -> list[Fact]:
    return list(value) if isinstance(value, list) else []


def _joined(value: Fact, sep: str = ", ") -> str:
    return sep.join(str(v) for v in _items(value))


def _reply(f: Facts) -> str:
    return f"{f['reply_code']} {shown(str(f['text']))}"


# --- endpoints -------------------------------------------------------------------------------------

_DNS_FAILURE = {"NXDOMAIN": "no such name (NXDOMAIN)"}


def _unresolvable(f: Facts) -> str:
    failure = str(f["failure"])
    reason = f["detail"] if failure == "other" else _DNS_FAILURE.get(failure, failure)
    return f"{f['host']} does not resolve: {reason}"


def _port_hint(f: Facts) -> str:
    """A hint, never a verdict: which usual submission ports do answer."""
    others, found = _items(f["others"]), _items(f["open"])
    if not found:
        return f"; no other usual submission port ({', '.join(map(str, others))}) is open either"
    hint = f"port {found[0]} with secure: true" if found[0] == 465 else f"port {found[0]}"
    return f"; {', '.join(f'{p} open' for p in found)}: did you mean {hint}?"


_INJECTED_WHEN = {
    "after_starttls": "after its 220 to STARTTLS, before the TLS handshake",
    "after_handshake": "right after the TLS handshake, before the client spoke",
}
_EARLY = "; the server also offers AUTH before TLS, where a password would travel in clear"


def _verified(f: Facts) -> str:
    if f["until"] is None:
        return f"{f['version']}; the certificate for {f['host']} verifies"
    return f"{f['version']}; the certificate for {f['host']} verifies, valid until {f['until']} ({f['days']} days)"


def _auth(text: Callable[[Facts], str]) -> Callable[[Facts], str]:
    """An auth sentence: the login first, the AUTH-before-TLS flag last."""
    return lambda f: f"{f['login']}: {text(f)}{_EARLY if f.get('early') else ''}"


CONSEQUENCE = "the platform's secure connection fails when it cannot check revocation (its page asks for port 80 open)"


def _unreachable(text: Callable[[Facts], str]) -> Callable[[Facts], str]:
    return lambda f: f"{f['url']} ({f['where']}) {text(f)}: {CONSEQUENCE}"


def _outcomes(key: str, prefix: Callable[[Facts], str] = lambda f: "") -> Callable[[Facts], str]:
    """A check made of outcomes: each one's sentence, joined."""

    def render(f: Facts) -> str:
        parts = [o for o in _items(f.get(key)) if isinstance(o, dict)]
        return "; ".join(prefix(o) + _render(str(o["code"]), o) for o in parts)

    return render


_ENDPOINTS: dict[str, Callable[[Facts], str]] = {
    "dns.literal": lambda f: f"{f['host']} is an address: nothing to resolve",
    "dns.resolved": lambda f: f"{f['host']} resolves to {_joined(f['addresses'])}",
    "dns.timeout": lambda f: f"{f['host']} did not resolve within {f['timeout']:g} s",
    "dns.unresolvable": _unresolvable,
    "dns.unfinished": lambda f: f"the probe did not finish within {f['deadline']:g} s",
    "tcp.open": lambda f: f"port {f['port']} accepts connections ({f['ms']} ms)",
    "tcp.timeout": lambda f: f"{f['port']} timed out{_port_hint(f)}",
    "tcp.closed": lambda f: f"{f['port']} closed{_port_hint(f)}",
    "tcp.unreachable": lambda f: f"{f['port']} {f['reason']}{_port_hint(f)}",
    "greeting.ok": lambda f: f"220 {shown(str(f['banner']))}",
    "greeting.none": lambda f: f"no SMTP greeting: {f['error']}",
    "greeting.refused": lambda f: f"the server refused the session: {_reply(f)}",
    "ehlo.ok": lambda f: f"capabilities: {shown(_joined(f['capabilities']) or 'none', 200)}",
    "ehlo.failed": lambda f: f"EHLO failed: {f['error']}",
    "ehlo.refused": lambda f: f"EHLO refused: {_reply(f)}",
    "tls.ehlo_failed": lambda f: f"EHLO failed: {f['error']}",
    "tls.ehlo_refused": lambda f: f"EHLO refused: {_reply(f)}",
    "tls.offered_unused": lambda f: "the server offers TLS; set secure: true",
    "tls.plain": lambda f: "plain connection, as the settings say (secure: false)",
    "tls.not_offered": lambda f: "the server does not offer STARTTLS, and secure: true needs it (never downgraded)",
    "tls.starttls_failed": lambda f: f"STARTTLS failed: {f['error']}",
    "tls.starttls_refused": lambda f: f"STARTTLS refused: {_reply(f)}",
    "tls.injection": lambda f: (
        f"the server sent {f['bytes']} byte(s) {_INJECTED_WHEN[str(f['when'])]} ({shown(str(f['sample']), 40)!r}): a STARTTLS"
        " response injection (CVE-2011-0411 class) would forge the encrypted replies; refusing to go on"
    ),
    "tls.expired": lambda f: f"the certificate for {f['host']} has expired",
    "tls.not_yet_valid": lambda f: f"the certificate for {f['host']} is not valid yet",
    "tls.name_mismatch": lambda f: f"the certificate is not for {f['host']} (host name mismatch)",
    "tls.untrusted": lambda f: f"the certificate for {f['host']} is not trusted ({f['reason']}): use --cafile for a private CA",
    "tls.unverified": lambda f: f"the certificate for {f['host']} does not verify: {f['reason']}",
    "tls.old_protocol": lambda f: f"TLS handshake failed ({f['reason']}): the server offers no TLS 1.2 or later",
    "tls.handshake_failed": lambda f: f"TLS handshake failed: {f['reason']}",
    "tls.timeout": lambda f: f"no TLS handshake within {f['timeout']:g} s",
    "tls.connection_failed": lambda f: f"the connection failed during the TLS handshake: {f['reason']}",
    "tls.no_session": lambda f: "no TLS session after the handshake",
    "tls.verified": _verified,
    "tls.expiring": lambda f: f"{f['version']}; the certificate for {f['host']} expires in {f['days']} day(s), on {f['until']}",
    "auth.anonymous": lambda f: "anonymous: no AUTH is needed, none is tried",
    "auth.no_session": _auth(lambda f: "no session to log in with (a second connection failed)"),
    "auth.not_offered": _auth(lambda f: "the server offers no AUTH, and the settings log in"),
    "auth.no_mechanism": _auth(
        lambda f: f"no usable AUTH mechanism (offered: {shown(_joined(f['offered'], ' '))}; notifycfg speaks PLAIN and LOGIN)"
    ),
    "auth.offered": _auth(lambda f: f"AUTH {_joined(f['mechanisms'], '/')} offered (not tried: --login tries it)"),
    "auth.secret": _auth(lambda f: f"secret: {f['error']}"),
    "auth.failed": _auth(lambda f: f"AUTH {f['mechanism']} failed: {f['error']}"),
    "auth.ok": _auth(lambda f: f"logged in with AUTH {f['mechanism']}"),
    "auth.refused": _auth(lambda f: f"login refused: {_reply(f)}"),
}

_REVOCATION: dict[str, Callable[[Facts], str]] = {
    "revocation.no_tls": lambda f: "no TLS: no certificate to check",
    "revocation.no_urls": lambda f: "the certificate names no revocation URL: nothing the platform must reach",
    "revocation.unreadable": lambda f: f"cannot read what the server sent as its certificate: {f['error']}",
    "revocation.store_unreadable": lambda f: f"the CA bundle {f['path']} cannot be read ({f['error']}): answers not verified",
    "revocation.issuer_unknown": lambda f: f"the issuer of {f['subject']} is not among --cafile or the system's CAs: answers not verified",
    "revocation.timeout": _unreachable(lambda f: f"did not answer within {f['timeout']:g} s"),
    "revocation.unreachable": _unreachable(lambda f: f"cannot be reached: {f['error']}" if f.get("error") else "cannot be reached"),
    "revocation.http_status": _unreachable(lambda f: f"answered {f['status']}"),
    "revocation.too_large": _unreachable(lambda f: f"sent more than {int(str(f['limit'])) // 2**20} MiB"),
    "revocation.bad_coding": _unreachable(lambda f: f"sent what cannot be read: {shown(str(f['detail']), 120)}"),
    "revocation.not_crl": lambda f: f"{f['url']} did not send a CRL",
    "revocation.crl_signature": lambda f: f"the CRL at {f['url']} does not verify against its issuer",
    "revocation.revoked_crl": lambda f: f"the certificate (serial {f['serial']}) is revoked in the CRL at {f['url']}, since {f['since']}",
    "revocation.crl_stale": lambda f: f"the CRL at {f['url']} is past its nextUpdate ({f['next_update']} UTC)",
    "revocation.crl_good": lambda f: f"CRL {f['url']}: not revoked",
    "revocation.ocsp_reachable": lambda f: f"OCSP {f['url']} reachable",
    "revocation.not_ocsp": lambda f: f"{f['url']} did not send an OCSP response",
    "revocation.ocsp_failed": lambda f: f"the OCSP responder at {f['url']} answered {f['status']}",
    "revocation.ocsp_signature": lambda f: f"the OCSP answer from {f['url']} does not verify against the issuer",
    "revocation.ocsp_other": lambda f: f"the OCSP answer from {f['url']} is about another certificate",
    "revocation.revoked_ocsp": lambda f: (
        f"the certificate (serial {f['serial']}) is revoked, says {f['url']}" + (f", since {f['since']}" if f["since"] else "")
    ),
    "revocation.ocsp_stale": lambda f: f"the OCSP answer from {f['url']} is past its nextUpdate ({f['next_update']} UTC)",
    "revocation.ocsp_future": lambda f: f"the OCSP answer from {f['url']} is not valid yet (thisUpdate {f['this_update']} UTC)",
    "revocation.ocsp_unknown": lambda f: f"the OCSP responder at {f['url']} does not know the certificate (unknown)",
    "revocation.ocsp_good": lambda f: f"OCSP {f['url']}: good",
}

# --- senders ---------------------------------------------------------------------------------------


def _dns_failed(f: Facts) -> str:
    said = f"failed ({f['detail']})" if f["failure"] == "other" else f["failure"]
    return f"DNS {said} asking {f['rdtype']} {f['name']}"


def _spf(f: Facts) -> str:
    results = [r for r in _items(f["results"]) if isinstance(r, dict)]
    parts = []
    for r in results:
        cause = f" ({r['explanation']})" if r["result"] in ("permerror", "temperror", "fail") and r["explanation"] else ""
        parts.append(f"{r['result']} for {r['ip']}{cause}")
    text = f"SPF for {f['domain']}: " + "; ".join(parts)
    if any(r["result"] == "none" for r in results):
        text += f": publish a TXT record `v=spf1 ip4:… -all` at {f['domain']}"
    if f["source"] == "resolved":
        text += f" (the addresses are {f['relay']}'s A/AAAA: hosted relays often send from others; list them as sending_ips)"
    return text + _left(f)


def _dmarc_shown(f: Facts) -> str:
    where = ""
    if f["found_at"] is not None:
        where = f" (found at {f['found_at']}{', a public suffix domain: psd=y' if f['psd'] else ''})"
    return f"{f['tag']}={f['policy']}{where}, aspf={f['aspf']}, adkim={f['adkim']}"


_MET_BY = {"spf": "SPF passes for every sending address", "dkim": "a declared DKIM selector is valid", "none": "no enforcement"}


def _left(f: Facts) -> str:
    """What a capped or interrupted check did not get to, said."""
    unchecked, names = _items(f.get("unchecked")), f.get("names_not_checked") or 0
    parts = [f"not checked: {_joined(unchecked)}" if unchecked else "", f"{names} more PTR name(s) not tried" if names else ""]
    said = "; ".join(p for p in parts if p)
    return f" ({said}: at most {MAX_ADDRESSES} addresses and {MAX_NAMES} names each, within the pair's time)" if said else ""


def _unconfirmed(f: Facts) -> str:
    missing = []
    for item in _items(f["unconfirmed"]):
        if isinstance(item, dict):
            names = _joined(item["names"])
            missing.append(f"{item['ip']} ({'PTR ' + names + ' does not resolve back to it' if names else 'no PTR'})")
    return f"no forward-confirmed reverse DNS for {'; '.join(missing)}: Gmail requires it of every sender{_left(f)}"


_SENDERS: dict[str, Callable[[Facts], str]] = {
    **{f"spf.{result}": _spf for result in SPF_RESULTS},
    "spf.unfinished": lambda f: f"the sender checks did not finish within {f['deadline']:g} s",
    "spf.no_address": lambda f: f"{f['relay']} has no A/AAAA and deliverability.yaml gives it no sending_ips: nothing to evaluate",
    "dmarc.duplicate": lambda f: f"_dmarc.{f['name']} has {f['count']} DMARC records: receivers ignore them all",
    "dmarc.bad_version": lambda f: f"_dmarc.{f['name']}: the record must start with exactly `v=DMARC1`",
    "dmarc.bad_policy": lambda f: f"_dmarc.{f['name']}: `{f['tag']}={f['value']}` is not one of none, quarantine, reject",
    "dmarc.none": lambda f: (
        f"no DMARC record for {f['domain']} or any parent: publish `v=DMARC1; p=none; rua=mailto:…` at _dmarc.{f['domain']}"
    ),
    "dmarc.met": lambda f: f"DMARC {_dmarc_shown(f)}: {_MET_BY[str(f['by'])]}",
    "dmarc.unmet": lambda f: (
        f"DMARC {_dmarc_shown(f)}, and this pair cannot meet it (no SPF pass and no valid DKIM selector): its mail will be "
        + ("quarantined (spam folder)" if f["policy"] == "quarantine" else "rejected")
    ),
    "dkim.no_selectors": lambda f: f"no dkim_selectors for {f['domain']} in deliverability.yaml: nothing to check",
    "dkim.missing": lambda f: f"no DKIM key record at {f['name']}",
    "dkim.not_dkim1": lambda f: f"{f['name']} is not a v=DKIM1 record",
    "dkim.revoked": lambda f: f"the key at {f['name']} is revoked (empty p=)",
    "dkim.ed25519": lambda f: "an Ed25519 key",
    "dkim.undecodable": lambda f: f"the key at {f['name']} does not decode as an RSA public key",
    "dkim.weak": lambda f: f"a {f['bits']}-bit RSA key: under {f['minimum']} bits, receivers treat the signature as absent",
    "dkim.rsa": lambda f: f"a {f['bits']}-bit RSA key",
    "mx.null": lambda f: f"{f['domain']} publishes a null MX (RFC 7505): it receives no mail, and receivers may refuse mail from it",
    "mx.found": lambda f: f"MX {_joined(f['exchanges'])}",
    "mx.implicit": lambda f: f"no MX; its A/AAAA serve as the implicit MX ({_joined(f['addresses'])})",
    "mx.none": lambda f: f"{f['domain']} has no MX, A or AAAA: replies and bounces have nowhere to go",
    "ptr.no_address": lambda f: "no sending address to check",
    "ptr.unconfirmed": _unconfirmed,
    "ptr.confirmed": lambda f: f"forward-confirmed reverse DNS for {_joined(f['addresses'])}{_left(f)}",
    "ptr.unfinished": lambda f: f"forward-confirmed reverse DNS for {_joined(f['addresses']) or 'no address'}{_left(f)}",
}
for _step in SENDER_STEPS:
    _SENDERS[f"{_step}.dns_failure"] = lambda f: f"{_dns_failed(f)} (temperror): the check could not be made"
    _SENDERS[f"{_step}.relay_dns_failure"] = lambda f: f"{_dns_failed(f)} for the relay's addresses (temperror)"

_STEP_NAMES = {"greeting": "the greeting", "ehlo": "the EHLO answer", "tls": "the TLS handshake", "auth": "the AUTH answer"}


def _took(f: Facts) -> str:
    return f"{_STEP_NAMES.get(str(f['step']), str(f['step']))} took {f['ms']} ms"


def _budget(f: Facts) -> str:
    whose = "the platform's default" if f["default"] else "timeout_ms"
    return f"the {f['timeout_ms']} ms the platform waits for {_joined(f['orgs'])} ({whose})"


_TIMING: dict[str, Callable[[Facts], str]] = {
    "timeout.ok": lambda f: f"{_took(f)} (the slowest answer): within half of {_budget(f)}",
    "timeout.slow": lambda f: (
        f"{_took(f)}: more than half of {_budget(f)}; on a slower day it gives up: raise timeout_ms or speed up the server"
    ),
    "timeout.over": lambda f: (
        f"{_took(f)}: more than {_budget(f)}, so the platform gives up before the server answers: raise timeout_ms"
        " (at most 300000) or fix the server"
    ),
}

_SKIPPED = {f"{step}.skipped": (lambda f: "skipped: an earlier check failed") for step in (*STEPS, *SENDER_STEPS)}

WORDS: dict[str, Callable[[Facts], str]] = {**_ENDPOINTS, **_REVOCATION, **_TIMING, **_SENDERS, **_SKIPPED}
CODES: Sequence[str] = tuple(WORDS)


def explanation_words(e: Explanation) -> str:
    """`why (Microsoft 365 …): <cause> fix: <fix> source: <url>`, then the host's provider's notes."""
    return visible(words(e))


def sentence(code: str, facts: Facts) -> str:
    """The words for a check's (or an outcome's) code and facts, made visible as a whole: facts hold
    outside text (DNS records, certificates, servers), never to be obeyed."""
    return visible(_render(code, facts))


def _render(code: str, facts: Facts) -> str:
    """A combined check (revocation, dkim) holds its outcomes as facts: each is rendered by its own code, joined."""
    if "outcomes" in facts:
        return _outcomes("outcomes")(facts)
    if "selectors" in facts:
        return _outcomes("selectors", lambda o: f"{o['selector']}: ")(facts)
    return WORDS[code](facts)
