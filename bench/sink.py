"""A bare aiosmtpd sink: accepts and forgets. The peer the harness is measured against.

`--tls` offers STARTTLS with a throwaway CA (trustme), printed as `ca=PATH`.
"""

from __future__ import annotations

import asyncio
import signal
import ssl
import sys
import tempfile
from pathlib import Path

from aiosmtpd.smtp import SMTP


class Forget:
    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 OK"


def _tls() -> tuple[ssl.SSLContext, str]:
    import trustme

    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    path = Path(tempfile.mkdtemp(prefix="sink-")) / "ca.pem"
    path.write_bytes(ca.cert_pem.bytes())
    return context, str(path)


async def main(tls: bool) -> None:
    context, ca = _tls() if tls else (None, "")
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Forget(), hostname="localhost", enable_SMTPUTF8=True, tls_context=context), "127.0.0.1", 0
    )
    extra = f" ca={ca}" if ca else ""
    print(f"ready smtp=127.0.0.1:{server.sockets[0].getsockname()[1]} http=off{extra}", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main("--tls" in sys.argv))
