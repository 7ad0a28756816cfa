"""promote on copies of configs/staging -> configs/prod."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import CONFIGS, cli
from support import snapshot

HOOLI_PROD_PARTITION = "0b7d2c1e-5a4f-4e3b-9c8d-7f6e5d4c3b2a"


def map_partition(env: Path, org: str, guid: str) -> None:
    """What a release engineer does before promoting a new organization: give it its partition here."""
    with open(env / "platform.yaml", "a", encoding="utf-8") as platform:
        platform.write(f"  {org}: {guid}\n")


@pytest.fixture
def envs(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(CONFIGS / "staging", tmp_path / "staging")
    shutil.copytree(CONFIGS / "prod", tmp_path / "prod")
    map_partition(tmp_path / "prod", "hooli", HOOLI_PROD_PARTITION)
    return tmp_path / "staging", tmp_path / "prod"


def promote(src: Path, dst: Path, *args: str):
    return cli("promote", str(src), str(dst), *args, cwd=src.parent)


def comments(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip().startswith("#")]


def test_dry_run_prints_the_plan_and_writes_nothing(envs):
    src, dst = envs
    before = snapshot(dst)
    done = promote(src, dst, "--dry-run")
    assert done.returncode == 0 and "dry run: nothing written" in done.stdout
    assert '      email.from.display_name: "Globex Notifications" -> "Globex Platform Notifications"' in done.stdout
    assert "  orgs/hooli.yaml: created" in done.stdout and "host.yaml" not in done.stdout
    assert snapshot(dst) == before


def test_promotion_applies_changes_keeps_comments_and_local_values(envs):
    src, dst = envs
    host_before = (dst / "host.yaml").read_bytes()
    initech_before = (dst / "orgs" / "initech.yaml").read_bytes()
    globex_comments = comments(dst / "orgs" / "globex.yaml")
    done = promote(src, dst)
    assert done.returncode == 0, done.stderr
    globex = (dst / "orgs" / "globex.yaml").read_text()
    assert "display_name: Globex Platform Notifications" in globex
    assert comments(dst / "orgs" / "globex.yaml") == globex_comments
    assert (dst / "host.yaml").read_bytes() == host_before  # its SMTP server and sender are prod's own
    assert (dst / "orgs" / "initech.yaml").read_bytes() == initech_before  # prod's own Initech server
    assert (dst / "orgs" / "hooli.yaml").read_bytes() == (src / "orgs" / "hooli.yaml").read_bytes()
    assert "Promote " in done.stdout and "- orgs/hooli.yaml: created" in done.stdout
    # the result validates; prod's own flow notices the promoted sender name, as it should
    assert cli("validate", str(dst)).returncode == 0
    check = cli("check", str(dst))
    assert check.returncode == 1 and "From name 'Globex Platform Notifications', expected 'Globex Notifications'" in check.stdout


def test_only_the_changed_lines_change(envs):
    src, dst = envs
    text = (src / "orgs" / "umbrella-labs.yaml").read_text()
    (src / "orgs" / "umbrella-labs.yaml").write_text(
        text.replace(
            "recipients: [lab-oncall@umbrella.example.com]", "recipients: [lab-oncall@umbrella.example.com, pi@umbrella.example.com]"
        )
        + "  job_alerts:\n    enabled: true\n    recipients: [lab-jobs@umbrella.example.com]\n"
    )
    before = (dst / "orgs" / "umbrella-labs.yaml").read_text().splitlines()
    assert promote(src, dst, "--org", "umbrella-labs").returncode == 0
    after = (dst / "orgs" / "umbrella-labs.yaml").read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=False) if a != b]
    assert changed == [
        ("    recipients: [lab-oncall@umbrella.example.com]", "    recipients: [lab-oncall@umbrella.example.com, pi@umbrella.example.com]")
    ]
    assert after[len(before) :] == ["  job_alerts:", "    enabled: true", "    recipients: [lab-jobs@umbrella.example.com]"]
    assert after[5] == "    host: 10.20.0.25"  # the local block stays where it was


def test_second_run_is_a_no_op(envs):
    src, dst = envs
    assert promote(src, dst).returncode == 0
    before = snapshot(dst)
    done = promote(src, dst)
    assert done.returncode == 0 and "nothing to promote" in done.stdout
    assert snapshot(dst) == before
    assert len((dst / "promotions.jsonl").read_text().splitlines()) == 1


def test_removals_need_consent(envs):
    src, dst = envs
    (dst / "orgs" / "oldco.yaml").write_text("# retired\n")
    map_partition(dst, "oldco", "5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716")
    done = promote(src, dst)
    assert done.returncode == 0 and "orgs/oldco.yaml: removal skipped" in done.stdout
    assert (dst / "orgs" / "oldco.yaml").exists()
    done = promote(src, dst, "--allow-removals")
    assert done.returncode == 0 and "orgs/oldco.yaml: removed" in done.stdout
    assert not (dst / "orgs" / "oldco.yaml").exists()


def test_invalid_source_is_refused(envs):
    src, dst = envs
    (src / "orgs" / "globex.yaml").write_text("email:\n  from:\n    address: broken\n")
    before = snapshot(dst)
    done = promote(src, dst)
    assert done.returncode == 1 and "source" in done.stderr and "R001" in done.stderr
    assert snapshot(dst) == before


def test_invalid_result_is_refused_before_writing(envs):
    src, dst = envs
    # staging's org enables release notes relying on recipients prod's host does not have
    (src / "host.yaml").write_text(
        (src / "host.yaml")
        .read_text()
        .replace("product_updates: {enabled: false}", "product_updates: {enabled: false, recipients: [news@example.com]}")
    )
    (src / "orgs" / "acme.yaml").write_text("notifications:\n  product_updates: {enabled: true}\n")
    before = snapshot(dst)
    done = promote(src, dst, "--org", "acme")
    assert done.returncode == 1 and "would not be valid" in done.stderr and "R010" in done.stderr
    assert str(dst) in done.stderr and "notifycfg-promote" not in done.stderr
    assert snapshot(dst) == before


def test_new_org_with_its_own_server_needs_the_target_to_define_it(envs):
    src, dst = envs
    own = "email:\n  smtp:\n    host: mail.newco.example\n    port: 587\n    username: svc\n    password: {env: NEWCO_STAGING}\n"
    (src / "orgs" / "newco.yaml").write_text(own + "  from:\n    address: alerts@newco.example\n")
    map_partition(src, "newco", "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d")
    map_partition(dst, "newco", "1d2c3b4a-5f6e-4d7c-8b9a-a0b1c2d3e4f5")
    before = snapshot(dst)
    done = promote(src, dst, "--org", "newco")
    assert done.returncode == 1
    assert (
        "orgs/newco.yaml: `email.smtp` is environment-local; define it in" in done.stderr
        and "(email.smtp.host, email.smtp.port, email.smtp.username, email.smtp.password)" in done.stderr
    )
    assert snapshot(dst) == before
    (dst / "orgs" / "newco.yaml").write_text(own.replace("NEWCO_STAGING", "NEWCO_PROD").replace("mail.newco", "mx.newco"))
    done = promote(src, dst, "--org", "newco")
    assert done.returncode == 0, done.stderr
    text = (dst / "orgs" / "newco.yaml").read_text()
    assert "NEWCO_PROD" in text and "mx.newco.example" in text and "alerts@newco.example" in text


def test_audit_record(envs):
    src, dst = envs
    assert promote(src, dst).returncode == 0
    (line,) = (dst / "promotions.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert set(record) == {"time", "actor", "source", "target", "files", "inputs_sha256_before", "inputs_sha256_after"}
    assert record["files"]["orgs/globex.yaml"] == {"action": "changed", "keys": ["email.from.display_name"]}
    assert record["inputs_sha256_before"] != record["inputs_sha256_after"]
    assert record["time"].endswith("Z") and record["actor"]


def test_usage_errors(envs, tmp_path):
    src, dst = envs
    assert promote(src, tmp_path / "missing").returncode == 2
    assert promote(src, dst, "--org", "nobody").returncode == 2


def test_a_new_organization_needs_its_partition_in_the_target_first(tmp_path):
    shutil.copytree(CONFIGS / "staging", tmp_path / "staging")
    shutil.copytree(CONFIGS / "prod", tmp_path / "prod")
    before = snapshot(tmp_path / "prod")
    done = promote(tmp_path / "staging", tmp_path / "prod")
    assert done.returncode == 1 and snapshot(tmp_path / "prod") == before
    assert "P003" in done.stderr and "orgs/hooli.yaml has no partition" in done.stderr


def test_platform_yaml_is_never_promoted(envs):
    src, dst = envs
    before = (dst / "platform.yaml").read_bytes()
    assert promote(src, dst).returncode == 0
    assert (dst / "platform.yaml").read_bytes() == before


def test_one_actor_rule_for_every_audit(tmp_path, monkeypatch):
    """promotions.jsonl and apply --audit name who acted the same way: CI's user, git's user, the OS user."""
    from notifycfg.gitinfo import actor

    for name in ("GITHUB_ACTOR", "GITLAB_USER_LOGIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no global git config
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("USER", "os-user")
    assert actor() == "os-user"
    (tmp_path / ".gitconfig").write_text("[user]\n\tname = Ada\n\temail = ada@example.com\n")
    assert actor() == "Ada <ada@example.com>"
    monkeypatch.setenv("GITLAB_USER_LOGIN", "gitlab-bot")
    assert actor() == "gitlab-bot"
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    assert actor() == "octocat"


def test_the_timeout_is_the_environments_own_like_its_server(envs):
    """timeout_ms lives in the server block, which is environment-local: promote neither carries the
    source's nor drops the target's."""
    src, dst = envs
    for env, value in ((src, 30000), (dst, 60000)):
        initech = env / "orgs" / "initech.yaml"
        initech.write_text(initech.read_text().replace("    port: 465\n", f"    port: 465\n    timeout_ms: {value}\n"))
    done = promote(src, dst)
    assert done.returncode == 0, done.stderr
    assert "timeout_ms" not in done.stdout and "    timeout_ms: 60000\n" in (dst / "orgs" / "initech.yaml").read_text()
    differs = cli("diff", str(src), str(dst))
    assert "email.smtp.timeout_ms: 30000 -> 60000" in differs.stdout
