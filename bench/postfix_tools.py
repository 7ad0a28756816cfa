"""Postfix's smtp-source (load generator) and smtp-sink (C ceiling), unpacked
from Debian's postfix package into bench/.work without installing the mail system."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from common import WORK

ROOT = WORK / "postfix"


def tools() -> tuple[Path, Path, dict[str, str]]:
    """(smtp-source, smtp-sink, environment with LD_LIBRARY_PATH)."""
    source, sink = ROOT / "usr/sbin/smtp-source", ROOT / "usr/sbin/smtp-sink"
    if not source.exists():
        _unpack()
    env = dict(os.environ, LD_LIBRARY_PATH=str(ROOT / "usr/lib/postfix"))
    return source, sink, env


def _unpack() -> None:
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise SystemExit("the harness benchmark needs apt-get and dpkg to fetch Postfix's smtp-source")
    download = WORK / "debs"
    download.mkdir(parents=True, exist_ok=True)
    if not glob.glob(str(download / "postfix_*.deb")):
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "download", "postfix"], cwd=download, check=True)
    (deb,) = glob.glob(str(download / "postfix_*.deb"))
    subprocess.run(["dpkg", "-x", deb, str(ROOT)], check=True)
