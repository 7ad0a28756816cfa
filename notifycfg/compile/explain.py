"""explain: an organization's effective value(s) under a key, and where each came from."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from notifycfg.config.layering import Effective
from notifycfg.datapath import DataPath, Json, dotted


class UnknownKey(Exception):
    """No effective value under that key; carries close matches."""

    def __init__(self, key: str, suggestions: list[str]) -> None:
        hint = f"; did you mean {', '.join(f'`{s}`' for s in suggestions)}?" if suggestions else ""
        super().__init__(f"no effective value under `{key}`{hint}")


@dataclass(frozen=True)
class Explained:
    path: str
    value: Json
    origin: str  # "file:line" or "schema default"
    overridden: tuple[str, ...]  # lower layers that also set it, highest first
    note: str | None = None


def _value(data: Any, path: DataPath) -> Any:
    for part in path:
        data = data[part]
    return data


def explain(effective: Effective, key: str, replaced: frozenset[DataPath]) -> list[Explained]:
    """Every leaf at or under `key` (dotted, e.g. `email.from` or `email.smtp.port`)."""
    leaves = {dotted(path): path for path in effective.sources}
    chosen = [p for name, p in sorted(leaves.items()) if name == key or name.startswith((key + ".", key + "["))]
    if not chosen:
        prefixes = {n.rsplit(".", 1)[0] for n in leaves} | set(leaves)
        raise UnknownKey(key, difflib.get_close_matches(key, sorted(prefixes), n=3))
    out = []
    for path in chosen:
        note = None
        block = next((r for r in replaced if path[: len(r)] == r), None)
        if block is not None and effective.mail_settings == "custom":
            note = f"`{dotted(block)}` is the organization's own: the host's block is replaced as a whole"
        out.append(
            Explained(
                dotted(path),
                _value(effective.data, path),
                str(effective.origin(path)),
                tuple(str(o) for o in reversed(effective.overridden(path))),
                note,
            )
        )
    return out
