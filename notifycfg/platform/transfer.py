"""export (the PUT bodies, offline) and import (a repository from a running platform)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from notifycfg.compile.canonical import CanonicalEncoder
from notifycfg.compile.environment import Environment
from notifycfg.config.problems import Refused
from notifycfg.config.validate import validate
from notifycfg.files import ReplaceRefused, write_all
from notifycfg.platform.bridge import Options, _client, env_partitions, platform_config
from notifycfg.platform.config import FILE, PlatformConfig
from notifycfg.platform.mapping import FROM, HOST, KEYS, PASSWORD, PORT, host_settings, org_settings
from notifycfg.platform.plan import gather_bounded
from notifycfg.secrets import Resolver


def export_bodies(env: Environment, orgs: list[str] | None) -> tuple[dict[str, bytes], list[str]]:
    """(OUT/<partition>.json bodies, organizations left at the platform's defaults)."""
    config = platform_config(env)
    encoder = CanonicalEncoder()
    files: dict[str, bytes] = {}
    defaults: list[str] = []
    for partition in env_partitions(env, config, orgs):
        if partition.target is None:
            defaults.append(partition.name)
            continue
        values: dict[str, Any] = dict(partition.target.values)
        if partition.target.password is not None:
            values[PASSWORD] = dict(partition.target.password)  # the reference, never a value
        settings = [{"key": key, "value": values[key]} for key in KEYS if key in values]
        body = {"partitionGlobalId": partition.guid, "settings": settings}
        files[f"{partition.name}.json"] = encoder.encode(body).encode("utf-8")
    return files, defaults


def write_export(out: Path, files: dict[str, bytes]) -> None:
    if out.is_dir():
        stray = sorted(p.name for p in out.iterdir() if not p.name.endswith(".json"))
        if stray:
            raise ReplaceRefused(f"{out} holds files export did not write ({', '.join(stray[:3])}); refusing to replace it")
    write_all(out, files, exact=True)


def import_platform(root: Path, resolve: Resolver, options: Options) -> list[str]:
    """Read the host's and every mapped organization's settings; write host.yaml and orgs/<id>.yaml."""
    config = _config_alone(root)
    existing = sorted(p.relative_to(root).as_posix() for p in [root / "host.yaml", *(root / "orgs").glob("*")] if p.exists())
    if existing:
        raise Refused(f"{root} already holds {', '.join(existing[:3])}: import writes a new repository, never over one", usage=True)
    contents = repository_files(config, asyncio.run(_read_all(config, resolve, options)))
    _check(root, contents)
    (root / "orgs").mkdir(exist_ok=True)
    write_all(root, contents)
    return sorted(contents)


def _config_alone(root: Path) -> PlatformConfig:
    if not (root / FILE).is_file():
        raise Refused(f"{root}/{FILE} does not exist: it says where the platform is and which partitions to read", usage=True)
    result = validate([str(root / FILE)])
    if result.errors:
        raise Refused(f"{root}/{FILE} is not valid", result.error_lines(), usage=True)
    return PlatformConfig.from_data(next(iter(result.documents.values())).data)


def repository_files(config: PlatformConfig, current: Mapping[str, Mapping[str, str]]) -> dict[str, bytes]:
    """host.yaml and orgs/<id>.yaml holding exactly what the platform holds, or Refused naming the key.

    `current` maps "host" and each organization to its partition's values. Whatever is
    written here, `plan` compares equal (notifycfg.platform.mapping.same) key by key.
    """
    host = current["host"]
    missing = [k for k in (HOST, PORT, FROM) if not host.get(k)]
    if missing:
        raise Refused(f"the host partition holds no mail settings ({', '.join(missing)} missing): nothing to import", usage=True)
    contents = {"host.yaml": _host_yaml(config, host)}
    for org in sorted(config.orgs):
        contents[f"orgs/{org}.yaml"] = _org_yaml(org, current[org], host)
    return contents


async def _read_all(config: PlatformConfig, resolve: Resolver, options: Options) -> dict[str, dict[str, str]]:
    names = {"host": config.host_partition, **config.orgs}
    async with _client(config, resolve, options) as client:
        await client.token()
        reads = await gather_bounded([partial(client.read, g, KEYS) for g in names.values()], options.concurrency)
    return dict(zip(names, reads, strict=True))


def _dump(header: str, data: dict[str, Any]) -> bytes:
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True, width=4096) if data else ""
    return (header + text).encode("utf-8")


def _host_yaml(config: PlatformConfig, host: Mapping[str, str]) -> bytes:
    return _dump(f"# Imported by notifycfg import from {config.url}.\n", {"email": host_settings(host)})


def _org_yaml(org: str, values: Mapping[str, str], host: Mapping[str, str]) -> bytes:
    email = org_settings(org, values, host)
    if email is None:
        return b"# Imported by notifycfg import: the platform's default mail settings (the host's).\n"
    return _dump("# Imported by notifycfg import.\n", {"email": email})


def _check(root: Path, contents: dict[str, bytes]) -> None:
    """Validate the would-be repository in memory, under its real file names, before writing it."""
    result = validate([str(root)], {root / name: data for name, data in contents.items()}, relays=False)
    if result.errors:
        raise Refused("what the platform holds would not be a valid repository; nothing was written", result.error_lines(), usage=True)
