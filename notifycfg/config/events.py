"""The event catalogue: what each notification says, to whom, with which parameters.

Pure data, string templates and the parameter checks (no SMTP): the validate
path reads it to check flow files. Sending fills the templates in
(notify/render.py, `string.Template`, every parameter HTML-escaped in HTML).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEVERITIES = ("info", "success", "warn", "error", "fatal")
_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class Event:
    id: str
    category: str  # the notifications.<category> key that enables it
    summary: str
    params: tuple[str, ...]  # required, besides `severity` for alerts
    subject: str
    text: str
    html: str
    to_user: bool = False  # sent to the user who asked (`user_email`), not to the category's recipients
    alert: bool = False  # carries a severity

    def required(self) -> tuple[str, ...]:
        return self.params + (("severity",) if self.alert else ())


def _alert(subject: str) -> str:
    return "[${SEVERITY}] " + subject


EVENTS: dict[str, Event] = {
    e.id: e
    for e in [
        Event(
            "password_reset",
            "password_recovery",
            "A user asked to reset their password.",
            ("user_email", "reset_link", "expires_minutes"),
            "Reset your password",
            "Someone asked to reset the password of ${user_email}.\n\nReset it here: ${reset_link}\n"
            "The link expires in ${expires_minutes} minutes. If it was not you, ignore this message.\n",
            "<p>Someone asked to reset the password of ${user_email}.</p>"
            '<p><a href="${reset_link}">Reset your password</a></p>'
            "<p>The link expires in ${expires_minutes} minutes. If it was not you, ignore this message.</p>",
            to_user=True,
        ),
        Event(
            "license_expiring",
            "license_status",
            "A license expires soon.",
            ("license_name", "days_left"),
            "License ${license_name} expires in ${days_left} days",
            "The license ${license_name} expires in ${days_left} days. Renew it to avoid interruption.\n",
            "<p>The license <b>${license_name}</b> expires in ${days_left} days. Renew it to avoid interruption.</p>",
        ),
        Event(
            "license_expired",
            "license_status",
            "A license has expired.",
            ("license_name",),
            "License ${license_name} has expired",
            "The license ${license_name} has expired. Licensed features are unavailable until it is renewed.\n",
            "<p>The license <b>${license_name}</b> has expired. Licensed features are unavailable until it is renewed.</p>",
        ),
        Event(
            "product_release",
            "product_updates",
            "A new product version is out.",
            ("product", "version", "notes_url"),
            "${product} ${version} is available",
            "${product} ${version} is available. Release notes: ${notes_url}\n",
            '<p>${product} ${version} is available. <a href="${notes_url}">Release notes</a></p>',
        ),
        Event(
            "job_faulted",
            "job_alerts",
            "A job failed.",
            ("job_name", "process", "error"),
            _alert("Job ${job_name} faulted"),
            "Job ${job_name} (process ${process}) faulted: ${error}\n",
            "<p>Job <b>${job_name}</b> (process ${process}) faulted:</p><pre>${error}</pre>",
            alert=True,
        ),
        Event(
            "job_completed",
            "job_alerts",
            "A job finished.",
            ("job_name", "process"),
            _alert("Job ${job_name} completed"),
            "Job ${job_name} (process ${process}) completed.\n",
            "<p>Job <b>${job_name}</b> (process ${process}) completed.</p>",
            alert=True,
        ),
        Event(
            "robot_disconnected",
            "robot_alerts",
            "A robot lost its connection.",
            ("robot_name", "machine"),
            _alert("Robot ${robot_name} disconnected"),
            "Robot ${robot_name} on ${machine} disconnected.\n",
            "<p>Robot <b>${robot_name}</b> on ${machine} disconnected.</p>",
            alert=True,
        ),
        Event(
            "robot_unresponsive",
            "robot_alerts",
            "A robot stopped answering.",
            ("robot_name", "machine", "minutes"),
            _alert("Robot ${robot_name} unresponsive"),
            "Robot ${robot_name} on ${machine} has not answered for ${minutes} minutes.\n",
            "<p>Robot <b>${robot_name}</b> on ${machine} has not answered for ${minutes} minutes.</p>",
            alert=True,
        ),
    ]
}


def check_params(event: Event, params: dict[str, object]) -> list[str]:
    """Every problem with `params` for `event`, as messages (empty when fine)."""
    problems = []
    missing = [p for p in event.required() if p not in params]
    unknown = sorted(set(params) - set(event.required()))
    if missing:
        problems.append(f"missing parameter(s) for {event.id}: {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown parameter(s) for {event.id}: {', '.join(unknown)} (expected {', '.join(event.required())})")
    severity = params.get("severity")
    if event.alert and severity is not None and severity not in SEVERITIES:
        problems.append(f"severity must be one of {', '.join(SEVERITIES)}")
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            problems.append(f"parameter {name} must be a string or an integer")
        elif isinstance(value, str) and any(c in value for c in "\r\n\x00"):
            problems.append(f"parameter {name} contains a line break (it could end up in a header)")
    for name in ("reset_link", "notes_url"):
        if name in params and not _URL.fullmatch(str(params[name])):
            problems.append(f"parameter {name} must be an http(s) URL")
    return problems
