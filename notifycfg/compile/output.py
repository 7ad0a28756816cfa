"""compile's output: OUT/<org-id>.json per organization and OUT/manifest.json,
written all or nothing (notifycfg.files)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from notifycfg import __version__
from notifycfg.compile.canonical import CanonicalEncoder
from notifycfg.compile.environment import Environment, relative_name
from notifycfg.config.layering import Effective
from notifycfg.files import ReplaceRefused, write_all

MANIFEST = "manifest.json"


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
        "orgs": {name[: -len(".json")]: {"file": name, "sha256": hashlib.sha256(data).hexdigest()} for name, data in sorted(files.items())},
    }
    return CanonicalEncoder().encode(body).encode("utf-8")


def write(out: Path, env: Environment, effective: dict[str, Effective]) -> None:
    """Replace OUT with every organization's file and the manifest, all or nothing."""
    _check_replaceable(out)
    files = render(effective)
    files[MANIFEST] = manifest(env, files)
    write_all(out, files, exact=True)


def _check_replaceable(out: Path) -> None:
    """Refuse to replace a directory of files compile did not write (write_all refuses a non-directory)."""
    if out.is_dir():
        names = {p.name for p in out.iterdir()}
        if names and MANIFEST not in names:
            raise ReplaceRefused(f"{out} holds files compile did not write; refusing to replace it (choose an empty or new directory)")
        stray = {n for n in names if n != MANIFEST and not n.endswith(".json")}
        if stray:
            raise ReplaceRefused(f"{out} holds files compile did not write ({', '.join(sorted(stray)[:3])}); refusing to replace it")
