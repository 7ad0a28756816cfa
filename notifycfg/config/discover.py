"""Which files to check, and what kind each one is.

An environment directory holds `host.yaml`, `orgs/<org-id>.yaml` and
`flows/<name>.yaml`. A file given on its own (as pre-commit passes them) is
classified by its name and its parent directory. A `Tree` is the disk with
in-memory documents laid over it: promote and import validate what they would
write, under the real file names, before writing anything.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from notifycfg.files import read_bounded

ORG_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
FLOW_NAME = ORG_ID
KIND_DIRS = {"orgs": ("org", ORG_ID), "flows": ("flow", FLOW_NAME)}
ROOT_FILES = {"host.yaml": "host", "platform.yaml": "platform", "deliverability.yaml": "deliverability"}


@dataclass(frozen=True)
class Target:
    path: Path
    display: str
    kind: str
    environment: Path


@dataclass(frozen=True)
class Refusal:
    """A path that cannot be checked: rule id and message."""

    display: str
    rule: str
    message: str


def _display(path: Path) -> str:
    return path.as_posix()


def classify(path: Path, parent: str | None = None, environment: Path | None = None) -> Target | Refusal:
    """What kind of file `path` is; `parent` and `environment` when the caller knows them."""
    display = _display(path)
    name = path.name
    if name in ROOT_FILES:
        return Target(path, display, ROOT_FILES[name], environment or path.parent)
    parent = parent or path.parent.name
    if parent in KIND_DIRS:
        kind, pattern = KIND_DIRS[parent]
        stem, dot, suffix = name.rpartition(".")
        if not dot or suffix != "yaml":
            return Refusal(display, "L009", f"{kind} files must end in `.yaml` (this one would be ignored)")
        if not pattern.fullmatch(stem):
            return Refusal(
                display,
                "L009",
                f"`{path.stem}` is not a valid {kind} id: lowercase letters, digits and hyphens,"
                " starting with a letter or digit, at most 63 characters",
            )
        return Target(path, display, kind, environment or path.parent.parent)
    expected = "host.yaml, platform.yaml, deliverability.yaml, orgs/<org-id>.yaml or flows/<name>.yaml"
    return Refusal(display, "L013", f"not a notifycfg file: expected {expected}")


@dataclass(frozen=True)
class Tree:
    """The files validation sees: the disk, with `overlay` (path -> bytes, or None for a file
    that is gone) laid over it. Paths are compared as given: join them from the same root."""

    overlay: Mapping[Path, bytes | None] = field(default_factory=dict)

    def present(self, path: Path) -> bool:
        """There, as anything but a directory: a FIFO, a device or a dangling link is refused when read, by name."""
        if path in self.overlay:
            return self.overlay[path] is not None
        return path.is_symlink() or (path.exists() and not path.is_dir())

    def is_dir(self, path: Path) -> bool:
        return path.is_dir() or any(p.parent == path and data is not None for p, data in self.overlay.items())

    def entries(self, folder: Path) -> list[tuple[str, bool]]:
        """(name, is a directory) of what `folder` holds, sorted, hidden names left out (.gitkeep)."""
        found: dict[str, bool] = {}
        if folder.is_dir():
            with os.scandir(folder) as listing:
                found = {e.name: e.is_dir() for e in listing if not e.name.startswith(".")}
        for path, data in self.overlay.items():
            if path.parent == folder:
                if data is None:
                    found.pop(path.name, None)
                else:
                    found[path.name] = False
        return sorted(found.items())

    def read(self, path: Path, limit: int) -> bytes:
        data = self.overlay.get(path)
        return data if data is not None else read_bounded(path, limit)


DISK = Tree()


def _environment(root: Path, tree: Tree) -> list[Target | Refusal]:
    found: list[Target | Refusal] = []
    host = root / "host.yaml"
    if tree.present(host):
        found.append(Target(host, _display(host), "host", root))
    else:
        found.append(Refusal(_display(host), "L012", f"environment `{_display(root)}` has no host.yaml"))
    for name in ("platform.yaml", "deliverability.yaml"):  # optional, environment-local
        path = root / name
        if tree.present(path):
            found.append(Target(path, _display(path), ROOT_FILES[name], root))
    for sub in sorted(KIND_DIRS):
        folder = root / sub
        for name, is_dir in tree.entries(folder):
            entry = folder / name
            if is_dir:
                found.append(Refusal(_display(entry), "L013", f"unexpected directory in {sub}/ (its files would be ignored)"))
            else:
                found.append(classify(entry, sub, root))
    return found


def discover(paths: list[str], tree: Tree = DISK) -> list[Target | Refusal]:
    """Expand directories into their files; keep order, drop repeats.

    Raises FileNotFoundError for a path that does not exist (a usage error).
    """
    out: dict[str, Target | Refusal] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            items = _environment(path, tree)
        elif tree.present(path):
            items = [classify(path)]
        else:
            raise FileNotFoundError(raw)
        for item in items:
            out.setdefault(item.display, item)
    return list(out.values())
