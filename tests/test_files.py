"""No command writes outside the paths it was given, and temporary files leave with the command."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import CONFIGS, cli_process
from support import snapshot


@pytest.mark.e2e
def test_commands_touch_only_what_they_were_given(tmp_path):
    work = tmp_path / "work"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    for name in ("staging", "prod"):
        shutil.copytree(CONFIGS / name, work / name)
    env = dict(os.environ, TMPDIR=str(scratch), PROD_SMTP_PASSWORD="x", STAGING_SMTP_PASSWORD="y")
    cases = [
        (("validate", "prod", "staging"), set()),
        (("explain", "prod", "acme", "email"), set()),
        (("diff", "staging", "prod"), set()),
        (("flows", "run", "prod"), set()),
        (("check", "prod"), set()),
        (("compile", "prod", "-o", "out"), {"out/"}),
        (("flows", "run", "prod", "--junit", "report.xml"), {"report.xml"}),
        (("promote", "staging", "prod", "--dry-run"), set()),
        (("promote", "staging", "prod"), {"prod/"}),
    ]
    for args, allowed in cases:
        before = snapshot(work)
        done = cli_process(*args, cwd=work, env=env)  # a real process: TMPDIR must reach tempfile
        assert done.returncode in (0, 1), (args, done.stderr)
        after = snapshot(work)
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        outside = {k for k in changed if not any(k == a or (a.endswith("/") and k.startswith(a)) for a in allowed)}
        assert not outside, (args, outside)
        assert list(scratch.iterdir()) == [], (args, list(scratch.iterdir()))
    assert not [p for p in work.rglob(".*") if p.name.startswith((".out", ".host", ".acme", ".globex"))]


@pytest.mark.parametrize("exact", [True, False], ids=["compile-mode", "promote-mode"])
def test_the_atomic_writer_interrupted_leaves_the_target_as_it_was(tmp_path, exact):
    from notifycfg.files import write_all

    root = tmp_path / "target"
    root.mkdir()
    (root / "keep.yaml").write_text("old\n")
    (root / "gone.yaml").write_text("still here\n")
    before = snapshot(root)

    class Interrupted(dict):
        def items(self):
            yield "keep.yaml", b"new\n"
            yield "gone.yaml", None
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_all(root, Interrupted(), exact=exact)
    assert snapshot(root) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]
    assert sorted(p.name for p in root.iterdir()) == ["gone.yaml", "keep.yaml"]


def test_the_atomic_writer_in_promote_mode_writes_and_removes_only_what_it_is_told(tmp_path):
    from notifycfg.files import write_all

    (tmp_path / "a").write_text("a\n")
    (tmp_path / "b").write_text("b\n")
    (tmp_path / "c").write_text("c\n")
    write_all(tmp_path, {"a": b"A\n", "b": None, "d": b"D\n"})
    assert snapshot(tmp_path) == {"a": b"A\n", "c": b"c\n", "d": b"D\n"}


def _entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("command", [("compile",), ("export",)])
def test_output_through_a_symlink_is_followed_consistently_and_leaves_nothing_stray(tmp_path, command):
    from conftest import cli

    real, link = tmp_path / "real-out", tmp_path / "out"
    assert cli(*command, str(CONFIGS / "prod"), "--org", "acme", "-o", str(real)).returncode == 0
    before = _entries(real)
    link.symlink_to(real, target_is_directory=True)
    done = cli(*command, str(CONFIGS / "prod"), "-o", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and link.resolve() == real.resolve()  # the link still names the same directory
    assert set(before) < set(_entries(real))  # the whole output, written where the link points
    assert _entries(tmp_path) == ["out", "real-out"]  # no `.out.old-NNN`, no staging directory


@pytest.mark.parametrize("command", [("compile",), ("export",)])
@pytest.mark.parametrize("points_to", ["file", "nowhere"])
def test_output_symlink_to_a_file_or_nowhere_is_refused_and_nothing_changes(tmp_path, command, points_to):
    from conftest import cli

    target, link = tmp_path / "target", tmp_path / "out"
    if points_to == "file":
        target.write_text("keep me")
    link.symlink_to(target)
    done = cli(*command, str(CONFIGS / "prod"), "-o", str(link))
    assert done.returncode == 2, done.stdout + done.stderr
    assert link.is_symlink() and _entries(tmp_path) == (["out", "target"] if points_to == "file" else ["out"])
    if points_to == "file":
        assert target.read_text() == "keep me"
