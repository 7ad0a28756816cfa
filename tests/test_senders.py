"""doctor's sender checks against a real DNS server on loopback (tests/dns_server.py): one organization per
case, each told apart by its message, with exit 0 or 1 as docs/doctor.md says. Every run passes --dns-server:
no test asks the system's resolvers."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml
from conftest import cli, write_env
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dns_server import DnsServer, Zone
from support.shared import once

IP, NO_PTR_IP = "192.0.2.10", "192.0.2.20"
PASS = f"v=spf1 ip4:{IP} ip4:{NO_PTR_IP} -all"


def dkim_key(bits: int) -> str:
    """A DKIM record's p= value: a SubjectPublicKeyInfo of `bits` bits (made from numbers: no private key is needed)."""
    n = (1 << (bits - 1)) | 0xF00D_BEEF_0001
    key = rsa.RSAPublicNumbers(65537, n).public_key()
    return base64.b64encode(key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()


def good(zone: Zone, domain: str, spf: str = PASS, dmarc: str | None = "v=DMARC1; p=reject") -> None:
    zone.txt(domain, spf).add(domain, "MX", f"10 mx.{domain}")
    if dmarc:
        zone.txt(f"_dmarc.{domain}", dmarc)


class Contains(str):
    """An expected fact that holds this text (pyspf's own explanations are its words, not ours)."""


def fact(value: object, path: str) -> object:
    """`results.0.explanation` in a check's facts."""
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]  # type: ignore[index]
    return value


# case -> (From domain, relay, checks expected {id: (status, code, facts expected)}, exit code alone)
Expected = dict[str, tuple[str, str, dict[str, object]]]
CASES: dict[str, tuple[str, str, Expected, int]] = {
    "good": (
        "good.example",
        IP,
        {
            "spf": ("ok", "spf.pass", {"results": [{"ip": IP, "result": "pass", "explanation": Contains("")}], "source": "declared"}),
            "dmarc": ("ok", "dmarc.met", {"tag": "p", "policy": "reject", "found_at": None, "by": "spf"}),
            "dkim": ("ok", "dkim.rsa", {"selectors.0.bits": 2048, "selectors.0.selector": "s1"}),
            "mx": ("ok", "mx.found", {"exchanges": ["mx.good.example"]}),
            "ptr": ("ok", "ptr.confirmed", {"addresses": [IP]}),
        },
        0,
    ),
    "spf-fail": (
        "fail.example",
        IP,
        {"spf": ("error", "spf.fail", {"results.0.result": "fail"}), "dmarc": ("error", "dmarc.unmet", {"policy": "reject"})},
        1,
    ),
    "softfail": ("soft.example", IP, {"spf": ("warning", "spf.softfail", {"results.0.ip": IP})}, 0),
    "lookups": ("many.example", IP, {"spf": ("error", "spf.permerror", {"results.0.explanation": Contains("Too many DNS lookups")})}, 1),
    "voids": ("voids.example", IP, {"spf": ("error", "spf.permerror", {"results.0.explanation": Contains("Void lookup limit of 2")})}, 1),
    "two-spf": ("two.example", IP, {"spf": ("error", "spf.permerror", {"results.0.explanation": Contains("Two or more type TXT spf")})}, 1),
    "no-spf": ("nospf.example", IP, {"spf": ("error", "spf.none", {"domain": "nospf.example"})}, 1),
    "no-dmarc": ("nodmarc.example", IP, {"dmarc": ("warning", "dmarc.none", {"domain": "nodmarc.example"})}, 0),
    "org-dmarc": (
        "mail.orgdomain.example",
        IP,
        {"dmarc": ("ok", "dmarc.met", {"tag": "sp", "policy": "quarantine", "found_at": "orgdomain.example", "aspf": "s", "psd": False})},
        0,
    ),
    "bad-dmarc": ("baddmarc.example", IP, {"dmarc": ("error", "dmarc.bad_policy", {"tag": "p", "value": "bogus"})}, 1),
    "weak-dkim": ("weak.example", IP, {"dkim": ("error", "dkim.weak", {"selectors.0.bits": 512, "selectors.0.minimum": 1024})}, 1),
    "revoked-dkim": ("revoked.example", IP, {"dkim": ("error", "dkim.revoked", {"selectors.0.name": "s1._domainkey.revoked.example"})}, 1),
    "missing-selector": ("nosel.example", IP, {"dkim": ("error", "dkim.missing", {"selectors.0.name": "s1._domainkey.nosel.example"})}, 1),
    "no-selectors": ("noselectors.example", IP, {"dkim": ("skipped", "dkim.no_selectors", {"domain": "noselectors.example"})}, 0),
    "null-mx": ("nullmx.example", IP, {"mx": ("error", "mx.null", {"domain": "nullmx.example"})}, 1),
    "no-mx": ("nomx.example", IP, {"mx": ("warning", "mx.none", {"domain": "nomx.example"})}, 0),
    "implicit-mx": ("implicit.example", IP, {"mx": ("ok", "mx.implicit", {"addresses": ["192.0.2.99"]})}, 0),
    "no-ptr": ("noptr.example", NO_PTR_IP, {"ptr": ("warning", "ptr.unconfirmed", {"unconfirmed": [{"ip": NO_PTR_IP, "names": []}]})}, 0),
    "timeout": (
        "slow.example",
        IP,
        {
            "spf": ("error", "spf.temperror", {"results.0.explanation": Contains("timed out")}),
            "mx": ("error", "mx.dns_failure", {"failure": "timed out", "rdtype": "MX", "name": "slow.example"}),
        },
        1,
    ),
    "servfail": ("broken.example", IP, {"mx": ("error", "mx.dns_failure", {"failure": "SERVFAIL", "name": "broken.example"})}, 1),
    "refused": ("refusing.example", IP, {"mx": ("error", "mx.dns_failure", {"failure": "REFUSED", "name": "refusing.example"})}, 1),
    "resolved-relay": ("resolved.example", "relay.resolved.example", {"spf": ("warning", "spf.pass", {"source": "resolved"})}, 0),
    "relay-nowhere": (
        "nowhere.example",
        "relay.nowhere.example",
        {"spf": ("error", "spf.no_address", {"relay": "relay.nowhere.example"}), "ptr": ("skipped", "ptr.no_address", {})},
        1,
    ),
    "relay-timeout": (  # the relay's own addresses cannot be had: spf and ptr both say so, neither is skipped
        "relaytimeout.example",
        "relay.dropped.example",
        {
            "spf": ("error", "spf.relay_dns_failure", {"failure": "timed out", "name": "relay.dropped.example"}),
            "ptr": ("error", "ptr.relay_dns_failure", {"failure": "timed out", "name": "relay.dropped.example"}),
        },
        1,
    ),
    "neutral": ("neutral.example", IP, {"spf": ("warning", "spf.neutral", {"results.0.result": "neutral"})}, 0),
    "spf-syntax": ("syntax.example", IP, {"spf": ("error", "spf.permerror", {"results.0.ip": IP})}, 1),
    "quarantined": ("quarantine.example", IP, {"dmarc": ("error", "dmarc.unmet", {"policy": "quarantine"})}, 1),
    "ptr-mismatch": (
        "mismatch.example",
        "192.0.2.30",
        {"ptr": ("warning", "ptr.unconfirmed", {"unconfirmed": [{"ip": "192.0.2.30", "names": ["relay.elsewhere.example"]}]})},
        0,
    ),
    "psd-dmarc": (
        "mail.org.psd.example",
        IP,
        {"dmarc": ("ok", "dmarc.met", {"policy": "reject", "found_at": "psd.example", "psd": True})},
        0,
    ),
}


def zone() -> Zone:
    z = Zone()
    z.add("10.2.0.192.in-addr.arpa", "PTR", "relay.good.example.").add("relay.good.example", "A", IP)
    for domain in ("good.example", "noselectors.example", "noptr.example"):
        good(z, domain)
    z.txt("s1._domainkey.good.example", f"v=DKIM1; k=rsa; p={dkim_key(2048)}")
    good(z, "fail.example", spf="v=spf1 ip4:198.51.100.1 -all")
    good(z, "soft.example", spf="v=spf1 ~all", dmarc="v=DMARC1; p=none")
    good(z, "many.example", spf="v=spf1 " + " ".join(f"include:l{i}.many.example" for i in range(11)) + " -all")
    for i in range(11):
        z.txt(f"l{i}.many.example", "v=spf1 -all")
    good(z, "voids.example", spf="v=spf1 a:v1.voids.example a:v2.voids.example a:v3.voids.example -all")
    z.txt("two.example", PASS, "v=spf1 -all").add("two.example", "MX", "10 mx.two.example")
    z.add("nospf.example", "MX", "10 mx.nospf.example")
    good(z, "nodmarc.example", dmarc=None)
    good(z, "mail.orgdomain.example", dmarc=None)
    z.txt("_dmarc.orgdomain.example", "v=DMARC1; p=reject; sp=quarantine; aspf=s")
    good(z, "baddmarc.example", dmarc="v=DMARC1; p=bogus")
    good(z, "weak.example")
    z.txt("s1._domainkey.weak.example", f"v=DKIM1; p={dkim_key(512)}")
    good(z, "revoked.example")
    z.txt("s1._domainkey.revoked.example", "v=DKIM1; p=")
    good(z, "nosel.example")
    good(z, "nullmx.example")
    z.records[("nullmx.example", "MX")] = ["0 ."]
    z.txt("nomx.example", PASS)
    z.txt("implicit.example", PASS).add("implicit.example", "A", "192.0.2.99")
    good(z, "broken.example")
    z.servfail.add("broken.example")
    good(z, "refusing.example")
    z.refused.add("refusing.example")
    good(z, "relaytimeout.example")
    z.dropped.add("relay.dropped.example")
    z.dropped.add("slow.example")
    good(z, "resolved.example", spf="v=spf1 a:relay.resolved.example -all")
    z.add("relay.resolved.example", "A", IP)
    good(z, "nowhere.example")
    good(z, "neutral.example", spf="v=spf1 ?all", dmarc="v=DMARC1; p=none")
    good(z, "syntax.example", spf="v=spf1 ip4:192.0.2.10/33 -all")
    good(z, "quarantine.example", spf="v=spf1 -all", dmarc="v=DMARC1; p=quarantine")
    good(z, "mismatch.example", spf="v=spf1 ip4:192.0.2.30 -all")
    z.add("30.2.0.192.in-addr.arpa", "PTR", "relay.elsewhere.example.").add("relay.elsewhere.example", "A", "192.0.2.31")
    good(z, "mail.org.psd.example", dmarc=None)
    z.txt("_dmarc.psd.example", "v=DMARC1; p=reject; psd=y")
    return z


def environment(root: Path) -> Path:
    orgs: dict[str, str | bytes] = {}
    for case, (domain, relay, _, _) in CASES.items():
        org = {"email": {"smtp": {"host": relay, "port": 587}, "from": {"address": f"noreply@{domain}"}}}
        orgs[f"orgs/{case}.yaml"] = yaml.safe_dump(org)
    selectors = {d: {"dkim_selectors": ["s1"]} for d in ("good.example", "weak.example", "revoked.example", "nosel.example")}
    facts = {"relays": {IP: {"sending_ips": [IP]}}, "domains": selectors}
    return write_env(root / "env", {**orgs, "deliverability.yaml": yaml.safe_dump(facts)})


@pytest.fixture(scope="module")
def dns():
    with DnsServer(zone()) as server:
        yield server


FORMATS = ("text", "json", "junit", "markdown")


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Every case at once, in each format: one doctor process per format, run in parallel, once for the
    whole session whatever the number of workers. The environment's path is ENV in the outputs."""

    def run() -> dict[str, dict[str, object]]:
        import subprocess
        import sys

        env = environment(tmp_path_factory.mktemp("cases"))
        with DnsServer(zone()) as server:
            args = [
                "doctor",
                str(env),
                "--only",
                "senders",
                "--dns-server",
                server.option,
                "--timeout",
                "2",
            ]  # room for 12 lookups under load
            running = {  # the four at once, as real processes: each waits out the timeout cases in parallel
                fmt: subprocess.Popen([sys.executable, "-m", "notifycfg", *args, "--format", fmt], stdout=subprocess.PIPE, text=True)
                for fmt in FORMATS
            }
            outputs = {fmt: (process.communicate(timeout=60)[0], process.returncode) for fmt, process in running.items()}
        return {fmt: {"returncode": code, "stdout": out.replace(str(env), "ENV")} for fmt, (out, code) in outputs.items()}

    return once(tmp_path_factory, "sender-reports", run)


def doctor(env: Path, dns: DnsServer, *args: str):
    return cli("doctor", str(env), "--only", "senders", "--dns-server", dns.option, "--timeout", "1", *args)


def expect(check: dict[str, object], status: str, code: str, facts: dict[str, object]) -> None:
    assert (check["status"], check["code"]) == (status, code), check
    for path, value in facts.items():
        found = fact(check["facts"], path)
        if isinstance(value, Contains):
            assert value in str(found), (path, check)
        elif isinstance(value, list) and value and isinstance(value[0], dict):  # a list of objects: each one's given facts
            assert isinstance(found, list) and len(found) == len(value), (path, check)
            for item, wanted in zip(found, value, strict=True):
                for key, one in wanted.items():
                    assert one in str(item[key]) if isinstance(one, Contains) else item[key] == one, (path, key, check)
        else:
            assert found == value, (path, check)


@pytest.mark.parametrize("case", list(CASES))
def test_each_case_told_apart_by_its_code_and_facts(reports, case):
    domain, relay, expected, code = CASES[case]
    report = json.loads(reports["json"]["stdout"])
    assert report["endpoints"] is None  # --only senders: no connection but DNS
    (sender,) = [s for s in report["senders"] if s["orgs"] == [case]]
    assert (sender["domain"], sender["relay"]) == (domain, relay)
    checks = {c["id"]: c for c in sender["checks"]}
    assert list(checks) == ["spf", "dmarc", "dkim", "mx", "ptr"]
    for check, (status, code_, facts) in expected.items():
        expect(checks[check], status, code_, facts)
    assert all(c["message"] for c in checks.values())  # every code has its words
    org = report["orgs"][case]
    assert (org["sender"], org["endpoint"]) == (f"{domain} via {relay}", None)
    assert (org["sender_verdict"] == "error") == (code == 1), org  # what makes doctor exit 1 for this organization


def test_one_case_alone_exits_as_its_verdict_says(tmp_path, dns):
    env = environment(tmp_path)
    assert doctor(env, dns, "--org", "good").returncode == 0
    assert doctor(env, dns, "--org", "spf-fail").returncode == 1
    assert doctor(env, dns, "--org", "no-dmarc").returncode == 0  # a warning


def test_strict_turns_warnings_into_exit_1(tmp_path, dns):
    env = environment(tmp_path)
    assert doctor(env, dns, "--org", "softfail").returncode == 0
    assert doctor(env, dns, "--org", "softfail", "--strict").returncode == 1
    assert doctor(env, dns, "--org", "good", "--strict").returncode == 0


def test_text_lists_every_pair(reports):
    assert reports["text"]["returncode"] == reports["json"]["returncode"] == 1
    checks = [c for s in json.loads(reports["json"]["stdout"])["senders"] for c in s["checks"]]
    lines = reports["text"]["stdout"].splitlines()
    for case, (domain, relay, _, code) in CASES.items():
        (line,) = [line for line in lines if line.startswith(f"{case}: sender ")]
        head, _, verdict = line.rpartition(": ")
        assert head == f"{case}: sender {domain} via {relay}"
        assert verdict == "error" if code else verdict in ("ok", "warning"), line
        assert f"sender {domain} via {relay}, used by {case}" in lines
    errors, warnings = sum(c["status"] == "error" for c in checks), sum(c["status"] == "warning" for c in checks)
    assert lines[-1] == f"doctor: failed: {len(CASES)} sender pair(s), {errors} error(s), {warnings} warning(s)"


def test_a_thousand_organizations_ask_each_question_once(tmp_path):
    z = Zone()
    z.add("10.2.0.192.in-addr.arpa", "PTR", "relay.good.example.").add("relay.good.example", "A", IP)
    domains = [f"d{i}.example" for i in range(200)]
    for domain in domains:
        good(z, domain)
    orgs: dict[str, str | bytes] = {
        f"orgs/org-{i:04d}.yaml": yaml.safe_dump({"email": {"from": {"address": f"noreply@{domains[i % 200]}"}}}) for i in range(1000)
    }
    host = {"email": {"smtp": {"host": IP, "port": 587}, "from": {"address": "noreply@d0.example"}}}
    env = write_env(tmp_path / "env", {"host.yaml": yaml.safe_dump(host), **orgs})
    with DnsServer(z) as server:
        done = cli("doctor", str(env), "--only", "senders", "--dns-server", server.option, "--format", "json")
    assert done.returncode == 0, done.stdout[-2000:]
    assert len(json.loads(done.stdout)["senders"]) == 200
    assert z.questions and max(z.questions.values()) == 1  # no packet was lost: each question asked once


def test_only_senders_opens_no_connection_but_dns_and_only_endpoints_asks_no_dns(tmp_path, dns):
    import socket
    import threading

    from doctor_servers import _listening

    accepted: list[int] = []

    def talk(conn: socket.socket, stop: threading.Event) -> None:
        accepted.append(1)
        conn.sendall(b"220 relay\r\n")
        stop.wait(5)

    with _listening("127.0.0.1", 0, talk) as port:
        org = {"email": {"smtp": {"host": "127.0.0.1", "port": port}, "from": {"address": "noreply@good.example"}}}
        env = write_env(tmp_path / "env", {"orgs/acme.yaml": yaml.safe_dump(org)})
        before = sum(dns.zone.questions.values())
        done = doctor(env, dns, "--format", "json")
        asked = sum(dns.zone.questions.values()) - before
        assert json.loads(done.stdout)["senders"][0]["relay"] == "127.0.0.1" and asked > 0
        assert accepted == []  # the relay, an SMTP server, was never connected to
        before = sum(dns.zone.questions.values())
        done = cli("doctor", str(env), "--only", "endpoints", "--dns-server", dns.option, "--timeout", "1", "--format", "json")
        assert json.loads(done.stdout)["senders"] is None
        assert accepted == [1] and sum(dns.zone.questions.values()) == before


def test_the_dmarc_tree_walk_cuts_long_names_to_seven_labels():
    from notifycfg.doctor.senders.dmarc import walk

    assert walk("a.b.example") == ["a.b.example", "b.example", "example"]
    long = "l1.l2.l3.l4.l5.l6.l7.l8.l9.example"  # 10 labels: after the name itself, 7 of them, then one fewer each time
    assert walk(long) == [long, "l4.l5.l6.l7.l8.l9.example", "l5.l6.l7.l8.l9.example", "l6.l7.l8.l9.example",
                          "l7.l8.l9.example", "l8.l9.example", "l9.example", "example"]  # fmt: skip


def test_junit_and_markdown_carry_the_sender_checks(tmp_path, dns):
    import xml.etree.ElementTree as ET

    env = environment(tmp_path)
    junit = ET.fromstring(doctor(env, dns, "--org", "spf-fail", "--format", "junit").stdout)
    cases = {c.get("name"): c for c in junit.iter("testcase")}
    assert list(cases) == ["spf", "dmarc", "dkim", "mx", "ptr"]
    assert {c.get("classname") for c in cases.values()} == {f"notifycfg.doctor.sender.fail.example.via.{IP}"}
    assert cases["spf"].find("failure") is not None and cases["dkim"].find("skipped") is not None
    markdown = doctor(env, dns, "--org", "good", "--format", "markdown").stdout
    assert markdown.startswith("**doctor: ✅ ok**: 1 sender pair(s), 0 error(s), 0 warning(s)")
    assert "| good | — | — | good\\.example via 192\\.0\\.2\\.10 | ok |" in markdown


@pytest.mark.parametrize("value", ["dns.example", "127.0.0.1:0", "127.0.0.1:70000", "[::1]x", "1.2.3"])
def test_a_dns_server_that_is_not_an_address_is_a_usage_error(tmp_path, value):
    env = environment(tmp_path)
    done = cli("doctor", str(env), "--only", "senders", "--dns-server", value)
    assert done.returncode == 2 and "--dns-server" in done.stderr


def test_an_answer_too_large_for_udp_comes_over_tcp_and_is_asked_twice_at_most():
    from notifycfg.doctor.dns import resolver
    from notifycfg.doctor.senders.lookups import Lookups

    long = "v=spf1 " + " ".join(f"ip4:198.51.100.{i}" for i in range(60)) + " -all"  # over 1,000 bytes
    z = Zone().txt("big.example", long)
    with DnsServer(z) as server:
        lookups = Lookups(resolver([server.address], 2))
        assert lookups.get("big.example", "TXT") == (long,)
        assert lookups.get("BIG.example.", "TXT") == (long,)  # the cache: no third question
    assert z.questions[("big.example", "TXT")] == 2  # UDP (truncated), then TCP


@pytest.mark.parametrize("right", [True, False], ids=["logged-in", "refused"])
def test_no_secret_in_any_format_even_when_it_is_used(tmp_path, dns, right):
    """--login resolves the password and sends it (the auth check says whether it was taken): it appears in
    no format, whether the server takes it or refuses it."""
    import os

    from smtp_harness import Harness

    secret = "Sender-S3cret-5e1f"
    with Harness(tls="off", users={"svc": secret if right else "another"}) as h:
        org = {
            "email": {
                "smtp": {"host": "127.0.0.1", "port": h.port, "secure": False, "username": "svc", "password": {"env": "SENDER_PW"}},
                "from": {"address": "a@good.example"},
            }
        }
        env = write_env(tmp_path / "env", {"orgs/acme.yaml": yaml.safe_dump(org)})
        outputs = {}
        for fmt in ("text", "json", "junit", "markdown"):
            done = cli(
                "doctor",
                str(env),
                "--login",
                "--dns-server",
                dns.option,
                "--timeout",
                "2",
                "--format",
                fmt,
                env=dict(os.environ, SENDER_PW=secret),
            )
            outputs[fmt] = done.stdout + done.stderr
            assert secret not in outputs[fmt], fmt
    (endpoint,) = json.loads(outputs["json"])["endpoints"]
    (auth,) = [c for c in endpoint["checks"] if c["id"] == "auth"]
    assert (auth["status"], auth["code"]) == (("ok", "auth.ok") if right else ("error", "auth.refused")), auth
    assert auth["facts"]["login"] == "svc"


SNAPSHOTS = Path(__file__).resolve().parent / "data" / "doctor"


@pytest.mark.parametrize(("fmt", "suffix"), [("text", "txt"), ("json", "json"), ("junit", "xml"), ("markdown", "md")])
def test_the_wording_of_every_sender_case_in_each_format(reports, fmt, suffix):
    """The words themselves, held once per format (the other tests assert codes and facts). After a
    deliberate change of wording, NOTIFYCFG_UPDATE_SNAPSHOTS=1 rewrites these files: review their diff."""
    import os

    out = reports[fmt]["stdout"]
    snapshot = SNAPSHOTS / f"senders.{suffix}"
    if os.environ.get("NOTIFYCFG_UPDATE_SNAPSHOTS"):
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(out, encoding="utf-8")
    assert out == snapshot.read_text(encoding="utf-8")


@pytest.mark.e2e
def test_a_ptr_fan_out_ends_within_the_documented_bound_and_says_what_it_left(tmp_path):
    """A relay with 16 addresses, each PTR naming 64 hosts, every answer after 0.4 s (within --timeout 1):
    about 410 s before. Now at most 10 addresses and 10 names each, within 6 x --timeout per pair; the
    process is killed (a failure) past the documented bound for one pair, ceil(1/32) x 6 x 1 + 5 = 11 s,
    and 15 s more for the process itself."""
    from support.process import measured

    from notifycfg.doctor.options import SenderOptions
    from notifycfg.doctor.senders.run import run_bound

    z = Zone()
    good(z, "fanout.example", spf="v=spf1 a:relay.fanout.example -all")
    addresses = [f"192.0.2.{100 + i}" for i in range(16)]
    z.add("relay.fanout.example", "A", *addresses)
    for ip in addresses:
        reverse = ".".join(reversed(ip.split("."))) + ".in-addr.arpa"
        names = [f"n{j}.{ip.replace('.', '-')}.fanout.example." for j in range(64)]
        z.add(reverse, "PTR", *names)
        for name in names:
            z.add(name.rstrip("."), "A", "198.51.100.1")  # never back to the address
    z.delay = 0.4
    org = {"email": {"smtp": {"host": "relay.fanout.example", "port": 587}, "from": {"address": "noreply@fanout.example"}}}
    env = write_env(tmp_path / "env", {"orgs/acme.yaml": yaml.safe_dump(org)})
    bound = run_bound(1, SenderOptions(timeout=1.0))
    with DnsServer(z) as server:
        run = measured(
            "doctor", str(env), "--only", "senders", "--dns-server", server.option, "--timeout", "1", "--format", "json", bound=bound + 15
        )
    assert run.code in (0, 1), run.err
    (sender,) = json.loads(run.out)["senders"]
    checks = {c["id"]: c for c in sender["checks"]}
    ptr, spf = checks["ptr"], checks["spf"]
    assert ptr["status"] == "warning" and ptr["code"] in ("ptr.unconfirmed", "ptr.unfinished"), ptr
    assert set(addresses[10:]) <= set(ptr["facts"]["unchecked"])  # over the cap: named, not checked
    assert "not checked" in ptr["message"] or "not tried" in ptr["message"]
    assert spf["facts"]["unchecked"] == addresses[10:] and len(spf["facts"]["results"]) == 10
    ptr_questions = [q for q in z.questions if q[1] == "PTR"]
    assert len(ptr_questions) <= 10 and sum(1 for q in z.questions if q[0].startswith("n") and q[1] == "A") <= 100
