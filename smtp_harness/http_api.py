"""The HTTP side (aiohttp, on the harness's own loop): the JSON API and the inbox page.

GET    /                                the inbox page (smtp_harness/web)
GET    /api/openapi.json                the OpenAPI 3.1 description of all of this
GET    /api/health                      readiness
GET    /api/events                      server-sent events: `message` for every message captured (live.py)
GET    /api/mailboxes                   counts by recipient, AUTH user and sender
GET    /api/messages?rcpt=&mail_from=&auth_user=&subject=&q=&order=&limit=&offset=[&wait=SECONDS&count=N]
                                        with wait: answered as soon as `count` (1) messages match, else after
                                        the wait with what matched (200 either way); at most 60 s
DELETE /api/messages                    delete all
GET    /api/messages/{id}               headers, text, html, raw, attachments
DELETE /api/messages/{id}               delete one
GET    /api/messages/{id}/raw           the message as received (message/rfc822; ?download=1 for a .eml)
GET    /api/messages/{id}/body.html     the HTML part, made inert, for the sandboxed viewer (?remote=1 allows remote images)
GET    /api/messages/{id}/attachments/{n}   one attachment, always as a download
GET    /api/stats                       store counters (evicted, rejected, ...) and the caps in force
GET    /api/faults   POST /api/faults   DELETE /api/faults   DELETE /api/faults/{n}
GET    /metrics                         Prometheus text format (metrics.py)
/api/v1/..., /view/..., /readyz, /livez Mailpit's API v1, the subset its clients use (mailpit.py)

Each route is a function of the request alone: what it may touch (store, fault
controller, settings) is the HttpState in the application (http_state.STATE).
Safe to expose (security.py): Host checked, HTTP basic auth when configured,
state changes only with the X-Harness-Request header (never a simple cross-site
request), no CORS, and a CSP, nosniff and frame-ancestors on every answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from functools import cache, partial
from importlib import resources
from typing import Any, TypeVar

from aiohttp import web

from smtp_harness import live, mailpit, metrics
from smtp_harness.config import FILTERS
from smtp_harness.faults import FaultError
from smtp_harness.http_state import STATE, HttpState
from smtp_harness.sanitize import download_name, inert_html
from smtp_harness.security import BODY_CSP, BODY_CSP_REMOTE, middlewares
from smtp_harness.views import Message, select, wait_for_async

STATIC = {"app.js": "text/javascript", "style.css": "text/css"}
MAX_WAIT = 60.0  # seconds a list may wait for its messages
MAX_COUNT = 10_000
T = TypeVar("T")
routes = web.RouteTableDef()


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False)


def _json(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


def _not_found(message: str) -> web.HTTPNotFound:
    return web.HTTPNotFound(text=json.dumps({"error": message}), content_type="application/json")


def _int(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"{name} must be a non-negative integer"}), content_type="application/json")
    return int(raw)


@cache  # package data does not change while the harness runs
def _asset(name: str) -> bytes:
    return resources.files("smtp_harness").joinpath("web", name).read_bytes()


async def _off_loop(request: web.Request, work: Callable[[], T]) -> T:
    """Parsing and encoding captured mail runs on the state's worker threads: the SMTP side shares
    this loop, and a new client must get its banner while a heavy message is being shown."""
    return await asyncio.get_running_loop().run_in_executor(request.app[STATE].parsers, work)


async def _json_off_loop(request: web.Request, build: Callable[[], object]) -> web.Response:
    body = await _off_loop(request, lambda: _dumps(build()).encode("utf-8"))
    return web.Response(body=body, content_type="application/json", charset="utf-8")


def _message(request: web.Request) -> Message:
    message = request.app[STATE].store.get(request.match_info["id"])
    if message is None:
        raise _not_found("no such message")
    return message


def _detail(message: Message) -> dict[str, Any]:
    attachments = [{"index": i, "filename": n, "content_type": t, "size": len(b)} for i, (n, t, b) in enumerate(message.attachments(), 1)]
    return {**message.detail(), "attachments": attachments}


@routes.get("/")
async def page(request: web.Request) -> web.Response:
    return web.Response(body=_asset("index.html"), content_type="text/html", charset="utf-8")


@routes.get("/static/{name}")
async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        return _error(404, "no such file")
    return web.Response(body=_asset(name), content_type=STATIC[name], charset="utf-8")


@routes.get("/api/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=_asset("openapi.json"), content_type="application/json")


@routes.get("/api/health")
async def health(request: web.Request) -> web.Response:
    settings = request.app[STATE].settings
    return _json({"status": "ok", "smtp": settings.smtp, "tls": settings.tls})


@routes.get("/api/mailboxes")
async def mailboxes(request: web.Request) -> web.Response:
    store = request.app[STATE].store
    return _json({"total": len(store.messages()), **store.mailboxes()})


def _wait(request: web.Request) -> float | None:
    raw = request.query.get("wait")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_WAIT:  # NaN fails both
        raise web.HTTPBadRequest(text=json.dumps({"error": f"wait must be 0 to {MAX_WAIT:g} seconds"}), content_type="application/json")
    return seconds


async def _waited(request: web.Request, filters: dict[str, str | None], seconds: float) -> None:
    """Until `count` messages match or the wait ends (no error either way); cancelled with the request when
    its client goes away (handler_cancellation), which unsubscribes the waiter."""
    count = _int(request, "count", 1)
    if not 1 <= count <= MAX_COUNT:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"count must be 1 to {MAX_COUNT}"}), content_type="application/json")
    with contextlib.suppress(TimeoutError):  # what matched by then is the answer
        await wait_for_async(request.app[STATE].store, count, seconds, filters)


@routes.get("/api/messages")
async def list_messages(request: web.Request) -> web.Response:
    unknown = set(request.query) - set(FILTERS) - {"limit", "offset", "order", "wait", "count"}
    if unknown:
        return _error(400, f"unknown parameters: {', '.join(sorted(unknown))}")
    order = request.query.get("order", "oldest")
    if order not in ("oldest", "newest"):
        return _error(400, "order must be oldest or newest")
    offset, limit = _int(request, "offset", 0), _int(request, "limit", 1000)
    filters = {k: request.query.get(k) or None for k in FILTERS}
    store = request.app[STATE].store
    seconds = _wait(request)
    if seconds is not None:
        await _waited(request, filters, seconds)
    elif "count" in request.query:
        return _error(400, "count goes with wait")

    def build() -> dict[str, Any]:
        found = select(store.messages(), filters)
        if order == "newest":
            found.reverse()
        shown = found[offset : offset + limit]
        return {"total": len(found), "count": len(shown), "messages": [m.summary() for m in shown]}

    return await _json_off_loop(request, build)


@routes.delete("/api/messages")
async def delete_messages(request: web.Request) -> web.Response:
    return _json({"deleted": request.app[STATE].store.clear()})


@routes.get("/api/messages/{id}")
async def one_message(request: web.Request) -> web.Response:
    return await _json_off_loop(request, partial(_detail, _message(request)))


@routes.delete("/api/messages/{id}")
async def delete_message(request: web.Request) -> web.Response:
    return _json({"deleted": int(request.app[STATE].store.delete(_message(request).id))})


@routes.get("/api/messages/{id}/raw")
async def raw_message(request: web.Request) -> web.Response:
    message = _message(request)
    headers = {"Content-Disposition": f'attachment; filename="message-{message.id}.eml"'} if request.query.get("download") else {}
    return web.Response(body=message.raw, content_type="message/rfc822", headers=headers)


@routes.get("/api/messages/{id}/body.html")
async def body(request: web.Request) -> web.Response:
    message = _message(request)
    html = await _off_loop(request, lambda: inert_html(message.html or ""))
    csp = BODY_CSP_REMOTE if request.query.get("remote") == "1" else BODY_CSP
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers={"Content-Security-Policy": csp})


@routes.get("/api/messages/{id}/attachments/{n}")
async def attachment(request: web.Request) -> web.Response:
    found = await _off_loop(request, _message(request).attachments)
    raw = request.match_info["n"]
    n = int(raw) if raw.isdigit() and len(raw) < 6 else 0
    if not 1 <= n <= len(found):
        return _error(404, "no such attachment")
    name, _, data = found[n - 1]
    disposition = f'attachment; filename="{download_name(name)}"'
    return web.Response(body=data, content_type="application/octet-stream", headers={"Content-Disposition": disposition})


routes.get("/api/events")(live.events)


@routes.get("/api/stats")
async def stats(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return _json({**state.store.stats(), **state.settings.limits})


@routes.get("/api/faults")
async def list_faults(request: web.Request) -> web.Response:
    return _json({"faults": [f.as_dict() for f in request.app[STATE].faults]})


@routes.post("/api/faults")
async def add_fault(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, 'body must be JSON: a fault object, or {"spec": "STAGE=ACTION,..."}')
    if not isinstance(body, dict):
        return _error(400, "body must be a JSON object")
    try:
        fault = request.app[STATE].faults.add(body["spec"] if set(body) == {"spec"} else body)
    except (FaultError, TypeError, ValueError) as exc:
        return _error(400, str(exc))
    return _json(fault.as_dict(), 201)


@routes.delete("/api/faults")
async def clear_faults(request: web.Request) -> web.Response:
    return _json({"deleted": request.app[STATE].faults.clear()})


@routes.delete("/api/faults/{n}")
async def remove_fault(request: web.Request) -> web.Response:
    raw = request.match_info["n"]
    if not raw.isdigit() or len(raw) > 6 or not request.app[STATE].faults.remove(int(raw)):
        return _error(404, "no such fault")
    return _json({"deleted": 1})


async def _end_streams(app: web.Application) -> None:
    live.end_all(app)


async def _stop_parsers(app: web.Application) -> None:
    app[STATE].parsers.shutdown(wait=False, cancel_futures=True)  # a parse under way is bounded by the MIME caps


def build_app(state: HttpState) -> web.Application:
    app = web.Application(middlewares=middlewares(state.settings), client_max_size=1024 * 1024)
    app[STATE] = state
    app.add_routes(routes)
    app.add_routes(mailpit.routes)
    app.add_routes(metrics.routes)
    app.on_shutdown.append(_end_streams)
    app.on_cleanup.append(_stop_parsers)
    return app


async def start_http(state: HttpState, port: int) -> tuple[web.AppRunner, int]:
    # handler_cancellation: a handler whose client went away is cancelled (a waiting list frees its waiter)
    runner = web.AppRunner(build_app(state), access_log=None, shutdown_timeout=1.0, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, state.settings.bound_host, port, reuse_address=True)
    await site.start()
    return runner, int(runner.addresses[0][1])  # port 0's choice
