"""Secret references resolved at send time, and only there.

`{env: NAME}` reads the environment; `{file: PATH}` reads a file (relative
paths from the working directory), without its trailing newline: a regular
file of at most 64 KiB, never a FIFO or a device (`files.read_bounded`).
Errors name the reference, never a value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from notifycfg.files import ReadRefused, read_bounded

MAX_SECRET_BYTES = 64 * 1024


class SecretError(Exception):
    """A reference that cannot be resolved."""


def resolve(ref: Mapping[str, str]) -> str:
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
