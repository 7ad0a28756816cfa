"""`notifycfg doctor` against real servers on loopback: the harness in every TLS mode,
certificates made for the purpose, and servers that misbehave on purpose."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import trustme
import yaml
from conftest import cli
from doctor_servers import ca_file, certificate, early_auth_server, injecting_server, raw_server

from smtp_harness import Harness

PASSWORD = "Doct0r-S3cret-19ab"
NO_MAIL = "mail=550 5.7.1 doctor must never send MAIL"


def smtp_env(root: Path, smtp: dict, orgs: dict[str, dict] | None = None) -> Path:
    host = {"email": {"smtp": smtp, "from": {"address": "noreply@example.com"}}}
    (root / "orgs").mkdir(parents=True, exist_ok=True)
    (root / "host.yaml").write_text(yaml.safe_dump(host))
    for org, data in (orgs or {"acme": {}}).items():
        (root / "orgs" / f"{org}.yaml").write_text(yaml.safe_dump(data) if data else "")
    return root


def doctor(env: Path, *args: str, password: str | None = PASSWORD):
    environ = {k: v for k, v in os.environ.items() if k != "DOCTOR_PW"}
    if password is not None:
        environ["DOCTOR_PW"] = password
    return cli("doctor", str(env), "--only", "endpoints", "--timeout", "2", *args, env=environ)  # sender checks: test_senders.py


def checks(done) -> dict[str, dict]:
    """The one endpoint's checks by id, from --format json output."""
    (endpoint,) = json.loads(done.stdout)["endpoints"]
    return {c["id"]: c for c in endpoint["checks"]}


def codes(done) -> dict[str, tuple[str, str]]:
    """{id: (status, code)} of the one endpoint's checks."""
    return {i: (c["status"], c["code"]) for i, c in checks(done).items()}


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def certs(tmp_path, ca):
    def make(name: str = "localhost", **validity: int) -> dict[str, str]:
        certfile, keyfile = certificate(tmp_path, ca, name, **validity)
        return {"certfile": certfile, "keyfile": keyfile}

    return make


def _starttls_env(tmp_path: Path, h: Harness, **extra: object) -> Path:
    smtp = {"host": "localhost", "port": h.port, "secure": True, "username": "svc", "password": {"env": "DOCTOR_PW"}, **extra}
    return smtp_env(tmp_path / "env", smtp)


def test_clean_report_for_every_tls_mode_and_no_mail_sent(tmp_path, ca, certs):
    needs_root_for_465()
    cafile = ca_file(tmp_path, ca)
    with (
        Harness(tls="starttls", users={"svc": PASSWORD}, faults=[NO_MAIL], **certs()) as starttls,
        Harness(tls="off", faults=[NO_MAIL]) as plain,
        Harness(
            host="127.0.0.71", port=465, tls="implicit", users={"CORP\\svc2": PASSWORD}, faults=[NO_MAIL], **certs("127.0.0.71")
        ) as implicit,
    ):
        env = smtp_env(
            tmp_path / "env",
            {"host": "localhost", "port": starttls.port, "username": "svc", "password": {"env": "DOCTOR_PW"}},
            {
                "acme": {},
                "globex": {"email": {"from": {"address": "it@globex.example"}}},
                "lab": {"email": {"smtp": {"host": "localhost", "port": plain.port, "secure": False, "anonymous": True}}},
                "initech": {
                    "email": {
                        "smtp": {"host": "127.0.0.71", "port": 465, "domain": "CORP", "username": "svc2", "password": {"env": "DOCTOR_PW"}}
                    }
                },
            },
        )
        done = doctor(env, "--login", "--cafile", cafile)
        as_json = json.loads(doctor(env, "--login", "--cafile", cafile, "--format", "json").stdout)
        faults = [starttls.faults[0], plain.faults[0], implicit.faults[0]]
        captured = [len(h.messages()) for h in (starttls, plain, implicit)]
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert f"acme: localhost:{starttls.port} (STARTTLS): ok" in lines
    assert f"globex: localhost:{starttls.port} (STARTTLS): ok" in lines
    assert f"lab: localhost:{plain.port} (plain): ok" in lines
    assert "initech: 127.0.0.71:465 (implicit TLS): ok" in lines
    assert f"localhost:{starttls.port} (STARTTLS), used by acme, globex" in lines  # probed once for both
    auth = sorted((c["code"], c["facts"].get("login")) for e in as_json["endpoints"] for c in e["checks"] if c["id"] == "auth")
    assert auth == [("auth.anonymous", None), ("auth.ok", "CORP\\svc2"), ("auth.ok", "svc")]
    assert "doctor: ok: 3 endpoint(s), 0 error(s), 0 warning(s)" in done.stdout
    assert [f.hits for f in faults] == [0, 0, 0] and captured == [0, 0, 0]  # not one MAIL command
    assert PASSWORD not in done.stdout + done.stderr


def needs_root_for_465() -> None:
    if os.geteuid() != 0:
        pytest.fail("these tests bind port 465 on a loopback address: run them as root (CI does)")


@pytest.mark.parametrize(
    ("validity", "name", "tls", "facts", "code"),
    [
        ({"days": -2, "starts_in_days": -30}, "localhost", ("error", "tls.expired"), {"host": "localhost"}, 1),
        ({"days": 60, "starts_in_days": 5}, "localhost", ("error", "tls.not_yet_valid"), {"host": "localhost"}, 1),
        ({"days": 10}, "localhost", ("warning", "tls.expiring"), {"host": "localhost", "days": 9}, 0),
        ({}, "other.example", ("error", "tls.name_mismatch"), {"host": "localhost"}, 1),
    ],
    ids=["expired", "not-yet-valid", "expiring-soon", "wrong-name"],
)
def test_certificate_faults(tmp_path, ca, certs, validity, name, tls, facts, code):
    with Harness(tls="starttls", users={"svc": PASSWORD}, **certs(name, **validity)) as h:
        done = doctor(_starttls_env(tmp_path, h), "--cafile", ca_file(tmp_path, ca), "--format", "json")
    assert done.returncode == code, done.stdout
    found = checks(done)
    assert (found["tls"]["status"], found["tls"]["code"]) == tls
    assert facts.items() <= found["tls"]["facts"].items()
    if code == 0:  # a warning: fine unless --strict
        with Harness(tls="starttls", users={"svc": PASSWORD}, **certs(name, **validity)) as h:
            assert doctor(_starttls_env(tmp_path / "again", h), "--cafile", ca_file(tmp_path, ca), "--strict").returncode == 1
    else:
        assert codes(done)["auth"] == ("skipped", "auth.skipped")


def test_untrusted_ca(tmp_path, certs):
    with Harness(tls="starttls", users={"svc": PASSWORD}, **certs()) as h:
        done = doctor(_starttls_env(tmp_path, h), "--format", "json")  # system CAs only
    assert done.returncode == 1 and codes(done)["tls"] == ("error", "tls.untrusted")


def test_closed_port_names_the_open_one(tmp_path, ca, certs):
    needs_root_for_465()
    with Harness(host="127.0.0.72", port=465, tls="implicit", **certs("127.0.0.72")):
        env = smtp_env(tmp_path / "env", {"host": "127.0.0.72", "port": 587, "secure": True, "anonymous": False})
        done = doctor(env, "--cafile", ca_file(tmp_path, ca), "--format", "json")
    assert done.returncode == 1
    tcp = checks(done)["tcp"]
    assert (tcp["status"], tcp["code"], tcp["facts"]["port"], tcp["facts"]["open"]) == ("error", "tcp.closed", 587, [465])
    assert codes(done)["greeting"] == ("skipped", "greeting.skipped")


@pytest.mark.parametrize(
    ("behaviour", "error"),
    [
        ("silent", "no complete reply within 0.5 s"),
        ("endless", "a reply of more than 64 lines: not a well-behaved SMTP server"),
        ("garbage", "not an SMTP reply: 'HTTP/1.1 400 Bad Request'"),
    ],
)
def test_servers_that_misbehave_are_reported_not_waited_on(tmp_path, behaviour, error):
    with raw_server(behaviour) as port:
        env = smtp_env(tmp_path / "env", {"host": "127.0.0.1", "port": port, "secure": False})
        done = cli("doctor", str(env), "--only", "endpoints", "--timeout", "0.5", "--format", "json")
    assert done.returncode == 1, done.stdout
    greeting = checks(done)["greeting"]
    assert (greeting["status"], greeting["code"], greeting["facts"]["error"]) == ("error", "greeting.none", error)


def test_secure_settings_against_a_server_without_starttls(tmp_path):
    with Harness(tls="off") as h:
        done = doctor(smtp_env(tmp_path / "env", {"host": "localhost", "port": h.port}), "--format", "json")
    assert done.returncode == 1 and codes(done)["tls"] == ("error", "tls.not_offered")


def test_plain_settings_against_a_server_offering_tls(tmp_path):
    with Harness(tls="starttls") as h:
        done = doctor(smtp_env(tmp_path / "env", {"host": "localhost", "port": h.port, "secure": False}), "--format", "json")
    assert done.returncode == 0 and codes(done)["tls"] == ("warning", "tls.offered_unused")
    with Harness(tls="starttls") as h:
        assert doctor(smtp_env(tmp_path / "again", {"host": "localhost", "port": h.port, "secure": False}), "--strict").returncode == 1


def test_auth_offered_before_tls_is_flagged(tmp_path, ca, certs):
    import ssl

    files = certs()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files["certfile"], files["keyfile"])
    with early_auth_server(context) as port:
        env = smtp_env(tmp_path / "env", {"host": "localhost", "port": port, "username": "svc", "password": {"env": "DOCTOR_PW"}})
        done = doctor(env, "--cafile", ca_file(tmp_path, ca), "--login", "--format", "json", password="right")
    assert done.returncode == 0, done.stdout
    auth = checks(done)["auth"]
    assert (auth["status"], auth["code"], auth["facts"]) == ("warning", "auth.ok", {"login": "svc", "mechanism": "PLAIN", "early": True})


def test_wrong_password_and_missing_secret_with_login(tmp_path):
    with Harness(tls="starttls", users={"svc": PASSWORD}, faults=[NO_MAIL]) as h:
        env = _starttls_env(tmp_path, h)
        wrong = doctor(env, "--login", "--cafile", str(h.ca_path), "--format", "json", password="not-it-2f1c")
        missing = doctor(env, "--login", "--cafile", str(h.ca_path), "--format", "json", password=None)
        without_login = doctor(env, "--cafile", str(h.ca_path), "--format", "json", password=None)
        hits = h.faults[0].hits
    refused = checks(wrong)["auth"]
    assert wrong.returncode == 1 and (refused["code"], refused["facts"]["reply_code"]) == ("auth.refused", 535)
    assert "not-it-2f1c" not in wrong.stdout + wrong.stderr
    secret = checks(missing)["auth"]
    assert missing.returncode == 1 and secret["code"] == "auth.secret" and "DOCTOR_PW is not set" in secret["facts"]["error"]
    offered = checks(without_login)["auth"]  # not resolved without --login (DOCTOR_PW is unset)
    assert without_login.returncode == 0 and (offered["code"], offered["facts"]["mechanisms"]) == ("auth.offered", ["PLAIN", "LOGIN"])
    assert hits == 0


def test_unresolvable_host(tmp_path):
    from dns_server import DnsServer, Zone

    env = smtp_env(tmp_path / "env", {"host": "mail.invalid", "port": 587})
    with DnsServer(Zone()) as server:  # the tests' own DNS server: the system's resolvers are never asked
        done = doctor(env, "--dns-server", server.option, "--format", "json")
    dns = checks(done)["dns"]
    assert done.returncode == 1 and (dns["code"], dns["facts"]["failure"], dns["facts"]["host"]) == (
        "dns.unresolvable",
        "NXDOMAIN",
        "mail.invalid",
    )


def test_the_endpoint_is_resolved_through_dns_server_and_connected_to_by_address(tmp_path):
    from dns_server import DnsServer, Zone

    with Harness(tls="off", faults=[NO_MAIL]) as plain, DnsServer(Zone().add("relay.test.example", "A", "127.0.0.1")) as server:
        smtp = {"host": "relay.test.example", "port": plain.port, "secure": False, "anonymous": True}
        env = smtp_env(tmp_path / "env", smtp)
        done = doctor(env, "--dns-server", server.option, "--format", "json")
    assert done.returncode == 0, done.stdout
    dns = checks(done)["dns"]
    assert (dns["code"], dns["facts"]["addresses"]) == ("dns.resolved", ["127.0.0.1"])
    assert server.zone.questions[("relay.test.example", "A")] == 1


def test_json_and_junit(tmp_path):
    with Harness(tls="starttls", users={"svc": PASSWORD}) as h:
        env = _starttls_env(tmp_path, h)
        as_json = json.loads(doctor(env, "--cafile", str(h.ca_path), "--format", "json").stdout)
        junit = doctor(env, "--format", "junit").stdout  # untrusted: tls fails, auth skipped
    (endpoint,) = as_json["endpoints"]
    assert as_json["ok"] is True and as_json["orgs"]["acme"] == {
        "endpoint": f"localhost:{h.port} (STARTTLS)",
        "verdict": "ok",
        "sender": None,  # --only endpoints
        "sender_verdict": None,
    }
    assert [c["id"] for c in endpoint["checks"]] == ["dns", "tcp", "greeting", "ehlo", "tls", "revocation", "auth"]
    suite = ET.fromstring(junit).find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == ["dns", "tcp", "greeting", "ehlo", "tls", "revocation", "auth"]
    assert suite.get("failures") == "1" and suite.get("skipped") == "2"  # no TLS: no certificate, no login
    assert cases["tls"].find("failure") is not None
    assert cases["revocation"].find("skipped") is not None and cases["auth"].find("skipped") is not None


def test_usage_errors(tmp_path):
    env = smtp_env(tmp_path / "env", {"host": "localhost", "port": 1})
    assert cli("doctor", str(env), "--org", "nobody").returncode == 2
    assert cli("doctor", str(tmp_path / "missing")).returncode == 2
    (env / "orgs" / "bad.yaml").write_text("email: {smtp: {port: 0}}\n")
    assert cli("doctor", str(env)).returncode == 2


def test_tls_older_than_1_2_is_an_error(tmp_path, ca, certs):
    from doctor_servers import old_tls_server

    needs_root_for_465()
    files = certs("127.0.0.73")
    with old_tls_server("127.0.0.73", 465, files["certfile"], files["keyfile"]):
        env = smtp_env(tmp_path / "env", {"host": "127.0.0.73", "port": 465, "anonymous": False})
        done = doctor(env, "--cafile", ca_file(tmp_path, ca), "--format", "json")
    assert done.returncode == 1
    assert codes(done)["tls"] == ("error", "tls.old_protocol"), done.stdout


def test_starttls_response_injection_is_refused_not_believed(tmp_path, ca, certs):
    """The forged `235` sent before the handshake must never be read as the answer to the encrypted AUTH."""
    files = certs()
    with injecting_server(files["certfile"], files["keyfile"]) as (port, received):
        env = smtp_env(tmp_path / "env", {"host": "localhost", "port": port, "username": "svc", "password": {"env": "DOCTOR_PW"}})
        done = doctor(env, "--login", "--cafile", ca_file(tmp_path, ca), "--format", "json", password="wrong-pw-77a1")
    assert done.returncode == 1, done.stdout
    tls = checks(done)["tls"]
    assert (tls["code"], tls["facts"]["when"]) == ("tls.injection", "after_starttls") and tls["facts"]["bytes"] > 0
    assert codes(done)["auth"] == ("skipped", "auth.skipped")
    assert not any(line.upper().startswith(b"AUTH") for line in received)  # the password never left
    assert "wrong-pw-77a1" not in done.stdout + done.stderr


def test_the_same_login_passes_against_a_well_behaved_server(tmp_path):
    with Harness(tls="starttls", users={"svc": PASSWORD}, faults=[NO_MAIL]) as h:
        done = doctor(_starttls_env(tmp_path, h), "--login", "--cafile", str(h.ca_path), "--format", "json")
    assert done.returncode == 0 and codes(done)["auth"] == ("ok", "auth.ok"), done.stdout


# --- revocation: can the platform check the relay certificate's revocation (the seed's port 80)? -------


def _revocation(tmp_path: Path, ca, leaf: dict, *args: str) -> dict:  # leaf: Harness keyword arguments
    with Harness(tls="starttls", faults=[NO_MAIL], **leaf) as h:
        env = smtp_env(tmp_path / "env", {"host": "localhost", "port": h.port, "anonymous": True})
        done = doctor(env, "--cafile", ca.cafile, "--format", "json", *args)
    (endpoint,) = json.loads(done.stdout)["endpoints"]
    checks = {c["id"]: c for c in endpoint["checks"]}
    assert list(checks) == ["dns", "tcp", "greeting", "ehlo", "tls", "revocation", "auth"]
    assert checks["tls"]["status"] == "ok", checks["tls"]
    return checks["revocation"]


@pytest.fixture
def authority(tmp_path):
    from revocation_servers import Authority

    with Authority(tmp_path) as running:
        yield running


def test_revocation_good_crl_and_ocsp(tmp_path, authority):
    leaf = authority.issue("localhost", crl=f"{authority.url}/ca.crl", ocsp_url=f"{authority.url}/ocsp")
    check = _revocation(tmp_path, authority, leaf)
    assert check["status"] == "ok", check
    outcomes = [(o["code"], o["url"]) for o in check["facts"]["outcomes"]]
    assert outcomes == [("revocation.crl_good", f"{authority.url}/ca.crl"), ("revocation.ocsp_good", f"{authority.url}/ocsp")]
    assert authority.fetches == {"crl": 1, "ocsp": 1}


def test_revocation_fetches_each_url_once_for_every_endpoint(tmp_path, authority):
    urls = {"crl": f"{authority.url}/ca.crl", "ocsp_url": f"{authority.url}/ocsp"}
    first, second = authority.issue("localhost", **urls), authority.issue("localhost", **urls)
    with Harness(tls="starttls", faults=[NO_MAIL], **first) as a, Harness(tls="starttls", faults=[NO_MAIL], **second) as b:
        env = smtp_env(
            tmp_path / "env",
            {"host": "localhost", "port": a.port, "anonymous": True},
            {"acme": {}, "globex": {"email": {"smtp": {"host": "localhost", "port": b.port, "anonymous": True}}}},
        )
        done = doctor(env, "--cafile", authority.cafile, "--format", "json")
    assert done.returncode == 0, done.stdout
    assert authority.fetches == {"crl": 1, "ocsp": 2}  # one CRL fetch per run; one OCSP request per certificate


def test_revocation_a_crl_over_10_mib_is_not_read(tmp_path, authority):
    leaf = authority.issue("localhost", crl=f"{authority.url}/ca.crl")
    authority.crl_oversized = True
    check = _revocation(tmp_path, authority, leaf)
    assert (check["status"], check["code"]) == ("error", "revocation.too_large")


def test_revocation_a_web_page_instead_of_a_crl(tmp_path, authority):
    leaf = authority.issue("localhost", crl=f"{authority.url}/ca.crl")
    authority.crl_garbage = True
    check = _revocation(tmp_path, authority, leaf)
    assert (check["status"], check["code"]) == ("error", "revocation.not_crl")


def test_revocation_revoked_in_the_crl(tmp_path, authority):
    leaf = authority.issue("localhost", crl=f"{authority.url}/ca.crl")
    authority.revoked.add(authority.last_serial)
    check = _revocation(tmp_path, authority, leaf)
    (outcome,) = check["facts"]["outcomes"]
    assert (check["status"], check["code"], outcome["url"]) == ("error", "revocation.revoked_crl", f"{authority.url}/ca.crl")
    assert outcome["serial"] == f"{authority.last_serial:x}"


def test_revocation_revoked_by_ocsp_and_unknown(tmp_path, authority):
    from cryptography.x509 import ocsp

    leaf = authority.issue("localhost", ocsp_url=f"{authority.url}/ocsp")
    authority.ocsp_status[authority.last_serial] = ocsp.OCSPCertStatus.REVOKED
    check = _revocation(tmp_path, authority, leaf)
    assert (check["status"], check["code"], check["facts"]["outcomes"][0]["url"]) == (
        "error",
        "revocation.revoked_ocsp",
        f"{authority.url}/ocsp",
    )
    authority.ocsp_status[authority.last_serial] = ocsp.OCSPCertStatus.UNKNOWN
    check = _revocation(tmp_path, authority, leaf)
    assert (check["status"], check["code"]) == ("warning", "revocation.ocsp_unknown")


def test_revocation_crl_on_a_closed_port_names_it_and_why_it_matters(tmp_path, authority):
    from support import closed_port

    with closed_port() as port:
        leaf = authority.issue("localhost", crl=f"http://127.0.0.1:{port}/ca.crl")
        check = _revocation(tmp_path, authority, leaf)
    (outcome,) = check["facts"]["outcomes"]
    assert (check["status"], check["code"], outcome["where"]) == ("error", "revocation.unreachable", f"127.0.0.1:{port}")
    assert "asks for port 80" in check["message"]  # why it matters: the words say so


def test_revocation_stale_crl_missing_issuer_and_no_urls(tmp_path, authority, ca, certs):
    import datetime

    leaf = authority.issue("localhost", crl=f"{authority.url}/ca.crl")
    authority.crl_next_update = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    check = _revocation(tmp_path, authority, leaf)
    assert (check["status"], check["code"]) == ("warning", "revocation.crl_stale")
    with Harness(tls="starttls", faults=[NO_MAIL], **certs()) as h:  # trustme: no revocation URL at all
        env = smtp_env(tmp_path / "env3", {"host": "localhost", "port": h.port, "anonymous": True})
        done = doctor(env, "--cafile", ca_file(tmp_path, ca), "--format", "json")
    assert codes(done)["revocation"] == ("ok", "revocation.no_urls")


def test_revocation_without_the_issuer_warns_and_still_checks_reachability(tmp_path, authority, ca):
    import asyncio

    from notifycfg.doctor.endpoints.revocation import Revocations

    leaf = authority.issue("localhost", crl=f"{authority.url}/ca.crl")
    der = Path(leaf["certfile"]).read_bytes()
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    chain = [x509.load_pem_x509_certificate(der).public_bytes(serialization.Encoding.DER)]

    async def check():
        async with Revocations(2, ca_file(tmp_path, ca, "other.pem")) as revocations:  # a store without the issuer
            return await revocations.check(chain)

    found = asyncio.run(check())
    assert (found.status, found.code) == ("warning", "revocation.issuer_unknown")
    outcomes = [(o["code"], o.get("url")) for o in found.facts["outcomes"]]
    assert outcomes == [("revocation.issuer_unknown", None), ("revocation.crl_good", f"{authority.url}/ca.crl")]
    assert authority.fetches["crl"] == 1


@pytest.mark.e2e
@pytest.mark.parametrize(("coding", "code"), [("gzip, gzip", "revocation.bad_coding"), ("gzip", "revocation.too_large")])
def test_a_crl_bomb_costs_doctor_at_most_the_cap(tmp_path, authority, coding, code):
    """Anyone on the path of a plain-http CRL can send a bomb: 10 KiB of stacked gzip used to take doctor to
    2 GiB and lose every result. As a real process: the cause named, exit 1, the memory near the cap."""
    from platform_hostile import gzip_bomb, stacked_bomb
    from support.process import measured

    authority.crl_encoded = (stacked_bomb() if coding == "gzip, gzip" else gzip_bomb(), coding)
    leaf = authority.issue("localhost", crl=f"{authority.url}/ca.crl")
    with Harness(tls="starttls", faults=[NO_MAIL], **leaf) as h:
        env = smtp_env(tmp_path / "env", {"host": "localhost", "port": h.port, "anonymous": True})
        run = measured("doctor", str(env), "--only", "endpoints", "--timeout", "5", "--cafile", authority.cafile, "--format", "json")
    assert run.code == 1, run.err
    (endpoint,) = json.loads(run.out)["endpoints"]
    (revocation,) = [c for c in endpoint["checks"] if c["id"] == "revocation"]
    assert (revocation["status"], revocation["code"]) == ("error", code)
    assert run.peak_kib < 300 * 1024, run.peak_kib
    print(f"{coding}: peak {run.peak_kib / 1024:.0f} MiB")


def test_revocation_urls_are_resolved_through_dns_server(tmp_path, authority):
    """A CRL (and OCSP) host only the given DNS server knows: asked there, fetched by address (the Host
    header kept); the system's resolvers are never asked (they would not know it: 'cannot be reached')."""
    from dns_server import DnsServer, Zone

    port = authority.url.rsplit(":", 1)[1]
    leaf = authority.issue(
        "localhost", crl=f"http://crl.revocation.test:{port}/ca.crl", ocsp_url=f"http://ocsp.revocation.test:{port}/ocsp"
    )
    zone = (
        Zone().add("localhost", "A", "127.0.0.1").add("crl.revocation.test", "A", "127.0.0.1").add("ocsp.revocation.test", "A", "127.0.0.1")
    )
    with DnsServer(zone) as server, Harness(tls="starttls", faults=[NO_MAIL], **leaf) as h:
        env = smtp_env(tmp_path / "env", {"host": "localhost", "port": h.port, "anonymous": True})
        done = doctor(env, "--cafile", authority.cafile, "--dns-server", server.option, "--format", "json")
    assert done.returncode == 0, done.stdout
    revocation = checks(done)["revocation"]
    assert [o["code"] for o in revocation["facts"]["outcomes"]] == ["revocation.crl_good", "revocation.ocsp_good"]
    assert zone.questions[("crl.revocation.test", "A")] >= 1 and zone.questions[("ocsp.revocation.test", "A")] >= 1
    assert authority.fetches == {"crl": 1, "ocsp": 1}


# --- the platform's timeout: how long the server's answers take against email.smtp.timeout_ms ----------


@pytest.mark.parametrize("stage", ["ehlo", "auth"])
def test_an_answer_slower_than_an_organizations_timeout_is_found_with_its_time(tmp_path, stage):
    """The harness delays its EHLO (or AUTH) answer by a second: against the organizations sharing that
    server, 900 ms is exceeded (error), 1900 ms is more than half used (warning), 300000 ms is fine (shown,
    since it was set), and the platform's default (180000 ms, not set) says nothing."""
    with Harness(tls="starttls", users={"svc": PASSWORD}, faults=[NO_MAIL, f"{stage}=delay:1.0"]) as h:
        smtp = {"host": "localhost", "port": h.port, "secure": True, "username": "svc", "password": {"env": "DOCTOR_PW"}}
        orgs = {name: {"email": {"smtp": {**smtp, "timeout_ms": ms}}} for name, ms in (("tight", 900), ("half", 1900), ("roomy", 300000))}
        env = smtp_env(tmp_path / "env", smtp, {**orgs, "plain": {}})
        done = doctor(env, "--login", "--cafile", str(h.ca_path), "--timeout", "5", "--format", "json")
        text = doctor(env, "--login", "--cafile", str(h.ca_path), "--timeout", "5")
    assert done.returncode == 1, done.stdout
    (endpoint,) = json.loads(done.stdout)["endpoints"]
    timing = {tuple(c["facts"]["orgs"]): c for c in endpoint["checks"] if c["id"] == "timeout"}
    assert sorted(timing) == [("half",), ("roomy",), ("tight",)]  # "plain" has the default, and nothing to say
    assert {orgs: c["code"] for orgs, c in timing.items()} == {
        ("tight",): "timeout.over",
        ("half",): "timeout.slow",
        ("roomy",): "timeout.ok",
    }
    for check in timing.values():
        assert check["facts"]["step"] == stage and check["facts"]["ms"] >= 1000 and check["facts"]["answers"][stage] >= 1000
    over = timing[("tight",)]
    assert f"the {'EHLO' if stage == 'ehlo' else 'AUTH'} answer took {over['facts']['ms']} ms: more than the 900 ms" in over["message"]
    assert "tight (timeout_ms)" in over["message"]
    assert "ms: more than the 900 ms the platform waits for tight (timeout_ms), so the platform gives up" in text.stdout
    verdicts = {org: o["verdict"] for org, o in json.loads(done.stdout)["orgs"].items()}
    assert verdicts == {"tight": "error", "half": "warning", "roomy": "ok", "plain": "ok"}
    assert PASSWORD not in done.stdout + text.stdout + done.stderr + text.stderr
