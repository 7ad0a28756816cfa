"""A stand-in for the platform's Identity service, written from its documented contract.

- POST {base}/connect/token: OAuth 2.0 client credentials (form fields grant_type,
  client_id, client_secret, scope); the scopes granted are those asked for that the
  client is allowed (`PM.Setting` stands for PM.Setting.Read and PM.Setting.Write).
- GET {base}/api/Setting?partitionGlobalId=…&key=…: the stored pairs among the keys
  asked (scope PM.Setting.Read); the password is masked, or left out.
- PUT {base}/api/Setting {"settings": [{"key", "value"}], "partitionGlobalId"}: creates
  or updates (scope PM.Setting.Write), answered with the rows written (SettingDto: id, key,
  value, partitionGlobalId); Email.Smtp.Host, Port and FromEmail only together (409 otherwise,
  UiPath CLI guide, "uip admin smtp"); Email.Smtp.ConnectionTimeout only from 1 to 300000 (400).
- DELETE {base}/api/Setting/{id}: deletes that row (204), 404 for an unknown id.
- GET leaves out keys with no stored value; the host partition may be "" (release notes).
- A store per known partition; an unknown partition is a 404.

Faults on purpose, per instance: a partition that always answers 500, 429 with
Retry-After on a seeded share of requests, added latency, dropped connections,
tokens that expire after N uses, answers wrapped in {"settings": …} with
other-case keys and extra fields. Served over real TLS (trustme) on loopback.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from aiohttp import web
from support import LoopThread

MASK = "********"


@dataclass
class Client:
    secret: str
    scopes: set[str]


@dataclass
class Faults:
    failing: set[str] = field(default_factory=set)  # partitions answering 500
    rate_limited: float = 0.0  # share of API requests answered 429
    rate_limit_next: int = 0  # and this many next API requests, whatever the share
    rate_limit_first: bool = False  # a fixed schedule: the first request for each (method, partition) answered 429, once
    retry_after: int = 1
    latency: float = 0.0  # seconds added to every request
    drop_next: int = 0  # this many API requests dropped without an answer
    token_uses: int | None = None  # a token stops working after this many uses
    wrapped: bool = False  # answer {"settings": [...]} with other-case keys and extra fields
    refuse_writes: tuple[int, object] | None = (
        None  # answer every PUT with this status and JSON body; "{sent}" in it echoes the PUT's password
    )
    seed: int = 7


class StandIn:
    def __init__(self, partitions: list[str], clients: dict[str, Client], base: str = "/identity_", related_keys: bool = True) -> None:
        self.base = base
        self.related_keys = related_keys  # the platform's rule: Host, Port and FromEmail together in one PUT
        self.ids: dict[tuple[str, str], int] = {}  # (partition, key) -> the row's id, as GET and PUT show it
        self.store: dict[str, dict[str, str]] = {p.lower(): {} for p in partitions}
        self.clients = clients
        self.faults = Faults()
        self.tokens: dict[str, tuple[str, set[str], list[int]]] = {}
        self.requests: list[tuple[str, str]] = []  # (method, partition)
        self._limited: set[tuple[str, str]] = set()
        self.token_requests = 0
        self.answered_429 = 0
        self.dropped = 0
        self.secrets_seen: list[str] = []  # every password written, for the tests' secret searches
        self.refused_puts = 0  # PUTs refused by the related-keys rule
        self.hidden_ids: set[str] = set()  # keys whose rows GET shows without an id
        self.deletes: list[tuple[str, str]] = []  # (partition, key) deleted
        self._rng = random.Random(self.faults.seed)
        self.url = ""
        self.ca_path = ""

    # --- the API ------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(f"{self.base}/connect/token", self._token)
        app.router.add_get(f"{self.base}/api/Setting", self._get)
        app.router.add_put(f"{self.base}/api/Setting", self._put)
        app.router.add_delete(f"{self.base}/api/Setting/{{id}}", self._delete)
        return app

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        await asyncio.sleep(self.faults.latency)
        form = await request.post()
        client = self.clients.get(str(form.get("client_id", "")))
        if form.get("grant_type") != "client_credentials" or client is None or form.get("client_secret") != client.secret:
            return web.json_response({"error": "invalid_client"}, status=401)
        asked = set(str(form.get("scope", "")).split())
        expanded = {s for scope in asked for s in ({"PM.Setting.Read", "PM.Setting.Write"} if scope == "PM.Setting" else {scope})}
        token = secrets.token_urlsafe(24)
        self.tokens[token] = (str(form["client_id"]), expanded & client.scopes, [0])
        return web.json_response({"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    async def _guard(self, request: web.Request, scope: str, partition: str) -> web.Response | None:
        self.requests.append((request.method, partition))
        await asyncio.sleep(self.faults.latency)
        if self.faults.drop_next > 0:
            self.faults.drop_next -= 1
            self.dropped += 1
            assert request.transport is not None
            request.transport.abort()
            raise web.HTTPInternalServerError()  # never reaches the client: the connection is gone
        first = (request.method, partition.lower()) not in self._limited
        scheduled = self.faults.rate_limit_first and first
        if scheduled:
            self._limited.add((request.method, partition.lower()))
        if scheduled or self.faults.rate_limit_next > 0 or (self.faults.rate_limited and self._rng.random() < self.faults.rate_limited):
            self.faults.rate_limit_next = max(0, self.faults.rate_limit_next - 1)
            self.answered_429 += 1
            return web.json_response({"error": "slow down"}, status=429, headers={"Retry-After": str(self.faults.retry_after)})
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        known = self.tokens.get(token)
        if known is None:
            return web.json_response({"error": "invalid_token"}, status=401)
        _, scopes, uses = known
        uses[0] += 1
        if self.faults.token_uses is not None and uses[0] > self.faults.token_uses:
            return web.json_response({"error": "token expired"}, status=401)
        if scope not in scopes:
            return web.json_response({"error": f"insufficient_scope: {scope}"}, status=403)
        if partition.lower() in self.faults.failing:
            return web.json_response({"error": "internal"}, status=500)
        if partition.lower() not in self.store:
            return web.json_response({"error": "partition not found"}, status=404)
        return None

    async def _get(self, request: web.Request) -> web.Response:
        partition = request.query.get("partitionGlobalId", "")
        refused = await self._guard(request, "PM.Setting.Read", partition)
        if refused is not None:
            return refused
        stored = self.store[partition.lower()]
        keys = request.query.getall("key", [])
        pairs: list[dict[str, Any]] = [
            {"id": self._id(partition, k), "key": k, "value": MASK if k.endswith("Password") else stored[k]} for k in keys if k in stored
        ]
        if self.hidden_ids:  # a platform that shows some rows without their id
            pairs = [{k: v for k, v in p.items() if not (k == "id" and p["key"] in self.hidden_ids)} for p in pairs]
        if self.faults.wrapped:
            pairs = [{"Key": p["key"].upper(), "Value": p["value"], "lastModified": "2026-11-27T00:00:00Z"} for p in pairs]
            return web.json_response({"settings": pairs, "partitionGlobalId": partition})
        return web.json_response(pairs)

    async def _put(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "not JSON"}, status=400)
        partition = str(body.get("partitionGlobalId", "")) if isinstance(body, dict) else ""
        refused = await self._guard(request, "PM.Setting.Write", partition)
        if refused is not None:
            return refused
        if self.faults.refuse_writes is not None:  # a platform that echoes what it was sent, secrets included
            status, said = self.faults.refuse_writes
            sent = next(
                (str(s.get("value")) for s in body.get("settings", []) if isinstance(s, dict) and str(s.get("key")).endswith("Password")),
                "",
            )
            return web.json_response(json.loads(json.dumps(said).replace("{sent}", sent)), status=status)
        settings = body.get("settings")
        if not isinstance(settings, list) or not all(isinstance(s, dict) and isinstance(s.get("value"), str) for s in settings):
            return web.json_response({"error": "settings must be a list of {key, value} strings"}, status=400)
        keys_sent = {str(s["key"]) for s in settings}
        related = {"Email.Smtp.Host", "Email.Smtp.Port", "Email.Smtp.FromEmail"}
        if self.related_keys and any(k.startswith("Email.Smtp.") for k in keys_sent) and not related <= keys_sent:
            self.refused_puts += 1
            return web.json_response(
                {"message": "Email.Smtp.Host, Email.Smtp.Port and Email.Smtp.FromEmail must be sent together"}, status=409
            )
        timeout = next((str(s["value"]) for s in settings if s["key"] == "Email.Smtp.ConnectionTimeout"), None)
        if timeout is not None and not (timeout.isascii() and timeout.isdigit() and 1 <= int(timeout) <= 300_000):
            # the range UiPath's CLI accepts (`--connection-timeout <ms>`, 1-300,000); how the API itself words a refusal is not documented
            return web.json_response({"message": "Email.Smtp.ConnectionTimeout must be from 1 to 300000 milliseconds"}, status=400)
        rows = []
        for setting in settings:
            if str(setting["key"]).endswith("Password"):
                self.secrets_seen.append(setting["value"])
            key = str(setting["key"])
            self.store[partition.lower()][key] = setting["value"]
            row_id = self._id(partition, key)
            shown = MASK if key.endswith("Password") else setting["value"]
            rows.append({"id": row_id, "key": key, "value": shown, "partitionGlobalId": partition})
        return web.json_response(rows)  # the rows written, as SettingDto

    def _id(self, partition: str, key: str) -> int:
        return self.ids.setdefault((partition.lower(), key), len(self.ids) + 1)

    async def _delete(self, request: web.Request) -> web.Response:
        """DELETE /api/Setting/{id}: "Deletes the specified setting" (the Identity API reference)."""
        row = next(((p, k) for (p, k), i in self.ids.items() if str(i) == request.match_info["id"]), None)
        partition = row[0] if row else ""
        refused = await self._guard(request, "PM.Setting.Write", partition if row else next(iter(self.store), ""))
        if refused is not None:
            return refused
        if row is None or row[1] not in self.store.get(row[0], {}):
            return web.json_response({"message": "setting not found"}, status=404)
        del self.store[row[0]][row[1]]
        del self.ids[row]
        self.deletes.append(row)
        return web.Response(status=204)

    def puts(self) -> list[str]:
        return [p for method, p in self.requests if method == "PUT"]


class Served:
    """The stand-in over TLS on 127.0.0.1, on its own loop thread: `with Served(standin, folder) as s:`."""

    def __init__(self, standin: StandIn, folder: Path) -> None:
        self.standin = standin
        self.folder = folder
        self._loop = LoopThread()
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> StandIn:
        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        ca_path = self.folder / "platform-ca.pem"
        ca.cert_pem.write_to_path(str(ca_path))
        port = self._loop.__enter__().run(self._start(context))
        self.standin.url = f"https://127.0.0.1:{port}{self.standin.base}"
        self.standin.ca_path = str(ca_path)
        return self.standin

    async def _start(self, context: ssl.SSLContext) -> int:
        self._runner = web.AppRunner(self.standin.app(), access_log=None, shutdown_timeout=0.25)  # keep-alive clients are not waited for
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        return int(self._runner.addresses[0][1])

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            self._loop.run(self._runner.cleanup())
        self._loop.__exit__()
