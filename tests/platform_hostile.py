"""A platform that misbehaves on purpose, over real TLS on loopback: the token endpoint answers as
documented, and the settings endpoint sends an endless body, drips one byte every half second,
sends a gzip bomb, the same bomb gzipped again (`Content-Encoding: gzip, gzip`), or redirects to another origin (a second server, on 127.0.0.2, that records
any request reaching it)."""

from __future__ import annotations

import asyncio
import ssl
import zlib
from functools import cache
from pathlib import Path

import trustme
from aiohttp import web
from support import LoopThread

BEHAVIOURS = ("endless", "drip", "gzip-bomb", "stacked-gzip", "redirect")
TOKEN = "hostile-token-5b1e9"


@cache
def gzip_bomb() -> bytes:
    """1 GiB of zeros, gzip-compressed to about 1 MiB (made once per test process). After a full flush
    the compressor starts afresh, so every 1 MiB of zeros compresses to the same bytes: one block,
    repeated 1,024 times, is the stream (a second instead of compressing 1 GiB)."""
    zeros = bytes(1 << 20)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = squeeze.compress(zeros) + squeeze.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(1024):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + block * 1024 + squeeze.flush() + crc.to_bytes(4, "little") + (1 << 30 & 0xFFFFFFFF).to_bytes(4, "little")


@cache
def stacked_bomb() -> bytes:
    """The gzip bomb gzipped once more: about 10 KiB that inflate to 1 MiB, then to 1 GiB."""
    return zlib.compress(gzip_bomb(), 9, wbits=31)


class Hostile:
    def __init__(self, behaviour: str, folder: Path) -> None:
        self.behaviour, self.folder = behaviour, folder
        self.elsewhere: list[str] = []  # requests that reached the other origin, with their Authorization
        self._loop = LoopThread()
        self._runners: list[web.AppRunner] = []
        self.url = self.ca_path = ""

    async def _token(self, request: web.Request) -> web.Response:
        return web.json_response({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600})

    async def _settings(self, request: web.Request) -> web.StreamResponse:
        if self.behaviour == "redirect":
            raise web.HTTPFound(f"https://127.0.0.2:{self._other_port}/steal")
        if self.behaviour == "gzip-bomb":
            return web.Response(body=gzip_bomb(), headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
        if self.behaviour == "stacked-gzip":
            return web.Response(body=stacked_bomb(), headers={"Content-Encoding": "gzip, gzip", "Content-Type": "application/json"})
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'[{"key": "Email.Smtp.Host", "value": "')
        while request.transport is not None and not request.transport.is_closing():  # until the client goes away
            chunk = b"x" if self.behaviour == "drip" else b"x" * 65536
            if self.behaviour == "drip":
                await asyncio.sleep(0.5)
            try:  # a TLS write to a client that went away can wait on drain forever: bounded, so teardown never hangs
                await asyncio.wait_for(response.write(chunk), 2)
            except (TimeoutError, ConnectionError):
                break
        return response

    async def _steal(self, request: web.Request) -> web.Response:
        self.elsewhere.append(request.headers.get("Authorization", ""))
        return web.json_response([])

    def __enter__(self) -> Hostile:
        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "127.0.0.2").configure_cert(context)
        ca.cert_pem.write_to_path(str(self.folder / "hostile-ca.pem"))
        self.ca_path = str(self.folder / "hostile-ca.pem")
        loop = self._loop.__enter__()
        other = web.Application()
        other.router.add_route("*", "/steal", self._steal)
        self._other_port = loop.run(self._start(other, "127.0.0.2", context))
        app = web.Application()
        app.router.add_post("/identity_/connect/token", self._token)
        app.router.add_get("/identity_/api/Setting", self._settings)
        self.url = f"https://127.0.0.1:{loop.run(self._start(app, '127.0.0.1', context))}/identity_"
        return self

    async def _start(self, app: web.Application, host: str, context: ssl.SSLContext) -> int:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25)
        await runner.setup()
        await web.TCPSite(runner, host, 0, ssl_context=context).start()
        self._runners.append(runner)
        return int(runner.addresses[0][1])

    def __exit__(self, *exc: object) -> None:
        for runner in self._runners:
            self._loop.run(runner.cleanup())
        self._loop.__exit__()
