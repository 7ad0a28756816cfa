"""A directory tree as data: what a command must (or must not) have changed."""

from __future__ import annotations

from pathlib import Path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` (relative POSIX path -> bytes), in order."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
