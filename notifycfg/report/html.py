"""A self-contained HTML report of a flows run, for CI artefacts: nothing loaded from outside, no script.

Failures first. Each flow shows its expectations against what the harness
captured, and each captured message: its headers, its text, and its HTML
rendered in a sandboxed frame (`srcdoc`, empty `sandbox`), under the report's
own Content-Security-Policy, which the frame inherits: no script runs and
nothing is fetched, whatever the message holds. The HTML was made inert when
it was captured (notify.flows).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # reporters only read other rooms' results
    from notifycfg.notify.flows import Captured, FlowResult, FlowsResult

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self' about:; base-uri 'none'; form-action 'none'"
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1d232a; }
h1 { font-size: 20px; } .summary { margin-bottom: 16px; }
details { border: 1px solid #dde1e6; border-radius: 6px; margin: 8px 0; padding: 6px 10px; }
summary { cursor: pointer; font-weight: 600; } .pass { color: #1b7f3b; } .fail { color: #b00020; }
table { border-collapse: collapse; margin: 6px 0; }
td, th { border: 1px solid #eef0f3; padding: 3px 8px; text-align: left; vertical-align: top; }
pre { white-space: pre-wrap; word-break: break-word; background: #fafbfc; padding: 8px; }
iframe { width: 100%; height: 320px; border: 1px solid #dde1e6; } ul.failures { color: #b00020; }
"""
_EXPECT_TO_CAPTURED = {
    "to": lambda c: ", ".join(sorted({r for m in c for r in m.rcpt_to})),
    "from": lambda c: ", ".join(m.from_header for m in c),
    "subject": lambda c: ", ".join(m.subject for m in c),
    "tls": lambda c: ", ".join(str(m.tls).lower() for m in c),
    "auth_user": lambda c: ", ".join(m.auth_user or "(anonymous)" for m in c),
}


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _expectations(result: FlowResult) -> str:
    rows = []
    for key, expected in result.flow.expect.items():
        if key == "messages":
            got: Any = result.messages
        elif key == "refused":
            got = result.outcome
        else:
            got = _EXPECT_TO_CAPTURED.get(key, lambda c: "(see the message below)")(result.captured)
        rows.append(f"<tr><td>{_e(key)}</td><td>{_e(expected)}</td><td>{_e(got)}</td></tr>")
    return "<table><tr><th>expectation</th><th>expected</th><th>captured</th></tr>" + "".join(rows) + "</table>"


def _message(index: int, m: Captured) -> str:
    headers = "".join(f"<tr><td>{_e(name)}</td><td>{_e(value)}</td></tr>" for name, value in m.headers)
    frame = f'<iframe sandbox="" srcdoc="{_e(m.html)}" title="HTML part {index}"></iframe>' if m.html else "<p>(no HTML part)</p>"
    return (
        f"<details><summary>Message {index}: {_e(m.subject)}</summary>"
        f"<p>{_e(m.mail_from)} &rarr; {_e(', '.join(m.rcpt_to))} &middot; {'TLS ' + _e(m.tls_version or '') if m.tls else 'no TLS'}"
        f" &middot; {'AUTH ' + _e(m.auth_user) if m.auth_user else 'anonymous'}</p>"
        f"{frame}<pre>{_e(m.text)}</pre><table>{headers}</table></details>"
    )


def _flow(result: FlowResult) -> str:
    verdict = '<span class="pass">PASS</span>' if result.passed else '<span class="fail">FAIL</span>'
    failures = "".join(f"<li>{_e(f)}</li>" for f in result.failures)
    body = (
        f"<p>{_e(result.flow.org)} &middot; {_e(result.flow.event)} &middot; {_e(result.outcome)} &middot; {result.seconds:.2f} s"
        f" &middot; <code>{_e(result.flow.file)}</code></p>"
        + (f'<ul class="failures">{failures}</ul>' if failures else "")
        + _expectations(result)
        + "".join(_message(i, m) for i, m in enumerate(result.captured, 1))
    )
    opened = "" if result.passed else " open"
    return f"<details{opened}><summary>{verdict} {_e(result.flow.name)}</summary>{body}</details>"


def flows(run: FlowsResult) -> str:
    results, title = run.results, run.title
    ordered = sorted(results, key=lambda r: (r.passed, r.flow.name))  # failures first
    passed = run.passed
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{_e(title)}</h1><p class="summary">{passed} passed, {len(results) - passed} failed</p>'
        + "".join(_flow(r) for r in ordered)
        + "</body></html>\n"
    )
