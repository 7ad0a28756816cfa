"""The vocabulary doctor's checks and their words share, at the bottom so every layer can use it:
which checks there are, what SPF can answer, how far the sender checks go, and what a check saw
(facts: plain JSON, an address, a reply code, a server's words as they came; words.py makes them safe
to show)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

EndpointStep = Literal["dns", "tcp", "greeting", "ehlo", "tls", "revocation", "auth"]
SenderStep = Literal["spf", "dmarc", "dkim", "mx", "ptr"]
# After the steps, per timeout the endpoint's organizations give the platform: how long its answers took.
TimingCheck = Literal["timeout"]
CheckId = EndpointStep | SenderStep | TimingCheck
AnsweredStep = Literal["greeting", "ehlo", "tls", "auth"]  # the server's answers doctor times
STEPS: tuple[EndpointStep, ...] = ("dns", "tcp", "greeting", "ehlo", "tls", "revocation", "auth")
SENDER_STEPS: tuple[SenderStep, ...] = ("spf", "dmarc", "dkim", "mx", "ptr")

SpfVerdict = Literal["pass", "fail", "softfail", "neutral", "none", "permerror", "temperror"]
# worst last: which result names the spf check when the sending addresses differ
SPF_RESULTS: tuple[SpfVerdict, ...] = ("pass", "neutral", "softfail", "none", "fail", "temperror", "permerror")

MAX_ADDRESSES = 10  # sending addresses checked per pair (spf and ptr): the relay's zone decides how many there are
MAX_NAMES = 10  # PTR names tried per address

Fact = str | int | float | bool | None | list["Fact"] | dict[str, "Fact"]
Facts = Mapping[str, Fact]
