"""The one atomic writer (`write_all`) and the one bounded reader (`read_bounded`).

Every command that writes files goes through `write_all`; every file we are
handed (a config, a secret) is read through `read_bounded`.

Everything is staged beside its target first, then renamed into place; any
failure or interruption (KeyboardInterrupt included) before the last rename
leaves the target as it was. Atomic against interruption, not against power
loss: no fsync per file, which for 10,000 organizations would cost more than
the whole compile.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path


class ReplaceRefused(Exception):
    """The target cannot be replaced safely (a usage error)."""


class ReadRefused(Exception):
    """A file that is not read: not a regular file, or larger than the limit (`size` then says how large)."""

    def __init__(self, message: str, size: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.size = size


_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
_CHUNK = 64 * 1024


def _regular(mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise ReadRefused("is a directory, not a file")
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise ReadRefused(f"is {kind}, not a regular file: only regular files are read (it could block or never end)")


def read_bounded(path: Path | str, limit: int) -> bytes:
    """The bytes of a regular file (symlinks followed) of at most `limit` bytes.

    Never blocks on a FIFO or device (checked before opening, and again on the
    open descriptor, which is opened non-blocking) and never reads more than
    `limit` + 1 bytes, even from a file that grows. ReadRefused otherwise;
    OSError (FileNotFoundError, PermissionError) as the system reports it.
    """
    _regular(os.stat(path).st_mode)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        _regular(info.st_mode)
        if info.st_size > limit:
            raise ReadRefused(f"is {info.st_size:,} bytes; the limit is {limit:,}", info.st_size)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    finally:
        os.close(fd)
    if total > limit:
        raise ReadRefused(f"is more than {limit:,} bytes, the limit", total)
    return b"".join(chunks)


def write_all(root: Path, contents: Mapping[str, bytes | None], *, exact: bool = False) -> None:
    """Write `contents` (name -> bytes, or None to remove) under `root`, all or nothing.

    exact=True: `root` ends up holding exactly `contents` (a whole directory,
    staged as a sibling and swapped in). exact=False: only the named files
    change; everything else in `root` stays.
    """
    if exact:
        _replace_directory(root, contents)
    else:
        _replace_files(root, contents)


def _write_new(dir_fd: int, name: str, data: bytes) -> None:
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=dir_fd)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _followed(out: Path) -> Path:
    """A symlink to a directory is followed, once and consistently: the directory it names is
    replaced and the link keeps naming it. Any other link is refused: renaming the link itself
    would leave the old output behind in its target and a stray link beside it."""
    if not out.is_symlink():
        return out
    target = out.resolve()
    if not target.is_dir():
        raise ReplaceRefused(f"{out} is a symbolic link to {target}, which is not a directory; refusing to replace it")
    return target


def _replace_directory(out: Path, contents: Mapping[str, bytes | None]) -> None:
    out = _followed(out)
    if out.exists() and not out.is_dir():
        raise ReplaceRefused(f"{out} exists and is not a directory")
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    try:
        dir_fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for name, data in contents.items():
                if data is not None:
                    _write_new(dir_fd, name, data)
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


def _replace_files(root: Path, contents: Mapping[str, bytes | None]) -> None:
    """Stage every file beside its target, keep a hard-linked backup of each, rename; undo on failure."""
    staged: list[tuple[Path, Path]] = []
    backups: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for name, data in contents.items():
            if data is not None:
                final = root / name
                tmp = final.with_name(f".{final.name}.new-{os.getpid()}")
                tmp.write_bytes(data)
                staged.append((tmp, final))
        for name in contents:
            final = root / name
            if final.exists():
                backup = final.with_name(f".{final.name}.before-{os.getpid()}")
                os.link(final, backup)
                backups.append((backup, final))
        for tmp, final in staged:
            os.replace(tmp, final)
            placed.append(final)
        for name, data in contents.items():
            if data is None:
                (root / name).unlink()
    except BaseException:
        _undo(staged, backups, placed)
        raise
    for backup, _ in backups:
        backup.unlink(missing_ok=True)


def _undo(staged: list[tuple[Path, Path]], backups: list[tuple[Path, Path]], placed: list[Path]) -> None:
    """Put back every backup, drop every staged file, and remove only the files
    this call created (a file staged but never renamed into place is untouched)."""
    restored = {final for _, final in backups}
    for backup, final in backups:
        os.replace(backup, final)
    for tmp, _ in staged:
        tmp.unlink(missing_ok=True)
    for final in placed:
        if final not in restored:
            final.unlink(missing_ok=True)
