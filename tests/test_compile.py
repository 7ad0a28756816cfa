"""compile, explain and diff: the merge laws (hypothesis) and the commands on the shipped configs."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import yaml
from conftest import CONFIGS, cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifycfg.compile.canonical import dumps
from notifycfg.compile.environment import load_environment
from notifycfg.config import layering as compiler
from notifycfg.config import schema

EVENTS = ["password_recovery", "license_status", "product_updates", "job_alerts", "robot_alerts"]
addresses = st.sampled_from(["a@example.com", "b@example.org", "ops@corp.example", "x@y.example.net"])
hosts = st.sampled_from(["smtp.example.com", "mail.other.example", "10.0.0.5"])


def smtp_blocks(with_credentials: bool = True):
    base = {"host": hosts, "port": st.sampled_from([25, 465, 587, 2525])}
    optional = {"secure": st.booleans(), "timeout_ms": st.sampled_from([1, 30000, 300000])}
    if with_credentials:
        optional |= {"username": st.sampled_from(["svc", "mailer"]), "password": st.sampled_from([{"env": "P1"}, {"file": "/s"}])}
    return st.fixed_dictionaries(base, optional=optional)


def events(name: str):
    if name == "password_recovery":
        return st.fixed_dictionaries({}, optional={"enabled": st.booleans()})
    return st.fixed_dictionaries({}, optional={"enabled": st.booleans(), "recipients": st.lists(addresses, max_size=3)})


notifications = st.fixed_dictionaries({}, optional={e: events(e) for e in EVENTS})
senders = st.fixed_dictionaries({}, optional={"address": addresses, "display_name": st.sampled_from(["A", "Bé"])})
host_files = st.fixed_dictionaries(
    {"email": st.fixed_dictionaries({"smtp": smtp_blocks(), "from": st.fixed_dictionaries({"address": addresses})})},
    optional={"notifications": notifications},
)
org_files = st.fixed_dictionaries(
    {},
    optional={
        "email": st.fixed_dictionaries({}, optional={"smtp": smtp_blocks(), "from": senders}),
        "notifications": notifications,
    },
)


def effective(host: dict, org: dict) -> compiler.Effective:
    layers = [compiler.Layer(compiler.DEFAULT_LAYER, schema.defaults()), compiler.Layer("host.yaml", host)]
    return compiler.compile_org("o", layers, compiler.Layer("orgs/o.yaml", org), schema.replaced_paths(), track=True)


def fast_effective(host: dict, org: dict) -> compiler.Effective:
    defaults = compiler.Layer(compiler.DEFAULT_LAYER, schema.defaults())
    merged = compiler.Layer("host.yaml", compiler.merge([defaults, compiler.Layer("host.yaml", host)], schema.replaced_paths(), False)[0])
    return compiler.compile_org("o", [merged], compiler.Layer("orgs/o.yaml", org), schema.replaced_paths(), beneath=defaults)


def leaves(data, prefix=()):
    if isinstance(data, dict) and data:
        out: dict[tuple, object] = {}
        for key, value in data.items():
            out |= leaves(value, prefix + (key,))
        return out
    return {prefix: data}


LAWS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@LAWS
@given(host_files)
def test_empty_org_compiles_to_the_hosts_settings(host):
    assert effective(host, {}).data == effective(host, {"notifications": {}}).data
    assert (
        effective(host, {}).data
        == compiler.merge([compiler.Layer("d", schema.defaults()), compiler.Layer("h", host)], schema.replaced_paths())[0]
    )
    assert effective(host, {}).mail_settings == "host"


@LAWS
@given(host_files, org_files)
def test_compiling_is_idempotent_and_deterministic(host, org):
    once = effective(host, org)
    twice = effective(once.data, org)  # the override applied again changes nothing
    assert twice.data == once.data
    assert dumps(once.document()) == dumps(effective(host, org).document())


@LAWS
@given(host_files, org_files)
def test_the_fast_path_equals_the_tracked_merge(host, org):
    assert fast_effective(host, org).document() == effective(host, org).document()


@LAWS
@given(host_files, org_files)
def test_an_override_changes_only_what_it_names(host, org):
    base, result = leaves(effective(host, {}).data), leaves(effective(host, org).data)
    named = set(leaves(org)) if org else set()
    for path in set(base) | set(result):
        if base.get(path) == result.get(path):
            continue
        in_block = path[:2] == ("email", "smtp") and "smtp" in org.get("email", {})
        assert in_block or path in named, path


@LAWS
@given(host_files, org_files)
def test_no_credential_crosses_to_another_server(host, org):
    own = org.get("email", {}).get("smtp")
    smtp = effective(host, org).data["email"]["smtp"]
    if own is not None:
        for key in ("username", "password", "domain", "timeout_ms"):  # the timeout belongs to the server block too
            assert smtp.get(key) == own.get(key)


def test_provenance_points_at_lines_and_defaults():
    env, _ = load_environment(str(CONFIGS / "prod"))
    e = env.effective("globex", track=True)
    assert str(e.origin(("email", "from", "address"))).endswith("orgs/globex.yaml:5")
    assert str(e.origin(("email", "smtp", "host"))).endswith("prod/host.yaml:6")
    assert str(e.origin(("email", "smtp", "anonymous"))) == "schema default"
    assert [str(o).rsplit("/", 1)[1] for o in e.overridden(("email", "from", "address"))] == ["host.yaml:15"]


def test_compile_writes_files_and_manifest_deterministically(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        done = cli("compile", str(CONFIGS / "prod"), "-o", str(out))
        assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in first.iterdir())
    assert names == ["acme.json", "globex.json", "initech.json", "manifest.json", "umbrella-labs.json"]
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes()
    initech = json.loads((first / "initech.json").read_text())
    assert initech["mail_settings"] == "custom" and initech["email"]["smtp"]["password"] == {"file": "/run/secrets/initech-smtp-password"}
    assert json.loads((first / "acme.json").read_text())["mail_settings"] == "host"
    manifest = json.loads((first / "manifest.json").read_text())
    assert set(manifest["inputs"]) == {"host.yaml", "orgs/acme.yaml", "orgs/globex.yaml", "orgs/initech.yaml", "orgs/umbrella-labs.yaml"}
    import hashlib

    assert manifest["orgs"]["acme"]["sha256"] == hashlib.sha256((first / "acme.json").read_bytes()).hexdigest()
    assert str(tmp_path) not in (first / "manifest.json").read_text()


def test_compile_refuses_invalid_environment_and_leaves_out_untouched(tmp_path):
    env = tmp_path / "env"
    shutil.copytree(CONFIGS / "prod", env)
    out = tmp_path / "out"
    assert cli("compile", str(env), "-o", str(out)).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (env / "orgs" / "acme.yaml").write_text("email:\n  smtp: {host: x.example.com, port: 99999}\n")
    done = cli("compile", str(env), "-o", str(out))
    assert done.returncode == 1 and "S005" in done.stderr and "nothing to compile" in done.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_compile_refuses_to_replace_a_foreign_directory(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    done = cli("compile", str(CONFIGS / "prod"), "-o", str(tmp_path))
    assert done.returncode == 2 and "refusing" in done.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_compile_options(tmp_path):
    done = cli("compile", str(CONFIGS / "prod"), "--org", "globex", "--format", "json")
    assert done.returncode == 0 and list(json.loads(done.stdout)) == ["globex"]
    assert cli("compile", str(CONFIGS / "prod"), "--org", "nobody", "--format", "json").returncode == 2
    assert cli("compile", str(CONFIGS / "prod")).returncode == 2  # neither -o nor --format json
    assert cli("compile", str(tmp_path / "missing"), "-o", str(tmp_path / "o")).returncode == 2


def test_compile_is_interrupted_safely(tmp_path):
    """A failure between files leaves OUT as it was and no staging directory behind."""
    from notifycfg.files import write_all

    out = tmp_path / "out"
    write_all(out, {"a.json": b"1\n", "manifest.json": b"{}\n"}, exact=True)

    class Boom(dict):
        def items(self):
            yield "b.json", b"2\n"
            raise KeyboardInterrupt

    with contextlib.suppress(KeyboardInterrupt):
        write_all(out, Boom(), exact=True)
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "manifest.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_explain_on_shipped_configs():
    done = cli("explain", str(CONFIGS / "prod"), "globex", "email.from")
    lines = done.stdout.splitlines()
    assert done.returncode == 0
    assert lines[0].startswith('email.from.address = "notifications@globex.example.org"')
    assert "orgs/globex.yaml:5 (overrides" in lines[0] and "host.yaml:15)" in lines[0]
    done = cli("explain", str(CONFIGS / "prod"), "initech", "email.smtp.username", "--format", "json")
    (item,) = json.loads(done.stdout)
    assert item["value"] == "svc-notify" and item["origin"].endswith("orgs/initech.yaml:11")
    assert "replaced as a whole" in item["note"]
    done = cli("explain", str(CONFIGS / "prod"), "acme", "email.smtp.secure")
    assert done.stdout.startswith("email.smtp.secure = true") and "host.yaml:13 (overrides schema default)" in done.stdout


def test_explain_errors():
    done = cli("explain", str(CONFIGS / "prod"), "globex", "email.form")
    assert done.returncode == 2 and "did you mean `email.from`" in done.stderr
    assert cli("explain", str(CONFIGS / "prod"), "nobody", "email").returncode == 2


def test_diff_staging_prod():
    done = cli("diff", str(CONFIGS / "staging"), str(CONFIGS / "prod"), "--format", "json")
    body = json.loads(done.stdout)
    assert done.returncode == 1 and body["equal"] is False
    assert body["removed"] == ["hooli"] and body["added"] == []
    globex = {c["path"]: (c["old"], c["new"]) for c in body["changed"]["globex"]}
    assert globex["email.from.display_name"] == ("Globex Platform Notifications", "Globex Notifications")
    assert globex["email.smtp.password.env"] == ("STAGING_SMTP_PASSWORD", "PROD_SMTP_PASSWORD")
    initech = {c["path"] for c in body["changed"]["initech"]}
    assert initech == {"email.smtp.host", "email.smtp.password.file"}


def test_diff_equal_and_text(tmp_path):
    done = cli("diff", str(CONFIGS / "prod"), str(CONFIGS / "prod"))
    assert (done.returncode, done.stdout) == (0, "")
    done = cli("diff", str(CONFIGS / "staging"), str(CONFIGS / "prod"))
    assert (
        "- hooli: only in" in done.stdout
        and '    email.from.display_name: "Globex Platform Notifications" -> "Globex Notifications"' in done.stdout
    )


def test_canonical_json_matches_the_stdlib():
    sample = yaml.safe_load((CONFIGS / "prod" / "host.yaml").read_text())
    sample["x"] = [{}, [], None, 1.5, 'ünï\n"', {"b": [1, 2], "a": {}}]
    assert dumps(sample) == json.dumps(sample, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def test_compile_from_another_directory(tmp_path):
    done = cli("compile", os.path.relpath(CONFIGS / "dev", tmp_path), "-o", "out", cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "out" / "manifest.json").exists()
    assert Path(tmp_path / "out" / "initech.json").read_text().count('"custom"') == 1
