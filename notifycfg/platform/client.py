"""A careful client for the platform's Identity settings API (httpx).

- TLS always verified (system CAs or --cafile), TLS 1.2 at least; no switch to turn it off.
- A timeout on every call. The token is fetched once per run, and once more on a 401.
- 429 honours Retry-After; 502, 503, 504 and dropped connections are retried with
  backoff, a bounded number of times within a bounded total wait; 400, 403 and 404
  are not retried.
- `timeout` bounds each call end to end (connect, TLS, headers, the whole body), so a
  platform that drips its answer cannot hold us; a body is read to at most 8 MiB after
  decoding (a gzip bomb counts inflated); redirects are never followed, so the token
  never goes to another origin.
- A proxy (--proxy, HTTPS_PROXY, NO_PROXY: see proxy.py) is reached by CONNECT; the
  platform's TLS is verified end to end through it, and messages name the proxy
  without its credentials.
- Every failure is a PlatformError with a class: auth, permission, not-found,
  rate-limited, server, connection, tls, protocol. No secret and no token ever
  appears in a message.
"""

from __future__ import annotations

import asyncio
import email.utils
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import quote

import httpx

from notifycfg import http
from notifycfg.http import Answer
from notifycfg.outside import visible
from notifycfg.platform.config import PlatformConfig
from notifycfg.platform.proxy import Proxy, proxy_for
from notifycfg.secrets import SecretError
from notifycfg.tls import client_context

RETRIED = {502, 503, 504}
MAX_BODY = 8 * 1024 * 1024  # decoded bytes: a settings answer is a few KiB


FailureClass = Literal["auth", "permission", "not-found", "rate-limited", "server", "connection", "tls", "protocol"]


class PlatformError(Exception):
    """A failed call. `retryable`: asking again may mend it (a dropped or refused connection, a call that
    got no answer in time); what a retry cannot mend (TLS, a proxy's refusal, an oversized body, an answer
    that began and then stalled, any HTTP answer turned into an error) is not."""

    def __init__(self, kind: FailureClass, message: str, *, retryable: bool = False) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind: FailureClass = kind
        self.message = message
        self.retryable = retryable


def retryable(outcome: Answer | PlatformError) -> bool:
    """Whether one try's outcome is worth another: 429, 502, 503 and 504 answers, and retryable failures."""
    if isinstance(outcome, PlatformError):
        return outcome.retryable
    return outcome.status_code == 429 or outcome.status_code in RETRIED


@dataclass
class Retry:
    attempts: int = 5  # at most this many tries of one call
    total_wait: float = 30.0  # and at most this long waiting between them
    base_delay: float = 0.2

    def should_retry(self, outcome: Answer | PlatformError, attempt: int, waited: float) -> bool:
        """Another try after `attempt` tries, having waited `waited` seconds in all (the next delay included)?"""
        return retryable(outcome) and attempt < self.attempts and waited <= self.total_wait

    def delay(self, outcome: Answer | PlatformError, attempt: int) -> float:
        """Retry-After on a 429; otherwise exponential backoff."""
        backoff = float(self.base_delay * 2 ** (attempt - 1))
        return _retry_after(outcome, backoff) if isinstance(outcome, Answer) and outcome.status_code == 429 else backoff


@dataclass
class Stats:
    gets: int = 0
    puts: int = 0
    deletes: int = 0
    tokens: int = 0
    retries: int = 0
    waits: list[float] = field(default_factory=list)


def _retry_after(response: Answer, fallback: float) -> float:
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return fallback
    return max(0.0, when.timestamp() - time.time())


class SettingsClient:
    """One run's connection to the platform: `async with SettingsClient(...) as client:`."""

    def __init__(
        self,
        config: PlatformConfig,
        secret: Callable[[], str],
        *,
        cafile: str | None = None,
        timeout: float = 30.0,
        retry: Retry | None = None,
        proxy: str | None = None,
        transport: http.TransportFor | None = None,
    ) -> None:
        """`transport` makes each origin's transport (tests: httpx.MockTransport), given the proxy chosen for it."""
        self.config = config
        self._secret = secret  # resolved when the token is first needed, never kept
        self._timeout = timeout
        origins = {_origin(config.token_url), _origin(config.settings_url)}
        self._proxies = {origin: p for origin in origins if (p := proxy_for(origin, proxy))}
        routes = {origin: (p.url if (p := self._proxies.get(origin)) else None) for origin in origins}
        self._http = http.client(routes, verify=client_context(cafile), transport=transport)
        self._retry = retry or Retry()
        self._token: str | None = None
        self._token_lock = asyncio.Lock()
        self.stats = Stats()

    async def __aenter__(self) -> SettingsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def token(self, refresh: bool = False, stale: str | None = None) -> str:
        async with self._token_lock:
            if self._token is None or (refresh and self._token == stale):
                self._token = await self._fetch_token()
            return self._token

    async def _fetch_token(self) -> str:
        try:
            secret = self._secret()
        except SecretError as exc:
            raise PlatformError("auth", f"the client secret: {exc}") from None
        form = {"grant_type": "client_credentials", "client_id": self.config.client_id, "client_secret": secret, "scope": self.config.scope}
        response = await self._send("POST", self.config.token_url, "the token endpoint", data=form)
        self.stats.tokens += 1
        if response.status_code in (400, 401):
            said = platform_words(response, (secret,))
            raise PlatformError("auth", f"the token endpoint refused client {self.config.client_id} ({response.status_code}){said}")
        self._raise_for(response, "the token endpoint", "", sent=(secret,))
        try:
            token = response.json()["access_token"]
        except (ValueError, KeyError, TypeError):
            raise PlatformError("protocol", "the token endpoint's answer has no access_token") from None
        if not isinstance(token, str) or not token:
            raise PlatformError("protocol", "the token endpoint's answer has no access_token")
        return token

    async def rows(self, guid: str, keys: tuple[str, ...]) -> list[Row]:
        """The partition's current settings among `keys` (matched case-insensitively), each with its id."""
        params = [("partitionGlobalId", guid), *(("key", k) for k in keys)]
        response = await self._authorized("GET", self.config.settings_url, guid, "PM.Setting.Read", params=params)
        self.stats.gets += 1
        return _settings(response, keys)

    async def read(self, guid: str, keys: tuple[str, ...]) -> dict[str, str]:
        """The partition's current values by key."""
        return {row.key: row.value for row in await self.rows(guid, keys)}

    async def delete(self, guid: str, row_id: str) -> None:
        """DELETE {identity}/api/Setting/{id}: "Deletes the specified setting" (the Identity API reference)."""
        url = f"{self.config.settings_url}/{quote(row_id, safe='')}"
        await self._authorized("DELETE", url, guid, "PM.Setting.Write")
        self.stats.deletes += 1

    async def write(self, guid: str, values: Mapping[str, str]) -> None:
        body = {"settings": [{"key": k, "value": v} for k, v in values.items()], "partitionGlobalId": guid}
        await self._authorized("PUT", self.config.settings_url, guid, "PM.Setting.Write", json=body)
        self.stats.puts += 1

    async def _authorized(self, method: str, url: str, guid: str, scope: str, **kwargs: Any) -> Answer:
        where = self.config.partition_of(guid)
        token = await self.token()
        response = await self._send(method, url, where, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        if response.status_code == 401:  # expired or revoked: one fresh token, one more try
            token = await self.token(refresh=True, stale=token)
            response = await self._send(method, url, where, headers={"Authorization": f"Bearer {token}"}, **kwargs)
            if response.status_code == 401:
                raise PlatformError("auth", f"the platform refused a fresh token for {where}")
        self._raise_for(response, where, scope, guid, sent=_secrets_sent(kwargs))
        return response

    def _raise_for(self, response: Answer, where: str, scope: str, guid: str = "", sent: tuple[str, ...] = ()) -> None:
        """A refusal as a PlatformError: its class, the status, and the platform's own words (secrets we sent hidden)."""
        code = response.status_code
        if 300 <= code < 400:
            raise PlatformError("protocol", f"{where}: the platform answered {code} (a redirect); redirects are never followed")
        if code < 400:
            return
        said = platform_words(response, sent)
        if code == 403:
            raise PlatformError("permission", f"{where}: forbidden; the client needs the scope {scope}{said}")
        if code == 404:
            raise PlatformError("not-found", f"{where}: partition {guid} not found{said}")
        if code == 407:
            raise PlatformError("connection", f"{where}: a proxy answered 407 (proxy authentication required)")
        if code == 429:
            raise PlatformError("rate-limited", f"{where}: still rate limited after {self._retry.attempts} tries{said}")
        if code >= 500:
            raise PlatformError("server", f"{where}: the platform answered {code}{said}")
        raise PlatformError("protocol", f"{where}: the platform answered {code}{said}")

    async def _send(self, method: str, url: str, where: str, **kwargs: Any) -> Answer:
        """One call with its retries (Retry.should_retry decides). When they run out, the last answer is
        returned, or the last failure raised."""
        waited, attempt = 0.0, 0
        while True:
            attempt += 1
            outcome: Answer | PlatformError
            try:
                outcome = await self._attempt(method, url, where, **kwargs)
            except PlatformError as exc:
                outcome = exc
            delay = self._retry.delay(outcome, attempt)
            if not self._retry.should_retry(outcome, attempt, waited + delay):
                if isinstance(outcome, PlatformError):
                    raise outcome
                return outcome
            self.stats.retries += 1
            self.stats.waits.append(delay)
            waited += delay
            await asyncio.sleep(delay)

    async def _attempt(self, method: str, url: str, where: str, **kwargs: Any) -> Answer:
        """One try, bounded end to end by the timeout: an answer, or a PlatformError saying whether it is retryable."""
        host, proxy = httpx.URL(url).host, self._proxies.get(_origin(url))
        try:
            return await http.fetch(self._http, self._http.build_request(method, url, **kwargs), limit=MAX_BODY, deadline=self._timeout)
        except http.Deadline as exc:
            # headers came, the body did not: a platform that drips is not mended by asking again
            message = f"{host} did not answer in full within {self._timeout:g}s (--timeout)"
            raise PlatformError("connection", message, retryable=not exc.began) from None
        except http.BodyRefused as exc:
            raise PlatformError("protocol", f"{where}: {exc.detail}") from None
        except httpx.ProxyError as exc:
            raise PlatformError("connection", f"proxy {_name(proxy)} refused the tunnel to {host}: {_refusal(exc)}") from None
        except httpx.ConnectError as exc:
            if _is_tls(exc):
                raise PlatformError("tls", f"TLS with {host} failed: {_tls_reason(exc)}") from None
            if proxy is not None:
                raise PlatformError("connection", f"cannot connect to proxy {proxy.name} (on the way to {host})", retryable=True) from None
            raise PlatformError("connection", f"cannot connect to {host}", retryable=True) from None
        except httpx.TimeoutException:
            raise PlatformError("connection", f"{host} did not answer in time", retryable=True) from None
        except httpx.DecodingError:
            raise PlatformError("protocol", f"{where}: the answer's content encoding does not decode") from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            raise PlatformError("connection", f"{host} dropped the connection", retryable=True) from None


MAX_WORDS = 300  # characters of the platform's message shown


def platform_words(answer: Answer, sent: tuple[str, ...] = ()) -> str:
    """`: <the platform's message>` from a refusal's JSON body (`message`, else `error`, `title` or `detail`,
    or an `error` object's `message`), or "". Bounded, control characters shown as escapes, and every
    secret this call sent (a password written, the client secret) replaced: a platform may echo them."""
    try:
        body = answer.json()
    except ValueError:
        return ""
    fields = {str(k).lower(): v for k, v in body.items()} if isinstance(body, dict) else {}
    nested = fields.get("error")
    if isinstance(nested, dict):
        fields = {"message": next((v for k, v in nested.items() if str(k).lower() == "message"), None), **fields}
    text = next((v for v in (fields.get(k) for k in ("message", "error", "title", "detail")) if isinstance(v, str) and v.strip()), None)
    if text is None:
        return ""
    for secret in sorted((s for s in sent if s), key=len, reverse=True):
        text = text.replace(secret, "(secret)")
    shown = visible(text.strip())
    return f": {shown[: MAX_WORDS - 1]}…" if len(shown) > MAX_WORDS else f": {shown}"


def _secrets_sent(kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    """The secret values in a call's body: the passwords a PUT writes."""
    body = kwargs.get("json")
    settings = body.get("settings", []) if isinstance(body, dict) else []
    return tuple(str(s["value"]) for s in settings if isinstance(s, dict) and str(s.get("key", "")).lower().endswith("password"))


def _refusal(exc: httpx.ProxyError) -> str:
    """The proxy's status code and that code's standard phrase; never the proxy's own words, which a
    hostile or echoing proxy fills with what we sent (Proxy-Authorization included)."""
    code = str(exc)[:3]
    if not code.isdigit():
        return "the tunnel was not set up"
    try:
        return f"{code} {HTTPStatus(int(code)).phrase}"
    except ValueError:
        return f"{code} (not a standard status)"


def _origin(url: str) -> str:
    u = httpx.URL(url)
    return f"{u.scheme}://{u.netloc.decode('ascii')}"


def _name(proxy: Proxy | None) -> str:
    return proxy.name if proxy else "(none configured)"


def _is_tls(exc: Exception) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "SSL" in str(exc) or "certificate" in str(exc).lower()


def _tls_reason(exc: Exception) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"the certificate does not verify ({cause.verify_message}); use --cafile for a private CA"
        if isinstance(cause, ssl.SSLError):
            return str(cause.reason or cause)
        cause = cause.__cause__ or cause.__context__
    return "handshake failed"


@dataclass(frozen=True)
class Row:
    """One stored setting as GET shows it (a SettingDto): its id (None when the platform shows none), key and value."""

    id: str | None
    key: str
    value: str


def _settings(response: Answer, keys: tuple[str, ...]) -> list[Row]:
    """A list of {id, key, value}, or an object holding one under `settings`; extra fields and key case ignored."""
    try:
        body = response.json()
    except ValueError:
        raise PlatformError("protocol", "the settings answer is not JSON") from None
    if isinstance(body, dict):
        body = next((v for k, v in body.items() if str(k).lower() == "settings"), None)
    if not isinstance(body, list):
        raise PlatformError("protocol", "the settings answer is not a list of {key, value}")
    wanted = {k.lower(): k for k in keys}
    out: dict[str, Row] = {}
    for item in body:
        if not isinstance(item, dict):
            raise PlatformError("protocol", "a setting in the answer is not an object")
        fields = {str(k).lower(): v for k, v in item.items()}
        key, value, row_id = fields.get("key"), fields.get("value"), fields.get("id")
        if isinstance(key, str) and key.lower() in wanted and (value is None or isinstance(value, str | int | float | bool)):
            text = "" if value is None else _text(str(value).lower() if isinstance(value, bool) else str(value))
            ident = _text(str(row_id)) if isinstance(row_id, str | int) and not isinstance(row_id, bool) and str(row_id) else None
            out[wanted[key.lower()]] = Row(ident, wanted[key.lower()], text)
    return list(out.values())


def _text(value: str) -> str:
    """A platform string as text any output can hold: a lone surrogate (JSON allows `\\ud800`, UTF-8 does
    not) is kept as its escape, `\\ud800`, so plan reports it instead of failing to print it."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")
