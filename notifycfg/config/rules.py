"""The rule catalogue: every problem notifycfg reports has an id here.

A rule is data: id, name, severity, one-line summary. Loader (L) and schema
(S, plus R001-R003) rules are raised where files are read and schemas
checked; the semantic rules below (R004+) carry a check over a schema-valid
document. README's rule table is generated from this list (tests keep them in
step).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from notifycfg.config import schema
from notifycfg.config.formats import display_name_change
from notifycfg.config.problems import Severity
from notifycfg.datapath import DataPath, Json, dig, has_path

if TYPE_CHECKING:
    from notifycfg.providers.catalogue import Provider, Tls


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str
    scope: DataPath = ()  # the check runs only on documents that have this path


SMTP: DataPath = ("email", "smtp")
SENDER: DataPath = ("email", "from")
EVENTS_SCOPE: DataPath = ("notifications",)

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in [
        Rule("L001", "yaml-syntax", "error", "The file is not valid YAML."),
        Rule("L002", "duplicate-key", "error", "A key appears twice in one mapping; YAML would silently keep the last."),
        Rule("L003", "yaml-bomb", "error", "Nesting deeper than 64 levels, alias cycles, or aliases expanding past 10,000 values."),
        Rule("L004", "non-string-key", "error", "A key YAML reads as a boolean, number, null, list or mapping."),
        Rule("L005", "multiple-documents", "error", "More than one YAML document (`---`) in a file."),
        Rule("L006", "not-a-mapping", "error", "The top level of the file is not a mapping."),
        Rule("L007", "invalid-utf8", "error", "The file is not valid UTF-8."),
        Rule("L008", "file-too-large", "error", "The file is larger than 1 MiB."),
        Rule("L009", "bad-file-name", "error", "An organization or flow file name is not a valid id ending in `.yaml`."),
        Rule("L010", "unreadable", "error", "The file cannot be read."),
        Rule("L011", "yaml-tag", "error", "A YAML tag (`!!python/object`, `!!binary`, ...): only plain data is accepted."),
        Rule("L012", "missing-host", "error", "An environment directory without `host.yaml`."),
        Rule("L013", "unknown-file", "error", "A file that is neither `host.yaml`, `orgs/<id>.yaml` nor `flows/<name>.yaml`."),
        Rule("S001", "unknown-key", "error", "A key the schema does not define (with the closest known key)."),
        Rule("S002", "missing-key", "error", "A required key is missing."),
        Rule("S003", "wrong-type", "error", "A value of the wrong type (including YAML 1.1 `no`/`on` read as booleans)."),
        Rule("S004", "null-value", "error", "A key with no value: `null` is never a value; remove the key instead."),
        Rule("S005", "out-of-range", "error", "A number, length or list size outside its bounds (port 1..65535, `timeout_ms` 1..300000)."),
        Rule("S006", "bad-form", "error", "A value not of the expected form (host name, domain, secret reference)."),
        Rule("S007", "not-accepted", "error", "A value the schema does not accept."),
        Rule("R001", "invalid-address", "error", "An email address that is not valid (syntax only, no DNS)."),
        Rule("R002", "header-injection", "error", "A line break or control character in a value that ends up in a mail header."),
        Rule("R003", "plaintext-secret", "error", "A password written in plain text instead of {env: NAME} or {file: PATH}."),
        Rule("R004", "username-without-password", "error", "`smtp.username` is set but `smtp.password` is not.", SMTP),
        Rule("R005", "password-without-username", "error", "`smtp.password` is set but `smtp.username` is not.", SMTP),
        Rule("R006", "domain-without-username", "error", "`smtp.domain` is set but `smtp.username` is not.", SMTP),
        Rule("R007", "secure-on-port-25", "warning", "`secure: true` on port 25: relays rarely offer STARTTLS (use 587 or 465).", SMTP),
        Rule("R008", "plaintext-on-465", "error", "`secure: false` on port 465, which speaks TLS from the first byte.", SMTP),
        Rule("R009", "credentials-in-clear", "warning", "A username and password sent over a connection without TLS.", SMTP),
        Rule("R010", "no-recipients", "error", "An enabled event that needs recipients has none.", EVENTS_SCOPE),
        Rule("R011", "duplicate-recipient", "warning", "The same recipient listed twice for one event.", EVENTS_SCOPE),
        Rule(
            "R012",
            "implicit-anonymous",
            "warning",
            "An organization's own SMTP server without a username and without `anonymous: true`.",
            SMTP,
        ),
        Rule("R013", "anonymous-with-username", "error", "`anonymous: true` and a username at once.", SMTP),
        Rule(
            "R014",
            "display-name-like-address",
            "warning",
            "A sender display name that looks like an email address or holds `<` or `>`: readers may take it for the sender.",
            SENDER,
        ),
        Rule(
            "R015",
            "display-name-not-kept",
            "error",
            "A sender display name mail readers would change: spaces at either end or in a run, or `=?` (read as an encoded word).",
            SENDER,
        ),
        Rule(
            "M001",
            "relay-port-tls",
            "error",
            "A port and TLS mode the relay does not document (an error where its documentation lists every one that works).",
            SMTP,
        ),
        Rule("M002", "relay-login", "error", "A login the relay refuses: none where it needs one, or a username of the wrong form.", SMTP),
        Rule(
            "M003",
            "relay-advisory",
            "warning",
            "A dated change at the relay that concerns these settings: a notice 60 days before, a warning once in force.",
            SMTP,
        ),
        Rule(
            "M004",
            "relay-send-as",
            "warning",
            "A From address other than the mailbox that signs in, at a relay that needs Send As for it.",
            (),
        ),
        Rule("F001", "flow-unknown-org", "error", "A flow names an organization that has no `orgs/<org-id>.yaml`.", ("org",)),
        Rule(
            "F002", "flow-params", "error", "A flow's parameters do not fit its event (missing, unknown, or not header-safe).", ("event",)
        ),
        Rule(
            "P001", "insecure-platform-url", "error", "A platform URL that is not https (plain http only for a loopback address).", ("url",)
        ),
        Rule("P002", "duplicate-partition", "error", "The same partitionGlobalId given to two partitions.", ("host_partition",)),
        Rule("P003", "unmapped-org", "error", "An organization file with no partition in platform.yaml.", ("orgs",)),
        Rule("P004", "mapped-org-without-file", "warning", "A partition in platform.yaml for an organization with no file.", ("orgs",)),
        Rule(
            "D002",
            "unused-deliverability-entry",
            "warning",
            "A relay or domain in deliverability.yaml that no organization sends through or from.",
            (),
        ),
        Rule(
            "D001",
            "bad-sending-ip",
            "error",
            "A relay's sending address in deliverability.yaml that is not an IPv4 or IPv6 address.",
            ("relays",),
        ),
    ]
}


@dataclass(frozen=True)
class Finding:
    """What a check found: where (data path, key or value), and what."""

    path: DataPath
    message: str
    at_key: bool = False
    severity: Severity | None = None  # the rule's own unless the finding says (a relay rule: the catalogue decides)


@dataclass(frozen=True)
class Senders:
    relays: frozenset[str]  # effective email.smtp.host, as written
    domains: frozenset[str]  # effective From-address domains, lower case


class Context:
    """What a check may look at: the document and, on demand, effective values."""

    def __init__(
        self,
        kind: str,
        data: Mapping[str, Json],
        effective_at: Callable[[DataPath], Json],
        org_ids: Callable[[], frozenset[str] | None] = lambda: None,
        senders: Callable[[], Senders | None] = lambda: None,
    ) -> None:
        self.kind = kind
        self.data = data
        # Layering costs more than every other check together: only pay when asked.
        self.effective_at = effective_at
        self.org_ids = org_ids  # the environment's organizations, None when unknown
        self.senders = senders  # the relays and From domains its organizations use, None when unknown


Check = Callable[[Context], Iterator[Finding]]
CHECKS: dict[str, Check] = {}


def check(rule_id: str) -> Callable[[Check], Check]:
    if rule_id not in RULES:  # a check for a rule the catalogue does not list: a bug, found at import
        raise KeyError(f"no rule {rule_id} in the catalogue")

    def register(fn: Check) -> Check:
        CHECKS[rule_id] = fn
        return fn

    return register


def _smtp(ctx: Context) -> Mapping[str, Any] | None:
    smtp = ctx.data.get("email", {}).get("smtp")
    return smtp if isinstance(smtp, dict) else None


@check("R004")
def _username_without_password(ctx: Context) -> Iterator[Finding]:
    smtp = _smtp(ctx)
    if smtp and "username" in smtp and "password" not in smtp:
        yield Finding(SMTP + ("username",), "`username` is set without `password`: add `password: {env: NAME}`", True)


@check("R005")
def _password_without_username(ctx: Context) -> Iterator[Finding]:
    smtp = _smtp(ctx)
    if smtp and "password" in smtp and "username" not in smtp:
        yield Finding(SMTP + ("password",), "`password` is set without `username`: the server would never see it", True)


@check("R006")
def _domain_without_username(ctx: Context) -> Iterator[Finding]:
    smtp = _smtp(ctx)
    if smtp and "domain" in smtp and "username" not in smtp:
        yield Finding(SMTP + ("domain",), "`domain` qualifies the username, but there is no `username`", True)


@check("R007")
def _secure_on_25(ctx: Context) -> Iterator[Finding]:
    smtp = _smtp(ctx)
    if smtp and smtp.get("port") == 25 and smtp.get("secure", schema.default_at(SMTP + ("secure",))):
        yield Finding(
            SMTP + ("port",), "port 25 with a secure connection: relays on 25 rarely offer STARTTLS; use 587 (STARTTLS) or 465 (TLS)"
        )


@check("R008")
def _plaintext_on_465(ctx: Context) -> Iterator[Finding]:
    smtp = _smtp(ctx)
    if smtp and smtp.get("port") == 465 and smtp.get("secure") is False:
        yield Finding(SMTP + ("secure",), "port 465 speaks TLS from the first byte: `secure: false` cannot work there")


@check("R009")
def _credentials_in_clear(ctx: Context) -> Iterator[Finding]:
    smtp = _smtp(ctx)
    if smtp and "username" in smtp and smtp.get("secure") is False:
        yield Finding(SMTP + ("secure",), "credentials would be sent without TLS: set `secure: true`")


@check("R010")
def _no_recipients(ctx: Context) -> Iterator[Finding]:
    # Report where this file touches the event; inherited recipients count.
    for event, own in ctx.data.get("notifications", {}).items():
        if own.get("recipients") or own.get("enabled") is False:
            continue  # this file's own keys win: nothing to look up below it
        settings = ctx.effective_at(("notifications", event)) or {}
        if "recipients" not in settings or not settings.get("enabled") or settings["recipients"]:
            continue  # events without a recipients list go to the user who asked
        where = "enabled" if "enabled" in own else "recipients" if "recipients" in own else None
        path = ("notifications", event) + ((where,) if where else ())
        yield Finding(path, f"`{event}` is enabled but has no recipients: add `recipients: [...]` or disable it")


@check("R011")
def _duplicate_recipients(ctx: Context) -> Iterator[Finding]:
    for event, settings in ctx.data.get("notifications", {}).items():
        seen: set[str] = set()
        for index, address in enumerate(settings.get("recipients", [])):
            if address.lower() in seen:
                yield Finding(("notifications", event, "recipients", index), f"`{address}` is listed twice")
            seen.add(address.lower())


@check("R012")
def _implicit_anonymous(ctx: Context) -> Iterator[Finding]:
    smtp = _smtp(ctx)
    if ctx.kind == "org" and smtp is not None and "username" not in smtp and not smtp.get("anonymous"):
        yield Finding(SMTP, "this server has no username, so mail goes out anonymously: say `anonymous: true` if intended", True)


@check("R013")
def _anonymous_with_username(ctx: Context) -> Iterator[Finding]:
    smtp = _smtp(ctx)
    if smtp and smtp.get("anonymous") and "username" in smtp:
        yield Finding(SMTP + ("anonymous",), "`anonymous: true` contradicts `username`: remove one", True)


def _display_name(ctx: Context) -> str | None:
    name = dig(ctx.data, SENDER + ("display_name",))
    return name if isinstance(name, str) else None


_LOOKS_LIKE_ADDRESS = re.compile(r"[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+")


@check("R014")
def _display_name_like_address(ctx: Context) -> Iterator[Finding]:
    name = _display_name(ctx)
    if name is not None and (_LOOKS_LIKE_ADDRESS.search(name) or "<" in name or ">" in name):
        yield Finding(
            SENDER + ("display_name",),
            f"the display name {name!r} looks like an address or holds `<`/`>`: a reader may take it for the sender (a spoofing pattern)",
        )


@check("R015")
def _display_name_not_kept(ctx: Context) -> Iterator[Finding]:
    name = _display_name(ctx)
    problem = None if name is None else display_name_change(name)
    if problem:
        yield Finding(SENDER + ("display_name",), f"the display name {name!r} would not arrive as written: {problem}")


# --- the relays' own rules (notifycfg/providers/catalogue.json: each names its source) -----------------


_RelayCheck = Callable[[Mapping[str, Any], "Provider"], Iterator[Finding]]


def _relay_check(rule_id: str) -> Callable[[_RelayCheck], _RelayCheck]:
    """A check of this file's own server block against the catalogued provider its host is; none runs otherwise."""

    def register(fn: _RelayCheck) -> _RelayCheck:
        def run(ctx: Context) -> Iterator[Finding]:
            from notifycfg.providers.catalogue import catalogue

            smtp = _smtp(ctx)
            provider = catalogue().provider_for(smtp["host"]) if smtp and isinstance(smtp.get("host"), str) else None
            if smtp is not None and provider is not None:
                yield from fn(smtp, provider)

        check(rule_id)(run)
        return fn

    return register


def _tls(port: int, secure: bool) -> Tls:
    return "plain" if not secure else "implicit" if port == 465 else "starttls"  # compile.endpoint's rule, for a document


@_relay_check("M001")
def _relay_port_tls(smtp: Mapping[str, Any], provider: Provider) -> Iterator[Finding]:
    if not isinstance(smtp.get("port"), int):
        return
    port, secure = smtp["port"], smtp.get("secure", schema.default_at(SMTP + ("secure",)))
    mode = _tls(port, bool(secure))
    if (port, mode) not in provider.accepts:
        from notifycfg.providers.catalogue import MODES

        ways = ", ".join(f"{p} with {MODES[t]}" for p, t in provider.accepts)
        said = f"{provider.name} takes port {ways}; not port {port} with {MODES[mode]} (source: {provider.source})"
        yield Finding(SMTP + ("port",), said, severity=provider.others)


@_relay_check("M002")
def _relay_login(smtp: Mapping[str, Any], provider: Provider) -> Iterator[Finding]:
    login, username = provider.login, smtp.get("username")
    if username is None and login.required:
        yield Finding(SMTP + ("host",), f"{provider.name} needs a username and password (source: {login.source})")
    elif isinstance(username, str) and login.username is not None and not re.fullmatch(login.username.pattern, username):
        rule = login.username
        yield Finding(
            SMTP + ("username",), f"{provider.name}: {rule.says}, not {username!r} (source: {login.source})", severity=rule.severity
        )


@_relay_check("M003")
def _relay_advisory(smtp: Mapping[str, Any], provider: Provider) -> Iterator[Finding]:
    from notifycfg.providers.catalogue import today

    day = today()
    for advisory, when in [*((a, "in force since") for a in provider.in_force(day)), *((a, "from") for a in provider.coming(day))]:
        if advisory.applies == "password" and "password" not in smtp:
            continue
        severity: Severity = advisory.severity if when == "in force since" else "notice"
        text = f"{when} {advisory.effective.isoformat()}: {advisory.what} {advisory.do} (source: {advisory.source})"
        yield Finding(SMTP + ("password",) if "password" in smtp else SMTP + ("host",), text, severity=severity)


@check("M004")
def _relay_send_as(ctx: Context) -> Iterator[Finding]:
    """Judged where the From address or the server is set: the effective pair of both."""
    from notifycfg.providers.catalogue import catalogue

    own_from, own_smtp = has_path(ctx.data, SENDER + ("address",)), _smtp(ctx) is not None
    if ctx.kind not in ("host", "org") or not (own_from or own_smtp):
        return
    host, username = (ctx.effective_at(SMTP + ("host",)), ctx.effective_at(SMTP + ("username",)))
    address = ctx.effective_at(SENDER + ("address",))
    provider = catalogue().provider_for(host) if isinstance(host, str) else None
    if provider is None or not provider.login.sender_is_login or not isinstance(username, str) or not isinstance(address, str):
        return
    if "@" in username and address.lower() != username.lower():  # a bare account name is M002's finding
        where = SENDER + ("address",) if own_from else SMTP + ("username",)
        yield Finding(
            where,
            f"{provider.name} sends as the mailbox that signs in ({username}): From {address} needs Send As on it for {username}, or the"
            f" relay answers 5.7.60 (source: {provider.login.source})",
        )


@check("F001")
def _flow_unknown_org(ctx: Context) -> Iterator[Finding]:
    known = ctx.org_ids()
    if ctx.kind == "flow" and known is not None and ctx.data["org"] not in known:
        close = difflib.get_close_matches(ctx.data["org"], sorted(known), n=1)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        yield Finding(("org",), f"no organization `{ctx.data['org']}` in this environment{hint}")


@check("F002")
def _flow_params(ctx: Context) -> Iterator[Finding]:
    if ctx.kind != "flow":
        return
    from notifycfg.config.events import EVENTS, check_params  # flows only: keep it off the org-file path

    event = EVENTS[ctx.data["event"]]
    for message in check_params(event, ctx.data.get("params", {})):
        yield Finding(("params",) if "params" in ctx.data else ("event",), message)


def _secure_url(url: str) -> bool:
    from ipaddress import ip_address
    from urllib.parse import urlsplit  # platform.yaml only: off the org-file path

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme == "https":
        return bool(host)
    if parts.scheme != "http":
        return False
    try:
        return host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        return False


@check("P001")
def _platform_https(ctx: Context) -> Iterator[Finding]:
    if ctx.kind != "platform":
        return
    for key in ("url", "token_url"):
        value = ctx.data.get(key)
        if isinstance(value, str) and not _secure_url(value):
            yield Finding((key,), f"`{key}` must be an https URL (plain http only for a loopback address): client credentials travel there")


@check("P002")
def _duplicate_partition(ctx: Context) -> Iterator[Finding]:
    if ctx.kind != "platform":
        return
    seen = {str(ctx.data["host_partition"]).lower(): "the host"}
    for org, guid in ctx.data.get("orgs", {}).items():
        first = seen.setdefault(str(guid).lower(), f"`{org}`")
        if first != f"`{org}`":
            yield Finding(("orgs", org), f"partition {guid} is already {first}'s: every partition belongs to one organization")


@check("P003")
def _unmapped_org(ctx: Context) -> Iterator[Finding]:
    known = ctx.org_ids()
    if ctx.kind != "platform" or known is None:
        return
    for org in sorted(known - set(ctx.data["orgs"])):
        yield Finding(("orgs",), f"orgs/{org}.yaml has no partition: add `{org}: <partitionGlobalId>` under `orgs`", True)


@check("P004")
def _mapped_without_file(ctx: Context) -> Iterator[Finding]:
    known = ctx.org_ids()
    if ctx.kind != "platform" or known is None:
        return
    for org in sorted(set(ctx.data["orgs"]) - known):
        yield Finding(("orgs", org), f"`{org}` has a partition but no orgs/{org}.yaml: nothing is applied to it", True)


@check("D001")
def _sending_ips(ctx: Context) -> Iterator[Finding]:
    if ctx.kind != "deliverability":
        return
    from ipaddress import ip_address  # deliverability.yaml only: off the org-file path

    for relay, facts in ctx.data["relays"].items():
        for i, ip in enumerate(facts.get("sending_ips", [])):
            try:
                ip_address(ip)
            except ValueError:
                yield Finding(("relays", relay, "sending_ips", i), f"`{ip}` is not an IPv4 or IPv6 address")


@check("D002")
def _unused_entries(ctx: Context) -> Iterator[Finding]:
    used = ctx.senders() if ctx.kind == "deliverability" else None
    if used is None:
        return
    for section, known, what in (("relays", used.relays, "sends through"), ("domains", used.domains, "sends from")):
        for name in ctx.data.get(section, {}):
            if name not in known:
                yield Finding((section, name), f"`{name}`: no organization {what} it (a typo, or left over?)", True)


# The relay catalogue's advice is validate's: every other command loads an environment as it did before it.
RELAY_RULES = frozenset({"M001", "M002", "M003", "M004"})


def run_checks(ctx: Context, relays: bool = True) -> Iterator[tuple[Rule, Finding]]:
    for rule_id, fn in CHECKS.items():
        if not relays and rule_id in RELAY_RULES:
            continue
        rule = RULES[rule_id]
        if has_path(ctx.data, rule.scope):
            for finding in fn(ctx):
                yield rule, finding
