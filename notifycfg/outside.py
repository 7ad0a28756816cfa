"""Text from outside (DNS records, SMTP replies, platform answers, proxies, captured mail, files) on its
way into any output: one function per need, and every reporter uses these.

- `visible()`: control and format characters (newlines, escape sequences, bidi overrides, zero-width)
  shown as escapes, never obeyed; the text otherwise kept. Every doctor sentence and every Markdown
  cell and summary pass through it.
- `shown()`: a server's reply: printable ASCII only, one line, at most `limit` characters.
- `xml_legal()`: what XML 1.0 cannot hold at all (most C0 controls, lone surrogates, U+FFFE/FFFF)
  dropped, for JUnit, after `visible()` where the text is outside text.
"""

from __future__ import annotations

import re
import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
        return f"\\u{ord(ch):04x}"
    return ch


def visible(text: str) -> str:
    """Control and format characters as escapes (`\\n`, `\\u001b`, `\\u202e`); everything else as it is."""
    if text.isprintable():  # the common case, at C speed
        return text
    return "".join(_escape(c) for c in text)


def shown(raw: bytes | str, limit: int = 80) -> str:
    """Untrusted text made safe to print: printable ASCII only, one line, at most `limit` characters."""
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
    clean = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def xml_legal(text: str) -> str:
    """Without the characters XML 1.0 forbids: a JUnit report must parse, whatever the data held."""
    return _XML_ILLEGAL.sub("", text)
