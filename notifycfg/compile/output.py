"""compile's output: OUT/<org-id>.json per organization and OUT/manifest.json,
written to a temporary directory and moved into place (all or nothing)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from notifycfg import __version__
from notifycfg.compile.canonical import CanonicalEncoder
from notifycfg.config.layering import Effective
from notifycfg.compile.environment import Environment, relative_name

MANIFEST = "manifest.json"


class OutputError(Exception):
    """OUT cannot be (re)placed safely (a usage error, exit 2)."""


def render(effective: dict[str, Effective]) -> dict[str, bytes]:
    encoder = CanonicalEncoder()
    return {f"{org}.json": encoder.encode(e.document()).encode("utf-8") for org, e in effective.items()}


def _inputs(env: Environment) -> dict[str, str]:
    return dict(sorted((relative_name(doc, env.root), doc.sha256) for doc in [env.host, *env.orgs.values()]))


def inputs_digest(env: Environment) -> str:
    """One digest of every input file (name and content): what promote's audit line records too."""
    return hashlib.sha256("".join(f"{name}\0{digest}\n" for name, digest in _inputs(env).items()).encode()).hexdigest()


def manifest(env: Environment, files: dict[str, bytes]) -> bytes:
    """Digests of every input and output: a deploy can prove what it shipped. No times, no absolute paths."""
    body = {
        "tool": f"notifycfg {__version__}",
        "inputs": _inputs(env),
        "inputs_sha256": inputs_digest(env),
        "orgs": {name[: -len(".json")]: {"file": name, "sha256": hashlib.sha256(data).hexdigest()}
                 for name, data in sorted(files.items())},
    }
    return CanonicalEncoder().encode(body).encode("utf-8")


def write(out: Path, files: dict[str, bytes]) -> None:
    """Replace OUT with exactly `files`; on any failure OUT is left as it was.

    Atomic against interruption (rename), not against power loss: no fsync of
    10,000 files, which would cost more than the whole compile.
    """
    _check_replaceable(out)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    try:
        dir_fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for name, data in files.items():
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=dir_fd)
                try:
                    os.write(fd, data)
                finally:
                    os.close(fd)
        finally:
            os.close(dir_fd)
        os.chmod(staging, 0o755)
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.rename(out, old)
    try:
        os.rename(staging, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _check_replaceable(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a directory")
    if out.is_dir():
        names = {p.name for p in out.iterdir()}
        if names and MANIFEST not in names:
            raise OutputError(f"{out} holds files compile did not write; refusing to replace it (choose an empty or new directory)")
        stray = {n for n in names if n != MANIFEST and not n.endswith(".json")}
        if stray:
            raise OutputError(f"{out} holds files compile did not write ({', '.join(sorted(stray)[:3])}); refusing to replace it")
