"""The HTTP API (JSON, aiohttp) on the harness's own event loop.

GET    /api/health                      readiness
GET    /api/messages?rcpt=&mail_from=&auth_user=&subject=&limit=&offset=
GET    /api/messages/{id}               headers, text, html, raw
GET    /api/messages/{id}/raw           the message as received (message/rfc822)
DELETE /api/messages                    delete all
GET    /api/stats                       store counters (evicted, rejected, ...)
GET    /api/faults   POST /api/faults   DELETE /api/faults
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from smtp_harness.config import FILTERS
from smtp_harness.faults import FaultError

if TYPE_CHECKING:
    from smtp_harness.harness import AsyncHarness


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


def _int(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise web.HTTPBadRequest(text=json.dumps({"error": f"{name} must be a non-negative integer"}), content_type="application/json")
    return int(raw)


def build_app(harness: AsyncHarness) -> web.Application:
    routes = web.RouteTableDef()

    @routes.get("/api/health")
    async def health(request: web.Request) -> web.Response:
        return _json({"status": "ok", "smtp": f"{harness.host}:{harness.port}", "tls": harness.config.tls})

    @routes.get("/api/messages")
    async def list_messages(request: web.Request) -> web.Response:
        unknown = set(request.query) - set(FILTERS) - {"limit", "offset"}
        if unknown:
            return _error(400, f"unknown parameters: {', '.join(sorted(unknown))}")
        found = harness.store.messages(**{k: request.query.get(k) for k in FILTERS})
        offset, limit = _int(request, "offset", 0), _int(request, "limit", 1000)
        page = found[offset : offset + limit]
        return _json({"total": len(found), "count": len(page), "messages": [m.summary() for m in page]})

    @routes.delete("/api/messages")
    async def delete_messages(request: web.Request) -> web.Response:
        return _json({"deleted": harness.store.clear()})

    @routes.get("/api/messages/{id}")
    async def one_message(request: web.Request) -> web.Response:
        message = harness.store.get(request.match_info["id"])
        return _json(message.detail()) if message else _error(404, "no such message")

    @routes.get("/api/messages/{id}/raw")
    async def raw_message(request: web.Request) -> web.Response:
        message = harness.store.get(request.match_info["id"])
        if message is None:
            return _error(404, "no such message")
        return web.Response(body=message.raw, content_type="message/rfc822")

    @routes.get("/api/stats")
    async def stats(request: web.Request) -> web.Response:
        return _json(harness.store.stats())

    @routes.get("/api/faults")
    async def list_faults(request: web.Request) -> web.Response:
        return _json({"faults": [f.as_dict() for f in harness.faults]})

    @routes.post("/api/faults")
    async def add_fault(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, 'body must be JSON: a fault object, or {"spec": "STAGE=ACTION,..."}')
        if not isinstance(body, dict):
            return _error(400, "body must be a JSON object")
        try:
            fault = harness.add_fault(body["spec"] if set(body) == {"spec"} else body)
        except (FaultError, TypeError) as exc:
            return _error(400, str(exc))
        return _json(fault.as_dict(), 201)

    @routes.delete("/api/faults")
    async def clear_faults(request: web.Request) -> web.Response:
        count = len(harness.faults)
        harness.clear_faults()
        return _json({"deleted": count})

    app = web.Application()
    app.add_routes(routes)
    return app


async def start_http(harness: AsyncHarness, host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(build_app(harness), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    return runner, int(runner.addresses[0][1])  # port 0's choice
