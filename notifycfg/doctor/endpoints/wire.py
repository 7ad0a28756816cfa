"""Just enough SMTP, on asyncio streams, with every read bounded.

The server is untrusted: a reply is read line by line with a deadline, at most
MAX_LINES lines of at most MAX_LINE bytes; anything else is a WireError. What
the server says is shown only through `outside.shown()`: printable, one line, short.
"""

from __future__ import annotations

import asyncio
import re

from notifycfg.outside import shown

MAX_LINES = 64
MAX_LINE = 1024  # also the stream's buffer limit (open with limit=MAX_LINE)
_REPLY = re.compile(rb"(\d{3})([ -])(.*)")


class WireError(Exception):
    """The server did not answer like an SMTP server, or not in time."""


async def read_reply(reader: asyncio.StreamReader, timeout: float) -> tuple[int, list[str]]:
    """(code, lines of text) of one reply; WireError on silence, garbage or an endless reply."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    lines: list[str] = []
    while len(lines) < MAX_LINES:
        left = deadline - loop.time()
        if left <= 0:
            raise WireError(f"no complete reply within {timeout:g} s")
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\n"), left)
        except TimeoutError:
            raise WireError(f"no complete reply within {timeout:g} s") from None
        except asyncio.LimitOverrunError:
            raise WireError(f"a reply line longer than {MAX_LINE} bytes") from None
        except asyncio.IncompleteReadError as exc:
            said = f": {shown(exc.partial)!r}" if exc.partial else ""
            raise WireError(f"the connection closed mid-reply{said}") from None
        if len(raw) > MAX_LINE:
            raise WireError(f"a reply line longer than {MAX_LINE} bytes: {shown(raw)!r}")
        match = _REPLY.fullmatch(raw.rstrip(b"\r\n"))
        if match is None:
            raise WireError(f"not an SMTP reply: {shown(raw.rstrip())!r}")
        lines.append(match.group(3).decode("utf-8", "replace"))
        if match.group(2) == b" ":
            return int(match.group(1)), lines
    raise WireError(f"a reply of more than {MAX_LINES} lines: not a well-behaved SMTP server")


async def command(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: str, timeout: float) -> tuple[int, list[str]]:
    writer.write(line.encode("ascii") + b"\r\n")
    await asyncio.wait_for(writer.drain(), timeout)
    return await read_reply(reader, timeout)
