"""Generate a realistic environment with N organizations (deterministic)."""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

HOST = (Path(__file__).resolve().parent.parent / "configs" / "prod" / "host.yaml").read_text()

SHAPES = [
    "# {org}: host settings as they are\n",
    "email:\n  from:\n    address: notify@{org}.example.com\n    display_name: {Org} Notifications\n",
    (
        "email:\n  from:\n    display_name: {Org}\nnotifications:\n  job_alerts:\n    enabled: true\n"
        "    recipients: [ops@{org}.example.com, oncall@{org}.example.com]\n  product_updates:\n"
        "    enabled: true\n    recipients: [it@{org}.example.com]\n"
    ),
    (
        "# {org} runs its own server\nemail:\n  smtp:\n    host: mail.{org}.example.net\n    port: 465\n"
        "    username: svc-{org}\n    password: {{env: SMTP_{ORG}}}\n    secure: true\n  from:\n"
        "    address: alerts@{org}.example.net\nnotifications:\n  robot_alerts:\n    enabled: false\n"
    ),
]


def generate(root: Path, count: int, seed: int = 7) -> Path:
    if root.exists():
        shutil.rmtree(root)
    (root / "orgs").mkdir(parents=True)
    (root / "host.yaml").write_text(HOST)
    rng = random.Random(seed)
    for index in range(count):
        org = f"org-{index:05d}"
        shape = rng.choice(SHAPES)
        text = shape.format(org=org, Org=org.title(), ORG=org.upper().replace("-", "_"))
        (root / "orgs" / f"{org}.yaml").write_text(text)
    return root


if __name__ == "__main__":
    print(generate(Path(sys.argv[1]), int(sys.argv[2])))
