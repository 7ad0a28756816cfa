"""Faults on purpose: chosen replies, dropped connections and delays at a stage.

A fault is data: where (stage), what (a reply, `drop` or `delay`), and which
transactions it hits (a recipient pattern, the Nth message, a seeded
probability, at most `times` times).
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from smtp_harness.jsontypes import Json, JsonObject

Stage = Literal["ehlo", "auth", "mail", "rcpt", "data"]
Action = Literal["reply", "drop", "delay"]
STAGES: tuple[Stage, ...] = get_args(Stage)
ACTIONS: tuple[Action, ...] = get_args(Action)
_REPLY = re.compile(r"([245]\d\d)(?:[ -](.*))?")


class FaultError(ValueError):
    """A fault spec that cannot be understood."""


@dataclass
class Fault:
    """One misbehaviour: at `stage` (ehlo, auth, mail, rcpt, data), do `action`.

    action "reply" answers `code message` instead of the normal reply; "drop"
    closes the connection; "delay" waits `delay` seconds, then carries on.
    It applies to transactions whose recipient matches the regex `rcpt`, to the
    `nth` transaction only, with `probability` (reproducible with `seed`), and at
    most `times` times; `hits` counts how often it fired. Build one from a spec
    string with parse_fault("rcpt=550 5.1.1 No such user,rcpt=^bounce@").
    """

    stage: Stage
    action: Action = "reply"
    code: int = 451
    message: str = "4.3.0 Fault injected by smtp_harness"
    delay: float = 0.0
    rcpt: str | None = None  # regex on the recipient (rcpt, data)
    nth: int | None = None  # the Nth transaction since start (1-based)
    probability: float | None = None
    seed: int | None = None
    times: int | None = None  # at most this many hits
    hits: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise FaultError(f"stage must be one of {', '.join(STAGES)}, not {self.stage!r}")
        if self.action not in ACTIONS:
            raise FaultError(f"action must be one of {', '.join(ACTIONS)}, not {self.action!r}")
        if self.action == "reply" and not (400 <= self.code <= 599):
            raise FaultError(f"a fault reply must be 4xx or 5xx, not {self.code}")
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise FaultError("probability must be between 0 and 1")
        if self.rcpt is not None:
            try:
                self._pattern = re.compile(self.rcpt)
            except re.error as exc:
                raise FaultError(f"rcpt pattern: {exc}") from None
        self._rng = random.Random(self.seed)

    @property
    def reply(self) -> str:
        return f"{self.code} {self.message}"

    def matches(self, stage: Stage, transaction: int, recipients: list[str]) -> bool:
        if stage != self.stage or (self.times is not None and self.hits >= self.times):
            return False
        if self.nth is not None and transaction != self.nth:
            return False
        if self.rcpt is not None and not any(self._pattern.search(r) for r in recipients):
            return False
        if self.probability is not None and self._rng.random() >= self.probability:
            return False
        self.hits += 1
        return True

    def as_dict(self) -> JsonObject:
        data = asdict(self)
        data.pop("_rng", None)
        return data


def parse_fault(spec: str | Mapping[str, Json]) -> Fault:
    """`STAGE=ACTION[,key=value...]` or a JSON object.

    ACTION is a reply (`550` or `550 5.1.1 No such user`), `drop`, or
    `delay:SECONDS`. Keys: rcpt (regex), nth, probability, seed, times.
    Example: `rcpt=550 5.1.1 No such user,rcpt=^bounce@` (the first `rcpt` is the stage).
    """
    if not isinstance(spec, str):
        return _from_dict(spec)
    spec = spec.strip()
    if spec.startswith("{"):
        try:
            return _from_dict(json.loads(spec))
        except json.JSONDecodeError as exc:
            raise FaultError(f"fault JSON: {exc}") from None
    head, *rest = spec.split(",")
    stage, sep, action = head.partition("=")
    if not sep:
        raise FaultError(f"expected STAGE=ACTION, got {head!r}")
    fields: dict[str, Any] = {"stage": stage.strip()}
    fields.update(_action(action.strip()))
    for item in rest:
        key, sep, value = item.partition("=")
        if not sep:
            raise FaultError(f"expected key=value, got {item!r}")
        fields[key.strip()] = value.strip()
    return _from_dict(fields)


def _action(action: str) -> dict[str, Any]:
    if action == "drop":
        return {"action": "drop"}
    if action.startswith("delay:"):
        return {"action": "delay", "delay": action.split(":", 1)[1]}
    match = _REPLY.fullmatch(action)
    if not match:
        raise FaultError(f"action must be a 4xx/5xx reply, `drop` or `delay:SECONDS`, not {action!r}")
    out: dict[str, Any] = {"action": "reply", "code": int(match.group(1))}
    if match.group(2):
        out["message"] = match.group(2)
    return out


_TYPES = {"code": int, "delay": float, "nth": int, "probability": float, "seed": int, "times": int}
_KNOWN = {"stage", "action", "message", "rcpt", *_TYPES}


def _from_dict(data: Mapping[str, Any]) -> Fault:
    unknown = set(data) - _KNOWN
    if unknown:
        raise FaultError(f"unknown fault keys: {', '.join(sorted(unknown))}")
    fields = dict(data)
    for key, kind in _TYPES.items():
        if key in fields and fields[key] is not None:
            try:
                fields[key] = kind(fields[key])
            except (TypeError, ValueError):
                raise FaultError(f"{key} must be a {kind.__name__}, got {fields[key]!r}") from None
    if "\r" in str(fields.get("message", "")) or "\n" in str(fields.get("message", "")):
        raise FaultError("a reply message must be one line")
    return Fault(**fields)


FaultSpec = Fault | str | Mapping[str, Json]


class FaultController:
    """The faults in force, changed only here: the Python API, the pytest marker and the HTTP API
    add, remove and clear through it; the SMTP handler reads `active` on its loop."""

    def __init__(self, initial: Iterable[FaultSpec] = ()) -> None:
        self._lock = threading.Lock()
        self.active: list[Fault] = [_fault(spec) for spec in initial]

    def add(self, spec: FaultSpec) -> Fault:
        fault = _fault(spec)
        with self._lock:
            self.active.append(fault)
        return fault

    def remove(self, number: int) -> bool:
        """Remove the `number`th fault (1-based, as listed); False when there is none."""
        with self._lock:
            if not 1 <= number <= len(self.active):
                return False
            del self.active[number - 1]
            return True

    def clear(self) -> int:
        with self._lock:
            count = len(self.active)
            self.active.clear()
            return count

    def __iter__(self) -> Iterator[Fault]:
        return iter(list(self.active))

    def __len__(self) -> int:
        return len(self.active)


def _fault(spec: FaultSpec) -> Fault:
    return spec if isinstance(spec, Fault) else parse_fault(spec)
