"""platform.yaml, read for the bridge (validate has already checked it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from notifycfg.datapath import Json

FILE = "platform.yaml"
DEFAULT_SCOPE = "PM.Setting"


@dataclass(frozen=True)
class PlatformConfig:
    url: str
    token_url: str
    client_id: str
    client_secret: Mapping[str, str]  # a reference
    scope: str
    host_partition: str
    orgs: dict[str, str]

    @property
    def settings_url(self) -> str:
        return f"{self.url.rstrip('/')}/api/Setting"

    def partition_of(self, guid: str) -> str:
        """`the host` or `organization X`, for messages."""
        if guid == self.host_partition:
            return "the host"
        org = next((o for o, g in self.orgs.items() if g == guid), None)
        return f"organization {org}" if org else "an unknown partition"

    @classmethod
    def from_data(cls, data: Mapping[str, Json]) -> PlatformConfig:
        url = str(data["url"])
        return cls(
            url=url,
            token_url=str(data.get("token_url") or f"{url.rstrip('/')}/connect/token"),
            client_id=str(data["client_id"]),
            client_secret=dict(data["client_secret"]),
            scope=str(data.get("scope", DEFAULT_SCOPE)),
            host_partition=str(data["host_partition"]),
            orgs={str(k): str(v) for k, v in dict(data.get("orgs", {})).items()},
        )
