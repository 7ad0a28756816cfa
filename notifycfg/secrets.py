"""Secret references, and the one place their values are read.

The bottom layer: the mailer, doctor --login and the platform bridge all take a
`Resolver` (this module's `resolve`, or a stand-in in tests) and call it only
at the moment a value is needed.

`{env: NAME}` reads the environment; `{file: PATH}` reads a file (relative
paths from the working directory), without its trailing newline: a regular
file of at most 64 KiB, never a FIFO or a device (`files.read_bounded`).
Errors name the reference, never a value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from notifycfg.files import ReadRefused, read_bounded

MAX_SECRET_BYTES = 64 * 1024


SecretRef = Mapping[str, str]  # {"env": NAME} or {"file": PATH}, as the configs write it


class SecretError(Exception):
    """A reference that cannot be resolved; the message names the reference, never a value."""


class Resolver(Protocol):
    """Turns a reference into its value, or raises SecretError."""

    def __call__(self, ref: SecretRef, /) -> str: ...


def resolve(ref: SecretRef) -> str:
    if "env" in ref:
        value = os.environ.get(ref["env"])
        if value is None:
            raise SecretError(f"{ref['env']} is not set")
        return value
    if "file" in ref:
        path = Path(ref["file"])
        try:
            return read_bounded(path, MAX_SECRET_BYTES).decode("utf-8").rstrip("\r\n")
        except FileNotFoundError:
            raise SecretError(f"secret file {path} does not exist") from None
        except ReadRefused as exc:
            raise SecretError(f"secret file {path} {exc.message}") from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise SecretError(f"secret file {path} cannot be read: {reason}") from None
    raise SecretError("a secret reference needs `env` or `file`")
