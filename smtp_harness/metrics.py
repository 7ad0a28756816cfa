"""GET /metrics: the harness's counters in Prometheus's text exposition format (version 0.0.4), written
here rather than with prometheus-client: a dozen lines, no registry, no dependency. Behind the same
Host check and auth as everything else (security.py)."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from smtp_harness.counters import Counters
from smtp_harness.http_state import STATE

routes = web.RouteTableDef()
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _family(name: str, kind: str, help_text: str, samples: Sequence[tuple[str, int]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    return lines + [f"{name}{labels} {value}" for labels, value in samples]


def exposition(c: Counters, store_stats: dict[str, int]) -> str:
    lines = _family("smtp_harness_messages_accepted_total", "counter", "Messages accepted and stored.", [("", c.accepted)])
    lines += _family("smtp_harness_accepted_bytes_total", "counter", "Bytes of the messages accepted.", [("", c.accepted_bytes)])
    refused = [(f'{{reason="{_label(r)}"}}', n) for r, n in sorted(c.refused.items())]
    lines += _family("smtp_harness_messages_refused_total", "counter", "Transactions refused, by reason.", refused)
    fired = [(f'{{stage="{_label(s)}"}}', n) for s, n in sorted(c.faults.items())]
    lines += _family("smtp_harness_faults_fired_total", "counter", "Faults that fired, by SMTP stage.", fired)
    lines += _family("smtp_harness_sessions_total", "counter", "SMTP sessions opened.", [("", c.sessions)])
    lines += _family(
        "smtp_harness_tls_handshakes_total", "counter", "TLS handshakes completed (STARTTLS or implicit).", [("", c.tls_handshakes)]
    )
    lines += _family("smtp_harness_messages_deleted_total", "counter", "Messages deleted through the HTTP API.", [("", c.deleted)])
    lines += _family("smtp_harness_store_messages", "gauge", "Messages in the store.", [("", store_stats["total"])])
    lines += _family("smtp_harness_store_bytes", "gauge", "Bytes the store holds.", [("", store_stats["bytes"])])
    return "\n".join(lines) + "\n"


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = exposition(state.counters.snapshot(), state.store.stats())
    return web.Response(body=body.encode("utf-8"), headers={"Content-Type": CONTENT_TYPE})
