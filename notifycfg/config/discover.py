"""Which files to check, and what kind each one is.

An environment directory holds `host.yaml`, `orgs/<org-id>.yaml` and
`flows/<name>.yaml`. A file given on its own (as pre-commit passes them) is
classified by its name and its parent directory.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

ORG_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
FLOW_NAME = ORG_ID
KIND_DIRS = {"orgs": ("org", ORG_ID), "flows": ("flow", FLOW_NAME)}
ROOT_FILES = {"host.yaml": "host", "platform.yaml": "platform"}


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
    return Refusal(display, "L013", "not a notifycfg file: expected host.yaml, platform.yaml, orgs/<org-id>.yaml or flows/<name>.yaml")


def _present(path: Path) -> bool:
    """There, as anything but a directory: a FIFO, a device or a dangling link is refused when read, by name."""
    return path.is_symlink() or (path.exists() and not path.is_dir())


def _environment(root: Path) -> list[Target | Refusal]:
    found: list[Target | Refusal] = []
    host = root / "host.yaml"
    if _present(host):
        found.append(Target(host, _display(host), "host", root))
    else:
        found.append(Refusal(_display(host), "L012", f"environment `{_display(root)}` has no host.yaml"))
    platform = root / "platform.yaml"
    if _present(platform):
        found.append(Target(platform, _display(platform), "platform", root))
    for sub in sorted(KIND_DIRS):
        folder = root / sub
        if not folder.is_dir():
            continue
        with os.scandir(folder) as listing:
            entries = sorted((e.name, e.is_dir()) for e in listing if not e.name.startswith("."))  # .gitkeep
        for name, is_dir in entries:
            entry = folder / name
            if is_dir:
                found.append(Refusal(_display(entry), "L013", f"unexpected directory in {sub}/ (its files would be ignored)"))
            else:
                found.append(classify(entry, sub, root))
    return found


def discover(paths: list[str]) -> list[Target | Refusal]:
    """Expand directories into their files; keep order, drop repeats.

    Raises FileNotFoundError for a path that does not exist (a usage error).
    """
    out: dict[str, Target | Refusal] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            items = _environment(path)
        elif path.exists():
            items = [classify(path)]
        else:
            raise FileNotFoundError(raw)
        for item in items:
            out.setdefault(item.display, item)
    return list(out.values())
