"""Which proxy, if any, carries a call to the platform: --proxy, else HTTPS_PROXY/HTTP_PROXY and NO_PROXY.

We decide it ourselves rather than let httpx read the environment, so that every
message can name the proxy we were given (without its credentials).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Proxy:
    url: str  # as given, credentials included: handed to httpx, never printed

    @property
    def name(self) -> str:
        """The proxy as messages show it: scheme://host:port, never its user or password."""
        u = httpx.URL(self.url)
        port = f":{u.port}" if u.port else ""
        host = f"[{u.host}]" if ":" in u.host else u.host
        return f"{u.scheme}://{host}{port}"


def _env(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name.lower()) or environ.get(name.upper()) or ""


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """curl's NO_PROXY: `*`, a name and its subdomains (a leading dot optional), an IP or CIDR, each with an optional port."""
    for raw in (e.strip().lower() for e in no_proxy.split(",")):
        if not raw:
            continue
        if raw == "*":
            return True
        entry, sep, entry_port = raw.rpartition(":") if raw.count(":") == 1 else (raw, "", "")
        if sep and entry_port.isdigit() and port is not None and int(entry_port) != port:
            continue
        entry = entry.strip("[]").lstrip(".")
        try:
            if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                return True
            continue
        except ValueError:
            pass
        if host == entry or host.endswith("." + entry):
            return True
    return False


def proxy_for(url: str, explicit: str | None, environ: Mapping[str, str] | None = None) -> Proxy | None:
    """--proxy wins over the environment; NO_PROXY applies to the environment's proxies only."""
    if explicit:
        return Proxy(explicit)
    environ = os.environ if environ is None else environ
    u = httpx.URL(url)
    chosen = _env(environ, "https_proxy") if u.scheme == "https" else _env(environ, "http_proxy")
    chosen = chosen or _env(environ, "all_proxy")
    if not chosen or _bypassed(u.host.lower(), u.port or (443 if u.scheme == "https" else 80), _env(environ, "no_proxy")):
        return None
    return Proxy(chosen if "://" in chosen else f"http://{chosen}")
