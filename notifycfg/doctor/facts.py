"""What a check saw, as plain JSON: an address, a reply code, a server's words, a list of per-address
results. Servers' words are kept as they came; words.py makes them safe to show."""

from __future__ import annotations

from collections.abc import Mapping

Fact = str | int | float | bool | None | list["Fact"] | dict[str, "Fact"]
Facts = Mapping[str, Fact]
