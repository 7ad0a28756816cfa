"""The one HTTP module (notifycfg/http.py) and what stands on it, driven through httpx.MockTransport:
the bounded decoder, the deadline, the platform client's retry policy and proxy routes, and the
revocation judgement. No server, no socket: the end-to-end tests (test_doctor, test_platform) stay."""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp

from notifycfg import http
from notifycfg.doctor.endpoints.revocation import Revocations
from notifycfg.platform.client import PlatformError, Retry, SettingsClient
from notifycfg.platform.config import PlatformConfig

LIMIT = 1024 * 1024


class Raw(httpx.AsyncByteStream):
    """A body as a real transport hands it over: streamed, still encoded (httpx.Response(content=...)
    would be read, and decoded by httpx itself, before our reader saw it)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.body), 65536):
            yield self.body[start : start + 65536]


def respond(status: int = 200, body: bytes = b"", **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, stream=Raw(body))


def fetch(handler, limit: int = LIMIT, deadline: float = 5.0) -> http.Answer:
    async def go() -> http.Answer:
        async with http.client(transport=lambda origin, proxy: httpx.MockTransport(handler)) as client:
            return await http.fetch(client, client.build_request("GET", "http://relay.test/x"), limit=limit, deadline=deadline)

    return asyncio.run(go())


def encoded(body: bytes, coding: str) -> httpx.Response:
    return respond(200, body, **({"Content-Encoding": coding} if coding else {}))


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("", lambda b: b),
        ("identity", lambda b: b),
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as RFC 9110 says
        ("deflate", lambda b: zlib.compress(b, wbits=-15)),  # raw, as some servers send it
    ],
)
def test_one_coding_is_decoded(coding, encode):
    body = b"settings " * 5000
    assert fetch(lambda request: encoded(encode(body), coding)).content == body


def test_the_client_asks_only_for_the_codings_it_reads():
    seen: list[str] = []
    fetch(lambda request: seen.append(request.headers["Accept-Encoding"]) or respond())  # type: ignore[func-returns-value]
    assert seen == ["gzip, deflate"]


@pytest.mark.parametrize(
    ("coding", "body", "words"),
    [
        ("gzip, gzip", gzip.compress(gzip.compress(b"x" * 100, mtime=0), mtime=0), "encoded 2 times (gzip, gzip)"),
        ("deflate, gzip", gzip.compress(zlib.compress(b"x"), mtime=0), "encoded 2 times"),
        ("br", b"\x0b\x02\x80hello\x03", "'br' is not one we read"),
        ("compress", b"x", "'compress' is not one we read"),
        ("gzip", b"not gzip at all", "gzip coding does not decode"),
        ("gzip", gzip.compress(b"x" * 5000, mtime=0)[:-12], "gzip coding ends before its end"),
    ],
    ids=["gzip-gzip", "deflate-gzip", "br", "compress", "broken-gzip", "truncated-gzip"],  # the same on every xdist worker
)
def test_stacked_unknown_and_broken_codings_are_refused(coding, body, words):
    with pytest.raises(http.BodyRefused) as refused:
        fetch(lambda request: encoded(body, coding))
    assert refused.value.why == "coding" and words in refused.value.detail


def test_a_bomb_is_read_to_the_cap_and_no_further():
    """64 MiB of zeros in 64 KiB of gzip against a 1 MiB cap: refused, the memory it took near the cap.
    A whole-chunk inflate (what httpx's own decoder does) would hold all 64 MiB at once."""
    bomb = gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(http.BodyRefused) as refused:
            fetch(lambda request: encoded(bomb, "gzip"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.why == "too-large" and "larger than 1 MiB (decoded)" in refused.value.detail
    assert peak < 8 * LIMIT, f"peak {peak / 2**20:.1f} MiB for a 1 MiB cap"


def test_a_body_exactly_at_the_cap_is_read_whole():
    body = bytes(LIMIT)
    assert fetch(lambda request: encoded(gzip.compress(body), "gzip")).content == body
    with pytest.raises(http.BodyRefused):
        fetch(lambda request: encoded(gzip.compress(body + b"!"), "gzip"))


class Drip(httpx.AsyncByteStream):
    """A body that starts, then never ends."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"{"
        await asyncio.Event().wait()


async def _silent(request: httpx.Request) -> httpx.Response:
    await asyncio.Event().wait()
    raise AssertionError("never answered")


def test_the_deadline_bounds_the_whole_call_and_says_whether_the_answer_began():
    with pytest.raises(http.Deadline) as stalled:
        fetch(lambda request: httpx.Response(200, stream=Drip()), deadline=0.2)  # headers at once, then a drip
    assert stalled.value.began
    with pytest.raises(http.Deadline) as silent:
        fetch(_silent, deadline=0.2)
    assert not silent.value.began


# --- the platform client: retry as data, proxy routes ------------------------------------------------


def answer(status: int, **headers: str) -> http.Answer:
    return http.Answer(status, httpx.Headers(headers), b"")


@pytest.mark.parametrize(
    ("outcome", "again"),
    [
        (answer(200), False),
        (answer(400), False),
        (answer(401), False),
        (answer(404), False),
        (answer(500), False),
        (answer(429), True),
        (answer(502), True),
        (answer(503), True),
        (answer(504), True),
        (PlatformError("connection", "cannot connect", retryable=True), True),
        (PlatformError("connection", "stalled mid-answer"), False),
        (PlatformError("tls", "certificate"), False),
        (PlatformError("protocol", "too large"), False),
    ],
)
def test_what_is_retried_is_data(outcome, again):
    retry = Retry(attempts=3, total_wait=10)
    assert retry.should_retry(outcome, attempt=1, waited=0.0) is again
    assert retry.should_retry(outcome, attempt=3, waited=0.0) is False  # the tries ran out
    assert retry.should_retry(outcome, attempt=1, waited=10.5) is False  # the wait ran out


def test_retry_after_is_honoured_and_backoff_doubles():
    retry = Retry(base_delay=0.5)
    assert retry.delay(answer(429, **{"Retry-After": "7"}), attempt=1) == 7.0
    assert [retry.delay(answer(503), attempt=n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]


CONFIG = PlatformConfig(
    url="https://platform.test/identity",
    token_url="https://login.test/connect/token",
    client_id="notifycfg",
    client_secret={"env": "X"},
    scope="PM.Setting",
    host_partition="00000000-0000-0000-0000-000000000001",
    orgs={},
)


def platform(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/token"):
        return respond(200, b'{"access_token": "t"}')
    return respond(200, b'[{"key": "Email.Smtp.Host", "value": "smtp.example.com"}]')


def routes(proxy: str | None, monkeypatch, **environ: str) -> dict[str, str | None]:
    """Which proxy each origin's transport was made for, after one read went through them."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    made: dict[str, str | None] = {}

    def transport(origin: str, via: str | None) -> httpx.AsyncBaseTransport:
        made[origin] = via
        return httpx.MockTransport(platform)

    async def go() -> dict[str, str]:
        async with SettingsClient(CONFIG, lambda: "secret", proxy=proxy, transport=transport) as client:
            return await client.read(CONFIG.host_partition, ("Email.Smtp.Host",))

    assert asyncio.run(go()) == {"Email.Smtp.Host": "smtp.example.com"}
    return {origin: via for origin, via in made.items() if origin}


def test_proxy_rules_choose_each_origins_route(monkeypatch):
    direct = {"https://platform.test": None, "https://login.test": None}
    assert routes(None, monkeypatch) == direct
    proxied = routes(None, monkeypatch, HTTPS_PROXY="proxy.corp:3128")
    assert proxied == {"https://platform.test": "http://proxy.corp:3128", "https://login.test": "http://proxy.corp:3128"}
    bypassed = routes(None, monkeypatch, HTTPS_PROXY="http://proxy.corp:3128", NO_PROXY=".login.test,10.0.0.0/8")
    assert bypassed == {"https://platform.test": "http://proxy.corp:3128", "https://login.test": None}
    assert routes(None, monkeypatch, https_proxy="http://p:1", no_proxy="*") == direct
    assert routes(None, monkeypatch, HTTP_PROXY="http://plain-only:1") == direct  # https calls ignore HTTP_PROXY
    assert routes(None, monkeypatch, ALL_PROXY="http://all:1")["https://platform.test"] == "http://all:1"
    explicit = routes("http://user:pw@given:8080", monkeypatch, HTTPS_PROXY="http://env:1", NO_PROXY="*")
    assert set(explicit.values()) == {"http://user:pw@given:8080"}  # --proxy wins, and NO_PROXY is the environment's


# --- revocation, judged from what the URLs answer ------------------------------------------------------


@pytest.fixture
def authority(tmp_path):
    from revocation_servers import Authority

    return Authority(tmp_path)  # its answers, without its HTTP server


CRL, OCSP = "http://ca.test/ca.crl", "http://ca.test/ocsp"


def judged(authority, serve, **urls: str):
    """The revocation check of a leaf naming `urls`, each answered by `serve(request)`."""
    authority.issue("relay.test", **urls)
    leaf = authority.issued[authority.last_serial].public_bytes(serialization.Encoding.DER)
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return serve(request)

    async def go():
        transport = lambda origin, proxy: httpx.MockTransport(handler)  # noqa: E731
        async with Revocations(2.0, authority.cafile, transport=transport) as revocations:
            return await revocations.check([leaf])

    return asyncio.run(go()), asked


def served(authority):
    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ocsp":
            return respond(200, authority.ocsp_body(request.content))
        return respond(200, authority.crl_body())

    return serve


def test_a_good_crl_and_ocsp_answer(authority):
    check, asked = judged(authority, served(authority), crl=CRL, ocsp_url=OCSP)
    assert (check.status, check.code) == ("ok", "revocation.crl_good")
    assert [o["code"] for o in check.facts["outcomes"]] == ["revocation.crl_good", "revocation.ocsp_good"]
    assert asked == ["/ca.crl", "/ocsp"]


def test_revoked_in_the_crl_and_by_ocsp(authority):
    authority.issue("other.test")
    authority.revoked.add(authority.last_serial)
    original = authority.issue
    revoke = {"next": True}

    def issue(name, **urls):
        out = original(name, **urls)
        if revoke["next"]:
            authority.revoked.add(authority.last_serial)
            authority.ocsp_status[authority.last_serial] = ocsp.OCSPCertStatus.REVOKED
        return out

    authority.issue = issue
    check, _ = judged(authority, served(authority), crl=CRL, ocsp_url=OCSP)
    assert (check.status, check.code) == ("error", "revocation.revoked_crl")
    codes = [o["code"] for o in check.facts["outcomes"]]
    assert codes == ["revocation.revoked_crl", "revocation.revoked_ocsp"]
    assert check.facts["outcomes"][0]["serial"] == f"{authority.last_serial:x}"


@pytest.mark.parametrize(
    ("serve", "code"),
    [
        (lambda r: respond(404), "revocation.http_status"),
        (lambda r: respond(200, b"<html>captive portal</html>"), "revocation.not_crl"),
        (lambda r: encoded(gzip.compress(gzip.compress(b"x" * 1000)), "gzip, gzip"), "revocation.bad_coding"),
        (lambda r: encoded(gzip.compress(bytes(11 * 1024 * 1024)), "gzip"), "revocation.too_large"),
        (lambda r: respond(302, Location="http://elsewhere.test/ca.crl"), "revocation.http_status"),
    ],
    ids=["404", "web-page", "stacked-gzip", "gzip-over-10-MiB", "redirect-not-followed"],
)
def test_what_a_crl_url_answers_is_judged(authority, serve, code):
    check, asked = judged(authority, serve, crl=CRL)
    assert (check.status, check.code) == ("error", code)
    assert asked == ["/ca.crl"]  # one fetch; a redirect is never followed


def test_a_stale_crl_is_a_warning(authority):
    import datetime

    authority.crl_next_update = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)
    check, _ = judged(authority, served(authority), crl=CRL)
    assert (check.status, check.code) == ("warning", "revocation.crl_stale")


def test_what_is_not_a_certificate_is_said_so():
    async def go():
        async with Revocations(1.0) as revocations:
            return await revocations.check([b"not DER"])

    check = asyncio.run(go())
    assert (check.status, check.code) == ("error", "revocation.unreadable")


def test_the_issuer_is_found_in_the_cafile(authority):
    check, _ = judged(authority, served(authority), crl=CRL)
    assert "revocation.issuer_unknown" not in [o["code"] for o in check.facts["outcomes"]]
    assert x509.load_pem_x509_certificate(Path(authority.cafile).read_bytes()).subject == authority.cert.subject


@pytest.mark.parametrize(
    ("window", "code"),
    [((-40, -20), "revocation.ocsp_stale"), ((300, 301), "revocation.ocsp_future"), ((-1, 1), "revocation.ocsp_good")],
    ids=["next-update-20-days-ago", "this-update-300-days-ahead", "current"],
)
def test_an_ocsp_answer_outside_its_window_is_no_good(authority, window, code):
    """A signed 'good' past its nextUpdate, or not valid yet: OpenSSL refuses it, so the platform's
    handshake would fail; doctor says so as it does of a stale CRL (a warning)."""
    import datetime

    now = datetime.datetime.now(datetime.UTC)
    authority.ocsp_window = tuple(now + datetime.timedelta(days=d) for d in window)
    check, _ = judged(authority, served(authority), ocsp_url=OCSP)
    assert check.code == code and check.status == ("ok" if code.endswith("good") else "warning")
