"""What the harness has done since it started, counted where it happens (the SMTP side) and read by
/metrics and Mailpit's /api/v1/info. Everything runs on the harness's one event loop, so plain
integers suffice; `snapshot()` copies them for a reader on another thread."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace

RefusalReason = str  # "fault", "store_full", "too_many_recipients", "not_persisted"


@dataclass
class Counters:
    started: float = field(default_factory=time.time)
    sessions: int = 0  # SMTP connections that reached the SMTP protocol
    tls_handshakes: int = 0  # STARTTLS and implicit TLS handshakes completed
    accepted: int = 0  # messages stored
    accepted_bytes: int = 0
    deleted: int = 0  # messages deleted through the HTTP API
    refused: Counter[RefusalReason] = field(default_factory=Counter)  # transactions refused, by reason
    faults: Counter[str] = field(default_factory=Counter)  # faults that fired, by stage

    def snapshot(self) -> Counters:
        return replace(self, refused=Counter(self.refused), faults=Counter(self.faults))
