"""A real DNS server on loopback for the tests and the bench: UDP and TCP, answers from zone data (dnspython
parses and builds every message), truncation over UDP past 512 bytes, and faults on purpose: names whose
queries are dropped (the client times out), names that answer SERVFAIL or REFUSED, and a delay before every answer.
Every question received is counted, UDP and TCP alike."""

from __future__ import annotations

import asyncio
import struct
from collections import Counter
from collections.abc import Iterable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from support import LoopThread

UDP_LIMIT = 512


class Zone:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[str]] = {}
        self.dropped: set[str] = set()
        self.servfail: set[str] = set()
        self.refused: set[str] = set()
        self.delay = 0.0
        self.questions: Counter[tuple[str, str]] = Counter()

    def add(self, name: str, rdtype: str, *values: str) -> Zone:
        self.records.setdefault((name.lower().rstrip("."), rdtype), []).extend(values)
        return self

    def txt(self, name: str, *texts: str) -> Zone:
        """TXT records; a text over 255 bytes is split into strings, as a zone file would hold it."""
        return self.add(name, "TXT", *(" ".join(f'"{t[i : i + 255]}"' for i in range(0, max(len(t), 1), 255)) for t in texts))

    def names(self) -> Iterable[str]:
        return {name for name, _ in self.records}

    def answer(self, wire: bytes) -> bytes | None:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name, rdtype = question.name.to_text(omit_final_dot=True).lower(), dns.rdatatype.to_text(question.rdtype)
        self.questions[(name, rdtype)] += 1
        if name in self.dropped:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if name in self.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif name in self.refused:
            response.set_rcode(dns.rcode.REFUSED)
        elif (name, rdtype) in self.records:
            records = self.records[(name, rdtype)]
            response.answer.append(
                dns.rrset.from_text_list(question.name, 300, "IN", rdtype, records, origin=dns.name.root, relativize=False)
            )
        elif name not in self.names():
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, zone: Zone) -> None:
        self.zone = zone

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        asyncio.ensure_future(self._reply(data, addr))

    async def _reply(self, data: bytes, addr: tuple[str, int]) -> None:
        await asyncio.sleep(self.zone.delay)
        wire = self.zone.answer(data)
        if wire is None:
            return
        if len(wire) > UDP_LIMIT:  # truncated: the client asks again over TCP
            truncated = dns.message.from_wire(wire)
            truncated.answer = []
            truncated.flags |= dns.flags.TC
            wire = truncated.to_wire()
        self.transport.sendto(wire, addr)  # type: ignore[attr-defined]


class DnsServer:
    """`with DnsServer(zone) as server:` -> `server.address` is ("127.0.0.1", port), UDP and TCP on the same port."""

    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        self._loop = LoopThread()
        self.address = ("127.0.0.1", 0)

    async def _tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                size = struct.unpack("!H", await reader.readexactly(2))[0]
                data = await reader.readexactly(size)
                await asyncio.sleep(self.zone.delay)
                wire = self.zone.answer(data)
                if wire is not None:
                    writer.write(struct.pack("!H", len(wire)) + wire)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._tcp, "127.0.0.1", 0)
        port = int(self._server.sockets[0].getsockname()[1])
        loop = asyncio.get_running_loop()
        self._udp, _ = await loop.create_datagram_endpoint(lambda: _Udp(self.zone), local_addr=("127.0.0.1", port))
        return port

    async def _stop(self) -> None:
        self._udp.close()
        self._server.close()
        await self._server.wait_closed()

    def __enter__(self) -> DnsServer:
        self._loop.__enter__()
        self.address = ("127.0.0.1", self._loop.run(self._start()))
        return self

    @property
    def option(self) -> str:
        return f"{self.address[0]}:{self.address[1]}"

    def __exit__(self, *exc: object) -> None:
        self._loop.run(self._stop())
        self._loop.__exit__()
