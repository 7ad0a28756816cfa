"""The platform world the platform tests share: the staging environment copied and pointed at a
stand-in platform over real TLS, its secrets, and its partitions. Its `world` fixture reaches every test
module as a plugin (conftest.py's pytest_plugins), never by importing another test module."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from platform_standin import Client, Served, StandIn

CONFIGS = Path(__file__).resolve().parent.parent.parent / "configs"

CLIENT_SECRET = "Cl1ent-S3cret-e41b"
HOST_PASSWORD = "St4ging-Smtp-9a7c"
INITECH_PASSWORD = "In1tech-Smtp-c3d2"
SECRETS = (CLIENT_SECRET, HOST_PASSWORD, INITECH_PASSWORD)


def staging_copy(root: Path, url: str) -> Path:
    env = root / "staging"
    shutil.copytree(CONFIGS / "staging", env, ignore=shutil.ignore_patterns("flows"))
    platform = (env / "platform.yaml").read_text()
    (env / "platform.yaml").write_text(re.sub(r"^url: .*$", f"url: {url}", platform, flags=re.M))
    secret = root / "initech-password"
    secret.write_text(INITECH_PASSWORD + "\n")
    initech = env / "orgs" / "initech.yaml"
    initech.write_text(initech.read_text().replace("/run/secrets/initech-smtp-password-staging", str(secret)))
    return env


def partitions_of(env: Path) -> dict[str, str]:
    data = yaml.safe_load((env / "platform.yaml").read_text())
    return {"host": data["host_partition"], **data["orgs"]}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[StandIn, Path, dict[str, str], dict[str, str]]]:
    env_vars = dict(os.environ, STAGING_PLATFORM_CLIENT_SECRET=CLIENT_SECRET, STAGING_SMTP_PASSWORD=HOST_PASSWORD)
    guids = partitions_of(CONFIGS / "staging")
    standin = StandIn(list(guids.values()), {"notifycfg-staging": Client(CLIENT_SECRET, {"PM.Setting.Read", "PM.Setting.Write"})})
    with Served(standin, tmp_path) as running:
        env = staging_copy(tmp_path, running.url)
        yield running, env, env_vars, guids
