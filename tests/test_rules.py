"""Every schema-backed and semantic rule, each with the exact position it reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifycfg.config.rules import CHECKS, RULES
from notifycfg.config.validate import validate


def problems_for(env, org: str | None = None, host: str | None = None):
    files = {}
    if org is not None:
        files["orgs/o.yaml"] = org
    if host is not None:
        files["host.yaml"] = host
    result = validate([str(env(files))])
    return [(p.file.rsplit("/", 1)[-1], p.line, p.column, p.rule, p.severity, p.path) for p in result.problems]


SMTP = "email:\n  smtp:\n    host: mail.example.org\n    port: 587\n"

CASES = {
    "S001": (
        "email:\n  smtp:\n    host: a.example.com\n    port: 587\n    prot: 587\n    anonymous: true\n",
        ("o.yaml", 5, 5, "S001", "error", "email.smtp.prot"),
    ),
    "S002": ("email:\n  smtp:\n    host: a.example.com\n", ("o.yaml", 2, 3, "S002", "error", "email.smtp")),
    "S003": (SMTP.replace("587", '"587"'), ("o.yaml", 4, 11, "S003", "error", "email.smtp.port")),
    "S004": ("email:\n  from:\n    address:\n", ("o.yaml", 3, 13, "S004", "error", "email.from.address")),
    "S005": (SMTP.replace("587", "0"), ("o.yaml", 4, 11, "S005", "error", "email.smtp.port")),
    "S006": (SMTP.replace("mail.example.org", "mail_server!"), ("o.yaml", 3, 11, "S006", "error", "email.smtp.host")),
    "S007": None,  # the schemas use no enum/const today: kept for flow files
    "R001": ("email:\n  from:\n    address: nobody@@example.com\n", ("o.yaml", 3, 14, "R001", "error", "email.from.address")),
    "R002": (
        'email:\n  from:\n    display_name: "Ops\\r\\nBcc: x@evil.example"\n',
        ("o.yaml", 3, 19, "R002", "error", "email.from.display_name"),
    ),
    "R003": (SMTP + "    username: u\n    password: hunter2\n", ("o.yaml", 6, 15, "R003", "error", "email.smtp.password")),
    "R004": (SMTP + "    username: u\n", ("o.yaml", 5, 5, "R004", "error", "email.smtp.username")),
    "R005": (SMTP + "    password: {env: P}\n    anonymous: true\n", ("o.yaml", 5, 5, "R005", "error", "email.smtp.password")),
    "R006": (SMTP + "    domain: CORP\n    anonymous: true\n", ("o.yaml", 5, 5, "R006", "error", "email.smtp.domain")),
    "R007": (SMTP.replace("587", "25") + "    anonymous: true\n", ("o.yaml", 4, 11, "R007", "warning", "email.smtp.port")),
    "R008": (
        SMTP.replace("587", "465") + "    secure: false\n    anonymous: true\n",
        ("o.yaml", 5, 13, "R008", "error", "email.smtp.secure"),
    ),
    "R009": (
        SMTP + "    username: u\n    password: {env: P}\n    secure: false\n",
        ("o.yaml", 7, 13, "R009", "warning", "email.smtp.secure"),
    ),
    "R010": (
        "notifications:\n  robot_alerts:\n    enabled: true\n",
        ("o.yaml", 3, 14, "R010", "error", "notifications.robot_alerts.enabled"),
    ),
    "R011": (
        "notifications:\n  job_alerts:\n    recipients: [a@example.com, b@example.com, A@example.com]\n",
        ("o.yaml", 3, 48, "R011", "warning", "notifications.job_alerts.recipients[2]"),
    ),
    "R012": (SMTP, ("o.yaml", 2, 3, "R012", "warning", "email.smtp")),
    "R013": (
        SMTP + "    username: u\n    password: {env: P}\n    anonymous: true\n",
        ("o.yaml", 7, 5, "R013", "error", "email.smtp.anonymous"),
    ),
    "R014": (
        'email:\n  from:\n    display_name: "Payroll <payroll@bank.example>"\n',
        ("o.yaml", 3, 19, "R014", "warning", "email.from.display_name"),
    ),
    "R015": ('email:\n  from:\n    display_name: "Ops  Team"\n', ("o.yaml", 3, 19, "R015", "error", "email.from.display_name")),
}


@pytest.mark.parametrize("rule_id", sorted(k for k, v in CASES.items() if v))
def test_rule_fires_exactly_where_expected(env, rule_id):
    org, expected = CASES[rule_id]
    found = problems_for(env, org)
    assert found == [expected]


FLOW = "org: {org}\nevent: job_faulted\nparams: {{job_name: j, process: p, error: e{extra}}}\nexpect: {{messages: 1}}\n"


def test_flow_rules(env):
    root = env(
        {
            "orgs/acme.yaml": "",
            "flows/a.yaml": FLOW.format(org="acmee", extra=", severity: error"),
            "flows/b.yaml": FLOW.format(org="acme", extra=", colour: red"),
            "flows/c.yaml": FLOW.format(org="acme", extra=", severity: loud"),
        }
    )
    found = [(p.file.rsplit("/", 1)[1], p.line, p.column, p.rule, p.message) for p in validate([str(root)]).problems]
    assert found[0][:4] == ("a.yaml", 1, 6, "F001") and "did you mean `acme`?" in found[0][4]
    assert [f[:4] for f in found[1:]] == [("b.yaml", 3, 9, "F002"), ("b.yaml", 3, 9, "F002"), ("c.yaml", 3, 9, "F002")]
    assert "severity must be one of" in found[3][4]


def test_flow_schema_checks_event_and_regex(env):
    root = env({"orgs/acme.yaml": "", "flows/x.yaml": "org: acme\nevent: job_exploded\nexpect: {subject: '(['}\n"})
    problems = validate([str(root)]).problems
    assert [(p.line, p.rule) for p in problems] == [(2, "S007"), (3, "S006")]
    assert problems[0].message == '`event`: "job_exploded" is not accepted, did you mean `job_completed`?'


def _rule_ids_asserted_in_tests() -> set[str]:
    """Rule ids quoted in the tests' code, outside CASES (whose entries count only with a case) and this check."""
    import ast
    import re

    found: set[str] = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            skipped = isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "CASES" for t in node.targets)
            skipped |= isinstance(node, ast.FunctionDef) and node.name in ("test_every_rule_has_a_case", "_rule_ids_asserted_in_tests")
            if not skipped:
                found |= set(re.findall(r"""["']([LSRFPDM]\d{3})["']""", ast.unparse(node)))
    return found


def test_every_rule_has_a_case():
    """Every rule, L-rules included, has a case here (a real one: None does not count) or is asserted in some test."""
    covered = {rule for rule, case in CASES.items() if case} | _rule_ids_asserted_in_tests()
    assert set(RULES) - covered == set()
    assert set(CHECKS) <= covered


def test_clean_org_files_produce_nothing(env):
    assert problems_for(env, "") == []
    assert problems_for(env, SMTP + "    username: u\n    password: {file: /run/secrets/p}\n    domain: CORP\n") == []


def test_host_rules_apply_to_host_file(env):
    host = (
        "email:\n  smtp: {host: h.example.com, port: 25}\n  from: {address: a@example.com}\nnotifications:\n  job_alerts: {enabled: true}\n"
    )
    found = problems_for(env, host=host)
    assert [(f[0], f[1], f[3]) for f in found] == [("host.yaml", 2, "R007"), ("host.yaml", 5, "R010")]


def test_recipients_inherited_from_host_satisfy_an_org(env):
    assert problems_for(env, "notifications:\n  job_alerts: {enabled: true}\n") == []
    found = problems_for(env, "notifications:\n  job_alerts: {recipients: []}\n")
    assert [(f[1], f[2], f[3]) for f in found] == [(2, 28, "R010")]


def test_host_requires_its_keys(env):
    found = problems_for(env, host="email:\n  smtp: {host: h.example.com}\n  from: {}\n")
    assert [(f[1], f[3], f[5]) for f in found] == [(2, "S002", "email.smtp"), (3, "S002", "email.from")]


def test_password_recovery_takes_no_recipients(env):
    found = problems_for(env, "notifications:\n  password_recovery:\n    recipients: [a@example.com]\n")
    assert [(f[1], f[2], f[3]) for f in found] == [(3, 5, "S001")]


def test_plaintext_secret_message_never_shows_the_value(env):
    root = env({"orgs/o.yaml": SMTP + "    username: u\n    password: S3cr3t-Value\n"})
    assert all("S3cr3t" not in p.message for p in validate([str(root)]).problems)
    root = env({"orgs/o.yaml": SMTP + "    username: u\n    password: {env: S3cr3t-Value}\n"}, name="e2")
    problems = validate([str(root)]).problems
    assert [p.rule for p in problems] == ["S006"] and all("S3cr3t" not in p.message for p in problems)


def test_yaml11_boolean_value_explained(env):
    root = env({"orgs/o.yaml": "email:\n  from:\n    display_name: off\n"})
    (problem,) = validate([str(root)]).problems
    assert problem.rule == "S003" and 'quote it: "off"' in problem.message


def test_yaml_date_value_explained(env):
    root = env({"orgs/o.yaml": "email:\n  from:\n    display_name: 2024-01-01\n"})
    (problem,) = validate([str(root)]).problems
    assert problem.rule == "S003" and "date" in problem.message and (problem.line, problem.column) == (3, 19)


def test_unknown_key_suggests_closest(env):
    root = env({"orgs/o.yaml": "notifications:\n  job_alert: {enabled: false}\n"})
    (problem,) = validate([str(root)]).problems
    assert "did you mean `job_alerts`?" in problem.message


def test_header_injection_in_username_and_secret_file(env):
    org = SMTP + '    username: "u\\nRCPT TO:<x@evil.example>"\n    password: {file: "a\\rb"}\n'
    found = problems_for(env, org)
    assert [(f[1], f[3]) for f in found] == [(5, "R002"), (6, "R002")]


def test_aliases_and_merge_keys_validate_as_expanded(env):
    org = "x-common: &c {enabled: true, recipients: [a@example.com]}\n"
    found = problems_for(env, org)
    assert [f[3] for f in found] == ["S001"]  # unknown top-level key, nothing else


PLATFORM = (
    "url: {url}\nclient_id: notifycfg\nclient_secret: {{env: PLATFORM_SECRET}}\n"
    "host_partition: 6f1c3a52-2d7e-4a38-9f1e-0b7f7c1d9e20\norgs:\n{orgs}"
)


def platform_problems(env, url: str = "https://id.example.com/identity_", orgs: str = "  o: 3fa85f64-5717-4562-b3fc-2c963f66afa6\n"):
    root = env({"orgs/o.yaml": "", "platform.yaml": PLATFORM.format(url=url, orgs=orgs)})
    return [(p.line, p.column, p.rule, p.severity, p.path) for p in validate([str(root)]).problems]


def test_platform_file_clean(env):
    assert platform_problems(env) == []
    assert platform_problems(env, url="http://127.0.0.1:8443/identity_") == []
    assert platform_problems(env, url="http://localhost/identity_") == []


def test_deliverability_rules(env):
    facts = "relays:\n  smtp.example.com:\n    sending_ips: [192.0.2.10, 300.1.2.3, '2001:db8::10']\ndomains:\n  example.com:\n    dkim_selectors: [s1]\n"
    root = env({"orgs/acme.yaml": "", "deliverability.yaml": facts})
    found = [(Path(p.file).name, p.line, p.column, p.rule, p.severity, p.path) for p in validate([str(root)]).problems]
    assert found == [("deliverability.yaml", 3, 31, "D001", "error", "relays.smtp.example.com.sending_ips[1]")]
    root = env({"orgs/acme.yaml": "", "deliverability.yaml": "relays:\n  h:\n    sending_ips: [1.2.3.4]\n    bogus: 1\n"}, name="b")
    assert [(p.line, p.rule) for p in validate([str(root)]).problems] == [(4, "S001")]


def test_unused_deliverability_entries_warn(env):
    facts = "relays:\n  smtp.example.com: {}\n  other.example: {}\ndomains:\n  example.com: {}\n  typo.example: {}\n"
    root = env({"orgs/acme.yaml": "", "deliverability.yaml": facts})
    found = [(p.line, p.rule, p.severity, p.path) for p in validate([str(root)]).problems]
    assert found == [(3, "D002", "warning", "relays.other.example"), (6, "D002", "warning", "domains.typo.example")]
    # a single file validated alone: the organizations are not known, so nothing is claimed unused
    assert validate([str(root / "deliverability.yaml")]).problems == ()


def test_platform_rules(env):
    assert platform_problems(env, url="http://id.example.com/identity_") == [(1, 6, "P001", "error", "url")]
    duplicate = "  o: 6F1C3A52-2d7e-4a38-9f1e-0b7f7c1d9e20\n"
    assert platform_problems(env, orgs=duplicate) == [(6, 6, "P002", "error", "orgs.o")]
    assert platform_problems(env, orgs="  other: 3fa85f64-5717-4562-b3fc-2c963f66afa6\n") == [
        (5, 1, "P003", "error", "orgs"),
        (6, 3, "P004", "warning", "orgs.other"),
    ]
    assert platform_problems(env, orgs="  o: not-a-guid\n") == [(6, 6, "S006", "error", "orgs.o")]


def test_platform_client_secret_is_a_reference(env):
    root = env(
        {
            "orgs/o.yaml": "",
            "platform.yaml": PLATFORM.format(url="https://x.example", orgs="  o: 3fa85f64-5717-4562-b3fc-2c963f66afa6\n").replace(
                "{env: PLATFORM_SECRET}", "s3cret-Pl4tform"
            ),
        }
    )
    problems = validate([str(root)]).problems
    assert [(p.line, p.rule) for p in problems] == [(3, "R003")] and "s3cret" not in problems[0].message
