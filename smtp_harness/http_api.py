"""The HTTP side (aiohttp, on the harness's own loop): the JSON API, the inbox page and its live stream.

GET    /                                the inbox page (smtp_harness/web)
GET    /api/openapi.json                the OpenAPI 3.1 description of all of this
GET    /api/health                      readiness
GET    /api/events                      server-sent events: `message` for every message captured
GET    /api/mailboxes                   counts by recipient, AUTH user and sender
GET    /api/messages?rcpt=&mail_from=&auth_user=&subject=&q=&order=&limit=&offset=
DELETE /api/messages                    delete all
GET    /api/messages/{id}               headers, text, html, raw, attachments
DELETE /api/messages/{id}               delete one
GET    /api/messages/{id}/raw           the message as received (message/rfc822; ?download=1 for a .eml)
GET    /api/messages/{id}/body.html     the HTML part, made inert, for the sandboxed viewer (?remote=1 allows remote images)
GET    /api/messages/{id}/attachments/{n}   one attachment, always as a download
GET    /api/stats                       store counters (evicted, rejected, ...)
GET    /api/faults   POST /api/faults   DELETE /api/faults   DELETE /api/faults/{n}

Safe to expose (security.py): Host checked, HTTP basic auth when configured,
state changes only with the X-Harness-Request header (never a simple cross-site
request), no CORS, and a CSP, nosniff and frame-ancestors on every answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from smtp_harness.config import FILTERS
from smtp_harness.faults import FaultError
from smtp_harness.sanitize import inert_html
from smtp_harness.security import BODY_CSP, BODY_CSP_REMOTE, middlewares, security_headers

if TYPE_CHECKING:
    from smtp_harness.harness import AsyncHarness
    from smtp_harness.store import Message

STATIC = {"app.js": "text/javascript", "style.css": "text/css"}
SSE_HEARTBEAT = 15.0
PARSERS: web.AppKey[ThreadPoolExecutor] = web.AppKey("parsers", ThreadPoolExecutor)
T = TypeVar("T")


async def _off_loop(request: web.Request, work: Callable[[], T]) -> T:
    """Parsing and encoding captured mail runs on the app's worker threads: the SMTP side shares
    this loop, and a new client must get its banner while a heavy message is being shown."""
    return await asyncio.get_running_loop().run_in_executor(request.app[PARSERS], work)


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


async def _json_off_loop(request: web.Request, build: Callable[[], Any]) -> web.Response:
    body = await _off_loop(request, lambda: _dumps(build()))
    return web.Response(body=body, content_type="application/json", charset="utf-8")


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


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


def _detail(message: Message) -> dict[str, Any]:
    attachments = [{"index": i, "filename": n, "content_type": t, "size": len(b)} for i, (n, t, b) in enumerate(message.attachments(), 1)]
    return {**message.detail(), "attachments": attachments}


def _download_name(name: str) -> str:
    """The file name's last component, in safe characters: a sender's `../../x` names nothing outside the downloads folder."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in last)[:120].strip(".")
    return safe or "attachment"


def build_app(harness: AsyncHarness) -> web.Application:
    routes = web.RouteTableDef()
    store = harness.store

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
        return _json({"status": "ok", "smtp": f"{harness.host}:{harness.port}", "tls": harness.config.tls})

    @routes.get("/api/mailboxes")
    async def mailboxes(request: web.Request) -> web.Response:
        return _json({"total": len(store.messages()), **store.mailboxes()})

    @routes.get("/api/messages")
    async def list_messages(request: web.Request) -> web.Response:
        unknown = set(request.query) - set(FILTERS) - {"limit", "offset", "order"}
        if unknown:
            return _error(400, f"unknown parameters: {', '.join(sorted(unknown))}")
        order = request.query.get("order", "oldest")
        if order not in ("oldest", "newest"):
            return _error(400, "order must be oldest or newest")
        offset, limit = _int(request, "offset", 0), _int(request, "limit", 1000)
        filters = {k: request.query.get(k) or None for k in FILTERS}

        def build() -> dict[str, Any]:
            found = store.messages(**filters)
            if order == "newest":
                found.reverse()
            page = found[offset : offset + limit]
            return {"total": len(found), "count": len(page), "messages": [m.summary() for m in page]}

        return await _json_off_loop(request, build)

    @routes.delete("/api/messages")
    async def delete_messages(request: web.Request) -> web.Response:
        return _json({"deleted": store.clear()})

    def _message(request: web.Request) -> Message:
        message = store.get(request.match_info["id"])
        if message is None:
            raise web.HTTPNotFound(text=json.dumps({"error": "no such message"}), content_type="application/json")
        return message

    @routes.get("/api/messages/{id}")
    async def one_message(request: web.Request) -> web.Response:
        return await _json_off_loop(request, partial(_detail, _message(request)))

    @routes.delete("/api/messages/{id}")
    async def delete_message(request: web.Request) -> web.Response:
        return _json({"deleted": int(store.delete(_message(request).id))})

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
        disposition = f'attachment; filename="{_download_name(name)}"'
        return web.Response(body=data, content_type="application/octet-stream", headers={"Content-Disposition": disposition})

    streams: set[asyncio.Queue[dict[str, Any] | None]] = set()

    @routes.get("/api/events")
    async def events(request: web.Request) -> web.StreamResponse:
        return await _stream(request, harness, streams)

    @routes.get("/api/stats")
    async def stats(request: web.Request) -> web.Response:
        return _json({**store.stats(), **harness.config.limits()})

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
        except (FaultError, TypeError, ValueError) as exc:
            return _error(400, str(exc))
        return _json(fault.as_dict(), 201)

    @routes.delete("/api/faults")
    async def clear_faults(request: web.Request) -> web.Response:
        count = len(harness.faults)
        harness.clear_faults()
        return _json({"deleted": count})

    @routes.delete("/api/faults/{n}")
    async def remove_fault(request: web.Request) -> web.Response:
        raw = request.match_info["n"]
        if not raw.isdigit() or not 1 <= int(raw) <= len(harness.faults):
            return _error(404, "no such fault")
        del harness.faults[int(raw) - 1]
        return _json({"deleted": 1})

    async def end_streams(app: web.Application) -> None:
        for queue in list(streams):  # open live streams end now, not at the shutdown timeout
            queue.put_nowait(None)

    async def stop_parsers(app: web.Application) -> None:
        app[PARSERS].shutdown(wait=False, cancel_futures=True)  # a parse under way is bounded by the MIME caps

    app = web.Application(middlewares=middlewares(harness), client_max_size=1024 * 1024)
    app[PARSERS] = ThreadPoolExecutor(max_workers=2, thread_name_prefix="harness-http")
    app.add_routes(routes)
    app.on_shutdown.append(end_streams)
    app.on_cleanup.append(stop_parsers)
    return app


async def _stream(request: web.Request, harness: AsyncHarness, streams: set[asyncio.Queue[dict[str, Any] | None]]) -> web.StreamResponse:
    """Server-sent events: one `message` event (its summary) per capture, a comment every 15 s to keep proxies open."""
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=1000)
    loop = asyncio.get_running_loop()

    def push(message: Message) -> None:
        item = {"id": message.id, "rcpt_to": list(message.rcpt_to), "mail_from": message.mail_from, "auth_user": message.auth_user}
        try:
            here = asyncio.get_running_loop() is loop
        except RuntimeError:
            here = False
        if here:  # stored by the SMTP side on this very loop: no wake-up through the self-pipe needed
            _offer(queue, item)
        else:
            loop.call_soon_threadsafe(_offer, queue, item)

    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    response.headers.update(security_headers(request, response))
    await response.prepare(request)
    unsubscribe = harness.store.subscribe(push)
    streams.add(queue)
    try:
        await response.write(b"retry: 1000\n\n")
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), SSE_HEARTBEAT)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            batch = [item]
            while not queue.empty() and len(batch) < 500:  # what piled up goes out in one write
                batch.append(queue.get_nowait())
            if None in batch:
                break
            await response.write(b"".join(_event(entry) for entry in batch if entry is not None))
    except ConnectionResetError:
        pass  # the viewer went away
    finally:
        unsubscribe()
        streams.discard(queue)
    return response


def _event(item: dict[str, Any]) -> bytes:
    return f"event: message\ndata: {json.dumps(item, ensure_ascii=False)}\n\n".encode()


def _offer(queue: asyncio.Queue[dict[str, Any] | None], item: dict[str, Any]) -> None:
    if not queue.full():  # a stalled viewer misses events (it reloads the list), it never slows the server
        queue.put_nowait(item)


async def start_http(harness: AsyncHarness, host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(build_app(harness), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    return runner, int(runner.addresses[0][1])  # port 0's choice
