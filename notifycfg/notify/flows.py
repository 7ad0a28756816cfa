"""Flow specs -> real sends through the harness -> checked expectations.

One harness pool per run; one harness per security profile (TLS mode, AUTH
or not, and any flow-specific misbehaviour), each mirroring what the
organizations' settings promise: STARTTLS required for `secure: true`,
implicit TLS on 465, AUTH required with the organization's login and a
generated password standing in for the secret. Every message carries an
`X-Notifycfg-Flow` header, so concurrent flows never see each other's mail.
"""

from __future__ import annotations

import re
import secrets as token_source
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from notifycfg.compile.endpoint import Connection, TlsMode, connection
from notifycfg.compile.environment import Environment
from notifycfg.config import events
from notifycfg.config.loader import Document
from notifycfg.datapath import JsonObject
from notifycfg.notify import mailer, messages
from notifycfg.notify.render import render

FLOW_HEADER = "X-Notifycfg-Flow"


@dataclass(frozen=True)
class Flow:
    name: str
    file: str
    org: str
    event: str
    params: JsonObject
    server: JsonObject
    expect: JsonObject

    @classmethod
    def from_document(cls, doc: Document) -> Flow:
        data = doc.data
        return cls(
            Path(doc.file).stem,
            doc.file,
            data["org"],
            data["event"],
            dict(data.get("params", {})),
            dict(data.get("server", {})),
            dict(data["expect"]),
        )


@dataclass(frozen=True)
class Captured:
    """What the harness received for a flow, as plain data; `html` is already made inert for display."""

    mail_from: str
    rcpt_to: tuple[str, ...]
    subject: str
    from_header: str
    tls: bool
    tls_version: str | None
    auth_user: str | None
    headers: tuple[tuple[str, str], ...]
    text: str
    html: str


@dataclass
class FlowResult:
    flow: Flow
    failures: list[str] = field(default_factory=list)
    messages: int = 0
    seconds: float = 0.0
    outcome: str = ""  # "sent", "not sent (disabled)", or the refusal
    captured: list[Captured] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class FlowsResult:
    """Every flow's result, in the flows' order, under a title for reports; all passed is exit 0."""

    results: list[FlowResult]
    title: str = "notifycfg flows"

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def ok(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def flows_of(env: Environment) -> list[Flow]:
    """The environment's flow files, by name."""
    return sorted((Flow.from_document(d) for d in env.documents.values() if d.kind == "flow"), key=lambda f: f.name)


@dataclass(frozen=True)
class _Profile:
    tls: str
    authenticated: bool
    faults: tuple[str, ...]  # flows with faults get a harness of their own

    def config(self, users: dict[str, str]) -> dict[str, Any]:
        return {
            "tls": self.tls,
            "users": users if self.authenticated else {},
            "auth_required": self.authenticated,
            "require_tls": self.tls == "starttls",
            "faults": list(self.faults),
            "http": False,
        }


# The harness's TLS mode that mirrors each endpoint's.
_HARNESS_TLS: dict[TlsMode, str] = {"implicit": "implicit", "starttls": "starttls", "plain": "off"}


def _profile(flow: Flow, settings: Connection) -> _Profile:
    mirrored = _HARNESS_TLS[settings.endpoint.tls]
    return _Profile(flow.server.get("tls", mirrored), settings.login is not None, tuple(flow.server.get("faults", [])))


def run(env: Environment, flows: list[Flow], workers: int = 8) -> list[FlowResult]:
    """Run every flow against in-process harnesses; results in the flows' order."""
    from smtp_harness import HarnessPool

    effective = env.all_effective(sorted({f.org for f in flows}))
    transports = {org: connection(e.data) for org, e in effective.items()}
    passwords = {t.login: token_source.token_urlsafe(18) for t in transports.values() if t.login}
    profiles = {f.name: _profile(f, transports[f.org]) for f in flows}
    with HarnessPool() as pool:
        harnesses = {p: pool.start(**p.config(passwords)) for p in sorted(set(profiles.values()), key=repr)}
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(flows)))) as executor:
            jobs = [
                executor.submit(_run_one, f, effective[f.org].data, transports[f.org], harnesses[profiles[f.name]], passwords)
                for f in flows
            ]
            return [job.result() for job in jobs]


def _run_one(flow: Flow, data: dict[str, Any], transport: Connection, harness: Any, passwords: dict[str, str]) -> FlowResult:
    started = time.perf_counter()
    result = FlowResult(flow)
    event = events.EVENTS[flow.event]
    refused: mailer.SendError | None = None
    settings = data["notifications"][event.category]
    if not settings.get("enabled"):
        result.outcome = "not sent (event disabled)"
    else:
        recipients = [str(flow.params["user_email"])] if event.to_user else list(settings.get("recipients", []))
        message = messages.build(render(event, flow.params), data["email"]["from"], recipients, {FLOW_HEADER: flow.name})
        try:
            mailer.send(
                message,
                recipients,
                transport,
                server=(harness.host, harness.port),
                cafile=str(harness.ca_path) if harness.ca_path else None,
                timeout=15,
                resolve=lambda ref: passwords[transport.login or ""],
            )
            result.outcome = "sent"
        except mailer.SendError as exc:
            refused = exc
            why = exc.explained
            result.outcome = f"refused ({exc.kind}): {exc.message}" + (f"; {why}" if why else "")
    captured = [m for m in harness.store.messages() if m.header(FLOW_HEADER) == flow.name]
    result.messages = len(captured)
    result.captured = [_plain(m) for m in captured]
    result.failures = _check(flow.expect, captured, refused)
    result.seconds = time.perf_counter() - started
    return result


def _plain(m: Any) -> Captured:
    from smtp_harness.sanitize import inert_html

    return Captured(
        m.mail_from,
        tuple(m.rcpt_to),
        m.subject or "",
        m.header("From") or "",
        m.tls,
        m.tls_version,
        m.auth_user,
        tuple((name, value) for name, value in m.headers),
        m.text or "",
        inert_html(m.html or ""),
    )


def _check(expect: dict[str, Any], captured: list[Any], refused: mailer.SendError | None) -> list[str]:
    failures: list[str] = []
    wanted_refusal = expect.get("refused")
    if wanted_refusal is not None:
        if refused is None:
            failures.append(f"expected the send to be refused ({wanted_refusal}), but it was accepted")
        elif refused.kind != wanted_refusal:
            failures.append(f"expected a {wanted_refusal} refusal, got {refused.kind}: {refused.message}")
    elif refused is not None:
        failures.append(f"send failed ({refused.kind}): {refused.message}")
    if "messages" in expect and len(captured) != expect["messages"]:
        failures.append(f"expected {expect['messages']} message(s), the server received {len(captured)}")
    if "to" in expect:
        got = sorted({r.lower() for m in captured for r in m.rcpt_to})
        if got != sorted({r.lower() for r in expect["to"]}):
            failures.append(f"expected recipients {sorted(expect['to'])}, got {got}")
    for m in captured:
        failures += _check_message(expect, m)
    return failures


def _check_message(expect: dict[str, Any], m: Any) -> list[str]:
    failures = []
    (name, address), *_ = getaddresses([m.header("From") or ""]) or [("", "")]
    if "from" in expect and address.lower() != expect["from"].lower():
        failures.append(f"message {m.id}: From address {address!r}, expected {expect['from']!r}")
    if "from_name" in expect and name != expect["from_name"]:
        failures.append(f"message {m.id}: From name {name!r}, expected {expect['from_name']!r}")
    if "subject" in expect and not re.search(expect["subject"], m.subject or ""):
        failures.append(f"message {m.id}: subject {m.subject!r} does not match /{expect['subject']}/")
    for text in expect.get("body_contains", []):
        if text not in (m.text or ""):
            failures.append(f"message {m.id}: body does not contain {text!r}")
    if "tls" in expect and m.tls != expect["tls"]:
        failures.append(f"message {m.id}: arrived {'over' if m.tls else 'without'} TLS, expected tls: {expect['tls']}")
    if "auth_user" in expect and m.auth_user != expect["auth_user"]:
        failures.append(f"message {m.id}: authenticated as {m.auth_user!r}, expected {expect['auth_user']!r}")
    if expect.get("anonymous") and m.auth_user is not None:
        failures.append(f"message {m.id}: authenticated as {m.auth_user!r}, expected anonymous")
    return failures
