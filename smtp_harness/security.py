"""What makes the HTTP surface safe to expose.

- Host: a request whose Host header is not the bound address, `localhost`, a
  loopback literal or a configured name is refused (421): DNS rebinding gets nothing.
- Auth: with `http_auth`, every request (page, API, live stream) needs HTTP basic
  credentials, compared in constant time.
- Cross-site requests: a state change (POST, PUT, PATCH, DELETE) that carries an `Origin`
  other than the harness's own is refused (403), on every path. A POST also needs the
  `X-Harness-Request` header or a JSON content type, which no other web page can send
  without a CORS preflight; PUT, PATCH and DELETE always need a preflight from a page, so
  they need neither when no `Origin` comes with them (non-browser clients, such as
  Mailpit's, send none). No preflight is ever granted (no Access-Control-* header,
  OPTIONS refused). A form or `text/plain` fetch from another page is a 403.
- Every answer carries a Content-Security-Policy (frame-ancestors 'none'),
  X-Content-Type-Options: nosniff, X-Frame-Options: DENY, Referrer-Policy: no-referrer
  and Cache-Control: no-store.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from smtp_harness.config import is_loopback
from smtp_harness.http_state import HttpSettings

CSRF_HEADER = "X-Harness-Request"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
# The viewer frame: the page (same origin) may frame it; nothing in it runs or reaches the network.
_BODY = (
    "default-src 'none'; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)
BODY_CSP = f"{_BODY}; img-src data: cid:"
BODY_CSP_REMOTE = f"{_BODY}; img-src data: cid: https: http:"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _allowed_hosts(settings: HttpSettings) -> set[str]:
    names = {"localhost", "127.0.0.1", "::1", settings.bound_host, *settings.allowed_hosts}
    return {n.lower().strip("[]") for n in names}


def _host_of(header: str) -> str:
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def middlewares(settings: HttpSettings) -> list[Callable[..., Awaitable[web.StreamResponse]]]:
    allowed = _allowed_hosts(settings)
    expected = None
    if settings.auth:
        user, password = settings.auth
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = _host_of(request.headers.get("Host", ""))
        if host not in allowed and not (is_loopback(host) and is_loopback(settings.bound_host)):
            return _headers(request, web.json_response({"error": "unknown Host: use the address the harness listens on"}, status=421))
        if expected is not None and not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected.encode()):
            refused = web.json_response(
                {"error": "authentication required"},
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="smtp_harness", charset="UTF-8"'},
            )
            return _headers(request, refused)
        if request.method == "OPTIONS":
            return _headers(request, web.json_response({"error": "no cross-origin requests"}, status=403))
        refusal = _cross_site(request) if request.method in UNSAFE_METHODS else None
        if refusal is not None:
            return _headers(request, web.json_response({"error": refusal}, status=403))
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers.update(security_headers(request, exc))
            raise
        return _headers(request, response)

    return [guard]


def _cross_site(request: web.Request) -> str | None:
    """Why a state change may be a cross-site request (then refused), or None."""
    origin = request.headers.get("Origin")
    if origin is not None and origin.lower().rstrip("/") != f"{request.scheme}://{request.headers.get('Host', '')}".lower():
        return "a state change from another origin"
    if request.method != "POST":
        return None  # a page must preflight it, and no preflight is granted
    json_body = request.content_type == "application/json"
    if request.headers.get(CSRF_HEADER) != "1" and not json_body:
        return f"state changes need the {CSRF_HEADER}: 1 header or a JSON body"
    return None


def security_headers(request: web.Request, response: web.StreamResponse) -> dict[str, str]:
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN" if request.path.endswith("/body.html") else "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    if "Content-Security-Policy" not in response.headers:
        headers["Content-Security-Policy"] = PAGE_CSP if request.path == "/" or request.path.startswith("/static/") else API_CSP
    return headers


def _headers(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    if not response.prepared:
        response.headers.update(security_headers(request, response))
    return response
