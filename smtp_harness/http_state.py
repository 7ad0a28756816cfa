"""What the HTTP side may touch, and nothing more: the store, the fault controller and its own
settings. Kept in the aiohttp application under STATE; no handler sees the harness itself."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypedDict

from aiohttp import web

from smtp_harness.counters import Counters
from smtp_harness.faults import FaultController
from smtp_harness.store import MessageStore
from smtp_harness.views import Message


class Announcement(TypedDict):
    """What the live stream says of each message captured."""

    id: str
    rcpt_to: list[str]
    mail_from: str
    auth_user: str | None


# None ends a stream (the server is stopping).
StreamQueue = asyncio.Queue[Announcement | None]


@dataclass(frozen=True)
class HttpSettings:
    """bound_host: the address the HTTP server listens on; auth: basic credentials or None;
    allowed_hosts: Host names accepted besides it; smtp and tls: what /api/health reports;
    limits: the caps /api/stats reports."""

    bound_host: str
    auth: tuple[str, str] | None = None
    allowed_hosts: tuple[str, ...] = ()
    smtp: str = ""
    tls: str = "off"
    limits: Mapping[str, int] = field(default_factory=dict)


@dataclass
class HttpState:
    store: MessageStore[Message]
    faults: FaultController
    settings: HttpSettings
    counters: Counters = field(default_factory=Counters)
    # Parsing and encoding captured mail runs here: the SMTP side shares the event loop.
    parsers: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="harness-http"))
    streams: set[StreamQueue] = field(default_factory=set)


STATE: web.AppKey[HttpState] = web.AppKey("state", HttpState)
