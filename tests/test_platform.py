"""The platform bridge against a stand-in platform over real TLS: export, plan, apply, import."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import CONFIGS, cli
from hypothesis import event, given, settings
from hypothesis import strategies as st
from support.platform import CLIENT_SECRET, HOST_PASSWORD, INITECH_PASSWORD, SECRETS


def run(world, *args: str, env_dir: Path | None = None):
    standin, env, env_vars, _ = world
    done = cli(*args, str(env_dir or env), "--cafile", standin.ca_path, env=env_vars)
    for secret in SECRETS:
        assert secret not in done.stdout + done.stderr, args
    return done


def test_empty_platform_plan_apply_plan_apply_import(world, tmp_path):
    standin, env, env_vars, guids = world
    first = run(world, "plan")
    assert first.returncode == 1, first.stdout + first.stderr
    for name, guid in guids.items():
        assert f"{name} ({guid}):" in first.stdout
    assert "note: globex overrides only its sender, so its partition becomes custom and receives the host's server" in first.stdout
    assert "acme (" in first.stdout and "in sync (the platform's default mail settings; nothing written)" in first.stdout
    assert "Email.Smtp.Password: written (the partition has no custom settings yet)" in first.stdout

    applied = run(world, "apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    custom = {name for name in guids if f"{name} ({guids[name]}): applied" in applied.stdout}
    assert custom == {"host", "globex", "hooli", "initech", "umbrella-labs"}
    assert f"acme ({guids['acme']}): unchanged" in applied.stdout
    assert standin.store[guids["acme"].lower()] == {}  # defaults: nothing written
    host = standin.store[guids["host"].lower()]
    assert host["Email.Smtp.Port"] == "587" and host["Email.Smtp.UseDefaultCredentials"] == "false"
    assert host["Email.Smtp.Password"] == HOST_PASSWORD  # resolved only here, only for what is written
    assert standin.store[guids["initech"].lower()]["Email.Smtp.Password"] == INITECH_PASSWORD
    assert standin.store[guids["globex"].lower()]["Email.Smtp.Host"] == host["Email.Smtp.Host"]

    assert run(world, "plan").returncode == 0
    puts_before = len(standin.puts())
    again = run(world, "apply")
    assert again.returncode == 0 and len(standin.puts()) == puts_before  # a second apply makes no PUT
    assert "0 PUT" in again.stdout

    imported = tmp_path / "imported"
    imported.mkdir()
    shutil.copy(env / "platform.yaml", imported / "platform.yaml")
    done = run(world, "import", env_dir=imported)
    assert done.returncode == 0, done.stdout + done.stderr
    assert cli("validate", "--strict", str(imported)).returncode == 0
    host_yaml = yaml.safe_load((imported / "host.yaml").read_text())
    assert host_yaml["email"]["smtp"]["password"] == {"env": "HOST_SMTP_PASSWORD"}
    initech = yaml.safe_load((imported / "orgs" / "initech.yaml").read_text())
    assert initech["email"]["smtp"]["password"] == {"env": "INITECH_SMTP_PASSWORD"}
    assert (imported / "orgs" / "acme.yaml").read_text().startswith("#") and yaml.safe_load(
        (imported / "orgs" / "acme.yaml").read_text()
    ) is None
    umbrella = yaml.safe_load((imported / "orgs" / "umbrella-labs.yaml").read_text())
    assert umbrella["email"]["smtp"]["anonymous"] is True
    in_sync = run(world, "plan", env_dir=imported)
    assert in_sync.returncode == 0, in_sync.stdout
    refused = run(world, "import", env_dir=imported)
    assert refused.returncode == 2 and "never over one" in refused.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "initech-password"]
    assert written and not [p for p in written for secret in SECRETS if secret.encode() in p.read_bytes()]


def test_a_failing_partition_fails_alone_and_the_next_apply_finishes(world):
    standin, env, _, guids = world
    standin.faults.failing = {guids["initech"].lower()}
    standin.faults.retry_after = 0
    done = run(world, "apply")
    assert done.returncode == 1
    assert f"initech ({guids['initech']}): failed: server: organization initech: the platform answered 500" in done.stdout
    for name in ("host", "globex", "umbrella-labs"):
        assert f"{name} ({guids[name]}): applied" in done.stdout
    standin.faults.failing = set()
    puts_before = len(standin.puts())
    done = run(world, "apply")
    assert done.returncode == 0, done.stdout
    assert standin.puts()[puts_before:] == [guids["initech"]]


def test_export_is_offline_and_deterministic(world, tmp_path):
    _, env, _, guids = world
    out = tmp_path / "out"
    done = cli("export", str(env), "-o", str(out))
    assert done.returncode == 0, done.stderr
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert cli("export", str(env), "-o", str(out)).returncode == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    assert "acme.json" not in first and "host.json" in first
    body = json.loads(first["host.json"])
    assert body["partitionGlobalId"] == guids["host"]
    password = next(s for s in body["settings"] if s["key"] == "Email.Smtp.Password")
    assert password["value"] == {"env": "STAGING_SMTP_PASSWORD"}
    assert all(secret.encode() not in data for data in first.values() for secret in SECRETS)


def test_token_refused_is_a_usage_error_before_any_request(world):
    standin, env, env_vars, _ = world
    standin.clients["notifycfg-staging"].secret = "another"
    done = run(world, "apply")
    assert done.returncode == 2 and "auth: the token endpoint refused client notifycfg-staging" in done.stderr
    assert standin.requests == []


def test_missing_write_scope_names_it(world):
    standin, _, _, _ = world
    standin.clients["notifycfg-staging"].scopes = {"PM.Setting.Read"}
    done = run(world, "apply")
    assert done.returncode == 1 and "permission:" in done.stdout and "needs the scope PM.Setting.Write" in done.stdout


def test_unknown_partition_is_not_found(world):
    standin, _, _, guids = world
    del standin.store[guids["hooli"].lower()]
    done = run(world, "plan")
    assert done.returncode == 2 and f"partition {guids['hooli']} not found" in done.stdout and "organization hooli" in done.stdout


def test_rate_limits_expiring_tokens_drops_and_wrapped_answers_are_survived(world):
    standin, _, _, guids = world
    standin.faults.rate_limit_first = True  # a fixed schedule: each (method, partition) is told to slow down once
    standin.faults.retry_after = 0
    standin.faults.token_uses = 8  # one refresh: the first token serves 8 of the 15 calls, the fresh one the other 7
    standin.faults.drop_next = 2
    standin.faults.wrapped = True
    assert run(world, "apply").returncode == 0
    standin.faults.rate_limit_first = False
    assert run(world, "plan").returncode == 0
    assert standin.token_requests >= 2  # fetched again after the 401
    assert standin.answered_429 == 6 + 5 and standin.dropped == 2  # a GET for each partition, a PUT for each written


def test_a_drifted_partition_is_reset_only_when_asked(world, tmp_path):
    """acme is left at defaults by the repository, but the platform holds email settings for it (and a
    setting of another kind): plan says what a reset deletes, apply leaves it and names --reset, and
    apply --reset deletes exactly its Email.Smtp rows by id (the masked password's too), nothing else."""
    standin, _, _, guids = world
    assert run(world, "apply").returncode == 0
    acme = standin.store[guids["acme"].lower()]
    acme.update({"Email.Smtp.Host": "rogue.example.com", "Email.Smtp.Port": "25", "Email.Smtp.Password": "rogue-pw", "Auth.Other": "kept"})
    others = {g: dict(v) for g, v in standin.store.items() if g != guids["acme"].lower()}
    done = run(world, "plan")
    assert done.returncode == 1 and f"acme ({guids['acme']}): drift: the platform holds Email.Smtp.Host, Email.Smtp.Port" in done.stdout
    assert (
        "reset: delete 3 setting(s) (Email.Smtp.Host, Email.Smtp.Password, Email.Smtp.Port); acme then uses the host's settings"
        in done.stdout
    )
    applied = run(world, "apply")
    assert applied.returncode == 1 and f"acme ({guids['acme']}): untouched" in applied.stdout and "apply --reset" in applied.stdout
    assert set(acme) == {"Email.Smtp.Host", "Email.Smtp.Port", "Email.Smtp.Password", "Auth.Other"}  # left as it was
    audit = tmp_path / "audit.jsonl"
    reset = run(world, "apply", "--reset", "--audit", str(audit))
    assert reset.returncode == 0, reset.stdout
    assert "reset: deleted 3 setting(s); acme now uses the host's settings" in reset.stdout and "3 DELETE" in reset.stdout
    assert acme == {"Auth.Other": "kept"}  # exactly its email rows, by id
    assert {g: v for g, v in standin.store.items() if g != guids["acme"].lower()} == others  # no other partition touched
    assert {p for p, _ in standin.deletes} == {guids["acme"].lower()}
    (line,) = [json.loads(x) for x in audit.read_text().splitlines()]
    assert (line["organization"], line["result"]) == ("acme", "applied")
    assert line["keys"] == ["Email.Smtp.Host", "Email.Smtp.Password", "Email.Smtp.Port"] and line["secret_keys"] == ["Email.Smtp.Password"]
    assert run(world, "plan").returncode == 0
    standin.store[guids["host"].lower()]["Email.Smtp.Port"] = "25"
    done = run(world, "plan")
    assert 'Email.Smtp.Port: "25" -> "587"' in done.stdout
    as_json = json.loads(run(world, "plan", "--format", "json").stdout)
    host = next(p for p in as_json["partitions"] if p["partition"] == "host")
    assert host["changes"] == [{"key": "Email.Smtp.Port", "old": "25", "new": "587"}] and host["password"] == "its server or login changes"


def test_a_row_the_platform_shows_without_an_id_is_said_to_remain(world):
    standin, _, _, guids = world
    assert run(world, "apply").returncode == 0
    standin.store[guids["acme"].lower()].update({"Email.Smtp.Host": "rogue.example.com", "Email.Smtp.Password": "rogue-pw"})
    standin.hidden_ids = {"Email.Smtp.Password"}
    reset = run(world, "apply", "--reset")
    assert reset.returncode == 0, reset.stdout
    assert "deleted 1 setting(s)" in reset.stdout and "may remain: Email.Smtp.Password (the platform showed no id for it)" in reset.stdout


def test_untrusted_platform_certificate(world):
    standin, env, env_vars, _ = world
    done = cli("plan", str(env), env=env_vars)  # no --cafile: system CAs
    assert done.returncode == 2 and "tls:" in done.stderr and "use --cafile" in done.stderr


def test_environment_without_platform_yaml(tmp_path):
    shutil.copytree(CONFIGS / "dev", tmp_path / "dev")
    (tmp_path / "dev" / "platform.yaml").unlink()
    done = cli("plan", str(tmp_path / "dev"))
    assert done.returncode == 2 and "has no platform.yaml" in done.stderr


def test_client_honours_retry_after_and_bounds_its_retries(world):
    import asyncio

    from notifycfg.platform.client import PlatformError, Retry, SettingsClient
    from notifycfg.platform.config import PlatformConfig

    standin, env, _, guids = world
    config = PlatformConfig.from_data(yaml.safe_load((env / "platform.yaml").read_text()) | {"client_secret": {"env": "X"}})

    async def scenario(retry: Retry) -> tuple[list[float], str | None]:
        async with SettingsClient(config, lambda: CLIENT_SECRET, cafile=standin.ca_path, timeout=10, retry=retry) as client:
            try:
                await client.read(guids["host"], ("Email.Smtp.Host",))
            except PlatformError as exc:
                return client.stats.waits, exc.kind
            return client.stats.waits, None

    standin.faults.retry_after, standin.faults.rate_limit_next = 1, 1
    assert asyncio.run(scenario(Retry())) == ([1.0], None)
    standin.faults.retry_after, standin.faults.rate_limit_next = 0, 100
    waits, kind = asyncio.run(scenario(Retry(attempts=3)))
    assert kind == "rate-limited" and len(waits) == 2
    standin.faults.rate_limit_next = 0
    standin.faults.failing = {guids["host"].lower()}
    waits, kind = asyncio.run(scenario(Retry(attempts=3, base_delay=0.01)))
    assert kind == "server" and waits == []  # 500 is not retried
    standin.faults.failing = set()
    standin.faults.latency = 2.0  # slower than the client's timeout below

    async def slow() -> str:
        async with SettingsClient(
            config, lambda: CLIENT_SECRET, cafile=standin.ca_path, timeout=0.3, retry=Retry(attempts=2, base_delay=0.01)
        ) as client:
            try:
                await client.read(guids["host"], ("Email.Smtp.Host",))
            except PlatformError as exc:
                return str(exc)
            return "answered"

    assert asyncio.run(slow()) == "connection: 127.0.0.1 did not answer in full within 0.3s (--timeout)"


def test_apply_validates_strictly_and_makes_no_request_on_a_warning(world):
    standin, env, _, _ = world
    acme = env / "orgs" / "acme.yaml"
    acme.write_text(acme.read_text() + "notifications:\n  job_alerts: {recipients: [a@example.com, a@example.com]}\n")
    done = run(world, "apply")
    assert done.returncode == 2 and "R011" in done.stderr and "nothing to apply" in done.stderr
    assert standin.requests == [] and standin.token_requests == 0
    assert run(world, "plan").returncode == 1  # plan reads, warnings allowed


def _import_after(world, tmp_path: Path, changes: dict[str, dict[str, str]], name: str):
    """Apply staging, change the platform's values by hand, then import into a fresh directory."""
    standin, env, _, guids = world
    assert run(world, "apply").returncode == 0
    for partition, values in changes.items():
        standin.store[guids[partition].lower()].update(values)
    target = tmp_path / name
    target.mkdir()
    shutil.copy(env / "platform.yaml", target / "platform.yaml")
    return target, run(world, "import", env_dir=target)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"globex": {"Email.Smtp.FromDisplayName": ""}}, "globex: Email.Smtp.FromDisplayName is empty while the host's is"),
        ({"host": {"Email.Smtp.Domain": "CORP", "Email.Smtp.UserName": ""}}, "host: Email.Smtp.Domain is 'CORP' with an empty"),
        ({"host": {"Email.Smtp.Port": "5_87"}}, "host: Email.Smtp.Port is '5_87', not a port number in plain ASCII digits"),
        ({"host": {"Email.Smtp.Port": "\uff15\uff18\uff17"}}, "host: Email.Smtp.Port is"),
        ({"host": {"Email.Smtp.Port": "0587"}}, "host: Email.Smtp.Port is '0587'"),
        ({"initech": {"Email.Smtp.EnableSsl": " TRUE "}}, "initech: Email.Smtp.EnableSsl is ' TRUE ', neither true nor false"),
        ({"host": {"Email.Smtp.UseDefaultCredentials": "true"}}, "host: Email.Smtp.UseDefaultCredentials is true"),
        ({"acme": {"Email.Smtp.FromEmail": "x@acme.example"}}, "acme: Email.Smtp.FromEmail is set but Email.Smtp.Host is not"),
    ],
    ids=[
        "empty-display-name",
        "domain-without-user",
        "underscore-port",
        "fullwidth-port",
        "leading-zero",
        "padded-bool",
        "default-creds",
        "partial",
    ],
)
def test_import_refuses_what_it_cannot_write_exactly(world, tmp_path, changes, words):
    target, done = _import_after(world, tmp_path, changes, "imported")
    assert done.returncode == 1, done.stdout + done.stderr
    assert words in done.stderr and "nothing written" in done.stderr, done.stderr
    assert sorted(p.name for p in target.iterdir()) == ["platform.yaml"]


def test_import_of_booleans_in_another_case_plans_in_sync(world, tmp_path):
    target, done = _import_after(world, tmp_path, {"host": {"Email.Smtp.EnableSsl": "True"}}, "imported")
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load((target / "host.yaml").read_text())["email"]["smtp"]["secure"] is True
    planned = run(world, "plan", env_dir=target)
    assert planned.returncode == 0, planned.stdout


_PLATFORM_YAML = """\
url: https://platform.example/identity_
client_id: notifycfg
client_secret: {env: PLATFORM_CLIENT_SECRET}
host_partition: d9c268f1-589b-50c0-ae2d-91053659fbda
orgs:
  acme: 90e92785-fe7f-5081-bd8b-666b7e9020e1
  globex: b4b161d1-1828-51dc-a2b6-b456de81834d
"""
# Values import must write exactly, first (most draws), then values it must refuse or that fail validation.
_VALUES = {
    "Email.Smtp.Host": (["smtp.example.com", "mail.acme.example"], ["", "two words"]),
    "Email.Smtp.Port": (["587", "465", "25"], ["0587", "5_87", "\uff15\uff18\uff17", "99999", "", "+25"]),
    "Email.Smtp.EnableSsl": (["true", "false", "TRUE", "False"], [" true", "yes", ""]),
    "Email.Smtp.Domain": ([""], ["CORP"]),
    "Email.Smtp.UserName": (["", "svc", "mailer"], []),
    "Email.Smtp.Password": (["********"], []),
    "Email.Smtp.UseDefaultCredentials": (["false", "False"], ["true"]),
    "Email.Smtp.FromEmail": (["noreply@example.com", "it@acme.example"], ["", "not an address"]),
    "Email.Smtp.FromDisplayName": (["", "Example", "Acme IT"], ["x\r\nBcc: a@b.example"]),
    "Email.Smtp.ConnectionTimeout": (["", "30000", "180000", "1", "300000"], ["0", "300001", "60s", "1.5", "030000", "\uff13"]),
}


def _state(*, bad: bool, every_key: bool) -> st.SearchStrategy[dict[str, str]]:
    def value(good: list[str], wrong: list[str]) -> st.SearchStrategy[str]:
        return st.sampled_from(good + wrong if bad else good)

    values = {key: value(*both) for key, both in _VALUES.items()}
    return st.fixed_dictionaries(values) if every_key else st.fixed_dictionaries({}, optional=values)


_good, _any, _partial = _state(bad=False, every_key=True), _state(bad=True, every_key=True), _state(bad=True, every_key=False)


@st.composite
def _platform_state(draw: st.DrawFn) -> dict[str, dict[str, str]]:
    """The host's partition, and organizations at the defaults, the host's values with some changed, or their own."""
    host = draw(st.one_of(_good, _good, _any, _partial))
    changes = st.fixed_dictionaries({}, optional={key: st.sampled_from(good + wrong) for key, (good, wrong) in _VALUES.items()})
    org = st.one_of(st.just({}), st.builds(lambda changed: {**host, **changed}, changes), _good, _any, _partial)
    return {"host": host, "acme": draw(org), "globex": draw(org)}


@settings(max_examples=max(200, settings.default.max_examples))  # the long profile (tox -e fuzz) runs more
@given(current=_platform_state())
def test_every_platform_state_that_imports_plans_in_sync(current):
    """What import writes, plan compares equal: for any state import accepts, no change, no drift."""
    import tempfile

    from notifycfg.compile.environment import load_environment
    from notifycfg.config.problems import Refused
    from notifycfg.platform.bridge import env_partitions
    from notifycfg.platform.config import PlatformConfig
    from notifycfg.platform.plan import compare
    from notifycfg.platform.transfer import repository_files

    config = PlatformConfig.from_data(yaml.safe_load(_PLATFORM_YAML))
    try:
        files = repository_files(config, current)
    except Refused:
        event("refused by import")
        return
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "orgs").mkdir()
        (root / "platform.yaml").write_text(_PLATFORM_YAML)
        for name, data in files.items():
            (root / name).write_bytes(data)
        env, _ = load_environment(str(root))
        if env is None:  # invalid: import refuses it before writing (its validation step)
            event("refused by validation")
            return
        event("imported")  # about one draw in ten: `pytest --hypothesis-show-statistics` shows how many
        for partition in env_partitions(env, config, None):
            planned = compare(partition, dict(current[partition.name]), rotate=False)
            assert planned.in_sync, (partition.name, planned.changes, planned.drift, planned.password_reason, files)


def test_each_one_key_change_lands_under_the_related_keys_rule(world):
    """The platform wants Host, Port and FromEmail together in one PUT (the stand-in refuses otherwise, 409):
    after a first apply, a change of one key of each kind lands, no PUT is refused, and plan is in sync after.
    (A PUT of the changed keys alone, as apply made before, was refused for the host and every organization
    sharing its server.)"""
    standin, env, env_vars, guids = world
    assert standin.related_keys  # the platform's rule, on
    assert run(world, "apply").returncode == 0

    def change(relative: str, edit) -> None:
        path = env / relative
        data = yaml.safe_load(path.read_text())
        edit(data)
        path.write_text(yaml.safe_dump(data))

    steps = [
        ("host.yaml", lambda d: d["email"]["smtp"].update(port=2525), ()),  # the host's port
        ("orgs/globex.yaml", lambda d: d["email"]["from"].update(display_name="Globex Mail"), ()),  # an org's display name
        ("orgs/initech.yaml", lambda d: d["email"]["smtp"].update(timeout_ms=30000), ()),  # an org's timeout
        ("orgs/initech.yaml", lambda d: d["email"]["smtp"].pop("timeout_ms"), ()),  # back to the platform's default: deleted
        (None, None, ("--rotate-passwords",)),  # a password rotation: every password written again
    ]
    for relative, edit, extra in steps:
        if relative:
            change(relative, edit)
        puts_before = len(standin.puts())
        applied = run(world, "apply", *extra)
        assert applied.returncode == 0, (relative, extra, applied.stdout)
        assert len(standin.puts()) > puts_before and standin.refused_puts == 0, (relative, extra)
        assert run(world, "plan").returncode == 0, (relative, extra)  # in sync after
    host = standin.store[guids["host"].lower()]
    assert host["Email.Smtp.Port"] == "2525" and standin.store[guids["globex"].lower()]["Email.Smtp.FromDisplayName"] == "Globex Mail"
    assert "Email.Smtp.ConnectionTimeout" not in standin.store[guids["initech"].lower()]
    assert standin.deletes == [(guids["initech"].lower(), "Email.Smtp.ConnectionTimeout")]  # that row alone, by its id


def test_timeout_ms_round_trips(world, tmp_path):
    """email.smtp.timeout_ms is Email.Smtp.ConnectionTimeout: validated where it is written, exported,
    planned, applied as "30000", imported as timeout_ms: 30000, and then in sync."""
    standin, env, env_vars, guids = world
    assert run(world, "apply").returncode == 0
    initech = env / "orgs" / "initech.yaml"
    original = initech.read_text()
    for bad, says in (("0", "at least 1"), ("300001", "at most 300000"), ('"60s"', "expected an integer"), ("1.5", "expected an integer")):
        initech.write_text(original.replace("    port: 465\n", f"    port: 465\n    timeout_ms: {bad}\n"))
        line = initech.read_text().splitlines().index(f"    timeout_ms: {bad}") + 1
        done = cli("validate", str(env))
        assert done.returncode == 1 and f"initech.yaml:{line}:17: error" in done.stdout and says in done.stdout, (bad, done.stdout)
    initech.write_text(original.replace("    port: 465\n", "    port: 465\n    timeout_ms: 30000\n"))
    assert cli("validate", "--strict", str(env)).returncode == 0

    out = tmp_path / "out"
    assert cli("export", str(env), "-o", str(out)).returncode == 0
    body = json.loads((out / "initech.json").read_text())
    assert {"key": "Email.Smtp.ConnectionTimeout", "value": "30000"} in body["settings"]
    assert "ConnectionTimeout" not in (out / "host.json").read_text()  # absent: the platform's default, not written

    planned = run(world, "plan")
    assert planned.returncode == 1 and 'Email.Smtp.ConnectionTimeout: (unset) -> "30000"' in planned.stdout
    assert "Email.Smtp.Password: written" not in planned.stdout  # a timeout is not a new server: no password sent
    assert run(world, "apply").returncode == 0
    assert standin.store[guids["initech"].lower()]["Email.Smtp.ConnectionTimeout"] == "30000"
    assert run(world, "plan").returncode == 0

    imported = tmp_path / "imported"
    imported.mkdir()
    shutil.copy(env / "platform.yaml", imported / "platform.yaml")
    assert run(world, "import", env_dir=imported).returncode == 0
    assert yaml.safe_load((imported / "orgs" / "initech.yaml").read_text())["email"]["smtp"]["timeout_ms"] == 30000
    assert "timeout_ms" not in (imported / "host.yaml").read_text()
    assert run(world, "plan", env_dir=imported).returncode == 0


def test_a_timeout_the_platform_holds_and_the_repository_leaves_out_is_deleted(world):
    """The repository leaving timeout_ms out means the platform's default: a ConnectionTimeout row there
    (set in the portal) is a change, and apply deletes that row alone, by its id, after its PUT."""
    standin, _, _, guids = world
    assert run(world, "apply").returncode == 0
    host = standin.store[guids["host"].lower()]
    host["Email.Smtp.ConnectionTimeout"] = "5000"
    planned = run(world, "plan")
    assert planned.returncode == 1
    assert 'Email.Smtp.ConnectionTimeout: "5000" -> (the platform\'s default: its row is deleted)' in planned.stdout
    as_json = json.loads(run(world, "plan", "--format", "json").stdout)
    changes = next(p for p in as_json["partitions"] if p["partition"] == "host")["changes"]
    assert changes == [{"key": "Email.Smtp.ConnectionTimeout", "old": "5000", "new": None}]
    applied = run(world, "apply")
    assert applied.returncode == 0, applied.stdout
    assert "Email.Smtp.ConnectionTimeout" not in host and standin.deletes == [(guids["host"].lower(), "Email.Smtp.ConnectionTimeout")]
    assert run(world, "plan").returncode == 0
