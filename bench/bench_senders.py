"""doctor's sender checks at scale: 1,000 organizations over 200 From domains, against a DNS server on loopback
that answers every question after 20 ms (tests/dns_server.py), concurrent vs `--concurrency 1` (one pair at a
time). Each domain's zone looks like a real one: SPF with an include and an ip4, DMARC p=quarantine, a 2048-bit
DKIM key, MX; the relay has a PTR and its name an A. Whole `notifycfg doctor --only senders` processes.

CPU seconds per pair are the command's user + system time divided by the pairs; the same environment's
`validate` is measured too, so the part spent on loading 1,000 files is told apart from the checks.

    python bench/bench_senders.py [--quick]
"""

from __future__ import annotations

import math
import shutil
import statistics
import subprocess
import sys

from common import WORK
from dns_server import DnsServer, Zone

ORGS, DOMAINS, DELAY = 1000, 200, 0.02
RELAY, IP = "smtp.relay.example", "192.0.2.10"

# wall and CPU (user + system) of the child, printed by a wrapper whose own start-up is outside the span
_MEASURE = (
    "import resource, subprocess, sys, time;"
    "t = time.perf_counter();"
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode;"
    "t = time.perf_counter() - t;"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN);"
    "print(rc, t, u.ru_utime + u.ru_stime)"
)


def zone() -> Zone:
    from test_senders import dkim_key  # the tests' key maker: a real 2048-bit SubjectPublicKeyInfo

    z = Zone()
    z.add("10.2.0.192.in-addr.arpa", "PTR", f"{RELAY}.").add(RELAY, "A", IP)
    z.txt("_spf.relay.example", f"v=spf1 ip4:{IP} ip4:198.51.100.0/24 -all")
    key = dkim_key(2048)
    for i in range(DOMAINS):
        d = f"d{i:03d}.example"
        z.txt(d, "v=spf1 include:_spf.relay.example ip4:203.0.113.5 -all", "google-site-verification=abc123")
        z.txt(f"_dmarc.{d}", f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{d}; adkim=r; aspf=r")
        z.txt(f"s1._domainkey.{d}", f"v=DKIM1; k=rsa; p={key}")
        z.add(d, "MX", f"10 mx1.{d}.", f"20 mx2.{d}.")
    z.delay = DELAY
    return z


def make_env():
    env = WORK / "senders-1000"
    if env.exists():
        shutil.rmtree(env)
    (env / "orgs").mkdir(parents=True)
    (env / "host.yaml").write_text(f"email:\n  smtp: {{host: {RELAY}, port: 587}}\n  from: {{address: noreply@d000.example}}\n")
    for i in range(ORGS):
        (env / "orgs" / f"org-{i:04d}.yaml").write_text(
            f"email:\n  from:\n    address: alerts@d{i % DOMAINS:03d}.example\n    display_name: Org {i} Notifications\n"
        )
    selectors = "".join(f"  d{i:03d}.example: {{dkim_selectors: [s1]}}\n" for i in range(DOMAINS))
    (env / "deliverability.yaml").write_text(f"relays:\n  {RELAY}:\n    sending_ips: [{IP}]\ndomains:\n{selectors}")
    return env


def measure(argv: list[str], runs: int) -> dict:
    walls, cpus = [], []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", _MEASURE, *argv], capture_output=True, text=True, check=True)
        rc, wall, cpu = done.stdout.split()
        if int(rc) != 0:
            raise SystemExit(f"exit {rc}: {' '.join(argv[:6])} ...")
        walls.append(float(wall))
        cpus.append(float(cpu))
    ordered = sorted(walls)
    return {
        "times": walls,
        "cpu": cpus,
        "p50": statistics.median(walls),
        "p95": ordered[math.ceil(len(ordered) * 0.95) - 1],  # nearest rank
        "max": ordered[-1],
        "cpu_median": statistics.median(cpus),
    }


def run(quick: bool = False) -> dict:
    env = make_env()
    z = zone()
    with DnsServer(z) as server:
        doctor = [
            sys.executable,
            "-m",
            "notifycfg",
            "doctor",
            str(env),
            "--only",
            "senders",
            "--dns-server",
            server.option,
            "--timeout",
            "5",
        ]
        concurrent = measure(doctor, 3 if quick else 5)
        sequential = measure([*doctor, "--concurrency", "1"], 1 if quick else 2)
        z.questions.clear()
        measure(doctor, 1)
        asked = sum(z.questions.values())
        repeated = max(z.questions.values())
    validate = measure([sys.executable, "-m", "notifycfg", "validate", str(env)], 3)
    return {
        "orgs": ORGS,
        "domains": DOMAINS,
        "delay_ms": DELAY * 1000,
        "concurrent": concurrent,
        "sequential": sequential,
        "validate": validate,
        "ratio": concurrent["p50"] / sequential["p50"],
        "questions": asked,
        "max_asked": repeated,
    }


if __name__ == "__main__":
    result = run("--quick" in sys.argv)
    pairs = result["domains"]
    print(
        f"concurrent p50 {result['concurrent']['p50']:.2f} s, sequential p50 {result['sequential']['p50']:.2f} s, "
        f"ratio {result['ratio']:.3f}; CPU per pair {result['concurrent']['cpu_median'] / pairs * 1000:.1f} ms "
        f"(validate alone {result['validate']['cpu_median']:.2f} s CPU); {result['questions']} questions, each asked at most "
        f"{result['max_asked']} time(s)"
    )
