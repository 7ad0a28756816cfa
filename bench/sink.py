"""A bare aiosmtpd sink: accepts and forgets. The peer the harness is measured against."""

from __future__ import annotations

import asyncio
import signal

from aiosmtpd.smtp import SMTP


class Forget:
    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 OK"


async def main() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Forget(), hostname="localhost", enable_SMTPUTF8=True), "127.0.0.1", 0)
    print(f"ready smtp=127.0.0.1:{server.sockets[0].getsockname()[1]} http=off", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
