"""Server certificates: a throwaway CA per run (trustme), or the user's own files."""

from __future__ import annotations

import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServerTLS:
    context: ssl.SSLContext
    ca_path: Path | None  # PEM a client should trust; None with the user's own certificate
    scratch: Path | None = None  # a directory this module created, removed by cleanup()

    def cleanup(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def throwaway(directory: Path | None = None, names: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")) -> ServerTLS:
    """A fresh CA and a server certificate for `names`; the CA's PEM is written to disk."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert(*names)
    context = _context()
    cert.configure_cert(context)
    scratch: Path | None = None
    if directory:
        folder = Path(directory)
    else:
        scratch = folder = Path(tempfile.mkdtemp(prefix="smtp-harness-"))
    ca_path = folder / "ca.pem"
    ca_path.write_bytes(ca.cert_pem.bytes())
    return ServerTLS(context, ca_path, scratch)


def from_files(certfile: str, keyfile: str) -> ServerTLS:
    context = _context()
    context.load_cert_chain(certfile, keyfile)
    return ServerTLS(context, None)
