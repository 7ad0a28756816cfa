"""A harness in another process (`smtp-harness serve` in a CI service, a container), read over its HTTP
API: `wait_for` is one request that the harness answers as soon as the messages arrive (the server-side
wait, GET /api/messages?wait=), never a polling loop. Standard library only."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

from smtp_harness.jsontypes import JsonObject

MAX_WAIT = 60.0  # what the harness allows one wait


class RemoteHarness:
    """`RemoteHarness("http://127.0.0.1:8025", auth=("user", "password"))`."""

    def __init__(self, url: str, auth: tuple[str, str] | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"a harness URL is http:// or https://, not {url!r}")
        self.url = url.rstrip("/")
        self._headers = {"Authorization": "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()} if auth else {}

    def _get(self, path: str, params: dict[str, str], timeout: float) -> JsonObject:
        request = urllib.request.Request(f"{self.url}{path}?{urllib.parse.urlencode(params)}", headers=self._headers)
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - http(s) only, checked above
            found: JsonObject = json.loads(answer.read(64 * 1024 * 1024))
        return found

    def messages(self, **filters: str | None) -> list[JsonObject]:
        chosen = {k: v for k, v in filters.items() if v is not None}
        found: list[JsonObject] = self._get("/api/messages", chosen, 30)["messages"]
        return found

    def wait_for(self, count: int = 1, timeout: float = 5.0, **filters: str | None) -> list[JsonObject]:
        """The summaries of at least `count` messages matching `filters`; TimeoutError says how many came."""
        if not 0 < timeout <= MAX_WAIT:
            raise ValueError(f"timeout must be more than 0 and at most {MAX_WAIT:g} seconds")
        params = {k: v for k, v in filters.items() if v is not None} | {"wait": f"{timeout:g}", "count": str(count)}
        found: list[JsonObject] = self._get("/api/messages", params, timeout + 10)["messages"]
        if len(found) < count:
            raise TimeoutError(f"{len(found)} of {count} message(s) matching {filters} after {timeout}s")
        return found
