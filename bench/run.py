"""`tox -e bench`: every benchmark, side by side in one run -> bench/RESULTS.md and bench/scaling.png.

Ratios, not absolute times, are the claims: these machines are shared and noisy.
Usage: python bench/run.py [--quick] [validate] [harness] [rounds] [flows] [doctor] [senders] [platform] [inbox]
"""

from __future__ import annotations

import json
import sys
import time

from common import BENCH, machine, save_json, versions  # noqa: E402


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _cell(figure: dict) -> str:
    return f"{_ms(figure['median'])} ({_ms(min(figure['times']))}–{_ms(max(figure['times']))})"


def validate_section(results: dict) -> list[str]:
    lines = [
        "## validate and compile vs check-jsonschema and the libyaml floor",
        "",
        "Whole commands in fresh processes (start-up included), median of 5 runs (3 at 10,000; check-jsonschema once"
        " at 10,000), min–max in brackets. check-jsonschema validates the same org files against an equivalent"
        " self-contained schema; notifycfg also checks host.yaml and its cross-file rules.",
        "",
        "| orgs | notifycfg validate | libyaml parse (floor) | check-jsonschema | compile (json) | compile (files) |"
        " validate / floor | check-jsonschema / validate | compile (json) / validate | compile (files) / validate |"
        " peak RSS validate / compile |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size, figs in results["sizes"].items():
        v, f, c = figs["notifycfg validate"], figs["libyaml parse (floor)"], figs["check-jsonschema"]
        cj, cf = figs.get("notifycfg compile (json)"), figs.get("notifycfg compile (files)")
        lines.append(
            f"| {int(size):,} | {_cell(v)} | {_cell(f)} | {_cell(c)} | {_cell(cj) if cj else '-'} | {_cell(cf) if cf else '-'} | "
            f"{v['median'] / f['median']:.2f}× | {c['median'] / v['median']:.1f}× | "
            f"{cj['median'] / v['median']:.2f}× | {cf['median'] / v['median']:.2f}× | "
            f"{v['peak_kib'] / 1024:.0f} / {cj['peak_kib'] / 1024:.0f} MiB |"
        )
    one = results["one_file"]
    ours, peer = one["notifycfg validate"], one["check-jsonschema"]
    lines += [
        "",
        f"One org file, as pre-commit runs it (median of 9): notifycfg {_cell(ours)}, check-jsonschema "
        f"{_cell(peer)}: **{ours['median'] / peer['median']:.2f}×** check-jsonschema's time.",
        "",
    ]
    return lines


def harness_section(results: dict) -> list[str]:
    lines = [
        "## SMTP harness vs a bare aiosmtpd sink vs Postfix's smtp-sink",
        "",
        f"Postfix's `smtp-source` sends {results['messages']:,} messages of 1,000 bytes per run, plain SMTP;"
        " servers in their own processes, interleaved; median of 3 runs (min–max), messages per second.",
        "",
        "| sessions | notifycfg harness | bare aiosmtpd sink | postfix smtp-sink (C) | harness / sink | captured / sent |",
        "|---|---|---|---|---|---|",
    ]
    for label, rates in results["rates"].items():
        h, s, c = rates["notifycfg harness"], rates["bare aiosmtpd sink"], rates["postfix smtp-sink (C)"]
        captured = results["captured"].get(label, [])
        lines.append(
            f"| {label} | {h['median']:.0f} ({h['min']:.0f}–{h['max']:.0f}) | {s['median']:.0f} ({s['min']:.0f}–{s['max']:.0f}) | "
            f"{c['median']:.0f} ({c['min']:.0f}–{c['max']:.0f}) | {h['median'] / s['median']:.2f}× | "
            f"{min(captured) if captured else '-'} / {results['messages']} |"
        )
    tls = results.get("starttls")
    if tls:
        h, s = tls["rates"]["notifycfg harness"], tls["rates"]["bare aiosmtpd sink"]
        lines += [
            "",
            f"STARTTLS (smtp-source speaks no TLS, so `bench/tls_load.py`: {tls['sessions']} sessions over 2 client"
            f" processes, one verified handshake per session, {tls['messages']:,} messages of 1 KB):",
            "",
            "| notifycfg harness | bare aiosmtpd sink (STARTTLS) | harness / sink | captured / sent |",
            "|---|---|---|---|",
            f"| {h['median']:.0f} ({h['min']:.0f}–{h['max']:.0f}) | {s['median']:.0f} ({s['min']:.0f}–{s['max']:.0f}) | "
            f"{h['median'] / s['median']:.2f}× | {min(tls['captured']) if tls['captured'] else '-'} / {tls['messages']} |",
        ]
    return lines + [""]


def _p(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of the rounds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def rounds_section(results: dict) -> list[str]:
    rows = [("notifycfg harness (msg/s)", results["harness"], "{:.0f}"), ("bare aiosmtpd sink (msg/s)", results["sink"], "{:.0f}")]
    rows.append(("harness / sink, each round", results["ratio"], "{:.2f}×"))
    lines = [
        "## The harness against a bare aiosmtpd sink, round by round",
        "",
        f"Postfix's `smtp-source -s 10` sends {harness_rounds_messages():,} messages of 1,000 bytes to each, a new connection per"
        f" message, in {len(results['ratio'])} rounds, alternating which goes first; the harness (`smtp-harness serve`, on uvloop's"
        " event loop when the `fast` extra is installed) captured every message in every round; the paired ratio is the claim.",
        "",
        "| | p50 | p95 | max | min |",
        "|---|---|---|---|---|",
    ]
    for name, values, fmt in rows:
        cells = [fmt.format(v) for v in (_p(values, 0.5), _p(values, 0.95), max(values), min(values))]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return [*lines, ""]


def harness_rounds_messages() -> int:
    import harness_rounds

    return harness_rounds.MESSAGES


def flows_section(results: dict) -> list[str]:
    lines = ["## flows run end to end", "", "| flows | notifycfg flows run | per flow |", "|---|---|---|"]
    for count, fig in results.items():
        lines.append(f"| {count} | {_cell(fig)} | {fig['median'] / int(count) * 1000:.1f} ms |")
    return lines + [""]


def doctor_section(results: dict) -> list[str]:
    return [
        "## doctor: concurrency",
        "",
        f"{results['endpoints']} endpoints on loopback, each greeting after {results['delay_s'] * 1000:.0f} ms;"
        " whole `notifycfg doctor` processes.",
        "",
        "| | median | runs |",
        "|---|---|---|",
        f"| concurrent (default) | {results['concurrent']['median']:.2f} s | {len(results['concurrent']['times'])} |",
        f"| `--concurrency 1` | {results['sequential']['median']:.2f} s | {len(results['sequential']['times'])} |",
        "",
        f"Ratio concurrent / sequential: **{results['ratio']:.3f}** (goal at most 0.15).",
        "",
    ]


def _senders_row(name: str, f: dict) -> str:
    return f"| {name} | {f['p50']:.2f} s | {f['p95']:.2f} s | {f['max']:.2f} s | {len(f['times'])} | {f['cpu_median']:.2f} s |"


def senders_section(results: dict) -> list[str]:
    pairs = results["domains"]
    con, seq, val = results["concurrent"], results["sequential"], results["validate"]
    checks_cpu = (con["cpu_median"] - val["cpu_median"]) / pairs
    return [
        "## doctor: sender checks at scale",
        "",
        f"{results['orgs']:,} organizations over {pairs} From domains (one relay: {pairs} pairs), against the tests' DNS server"
        f" on loopback answering every question after {results['delay_ms']:.0f} ms; realistic zones (SPF with an include,"
        " DMARC, a 2048-bit DKIM key, two MX, PTR); whole `notifycfg doctor --only senders` processes.",
        "",
        "| | p50 | p95 | max | runs | CPU (user + sys), median |",
        "|---|---|---|---|---|---|",
        _senders_row("concurrent (default, 32)", con),
        _senders_row("`--concurrency 1`", seq),
        _senders_row("`validate` of the same environment", val),
        "",
        f"Ratio concurrent / sequential (p50): **{results['ratio']:.3f}** (goal at most 0.2)."
        f" CPU per pair: {con['cpu_median'] / pairs * 1000:.1f} ms in all, {checks_cpu * 1000:.1f} ms once loading the files"
        f" (`validate`) is taken out, against {seq['p50'] / pairs * 1000:.0f} ms of wall time per pair one at a time:"
        " the wait on DNS, not our code, dominates."
        f" The DNS server saw {results['questions']} distinct questions, each asked at most {results['max_asked']} time(s).",
        "",
    ]


def platform_section(results: dict) -> list[str]:
    limited = results["rate_limited"]
    return [
        "## platform: plan for 1,000 organizations",
        "",
        f"Against the tests' stand-in platform over TLS on loopback, {results['latency_ms']:.0f} ms added to every request;"
        " whole `notifycfg plan` processes.",
        "",
        "| | median | runs |",
        "|---|---|---|",
        f"| concurrency 8 (default) | {results['concurrent']['median']:.2f} s | {len(results['concurrent']['times'])} |",
        f"| `--concurrency 1` | {results['sequential']['median']:.2f} s | {len(results['sequential']['times'])} |",
        f"| 10% of requests answered 429 (Retry-After: 1) | {limited['times'][0]:.2f} s | 1 |",
        "",
        f"Ratio concurrency 8 / 1: **{results['ratio']:.3f}** (goal at most 0.2). With 429s: {limited['answered_429']}"
        " answered 429, and plan still reported every partition in sync (exit 0).",
        "",
    ]


def inbox_section(results: dict) -> list[str]:
    api, paint, stream = results["api"], results["paint"], results["stream"]
    lines = [
        f"## inbox at {results['messages']:,} messages",
        "",
        "| measure | figure | goal |",
        "|---|---|---|",
        f"| first contentful paint (headless Chromium, median) | {paint['first_contentful_paint_ms']:.0f} ms | |",
        f"| first page of rows shown (median) | {paint['rows_shown_ms']:.0f} ms | at most 1 s |",
    ]
    for name, figure in api.items():
        figures = f"{figure['p50_ms']:.1f} / {figure['p95_ms']:.1f} / {figure['max_ms']:.1f} ms"
        lines.append(f"| GET /api/messages, {name}: p50 / p95 / max of 100, realistic mail | {figures} | p95 at most 50 ms |")
    for name, figure in results["summary"].items():
        figures = f"{figure['p50_ms']:.1f} / {figure['p95_ms']:.1f} / {figure['max_ms']:.1f} ms"
        lines.append(f"| one summary() pass over 1,000 realistic messages, {name}: p50 / p95 / max of 20 | {figures} | |")
    ratios = ", ".join(f"{r:.2f}" for r in stream["ratios"])
    lines += [
        f"| SMTP throughput with one live-stream client / none (rounds: {ratios}) | {stream['median']:.2f} (median) | at least 0.95 |",
        "",
        f"Events announced to the live client: {', '.join(map(str, stream['announced']))} of {stream['sent']} per round.",
        "",
    ]
    return lines


def plot(results: dict) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    sizes = [int(s) for s in results["sizes"]]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for name, style in [
        ("notifycfg validate", "o-"),
        ("notifycfg compile (json)", "s-"),
        ("check-jsonschema", "^-"),
        ("libyaml parse (floor)", "x--"),
    ]:
        ys = [results["sizes"][str(s) if str(s) in results["sizes"] else s][name]["median"] for s in sizes]
        ax.plot(sizes, ys, style, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("organizations in the environment")
    ax.set_ylabel("wall time, whole command (s)")
    ax.set_title("validate / compile scaling (median, log-log)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out = BENCH / "scaling.png"
    fig.savefig(out)
    return out.name


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    everything = ["validate", "harness", "rounds", "flows", "doctor", "senders", "platform", "inbox"]
    chosen = [a for a in argv if not a.startswith("--")] or everything
    started = time.time()
    report = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}.",
        "",
        f"Versions: {versions('notifycfg', 'pyyaml', 'jsonschema-rs', 'jsonschema', 'aiosmtpd', 'check-jsonschema')}.",
        "",
        "Reproduce: `tox -e bench` (installs check-jsonschema and matplotlib; unpacks Postfix's smtp-source and"
        " smtp-sink from Debian's postfix package with `apt-get download` + `dpkg -x`, nothing installed system-wide).",
        "",
    ]
    data: dict = {}
    if "validate" in chosen:
        import bench_validate

        data["validate"] = bench_validate.run(quick)
        data["validate"]["sizes"] = {str(k): v for k, v in data["validate"]["sizes"].items()}
        report += validate_section(data["validate"])
        image = plot(data["validate"])
        if image:
            report += [f"![validate and compile scaling]({image})", ""]
    if "harness" in chosen:
        import bench_harness

        data["harness"] = bench_harness.run(quick, runs=1 if quick else 3)
        report += harness_section(data["harness"])
    if "rounds" in chosen:
        import harness_rounds

        data["rounds"] = harness_rounds.run(3 if quick else 9)
        report += rounds_section(data["rounds"])
    if "flows" in chosen:
        import bench_flows

        data["flows"] = {str(k): v for k, v in bench_flows.run(quick).items()}
        report += flows_section(data["flows"])
    if "doctor" in chosen:
        import bench_doctor

        data["doctor"] = bench_doctor.run(quick)
        report += doctor_section(data["doctor"])
    if "senders" in chosen:
        import bench_senders

        data["senders"] = bench_senders.run(quick)
        report += senders_section(data["senders"])
    if "platform" in chosen:
        import bench_platform

        data["platform"] = bench_platform.run(quick)
        report += platform_section(data["platform"])
    if "inbox" in chosen:
        import bench_inbox

        data["inbox"] = bench_inbox.run(quick)
        report += inbox_section(data["inbox"])
    report.append(f"Total benchmark time: {time.time() - started:.0f} s.")
    save_json("results", data)
    (BENCH / "RESULTS.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    print(json.dumps({"written": str(BENCH / "RESULTS.md")}))


if __name__ == "__main__":
    main(sys.argv[1:])
