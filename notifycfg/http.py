"""The one way notifycfg speaks HTTP (the platform's settings API, revocation URLs): httpx, with

- a transport that tests can swap (`httpx.MockTransport`), per origin where a proxy decides;
- never a redirect followed, never the environment's proxy settings (the caller chooses, and names it);
- one deadline for a whole call: connect, TLS, headers and the whole body;
- one body reader, capped on the decoded bytes while it decodes: the raw stream is inflated by our
  own zlib objects, never asked for more than the room left, so a bomb costs at most the cap. One
  content coding at most (gzip or deflate); anything else, or coding stacked on coding, is refused.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import httpx

from notifycfg.datapath import Json

TransportFor = Callable[[str, str | None], httpx.AsyncBaseTransport]  # (origin, proxy URL or None) -> transport
ACCEPTED_CODINGS = "gzip, deflate"


class BodyRefused(Exception):
    """A body we will not read: larger than the cap once decoded, or in a coding we do not decode."""

    def __init__(self, why: Literal["too-large", "coding"], detail: str) -> None:
        super().__init__(detail)
        self.why, self.detail = why, detail


class Deadline(Exception):
    """The call did not finish within its deadline; `began`: the answer's headers had come."""

    def __init__(self, began: bool) -> None:
        super().__init__("deadline")
        self.began = began


@dataclass(frozen=True)
class Answer:
    """A whole, bounded answer."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    def json(self) -> Json:
        value: Json = json.loads(self.content)
        return value


def client(
    origins: Mapping[str, str | None] | None = None,
    *,
    verify: ssl.SSLContext | bool = True,
    transport: TransportFor | None = None,
) -> httpx.AsyncClient:
    """A client for the given origins (each with its proxy URL, or None to go direct). `transport`
    makes each origin's transport (tests pass one built on httpx.MockTransport)."""

    def made(origin: str, proxy: str | None) -> httpx.AsyncBaseTransport:
        return transport(origin, proxy) if transport else httpx.AsyncHTTPTransport(verify=verify, proxy=proxy)

    mounts = {origin: made(origin, proxy) for origin, proxy in (origins or {}).items()}
    return httpx.AsyncClient(
        verify=verify,
        transport=made("", None),
        mounts=mounts,
        follow_redirects=False,
        trust_env=False,  # the proxy is the caller's to choose, so that messages can name it
        timeout=None,  # fetch() bounds the whole call instead
        headers={"Accept-Encoding": ACCEPTED_CODINGS},
    )


async def fetch(http: httpx.AsyncClient, request: httpx.Request, *, limit: int, deadline: float) -> Answer:
    """Send `request` and read its whole answer within `deadline` seconds, at most `limit` decoded bytes.
    Deadline, BodyRefused, or httpx's own errors (connect, proxy, protocol) otherwise."""
    response: httpx.Response | None = None
    try:
        async with asyncio.timeout(deadline):
            response = await http.send(request, stream=True)
            return Answer(response.status_code, response.headers, await read_body(response, limit))
    except TimeoutError:
        raise Deadline(began=response is not None) from None
    finally:
        if response is not None:
            await response.aclose()


async def read_body(response: httpx.Response, limit: int) -> bytes:
    """The body decoded, at most `limit` bytes: BodyRefused past that, and for a coding we do not decode."""
    decoder = Decoder(response.headers.get("Content-Encoding", ""), limit)
    body = bytearray()
    async for raw in response.aiter_raw():
        body += decoder.feed(raw)
    body += decoder.flush()
    return bytes(body)


class Decoder:
    """One content coding (identity, gzip, deflate) undone with the output bounded at every step."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip() and c.strip().lower() != "identity"]
        if len(codings) > 1:
            raise BodyRefused("coding", f"the answer is encoded {len(codings)} times ({', '.join(codings)}); one coding at most is read")
        self._coding = codings[0] if codings else ""
        if self._coding not in ("", "gzip", "x-gzip", "deflate"):
            raise BodyRefused("coding", f"the answer's content coding {self._coding[:40]!r} is not one we read (gzip, deflate)")
        self._limit, self._total = limit, 0
        self._zlib = self._inflater(self._coding)
        self._first = True

    @staticmethod
    def _inflater(coding: str, raw_deflate: bool = False) -> zlib._Decompress | None:
        if coding in ("gzip", "x-gzip"):
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        if coding == "deflate":  # zlib-wrapped, as RFC 9110 says; some servers send it raw, as httpx accepts too
            return zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)
        return None

    def feed(self, data: bytes) -> bytes:
        inflater = self._zlib
        if inflater is None:
            return self._count(data)
        try:
            out = self._count(inflater.decompress(data, self._limit - self._total + 1))  # at most one byte past the cap
        except zlib.error:
            if not (self._first and self._coding == "deflate"):
                raise BodyRefused("coding", f"the answer's {self._coding} coding does not decode") from None
            self._zlib = self._inflater("deflate", raw_deflate=True)
            return self.feed(data)
        self._first = False
        return out

    def flush(self) -> bytes:
        if self._zlib is None or self._zlib.eof:
            return b""
        try:
            rest = self._count(self._zlib.decompress(b"", self._limit - self._total + 1))
        except zlib.error:
            raise BodyRefused("coding", f"the answer's {self._coding} coding does not decode") from None
        if not _ended(self._zlib):  # the stream stopped before its end: a partial body is not the answer
            raise BodyRefused("coding", f"the answer's {self._coding} coding ends before its end (truncated)")
        return rest

    def _count(self, data: bytes) -> bytes:
        self._total += len(data)
        if self._total > self._limit:
            raise BodyRefused("too-large", f"the answer is larger than {_size(self._limit)} (decoded); not read further")
        return data


def _ended(inflater: zlib._Decompress) -> bool:
    """Whether the compressed stream reached its end (read now: decompress() changes it)."""
    return inflater.eof


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit // 1024} KiB"
