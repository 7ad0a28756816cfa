"""An event's subject, text and HTML, filled in for sending (the catalogue itself, and the parameter
checks validation shares, live in config/events.py)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from string import Template

from notifycfg.config.events import Event, check_params


class ParameterError(ValueError):
    """Parameters an event cannot be rendered with."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(event: Event, params: dict[str, object]) -> Rendered:
    problems = check_params(event, params)
    if problems:
        raise ParameterError("; ".join(problems))
    values = {k: str(v) for k, v in params.items()}
    if event.alert:
        values["SEVERITY"] = values["severity"].upper()
    escaped = {k: escape(v, quote=True) for k, v in values.items()}
    return Rendered(
        Template(event.subject).substitute(values),
        Template(event.text).substitute(values),
        "<!doctype html><html><body>" + Template(event.html).substitute(escaped) + "</body></html>",
    )


def test_email(org: str) -> Rendered:
    """The portal's "send a test email": no category, always sent."""
    text = f"This is a test email from notifycfg for organization {org}.\nIf you can read it, its mail settings work.\n"
    return Rendered(
        f"Test email for {org}",
        text,
        f"<!doctype html><html><body><p>This is a test email from notifycfg for organization <b>{escape(org)}</b>."
        "</p><p>If you can read it, its mail settings work.</p></body></html>",
    )
