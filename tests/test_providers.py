"""The relay catalogue: its data against its schema and its sources, the validate rules it drives
(written as a user would write the settings), its dated advisories, and doctor's explanations of the
refusals it lists, answered for real by the harness at AUTH."""

from __future__ import annotations

import calendar
import datetime
import json
import os
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import ROOT, cli

from notifycfg.config.validate import validate
from notifycfg.providers.catalogue import CATALOGUE, SCHEMA, Refusal, catalogue
from smtp_harness import Harness

PASSWORD = "Relay-S3cret-7d1e"
NO_MAIL = "mail=550 5.7.1 doctor must never send MAIL"


def _epoch(day: str) -> str:
    return str(calendar.timegm(datetime.date.fromisoformat(day).timetuple()))


@pytest.fixture
def on_day(monkeypatch):
    """Today, as the catalogue sees it: SOURCE_DATE_EPOCH (the documented switch, not a patch)."""
    return lambda day: monkeypatch.setenv("SOURCE_DATE_EPOCH", _epoch(day))


# --- the data ---------------------------------------------------------------------------------------


def test_the_catalogue_validates_against_its_schema():
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    data = json.loads(CATALOGUE.read_text())
    assert list(validator.iter_errors(data)) == []
    broken = json.loads(CATALOGUE.read_text())
    del broken["providers"][0]["refusals"][0]["source"]
    broken["providers"][1]["notes"][0]["source"] = "http://example.com/not-https"
    assert len(list(validator.iter_errors(broken))) == 2  # the schema does hold every entry to its source


def _entries(node: object, where: str = "catalogue") -> list[tuple[str, dict]]:
    """Every object that states a fact (a provider, a login, a note, an advisory, a refusal)."""
    found = []
    if isinstance(node, dict):
        if {"cause", "text", "what", "accepts", "required"} & set(node):
            found.append((where, node))
        for key, value in node.items():
            found += _entries(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _entries(value, f"{where}[{i}]")
    return found


def test_every_entry_names_a_public_source():
    entries = _entries(json.loads(CATALOGUE.read_text()))
    assert len(entries) > 40
    missing = [where for where, entry in entries if not str(entry.get("source", "")).startswith("https://")]
    assert missing == []
    required = {"Microsoft 365", "Google", "SendGrid", "Amazon SES", "Mailgun", "Postmark"}
    names = " ".join(p.name for p in catalogue().providers)
    assert {r for r in required if r in names} == required
    hosts = {h for p in catalogue().providers for h in (*p.hosts, *p.patterns)}
    assert {"smtp.office365.com", "smtp-legacy.office365.com", "*.mail.protection.outlook.com", "smtp.gmail.com"} <= hosts
    assert {"smtp-relay.gmail.com", "email-smtp.*.amazonaws.com"} <= hosts
    generic = {(r.code, r.enhanced) for r in catalogue().refusals}
    assert {(535, "5.7.8"), (550, "5.7.1"), (530, "5.7.0"), (530, "4.7.0"), (454, "4.7.0"), (552, None)} <= generic


def test_docs_providers_md_is_the_catalogue():
    done = cli("providers", "--format", "markdown")
    assert done.returncode == 0 and done.stdout == (ROOT / "docs" / "providers.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("host", "provider"),
    [
        ("smtp.office365.com", "microsoft365"),
        ("SMTP.Office365.COM.", "microsoft365"),
        ("contoso-com.mail.protection.outlook.com", "microsoft365-direct-send"),
        ("email-smtp.eu-west-1.amazonaws.com", "amazon-ses"),
        ("smtp.eu.mailgun.org", "mailgun"),
        ("mail.protection.outlook.com", None),  # a pattern's `*` is at least one label
        ("email-smtp.eu-west-1.amazonaws.com.evil.example", None),
        ("smtp.office365.com.evil.example", None),
    ],
)
def test_hosts_match_by_name_or_pattern(host, provider):
    found = catalogue().provider_for(host)
    assert (found.id if found else None) == provider


def test_a_host_that_is_a_provider_adds_its_notes_to_any_explanation():
    text = "5.7.8 Error: authentication failed"
    plain = catalogue().explain(535, text, "relay.example.net")
    known = catalogue().explain(535, text, "smtp.sendgrid.net")
    assert plain is not None and known is not None and plain.cause == known.cause and plain.notes == ()
    assert known.notes and all("SendGrid" in n and "https://" in n for n in known.notes)


# --- validate: each rule fires as a user writes the settings, and not on the right setup ----------------


def _host(smtp: dict, sender: str = "noreply@example.com") -> str:
    return yaml.safe_dump({"email": {"smtp": smtp, "from": {"address": sender}}})


M365 = {"host": "smtp.office365.com", "port": 587, "username": "noreply@example.com", "password": {"env": "P"}}
RELAY_CASES = {
    "m365 on 465 with implicit TLS": (
        {**M365, "port": 465},
        "noreply@example.com",
        ("M001", "error", "port 587 with STARTTLS"),
        M365,
    ),
    "m365 without a login": (
        {"host": "smtp.office365.com", "port": 587, "anonymous": True},
        "noreply@example.com",
        ("M002", "error", "needs a username and password"),
        M365,
    ),
    "m365 with a bare account name": (
        {**M365, "username": "svc-notify"},
        "svc-notify@example.com",
        ("M002", "warning", "the full address of the mailbox"),
        {**M365, "username": "svc-notify@example.com"},
    ),
    "m365 From another mailbox": (
        M365,
        "alerts@example.com",
        ("M004", "warning", "needs Send As"),
        M365,
    ),
    "sendgrid with the account's name": (
        {"host": "smtp.sendgrid.net", "port": 587, "username": "acme-corp", "password": {"env": "P"}},
        "noreply@example.com",
        ("M002", "error", "literally `apikey`"),
        {"host": "smtp.sendgrid.net", "port": 587, "username": "apikey", "password": {"env": "P"}},
    ),
    "gmail on 25": (
        {"host": "smtp.gmail.com", "port": 25, "username": "me@example.com", "password": {"env": "P"}},
        "noreply@example.com",
        ("M001", "error", "not port 25 with STARTTLS"),
        {"host": "smtp.gmail.com", "port": 465, "username": "me@example.com", "password": {"env": "P"}},
    ),
    "postmark on 465": (
        {"host": "smtp.postmarkapp.com", "port": 465, "username": "6f1c3a52-2d7e-4a38-9f1e-0b7f7c1d9e20", "password": {"env": "P"}},
        "noreply@example.com",
        ("M001", "error", "not port 465 with TLS from the first byte"),
        {"host": "smtp.postmarkapp.com", "port": 587, "username": "6f1c3a52-2d7e-4a38-9f1e-0b7f7c1d9e20", "password": {"env": "P"}},
    ),
    "ses on 2525": (
        {"host": "email-smtp.us-east-1.amazonaws.com", "port": 2525, "username": "AKIAEXAMPLE", "password": {"env": "P"}},
        "noreply@example.com",
        ("M001", "error", "2587 with STARTTLS"),
        {"host": "email-smtp.us-east-1.amazonaws.com", "port": 2587, "username": "AKIAEXAMPLE", "password": {"env": "P"}},
    ),
    "direct send without TLS on 587": (
        {"host": "contoso-com.mail.protection.outlook.com", "port": 587, "secure": False, "anonymous": True},
        "noreply@example.com",
        ("M001", "error", "not port 587 with no TLS"),
        {"host": "contoso-com.mail.protection.outlook.com", "port": 25, "secure": True, "anonymous": True},
    ),
}


def _relay_problems(env, smtp: dict, sender: str) -> list[tuple[str, str, str]]:
    root = env({"host.yaml": _host(smtp, sender), "orgs/acme.yaml": ""})
    return [(p.rule, p.severity, p.message) for p in validate([str(root)]).problems if p.rule.startswith("M")]


@pytest.mark.parametrize("case", list(RELAY_CASES), ids=list(RELAY_CASES))
def test_each_relay_rule_fires_as_written_and_not_on_the_right_setup(env, on_day, case):
    on_day("2026-06-01")  # months before any advisory: only the rule at hand speaks
    wrong, sender, (rule, severity, says), right = RELAY_CASES[case]
    found = _relay_problems(env, wrong, sender)
    assert [(r, s) for r, s, _ in found] == [(rule, severity)], found
    assert says in found[0][2] and "(source: https://" in found[0][2]
    right_sender = str(right.get("username", sender)) if rule == "M004" else sender
    assert _relay_problems(env, right, right_sender) == []


def test_send_as_is_judged_where_an_organization_sets_its_own_from(env, on_day):
    on_day("2026-06-01")
    root = env({"host.yaml": _host(M365), "orgs/acme.yaml": "email:\n  from:\n    address: acme@example.com\n"})
    found = [(p.file.rsplit("/", 1)[-1], p.line, p.rule) for p in validate([str(root)]).problems]
    assert found == [("acme.yaml", 3, "M004")]


@pytest.mark.parametrize(
    ("day", "expected"),
    [("2026-10-01", []), ("2026-11-01", ["notice"]), ("2026-12-30", ["notice"]), ("2026-12-31", ["warning"]), ("2027-03-01", ["warning"])],
)
def test_an_advisory_is_a_notice_60_days_before_and_a_warning_in_force(env, on_day, day, expected):
    on_day(day)
    root = env({"host.yaml": _host(M365), "orgs/acme.yaml": ""})
    result = validate([str(root)])
    advisories = [p for p in result.problems if p.rule == "M003"]
    assert [p.severity for p in advisories] == expected
    assert result.ok(strict=False) and result.ok(strict=True) == ("warning" not in expected)  # a notice never fails
    anonymous = env(
        {"host.yaml": _host({"host": "smtp.gmail.com", "port": 587, "username": "me@example.com", "password": {"env": "P"}})}, "g"
    )
    assert [p for p in validate([str(anonymous)]).problems if p.rule == "M003"] == []  # not a Microsoft 365 setting


def test_the_advisory_in_every_validate_format(env, on_day):
    on_day("2026-12-02")
    root = env({"host.yaml": _host(M365), "orgs/acme.yaml": ""})
    text = cli("validate", str(root))
    assert text.returncode == 0 and "notice M003 from 2026-12-31" in text.stdout and "1 notice(s)" in text.stdout
    assert "::notice file=" in cli("validate", "--format", "github", str(root)).stdout
    sarif = json.loads(cli("validate", "--format", "sarif", str(root)).stdout)
    assert [r["level"] for r in sarif["runs"][0]["results"]] == ["note"]
    gitlab = json.loads(cli("validate", "--format", "gitlab", str(root)).stdout)
    assert [g["severity"] for g in gitlab] == ["info"]


def test_the_shipped_configs_stay_clean():
    for name in ("dev", "staging", "prod"):
        done = cli("validate", "--strict", str(ROOT / "configs" / name))
        assert done.returncode == 0 and " M0" not in done.stdout, (name, done.stdout)


def test_providers_command(on_day):
    on_day("2027-01-15")
    one = cli("providers", "smtp.office365.com")
    assert one.returncode == 0 and "accepts: 587 with STARTTLS, 25 with STARTTLS" in one.stdout
    assert "advisory in force 2026-12-31" in one.stdout
    on_day("2026-06-01")
    assert "advisory" not in cli("providers", "smtp.office365.com").stdout  # neither in force nor within 60 days
    unknown = cli("providers", "mail.example.org")
    assert unknown.returncode == 1 and "not in the catalogue" in unknown.stdout
    listed = json.loads(cli("providers", "--format", "json").stdout)
    assert [p["id"] for p in listed["providers"]] == [p.id for p in catalogue().providers]


# --- doctor explains what the relay answers at AUTH -----------------------------------------------------


def _reply_text(refusal: Refusal) -> str:
    """A reply a relay would give for this entry: its enhanced code, then the words it is matched on."""
    return " ".join(part for part in (refusal.enhanced, refusal.pattern or "refused") if part)


ALL_REFUSALS = [(p.name, r) for p in catalogue().providers for r in p.refusals] + [("SMTP", r) for r in catalogue().refusals]


def _doctor_at_auth(tmp_path: Path, code: int, message: str, fmt: str = "json"):
    fault = {"stage": "auth", "action": "reply", "code": code, "message": message}
    with Harness(tls="starttls", users={"svc": PASSWORD}, faults=[NO_MAIL, fault]) as h:
        smtp = {"host": "localhost", "port": h.port, "secure": True, "username": "svc", "password": {"env": "RELAY_PW"}}
        root = tmp_path / "env"
        (root / "orgs").mkdir(parents=True)
        (root / "host.yaml").write_text(_host(smtp))
        (root / "orgs" / "acme.yaml").write_text("")
        environ = dict(os.environ, RELAY_PW=PASSWORD)
        args = ("doctor", str(root), "--only", "endpoints", "--login", "--cafile", str(h.ca_path), "--timeout", "5", "--format", fmt)
        return cli(*args, env=environ)


@pytest.mark.parametrize(
    ("provider", "refusal"), ALL_REFUSALS, ids=[f"{r.code}-{r.enhanced or ''}-{i}" for i, (_, r) in enumerate(ALL_REFUSALS)]
)
def test_doctor_explains_each_catalogued_refusal_at_auth(tmp_path, provider, refusal):
    done = _doctor_at_auth(tmp_path, refusal.code, _reply_text(refusal))
    (endpoint,) = json.loads(done.stdout)["endpoints"]
    (auth,) = [c for c in endpoint["checks"] if c["id"] == "auth"]
    assert done.returncode == 1 and auth["code"] == "auth.refused" and auth["facts"]["reply_code"] == refusal.code
    assert auth["explanation"] == {"provider": provider, "cause": refusal.cause, "fix": refusal.fix, "source": refusal.source, "notes": []}
    assert PASSWORD not in done.stdout + done.stderr


def test_the_explanation_in_every_doctor_format_and_none_for_an_unknown_refusal(tmp_path):
    said = "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."
    cause = "SMTP AUTH is turned off for the tenant or for this mailbox."
    source = "authenticated-client-smtp-submission"
    escaped = (cause.replace(".", "\\."), source.replace("-", "\\-"))  # Markdown: every punctuation mark escaped
    for fmt, (shown, where) in (("text", (cause, source)), ("junit", (cause, source)), ("markdown", escaped)):
        done = _doctor_at_auth(tmp_path / fmt, 535, said, fmt)
        assert done.returncode == 1 and shown in done.stdout and where in done.stdout, (fmt, done.stdout)
    unknown = _doctor_at_auth(tmp_path / "unknown", 535, "7.7.7 the relay is having a bad day")
    (endpoint,) = json.loads(unknown.stdout)["endpoints"]
    (auth,) = [c for c in endpoint["checks"] if c["id"] == "auth"]
    assert unknown.returncode == 1 and auth["code"] == "auth.refused" and "explanation" not in auth
    assert "the relay is having a bad day" in auth["message"]


def test_only_validate_gives_the_relay_advice(env, on_day, tmp_path):
    """promote, the platform commands and the rest load an environment as they did before the catalogue."""
    on_day("2027-01-15")  # the advisory in force too
    smtp = {**M365, "port": 465, "username": "svc-notify"}
    platform = (
        "url: https://platform.example/identity_\nclient_id: notifycfg\nclient_secret: {env: SECRET}\n"
        "host_partition: 6f1c3a52-2d7e-4a38-9f1e-0b7f7c1d9e20\norgs:\n  acme: 3fa85f64-5717-4562-b3fc-2c963f66afa6\n"
    )
    src = env({"host.yaml": _host(smtp), "orgs/acme.yaml": "", "platform.yaml": platform}, "src")
    dst = env({"host.yaml": _host(smtp), "orgs/acme.yaml": "email:\n  from:\n    display_name: Acme\n"}, "dst")
    said = cli("validate", "--strict", str(src))
    assert said.returncode == 1 and {"M001", "M002", "M003"} <= {w for w in said.stdout.split() if w.startswith("M00")}
    assert cli("compile", str(src), "--format", "json").returncode == 0
    promoted = cli("promote", "--dry-run", str(src), str(dst), cwd=tmp_path)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert cli("export", str(src), "-o", str(tmp_path / "out")).returncode == 0  # a platform command, strict as ever


# --- send-test and flows explain a refusal too ----------------------------------------------------------


def test_send_test_explains_the_refusal_it_meets():
    environ = dict(os.environ, PROD_SMTP_PASSWORD=PASSWORD)
    said = {
        "stage": "auth",
        "action": "reply",
        "code": 550,
        "message": "5.7.30 Basic authentication is not supported for Client Submission.",
    }
    with Harness(tls="starttls", users={"platform-mailer": PASSWORD}, faults=[said]) as h:
        args = ("--org", "acme", "--to", "me@example.com", "--server", f"{h.host}:{h.port}", "--cafile", str(h.ca_path))
        done = cli("send-test", str(ROOT / "configs" / "prod"), *args, env=environ)
    assert done.returncode == 1 and "send failed (auth)" in done.stderr
    (m365,) = [p for p in catalogue().providers if p.id == "microsoft365"]
    refusal = next(r for r in m365.refusals if r.enhanced == "5.7.30")
    assert f"why ({m365.name}): {refusal.cause}" in done.stderr and refusal.source in done.stderr
    assert PASSWORD not in done.stdout + done.stderr


def test_a_flow_refused_at_data_carries_the_explanation(tmp_path):
    """A flow whose message the harness refuses as too large (552) says why, in its outcome."""
    import shutil

    env = tmp_path / "dev"
    shutil.copytree(ROOT / "configs" / "dev", env, ignore=shutil.ignore_patterns("flows"))
    (env / "flows").mkdir()
    (env / "flows" / "too-large.yaml").write_text(
        "org: globex\nevent: product_release\n"
        'params: {product: Studio, version: "26.1", notes_url: "https://docs.example.com/studio/26.1"}\n'
        'server:\n  faults: ["data=552 5.3.4 Message size exceeds fixed maximum message size"]\n'
        "expect:\n  refused: permanent\n  messages: 0\n"
    )
    done = cli("flows", "run", str(env), env=dict(os.environ, DEV_SMTP_PASSWORD="dev-pw"))
    generic = next(r for r in catalogue().refusals if r.code == 552)
    assert done.returncode == 0 and f"why (SMTP): {generic.cause}" in done.stdout, done.stdout + done.stderr


def test_doctor_explains_a_refusal_at_ehlo_too(tmp_path):
    said = {"stage": "ehlo", "action": "reply", "code": 550, "message": "5.7.1 Client host rejected: relay access denied"}
    with Harness(tls="starttls", faults=[NO_MAIL, said]) as h:
        smtp = {"host": "localhost", "port": h.port, "secure": True, "anonymous": True}
        root = tmp_path / "env"
        (root / "orgs").mkdir(parents=True)
        (root / "host.yaml").write_text(_host(smtp))
        (root / "orgs" / "acme.yaml").write_text("")
        done = cli("doctor", str(root), "--only", "endpoints", "--cafile", str(h.ca_path), "--timeout", "5", "--format", "json")
    (endpoint,) = json.loads(done.stdout)["endpoints"]
    (ehlo,) = [c for c in endpoint["checks"] if c["id"] == "ehlo"]
    relay_denied = next(r for r in catalogue().refusals if (r.code, r.enhanced) == (550, "5.7.1"))
    assert ehlo["code"] == "ehlo.refused" and ehlo["explanation"]["cause"] == relay_denied.cause


def test_the_most_specific_reading_wins():
    """aiosmtpd's own bad-password reply carries SES's words, but its 5.7.8 is RFC 4954's on any server;
    SES's own reply (no enhanced code) is SES's; on SES's host, SES's reading comes first."""
    said = "5.7.8 Authentication credentials invalid"
    assert catalogue().explain(535, said, "localhost").provider == "SMTP"
    ses = next(p for p in catalogue().providers if p.id == "amazon-ses")
    assert catalogue().explain(535, "Authentication Credentials Invalid", "localhost").provider == ses.name
    assert catalogue().explain(535, said, "email-smtp.eu-west-1.amazonaws.com").provider == ses.name
