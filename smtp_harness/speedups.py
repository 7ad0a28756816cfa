"""Per-connection set-up costs of aiosmtpd, cached per class.

aiosmtpd's SMTP.__init__ runs `inspect.getmembers` on the protocol and the
handler, `dir()` on both and `inspect.signature` on the EHLO hook for every
new connection: about a third of the server's time when each message comes on
a new connection (profiled with Postfix's smtp-source). Their answers depend
only on the classes, so they are computed once per class here and handed to
aiosmtpd through its module globals. Installed only for the aiosmtpd 1.4 line,
whose use of these calls this mirrors (names filtered by prefix afterwards).
"""

from __future__ import annotations

import inspect
from functools import lru_cache
from typing import Any

import aiosmtpd
import aiosmtpd.smtp


@lru_cache(maxsize=64)
def _member_names(cls: type) -> tuple[str, ...]:
    return tuple(name for name, _ in inspect.getmembers(cls))


@lru_cache(maxsize=64)
def _dir(cls: type) -> tuple[str, ...]:
    return tuple(dir(cls))


@lru_cache(maxsize=64)
def _signature(func: Any) -> inspect.Signature:
    return inspect.signature(func)


class _CachedInspect:
    """Stands in for the `inspect` module inside aiosmtpd.smtp only."""

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)

    @staticmethod
    def getmembers(obj: Any, predicate: Any = None) -> list[tuple[str, Any]]:
        if predicate is not None or _has_prefixed_instance_attrs(obj):
            return inspect.getmembers(obj, predicate)
        return [(name, getattr(obj, name)) for name in _member_names(type(obj)) if name.startswith("auth_")]

    @staticmethod
    def signature(obj: Any, **kwargs: Any) -> inspect.Signature:
        func = getattr(obj, "__func__", None)
        if func is None or kwargs:
            return inspect.signature(obj, **kwargs)
        return _signature(func).replace(parameters=list(_signature(func).parameters.values())[1:])


def _cached_dir(*args: Any) -> list[str]:
    if not args:
        raise TypeError("dir() needs an argument here")
    (obj,) = args
    if isinstance(obj, type) or _has_prefixed_instance_attrs(obj):
        return dir(obj)
    return list(_dir(type(obj)))


def _has_prefixed_instance_attrs(obj: Any) -> bool:
    attrs = getattr(obj, "__dict__", None)
    return bool(attrs) and any(k.startswith(("smtp_", "handle_", "auth_")) for k in attrs)


def install() -> bool:
    """Idempotent; False when aiosmtpd is not the line this was written for."""
    if not aiosmtpd.__version__.startswith("1.4."):
        return False
    aiosmtpd.smtp.inspect = _CachedInspect()  # type: ignore[attr-defined]
    aiosmtpd.smtp.dir = _cached_dir  # type: ignore[attr-defined]
    return True
