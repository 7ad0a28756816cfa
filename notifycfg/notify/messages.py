"""RFC 5322/MIME messages with the stdlib `email` package: nothing can inject a header."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid

from notifycfg.notify.render import Rendered

# Lines folded at RFC 5322's hard limit (998), not at its 78-character advice: when the email package
# folds a long From whose display name holds specials (`<`, `;`, `,`), it drops the quotes, and the
# header then parses as another address, or as two. A display name (at most 128 characters, schema)
# and an address always fit on one line. Proven by tests/test_mailer.py's round-trip property.
POLICY = SMTP.clone(max_line_length=998)


def _address(address: str, display_name: str | None = None) -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=display_name or "", username=local, domain=domain)


def build(rendered: Rendered, sender: dict[str, str], to: list[str], extra_headers: dict[str, str] | None = None) -> EmailMessage:
    """multipart/alternative (text, then HTML), From with an encoded display name,
    Message-ID and Date. `email` refuses CR/LF in any header value."""
    message = EmailMessage(policy=POLICY)
    message["From"] = _address(sender["address"], sender.get("display_name"))
    message["To"] = [_address(a) for a in to]
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender["address"].rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: tells auto-responders not to answer
    for name, value in (extra_headers or {}).items():
        message[name] = value
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message
