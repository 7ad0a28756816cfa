"""File names as reports show them: relative to the working directory (the repository root in a CI
job) when the file is under it, else as given. One rule for every format."""

from __future__ import annotations

import os


def under_cwd(file: str) -> str | None:
    """The POSIX path relative to the working directory, or None when the file is not under it
    (`..cfg/x.yaml` is under it: only `..` itself, or a first part of `..`, leads out)."""
    relative = os.path.relpath(os.path.abspath(file))
    if relative == ".." or relative.startswith(".." + os.sep):
        return None
    return relative.replace(os.sep, "/")
