"""The server's answers against the time the platform waits for them (`email.smtp.timeout_ms`, the
platform's Email.Smtp.ConnectionTimeout): the platform gives up on a server slower than that, so a
relay that answers in 40 s works from doctor's laptop and fails in production at 30 s.

One check per distinct timeout among an endpoint's organizations, naming them: a warning once an
answer takes more than half of it, an error above it. An organization without `timeout_ms` has the
platform's default, 180000 ms; its check shows only when an answer crosses half of that, so the
usual run says nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from notifycfg.compile.endpoint import DEFAULT_TIMEOUT_MS
from notifycfg.doctor.facts import AnsweredStep, Fact
from notifycfg.doctor.model import Check, Status

_CODES: dict[Status, str] = {"ok": "timeout.ok", "warning": "timeout.slow", "error": "timeout.over"}


@dataclass(frozen=True)
class Budget:
    """How long the platform waits for these organizations' server, and whether they said so."""

    ms: int
    orgs: tuple[str, ...]
    explicit: bool  # timeout_ms is set; False: the platform's default


def budgets(timeouts: Mapping[str, int | None]) -> list[Budget]:
    """Organizations grouped by the timeout they give the platform (None: the default), smallest first."""
    by_value: dict[tuple[int, bool], list[str]] = {}
    for org, ms in sorted(timeouts.items()):
        by_value.setdefault((DEFAULT_TIMEOUT_MS, False) if ms is None else (ms, True), []).append(org)
    return [Budget(ms, tuple(orgs), explicit) for (ms, explicit), orgs in sorted(by_value.items())]


def timing_checks(answers: Mapping[AnsweredStep, float], timeouts: Mapping[str, int | None]) -> list[Check]:
    """A `timeout` check per budget worth showing; none when nothing was answered (an earlier check says why)."""
    if not answers:
        return []
    step, seconds = max(answers.items(), key=lambda item: item[1])
    slowest = round(seconds * 1000)
    measured: dict[str, Fact] = {name: round(value * 1000) for name, value in answers.items()}
    out = []
    for budget in budgets(timeouts):
        status: Status = "error" if slowest > budget.ms else "warning" if slowest * 2 > budget.ms else "ok"
        if status == "ok" and not budget.explicit:
            continue
        facts: dict[str, Fact] = {
            "step": step,
            "ms": slowest,
            "timeout_ms": budget.ms,
            "default": not budget.explicit,
            "orgs": list(budget.orgs),
            "answers": measured,
        }
        out.append(Check("timeout", status, _CODES[status], facts))
    return out
