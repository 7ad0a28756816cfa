"""Mailpit's API v1, the subset its test clients use, as Mailpit's own swagger describes it
(axllent/mailpit, server/ui/api/v1/swagger.json): the same paths, field names, types and status codes.

GET    /api/v1/info                       AppInformation
GET    /api/v1/messages?start=&limit=     MessagesSummary, newest first
DELETE /api/v1/messages                   {"IDs": [...]}, or every message without IDs; "ok"
GET    /api/v1/message/{ID}               Message (`latest`: the newest)
GET    /api/v1/message/{ID}/headers       {name: [values]}, names in alphabetical order
GET    /api/v1/message/{ID}/raw           the source, text/plain
GET    /api/v1/message/{ID}/part/{PartID} an attachment, as a download of its content type
GET    /api/v1/search?query=&start=&limit=&tz=     MessagesSummary of the matches (query.py's syntax)
DELETE /api/v1/search?query=&tz=          delete the matches; "ok"
GET    /view/{ID}.html  /view/{ID}.txt    the HTML part made inert (the viewer frame's CSP), the text part
GET    /readyz  /livez                    200 "ok"

Our own extension: `rcpt`, `mail_from` and `auth_user` on the list, the search and its delete keep to
one mailbox (a tenant), as the native API's filters do. The harness keeps no read state or tags:
every message is unread and untagged. Errors are Mailpit's: a plain-text body, 400 or 404.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from aiohttp import web

from smtp_harness import query
from smtp_harness.config import FILTERS
from smtp_harness.http_state import STATE, HttpState
from smtp_harness.jsontypes import JsonObject
from smtp_harness.sanitize import download_name, inert_html
from smtp_harness.security import BODY_CSP
from smtp_harness.views import Message, select

routes = web.RouteTableDef()
T = TypeVar("T")
MAX_IDS = 10_000  # IDs one DELETE may name
VERSION = "v1.29 (smtp_harness)"  # the API level this answers as (the swagger's paths of Mailpit 1.29)


def _text(status: int, body: str) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/plain")


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=message, content_type="text/plain")


def _address(name: str, address: str) -> JsonObject:
    return {"Name": name, "Address": address}


def _addresses(found: list[query.Address]) -> list[JsonObject]:
    return [_address(n, a) for n, a in found]


def _created(message: Message) -> str:
    return datetime.fromtimestamp(message.received_at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _message_id(message: Message) -> str:
    return (message.header("Message-ID") or "").strip().strip("<>")


def _sender(message: Message) -> JsonObject:
    found = query.addresses(message, "From")
    return _address(*found[0]) if found else _address("", message.mail_from)


_SPACE = re.compile(r"\s+")


def _snippet(message: Message) -> str:
    """Up to 250 characters of the text, or of the HTML without its tags."""
    return _SPACE.sub(" ", message.text or query.body_text(message)).strip()[:250]


def _head(message: Message) -> JsonObject:
    """The fields a MessageSummary and a Message share."""
    return {
        "ID": message.id,
        "MessageID": _message_id(message),
        "From": _sender(message),
        "To": _addresses(query.addresses(message, "To")),
        "Cc": _addresses(query.addresses(message, "Cc")),
        "Bcc": _addresses(query.bcc(message)),
        "ReplyTo": _addresses(query.addresses(message, "Reply-To")),
        "Subject": message.subject or "",
        "Tags": [],
        "Username": message.auth_user or "",
        "Size": len(message.raw),
    }


def summary(message: Message) -> JsonObject:
    """MessageSummary (swagger definitions)."""
    extra = {"Read": False, "Created": _created(message), "Attachments": len(message.attachments()), "Snippet": _snippet(message)}
    return {**_head(message), **extra}


def _date(message: Message) -> str:
    value = message.header("Date")
    try:
        when = parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        when = None
    return when.isoformat() if when is not None and when.tzinfo is not None else _created(message)


def _attachment(index: int, name: str, content_type: str, data: bytes) -> JsonObject:
    sums = {"MD5": hashlib.md5(data).hexdigest(), "SHA1": hashlib.sha1(data).hexdigest(), "SHA256": hashlib.sha256(data).hexdigest()}
    return {"PartID": str(index), "FileName": name, "ContentType": content_type, "ContentID": "", "Size": len(data), "Checksums": sums}


def detail(message: Message) -> JsonObject:
    """Message (swagger definitions)."""
    return {
        **_head(message),
        "ReturnPath": message.mail_from,
        "ListUnsubscribe": {"Header": message.header("List-Unsubscribe") or "", "Links": [], "Errors": "", "HeaderPost": ""},
        "Date": _date(message),
        "Text": message.text or "",
        "HTML": message.html or "",
        "Inline": [],
        "Attachments": [_attachment(i, *part) for i, part in enumerate(message.attachments(), 1)],
    }


def headers(message: Message) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in message.headers:
        out.setdefault(name, []).append(value)
    return dict(sorted(out.items()))


def _number(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise _bad(f"{name} must be a non-negative integer")
    return int(raw)


def _mailbox(request: web.Request) -> dict[str, str | None]:
    """Our extension: the native API's mailbox filters (rcpt, mail_from, auth_user)."""
    return {k: request.query.get(k) or None for k in FILTERS if k in ("rcpt", "mail_from", "auth_user")}


def _terms(request: web.Request) -> list[query.Term]:
    search = request.query.get("query")
    if search is None:
        raise _bad("query is required")
    try:
        return query.parse(search, request.query.get("tz"))
    except ValueError as exc:
        raise _bad(str(exc)) from None


def _state(request: web.Request) -> HttpState:
    return request.app[STATE]


def _newest_first(state: HttpState, request: web.Request, terms: list[query.Term] | None) -> tuple[list[Message], list[Message]]:
    """(every message, the ones matching), newest first."""
    everything = state.store.messages()
    chosen = select(everything, _mailbox(request))
    if terms is not None:
        chosen = query.matching(chosen, terms)
    return everything[::-1], chosen[::-1]


def _paging(request: web.Request) -> tuple[int, int]:
    return _number(request, "start", 0), _number(request, "limit", 50)


def _page(paging: tuple[int, int], everything: list[Message], chosen: list[Message]) -> JsonObject:
    start, limit = paging
    return {
        "total": len(everything),
        "unread": len(everything),
        "messages_count": len(chosen),
        "messages_unread": len(chosen),
        "start": start,
        "tags": [],
        "messages": [summary(m) for m in chosen[start : start + limit]],
    }


async def _worked(request: web.Request, work: Callable[[], T]) -> T:
    """Parsing (and searching, which parses) runs on the state's worker threads, as for the native API:
    the SMTP side shares this loop, and a new client must get its banner while a heavy message is read."""
    return await asyncio.get_running_loop().run_in_executor(_state(request).parsers, work)


async def _off_loop(request: web.Request, work: Callable[[], object]) -> web.Response:
    body = await _worked(request, lambda: json.dumps(work(), ensure_ascii=False).encode("utf-8"))
    return web.Response(body=body, content_type="application/json", charset="utf-8")


def _message(request: web.Request) -> Message:
    store, ident = _state(request).store, request.match_info["id"]
    if ident == "latest":
        newest = store.messages()[-1:]
        found = newest[0] if newest else None
    else:
        found = store.get(ident)
    if found is None:
        raise web.HTTPNotFound(text="Not found", content_type="text/plain")
    return found


@routes.get("/api/v1/info")
async def info(request: web.Request) -> web.Response:
    state = _state(request)
    counted, stats = state.counters.snapshot(), state.store.stats()
    runtime = {
        "Memory": 0,
        "MessagesDeleted": counted.deleted,
        "SMTPAccepted": counted.accepted,
        "SMTPAcceptedSize": counted.accepted_bytes,
        "SMTPIgnored": 0,
        "SMTPRejected": sum(counted.refused.values()),
        "Uptime": int(datetime.now(UTC).timestamp() - counted.started),
    }
    body = {
        "Version": VERSION,
        "LatestVersion": "",
        "Database": "",
        "DatabaseSize": stats["bytes"],
        "Messages": stats["total"],
        "Unread": stats["total"],
        "Tags": {},
        "RuntimeStats": runtime,
    }
    return web.json_response(body)


@routes.get("/api/v1/messages")
async def list_messages(request: web.Request) -> web.Response:
    paging = _paging(request)  # refused before any work
    everything, chosen = _newest_first(_state(request), request, None)
    return await _off_loop(request, lambda: _page(paging, everything, chosen))


async def _ids(request: web.Request) -> list[str] | None:
    """The IDs a DELETE names; None: every message (no body, or no IDs in it)."""
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _bad('body must be JSON: {"IDs": [...]}') from None
    ids = body.get("IDs") if isinstance(body, dict) else None
    if ids is None or ids == []:
        return None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(ids) > MAX_IDS:
        raise _bad(f"IDs must be a list of at most {MAX_IDS} strings")
    return ids


def _delete(state: HttpState, ids: list[str]) -> int:
    deleted = sum(state.store.delete(i) for i in dict.fromkeys(ids))
    state.counters.deleted += deleted
    return deleted


@routes.delete("/api/v1/messages")
async def delete_messages(request: web.Request) -> web.Response:
    state, ids = _state(request), await _ids(request)
    if ids is None:
        state.counters.deleted += state.store.clear()
    else:
        _delete(state, ids)
    return _text(200, "ok")


@routes.get("/api/v1/message/{id}")
async def one_message(request: web.Request) -> web.Response:
    message = _message(request)
    return await _off_loop(request, lambda: detail(message))


@routes.get("/api/v1/message/{id}/headers")
async def message_headers(request: web.Request) -> web.Response:
    message = _message(request)
    return await _off_loop(request, lambda: headers(message))


@routes.get("/api/v1/message/{id}/raw")
async def message_raw(request: web.Request) -> web.Response:
    return web.Response(body=_message(request).raw, content_type="text/plain", charset="utf-8")


@routes.get("/api/v1/message/{id}/part/{part}")
async def message_part(request: web.Request) -> web.Response:
    message, raw = _message(request), request.match_info["part"]
    found = await _worked(request, message.attachments)
    index = int(raw) if raw.isdigit() and len(raw) < 6 else 0
    if not 1 <= index <= len(found):
        raise web.HTTPNotFound(text="Not found", content_type="text/plain")
    name, content_type, data = found[index - 1]
    headers = {"Content-Disposition": f'attachment; filename="{download_name(name)}"'}  # served as a download: never rendered here
    kind = content_type if re.fullmatch(r"[\w.+-]+/[\w.+-]+", content_type) else "application/octet-stream"
    return web.Response(body=data, content_type=kind, headers=headers)


@routes.get("/api/v1/search")
async def search(request: web.Request) -> web.Response:
    terms, paging, state = _terms(request), _paging(request), _state(request)
    return await _off_loop(request, lambda: _page(paging, *_newest_first(state, request, terms)))


@routes.delete("/api/v1/search")
async def delete_search(request: web.Request) -> web.Response:
    terms, state = _terms(request), _state(request)
    _, chosen = await _worked(request, lambda: _newest_first(state, request, terms))
    _delete(state, [m.id for m in chosen])
    return _text(200, "ok")


@routes.get("/view/{id}.html")
async def view_html(request: web.Request) -> web.Response:
    message = _message(request)
    html = await _worked(request, lambda: inert_html(message.html) if message.html else None)
    if html is None:
        raise web.HTTPNotFound(text="Not found", content_type="text/plain")
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers={"Content-Security-Policy": BODY_CSP})


@routes.get("/view/{id}.txt")
async def view_text(request: web.Request) -> web.Response:
    message = _message(request)
    text = await _worked(request, lambda: message.text)
    if text is None:
        raise web.HTTPNotFound(text="Not found", content_type="text/plain")
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    return _text(200, "ok")


@routes.get("/livez")
async def livez(request: web.Request) -> web.Response:
    return _text(200, "ok")
