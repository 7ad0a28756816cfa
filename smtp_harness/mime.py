"""How complex a captured message is, measured without parsing it.

The standard library's parser builds an object for every MIME part (100,000
parts: tens of seconds and a 13 MB answer) and recurses once per nesting level
(5,000 levels: RecursionError). One linear scan of the lines, which stops as
soon as a cap is passed, tells first whether the message may be handed to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CONTENT_TYPE = re.compile(rb"content-type[ \t]*:", re.IGNORECASE)
_BOUNDARY = re.compile(rb'boundary[ \t]*=[ \t]*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.IGNORECASE)


@dataclass(frozen=True)
class Shape:
    """`parts` and `depth` as far as the scan went; `over` says which cap was passed, or is None."""

    parts: int
    depth: int
    over: str | None = None


class _Scan:
    """The MIME structure as a stack of open containers: a multipart's boundary, or None for an
    embedded message (message/rfc822), whose own headers come next."""

    def __init__(self) -> None:
        self.stack: list[bytes | None] = []
        self.parts = 1
        self.depth = 0
        self.in_headers = True
        self.content_type = b""
        self.in_content_type = False

    def header_line(self, line: bytes) -> None:
        if line[:1] in (b" ", b"\t"):  # folded: the header goes on
            if self.in_content_type:
                self.content_type += line
            return
        self.in_content_type = _CONTENT_TYPE.match(line) is not None
        if self.in_content_type:
            self.content_type = line

    def headers_end(self) -> None:
        value = self.content_type.split(b":", 1)[-1].strip()
        kind = value.lower()
        self.in_headers, self.content_type, self.in_content_type = False, b"", False
        if kind.startswith(b"multipart/"):
            found = _BOUNDARY.search(value)  # boundaries are case-sensitive
            if found:
                self.stack.append(found.group(1) or found.group(2))
        elif kind.startswith(b"message/rfc822"):
            self.stack.append(None)
            self.in_headers = True
        self.depth = max(self.depth, len(self.stack))

    def body_line(self, line: bytes) -> None:
        stripped = line.rstrip()
        for level in range(len(self.stack) - 1, -1, -1):
            boundary = self.stack[level]
            if boundary is None:
                continue
            if stripped == b"--" + boundary:  # a new part of this container; anything open inside it ends
                del self.stack[level + 1 :]
                self.parts += 1
                self.in_headers = True
                return
            if stripped == b"--" + boundary + b"--":  # this container ends
                del self.stack[level:]
                return


def shape(raw: bytes, max_parts: int, max_depth: int) -> Shape:
    """Count MIME parts and nesting depth, stopping at the first cap passed."""
    scan = _Scan()
    for line in raw.splitlines():
        if scan.in_headers:
            if line.strip():
                scan.header_line(line)
                continue
            scan.headers_end()
            if scan.depth > max_depth:
                return Shape(scan.parts, scan.depth, f"nested more than {max_depth:,} levels deep")
        elif scan.stack and line.startswith(b"--"):
            scan.body_line(line)
            if scan.parts > max_parts:
                return Shape(scan.parts, scan.depth, f"more than {max_parts:,} MIME parts")
    return Shape(scan.parts, scan.depth)
