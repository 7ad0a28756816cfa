"""Hostile files we are handed, as a real process: each refusal names the file, exits 1 or 2,
and stays within a memory ceiling; a process that hangs is killed at the bound and fails."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import CONFIGS, write_env
from support.process import measured

PEAK_KIB = 300 * 1024


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def zero_link(path: Path) -> Path:
    path.symlink_to("/dev/zero")
    return path


@pytest.mark.e2e
@pytest.mark.parametrize("make", [zero_link, fifo], ids=["dev-zero-link", "fifo"])
def test_an_org_file_that_never_ends_or_blocks_is_refused_by_name(env, make):
    root = env({"orgs/acme.yaml": ""})
    make(root / "orgs" / "x.yaml")
    for command in (("validate",), ("compile", "--format", "json"), ("check",)):
        run = measured(*command, str(root))
        assert run.code == 1, run
        assert f"{root}/orgs/x.yaml:1:1: error L010" in run.out + run.err and "not a regular file" in run.out + run.err, run
        assert run.peak_kib < PEAK_KIB, run


@pytest.mark.e2e
def test_a_fifo_named_on_the_command_line_and_as_host_yaml(env, tmp_path):
    loose = fifo(tmp_path / "host.yaml")
    run = measured("validate", str(loose))
    assert run.code == 1 and f"{loose}:1:1: error L010 cannot read: is a FIFO, not a regular file" in run.out, run
    root = env({"orgs/acme.yaml": ""}, name="fifo-host")
    (root / "host.yaml").unlink()
    fifo(root / "host.yaml")
    run = measured("validate", str(root))
    assert run.code == 1 and f"{root}/host.yaml:1:1: error L010 cannot read: is a FIFO" in run.out, run
    assert run.peak_kib < PEAK_KIB, run


def _prod_with_secret_file(tmp_path: Path, secret: Path) -> Path:
    root = tmp_path / "prod"
    shutil.copytree(CONFIGS / "prod", root)
    org = root / "orgs" / "initech.yaml"
    org.write_text(org.read_text().replace("/run/secrets/initech-smtp-password", str(secret)))
    return root


@pytest.mark.e2e
@pytest.mark.parametrize("make", [zero_link, fifo], ids=["dev-zero-link", "fifo"])
def test_a_secret_file_that_never_ends_or_blocks_is_refused_by_name(tmp_path, make):
    secret = make(tmp_path / "initech-password")
    root = _prod_with_secret_file(tmp_path, secret)
    args = ("--org", "initech", "--to", "me@example.com", "--server", "127.0.0.1:9", "--timeout", "2")
    run = measured("send-test", str(root), *args)
    assert run.code == 1, run
    assert f"send failed (secret): secret file {secret} is a" in run.err and "not a regular file" in run.err, run
    assert run.peak_kib < PEAK_KIB, run


def test_a_secret_file_over_64_kib_is_refused(tmp_path):
    from notifycfg.secrets import SecretError, resolve

    big = tmp_path / "big"
    big.write_bytes(b"x" * (64 * 1024 + 1))
    with pytest.raises(SecretError, match=r"is 65,537 bytes; the limit is 65,536"):
        resolve({"file": str(big)})
    big.write_bytes(b"x" * (64 * 1024) + b"\n")  # the limit counts the file, newline included
    with pytest.raises(SecretError):
        resolve({"file": str(big)})
    big.write_bytes(b"y" * 1000 + b"\n")
    assert resolve({"file": str(big)}) == "y" * 1000


def test_the_bounded_reader_refuses_what_is_not_a_regular_file(tmp_path):
    from notifycfg.files import ReadRefused, read_bounded

    assert read_bounded(write_env(tmp_path / "e", {}) / "host.yaml", 1 << 20).startswith(b"email:")
    with pytest.raises(ReadRefused, match="is a directory"):
        read_bounded(tmp_path, 10)
    with pytest.raises(ReadRefused, match="is a character device"):
        read_bounded("/dev/zero", 10)
    with pytest.raises(FileNotFoundError):
        read_bounded(tmp_path / "missing", 10)
