"""Applying a plan to the target's YAML with ruamel.yaml round-trips: comments, key order and
formatting kept, only what differs touched."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from notifycfg.datapath import DataPath
from notifycfg.promote.plan import local_paths


def _yaml() -> Any:
    from ruamel.yaml import YAML

    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    rt.indent(mapping=2, sequence=4, offset=2)
    return rt


def _sync(target: Any, source: Any, local: frozenset[DataPath], path: DataPath = ()) -> None:
    """Make `target`'s portable keys equal `source`'s, touching nothing that is already equal."""
    for key in list(target):
        here = path + (key,)
        if here in local or key in source:
            continue
        if any(p[: len(here)] == here for p in local) and isinstance(target[key], dict):
            _sync(target[key], {}, local, here)  # keep the local block inside
            if not target[key]:
                del target[key]
        else:
            del target[key]
    for key, value in source.items():
        here = path + (key,)
        if here in local:
            continue
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _sync(current, value, local, here)
        elif key not in target or _plain(current) != _plain(value):
            target[key] = value


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def render_file(dst_file: Path, src_file: Path, kind: str, exists: bool) -> bytes:
    if not exists:
        return src_file.read_bytes()  # a new organization: the reviewed source file, comments and all
    from ruamel.yaml.comments import CommentedMap

    rt = _yaml()
    original = dst_file.read_text(encoding="utf-8")
    target = rt.load(original)
    source = rt.load(src_file.read_text(encoding="utf-8")) or CommentedMap()
    # A file of comments only loads as nothing: its comments stay on top.
    header = "".join(line for line in original.splitlines(keepends=True) if line.startswith("#")) if target is None else ""
    if target is None:
        target = CommentedMap()
    _sync(target, source, local_paths(kind))
    if not target:
        return header.encode("utf-8")
    out = io.StringIO()
    rt.dump(target, out)
    return (header + out.getvalue()).encode("utf-8")
