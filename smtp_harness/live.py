"""The inbox's live stream: server-sent events, one `message` event per capture."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from functools import partial

from aiohttp import web

from smtp_harness.http_state import STATE, Announcement, StreamQueue
from smtp_harness.security import security_headers
from smtp_harness.store import run_on
from smtp_harness.views import Message

SSE_HEARTBEAT = 15.0
_QUEUE = 1000  # a stalled viewer misses events past this (it reloads the list), it never slows the server
_BATCH = 500


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: one `message` event (its summary) per capture, a comment every 15 s to keep proxies open."""
    state = request.app[STATE]
    queue: StreamQueue = asyncio.Queue(maxsize=_QUEUE)
    unsubscribe = state.store.subscribe(_pusher(queue, asyncio.get_running_loop()))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    response.headers.update(security_headers(request, response))
    state.streams.add(queue)
    try:
        await response.prepare(request)
        await response.write(b"retry: 1000\n\n")
        while (batch := await _next_batch(queue)) is not None:
            await response.write(b"".join(map(_event, batch)) if batch else b": keep-alive\n\n")
    except ConnectionResetError:
        pass  # the viewer went away
    finally:
        unsubscribe()
        state.streams.discard(queue)
    return response


def _pusher(queue: StreamQueue, loop: asyncio.AbstractEventLoop) -> Callable[[Message], None]:
    def push(message: Message) -> None:
        item: Announcement = {
            "id": message.id,
            "rcpt_to": list(message.rcpt_to),
            "mail_from": message.mail_from,
            "auth_user": message.auth_user,
        }
        run_on(loop, partial(_offer, queue, item))

    return push


async def _next_batch(queue: StreamQueue) -> list[Announcement] | None:
    """What piled up, in one go ([] after a quiet heartbeat period); None when the stream must end."""
    try:
        first = await asyncio.wait_for(queue.get(), SSE_HEARTBEAT)
    except TimeoutError:
        return []
    batch = [first]
    while not queue.empty() and len(batch) < _BATCH:
        batch.append(queue.get_nowait())
    if None in batch:
        return None
    return [item for item in batch if item is not None]


def end_all(app: web.Application) -> None:
    """Open live streams end now, not at the shutdown timeout."""
    for queue in list(app[STATE].streams):
        if queue.full():  # the end must get through: one unsent announcement makes room
            queue.get_nowait()
        queue.put_nowait(None)


def _event(item: Announcement) -> bytes:
    return f"event: message\ndata: {json.dumps(item, ensure_ascii=False)}\n\n".encode()


def _offer(queue: StreamQueue, item: Announcement) -> None:
    if not queue.full():
        queue.put_nowait(item)
