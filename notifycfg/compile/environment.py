"""An environment, validated and ready to compile: its host and organizations."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from notifycfg.config import layering as compiler
from notifycfg.config import schema
from notifycfg.config.loader import Document
from notifycfg.config.validate import ValidationResult, validate
from notifycfg.datapath import JsonObject


class NotAnEnvironment(Exception):
    """Not an environment directory (a usage error, exit 2)."""


class UnknownOrganization(Exception):
    """Organizations asked for by id that the environment(s) do not have (a usage error, exit 2)."""

    def __init__(self, orgs: list[str], where: str) -> None:
        super().__init__(f"no organization {', '.join(orgs)} in {where}")


@dataclass(frozen=True)
class Environment:
    root: Path
    host: Document
    orgs: dict[str, Document]  # org id -> document, sorted by id
    documents: dict[str, Document]  # every file of the environment, flows included

    def require(self, orgs: list[str] | tuple[str, ...]) -> None:
        """UnknownOrganization unless every id in `orgs` is an organization here."""
        unknown = sorted(set(orgs) - set(self.orgs))
        if unknown:
            raise UnknownOrganization(unknown, self.root.as_posix())

    def base_layers(self) -> list[compiler.Layer]:
        return [compiler.Layer(compiler.DEFAULT_LAYER, schema.defaults()), _layer(self.host)]

    def effective(self, org: str, track: bool = False) -> compiler.Effective:
        return compiler.compile_org(org, self.base_layers(), _layer(self.orgs[org]), schema.replaced_paths(), track)

    def host_data(self) -> JsonObject:
        """The host's settings with every default filled in (what an organization with no file gets)."""
        return compiler.merge(self.base_layers(), schema.replaced_paths(), track=False)[0]

    def all_effective(self, orgs: list[str] | None = None) -> dict[str, compiler.Effective]:
        """Every organization, without provenance. The host is layered once, and what
        an organization does not override is shared with it (and encoded once)."""
        defaults, host = self.base_layers()
        merged = compiler.Layer(host.name, self.host_data())
        chosen = orgs if orgs is not None else list(self.orgs)
        return {
            org: compiler.compile_org(org, [merged], _layer(self.orgs[org]), schema.replaced_paths(), beneath=defaults) for org in chosen
        }


def _layer(doc: Document) -> compiler.Layer:
    return compiler.Layer(doc.file, doc.data, lambda path: doc.locate(path)[0])


def relative_name(doc: Document, root: Path) -> str:
    """`host.yaml`, `orgs/acme.yaml`: the file relative to its environment."""
    prefix = root.as_posix().rstrip("/") + "/"
    if doc.file.startswith(prefix):  # discovery names files root/...: the common, cheap case
        return doc.file[len(prefix) :]
    return Path(os.path.relpath(doc.file, root)).as_posix()


def load_environment(
    path: str, strict: bool = False, documents: Mapping[Path, bytes | None] | None = None
) -> tuple[Environment | None, ValidationResult]:
    """Validate `path` as one environment (with `documents` laid over the disk, as `validate`
    takes them); the Environment only when it has no errors."""
    root = Path(path)
    if not root.is_dir():
        raise NotAnEnvironment(f"not an environment directory: {path}")
    result = validate([path], documents, relays=False)  # the relay catalogue's advice is `validate`'s to give
    if not result.ok(strict):
        return None, result
    host = None
    orgs: dict[str, Document] = {}
    for doc in result.documents.values():
        if doc.kind == "host":
            host = doc
        elif doc.kind == "org":
            orgs[Path(doc.file).stem] = doc
    if host is None:  # a valid environment has one: validation said so before this
        raise ValueError(f"{root}: a valid environment without host.yaml")
    return Environment(root, host, dict(sorted(orgs.items())), result.documents), result
