"""Durable capture: each message is in `DIR/new/` before the sender sees 250."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path


class Maildir:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        for sub in ("tmp", "new", "cur"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._host = socket.gethostname().replace("/", "_").replace(":", "_")

    def write(self, ident: str, envelope_headers: bytes, raw: bytes) -> Path:
        """Write to tmp/, fsync, rename into new/, fsync the directory: crash-safe."""
        name = f"{time.time_ns()}.{os.getpid()}_{ident}.{self._host}"
        tmp, final = self.root / "tmp" / name, self.root / "new" / name
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(envelope_headers)
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        os.rename(tmp, final)
        dir_fd = os.open(self.root / "new", os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return final
