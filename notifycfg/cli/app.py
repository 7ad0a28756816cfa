"""Command line: parse arguments, call one function, pick a reporter, exit.

Exit status: 0 all good, 1 problems found or a check failed, 2 usage or
environment error. Nothing here decides what a problem is.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from notifycfg import __version__

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class UsageFailure(click.ClickException):
    exit_code = EXIT_USAGE


@contextlib.contextmanager
def _usage_errors() -> Iterator[None]:
    """The environment layer's usage errors (no such environment or organization) -> exit 2."""
    from notifycfg.compile.environment import NotAnEnvironment, UnknownOrganization

    try:
        yield
    except (NotAnEnvironment, UnknownOrganization) as exc:
        raise UsageFailure(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="notifycfg")
def main() -> None:
    """Email-notification settings as code: validate, compile, test end to end, promote.

    An environment is a directory with host.yaml, orgs/<org-id>.yaml and
    flows/<name>.yaml. Exit status: 0 good, 1 problems found, 2 usage or
    environment error.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "junit"]), default="text",
              show_default=True, help="text: one line per problem; json: one object; github: workflow annotations; junit: XML.")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("-v", "--verbose", is_flag=True, help="Print a summary even when everything is fine.")
def validate(paths: tuple[str, ...], fmt: str, strict: bool, verbose: bool) -> None:
    """Check files or environment directories against the schemas and rules.

    Prints nothing and exits 0 when all is well (pre-commit friendly); otherwise
    one `file:line:column: severity RULE message` line per problem and exit 1.
    """
    from notifycfg.report.formats import REPORTERS
    from notifycfg.config.validate import validate as run

    try:
        result = run(list(paths))
    except FileNotFoundError as exc:
        raise UsageFailure(f"no such file or directory: {exc.args[0]}") from None
    click.echo(REPORTERS[fmt](result, strict=strict, verbose=verbose), nl=False)
    sys.exit(EXIT_OK if result.ok(strict) else EXIT_PROBLEMS)


def _environment(path: str, what: str) -> Any:
    """A valid environment, or the problems printed to stderr and exit (1 for compile, 2 otherwise)."""
    from notifycfg.compile.environment import load_environment
    from notifycfg.report.formats import text

    with _usage_errors():
        env, result = load_environment(path)
    if env is None:
        click.echo(text(result), err=True, nl=False)
        click.echo(f"notifycfg: {path} is not valid: nothing to {what}", err=True)
        sys.exit(EXIT_PROBLEMS if what == "compile" else EXIT_USAGE)
    return env


@main.command(name="compile")
@click.argument("env_dir", metavar="ENV_DIR")
@click.option("-o", "--output", "out", type=click.Path(file_okay=False), help="Output directory (replaced as a whole).")
@click.option("--org", "orgs", multiple=True, metavar="ID", help="Only this organization; repeatable.")
@click.option("--format", "fmt", type=click.Choice(["files", "json"]), default="files", show_default=True,
              help="files: OUT/<org-id>.json + OUT/manifest.json; json: one object on stdout.")
def compile_cmd(env_dir: str, out: str | None, orgs: tuple[str, ...], fmt: str) -> None:
    """Write every organization's effective configuration.

    OUT/<org-id>.json has the input's shape with every default filled in, plus
    `mail_settings` ("host" or "custom"); OUT/manifest.json has a sha256 per
    input and output. Same input, same bytes. Secrets stay references. OUT is
    written to a temporary directory and moved into place: an invalid
    environment (exit 1) or a failure leaves OUT as it was.
    """
    from notifycfg.compile import output as compile_output

    if fmt == "files" and not out:
        raise UsageFailure("give -o OUT (or --format json to print instead)")
    env = _environment(env_dir, "compile")
    with _usage_errors():
        env.require(orgs)
    effective = env.all_effective(sorted(set(orgs)) if orgs else None)
    if fmt == "json":
        from notifycfg.compile.canonical import CanonicalEncoder

        click.echo(CanonicalEncoder().encode({org: e.document() for org, e in effective.items()}), nl=False)
        return
    files = compile_output.render(effective)
    files[compile_output.MANIFEST] = compile_output.manifest(env, files)
    try:
        compile_output.write(Path(out), files)
    except compile_output.OutputError as exc:
        raise UsageFailure(str(exc)) from None
    except OSError as exc:
        raise UsageFailure(f"cannot write {out}: {exc.strerror}") from None


@main.command()
@click.argument("env_dir", metavar="ENV_DIR")
@click.argument("org", metavar="ORG")
@click.argument("key", metavar="KEY")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain(env_dir: str, org: str, key: str, fmt: str) -> None:
    """The effective value(s) of KEY for ORG, and the file:line (or schema default) that set each.

    KEY is dotted: `email.smtp.port`, or a prefix such as `email.from`.
    """
    from notifycfg.report import formats as reporters
    from notifycfg.compile.environment import replaced
    from notifycfg.compile.explain import UnknownKey
    from notifycfg.compile.explain import explain as run_explain

    env = _environment(env_dir, "explain")
    with _usage_errors():
        env.require([org])
    try:
        items = run_explain(env.effective(org, track=True), key, replaced())
    except UnknownKey as exc:
        raise UsageFailure(str(exc)) from None
    click.echo((reporters.explain_json if fmt == "json" else reporters.explain_text)(items), nl=False)


@main.command()
@click.argument("env_a", metavar="ENV_A")
@click.argument("env_b", metavar="ENV_B")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def diff(env_a: str, env_b: str, fmt: str) -> None:
    """What differs in effective configuration, per organization. Exit 0 when equal, 1 when they differ."""
    from notifycfg.report import formats as reporters
    from notifycfg.compile.diff import diff as run_diff

    a, b = _environment(env_a, "diff"), _environment(env_b, "diff")
    result = run_diff(a.all_effective(), b.all_effective())
    click.echo((reporters.diff_json if fmt == "json" else reporters.diff_text)(result, env_a, env_b), nl=False)
    sys.exit(EXIT_OK if result.equal else EXIT_PROBLEMS)


def _write_junit(path: str, content: str) -> None:
    try:
        Path(path).write_text(content, encoding="utf-8")
    except OSError as exc:
        raise UsageFailure(f"cannot write {path}: {exc.strerror}") from None


@main.group()
def flows() -> None:
    """Notification flows (ENV_DIR/flows/*.yaml) checked end to end."""


@flows.command(name="run")
@click.argument("env_dir", metavar="ENV_DIR")
@click.option("--junit", "junit", type=click.Path(dir_okay=False), help="Also write a JUnit XML report here.")
def flows_run(env_dir: str, junit: str | None) -> None:
    """Send every flow's event through an in-process harness that mirrors each
    organization's security, and check what arrives. Exit 1 on any failure."""
    from notifycfg.notify import flows as flow_runner
    from notifycfg.report import formats as reporters

    env = _environment(env_dir, "run")
    specs = flow_runner.flows_of(env)
    if not specs:
        raise UsageFailure(f"no flows in {env_dir}/flows")
    results = flow_runner.run(env, specs)
    click.echo(reporters.flows_text(results), nl=False)
    if junit:
        _write_junit(junit, reporters.flows_junit(results))
    sys.exit(EXIT_OK if all(r.passed for r in results) else EXIT_PROBLEMS)


@main.command()
@click.argument("env_dir", metavar="ENV_DIR")
@click.option("--junit", "junit", type=click.Path(dir_okay=False), help="Also write the flows' JUnit XML report here.")
@click.option("--strict", is_flag=True, help="Warnings fail validation too.")
def check(env_dir: str, junit: str | None, strict: bool) -> None:
    """The main job: validate + compile + flows, one summary. Exit 1 if any part fails."""
    from notifycfg.compile import output as compile_output
    from notifycfg.report import formats as reporters
    from notifycfg.notify import flows as flow_runner
    from notifycfg.compile.environment import load_environment

    with _usage_errors():
        env, result = load_environment(env_dir, strict=strict)
    click.echo(reporters.text(result, strict=strict), nl=False)
    click.echo(f"validate: {reporters.summary(result, strict)}")
    if env is None:
        click.echo("check: failed (compile and flows skipped: the environment is not valid)")
        sys.exit(EXIT_PROBLEMS)
    files = compile_output.render(env.all_effective())
    click.echo(f"compile: ok, {len(files)} organization(s)")
    specs = flow_runner.flows_of(env)
    results = flow_runner.run(env, specs) if specs else []
    click.echo(reporters.flows_text(results), nl=False)
    if junit:
        _write_junit(junit, reporters.flows_junit(results))
    ok = all(r.passed for r in results)
    click.echo(f"check: {'ok' if ok else 'failed'}")
    sys.exit(EXIT_OK if ok else EXIT_PROBLEMS)


def _server(value: str | None) -> tuple[str, int] | None:
    if value is None:
        return None
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter("expected HOST:PORT (IPv6 as [::1]:25)", param_hint="--server")
    return host, int(port)


@main.command(name="send-test")
@click.argument("env_dir", metavar="ENV_DIR")
@click.option("--org", required=True, metavar="ID", help="The organization whose effective settings to use.")
@click.option("--to", "to", required=True, metavar="ADDR", help="Recipient of the test email.")
@click.option("--server", metavar="HOST:PORT", help="Connect here instead; security still follows the settings (465 = implicit TLS).")
@click.option("--cafile", type=click.Path(exists=True, dir_okay=False), help="Trust this CA (PEM) instead of the system's.")
@click.option("--timeout", type=click.FloatRange(0.1), default=30.0, show_default=True, help="Seconds per network operation.")
def send_test(env_dir: str, org: str, to: str, server: str | None, cafile: str | None, timeout: float) -> None:
    """Send a test email with ORG's effective settings (the portal's "send a test email").

    Secrets are resolved now, from the environment or files; a missing one is
    an error naming the reference. Exit 0 sent, 1 refused or failed, 2 usage.
    """
    from notifycfg.config import events
    from notifycfg.notify import mailer
    from notifycfg.notify import messages
    from notifycfg.config.formats import email_problem

    problem = email_problem(to)
    if problem:
        raise UsageFailure(f"--to {to!r}: {problem}")
    target = _server(server)
    env = _environment(env_dir, "send")
    with _usage_errors():
        env.require([org])
    data = env.effective(org).data
    transport = mailer.Transport.from_effective(data)
    message = messages.build(events.test_email(org), data["email"]["from"], [to])
    host, port = target or (transport.host, transport.port)
    try:
        sent = mailer.send(message, [to], transport, server=target, cafile=cafile, timeout=timeout)
    except mailer.SendError as exc:
        click.echo(f"notifycfg: send failed ({exc.kind}): {exc.message}", err=True)
        sys.exit(EXIT_PROBLEMS)
    how = ("implicit TLS" if transport.implicit_tls else "STARTTLS") if sent.tls else "no TLS"
    who = f"as {sent.authenticated_as}" if sent.authenticated_as else "anonymously"
    click.echo(f"sent to {to} via {host}:{port} ({how}, {who})")


@main.command()
@click.argument("src_env", metavar="SRC_ENV")
@click.argument("dst_env", metavar="DST_ENV")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@click.option("--org", "orgs", multiple=True, metavar="ID", help="Only this organization (host.yaml is then left alone); repeatable.")
@click.option("--allow-removals", is_flag=True, help="Also delete organizations that exist only in DST_ENV.")
def promote(src_env: str, dst_env: str, dry_run: bool, orgs: tuple[str, ...], allow_removals: bool) -> None:
    """Carry SRC_ENV's reviewed changes into DST_ENV, keeping DST_ENV's own settings and comments.

    Environment-local settings (each environment's SMTP servers and their
    credentials) are never carried. Both environments must validate, and so
    must the result, before anything is written; then all files are written or
    none, and one JSON line is appended to DST_ENV/promotions.jsonl. Prints the
    plan and a summary usable as a commit message. Running it twice is a no-op.
    Exit 0 done (or nothing to do), 1 refused, 2 usage.
    """
    from notifycfg.promote import promotion
    from notifycfg.report.formats import plan_text

    try:
        with _usage_errors():
            outcome = promotion.promote(src_env, dst_env, list(orgs) or None, allow_removals, dry_run)
    except promotion.PromotionRefused as exc:
        click.echo(f"notifycfg: promotion refused: {exc}", err=True)
        for detail in exc.details:
            click.echo(f"  {detail}", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(plan_text(outcome.plan), nl=False)
    if dry_run:
        click.echo("dry run: nothing written")
    elif outcome.written:
        click.echo(f"wrote {len(outcome.written)} file(s); audit line appended to {dst_env}/{promotion.AUDIT_LOG}\n")
        click.echo(promotion.commit_message(outcome.plan), nl=False)


def run(entry: Callable[..., Any] = main) -> None:
    """Console-script entry: no traceback reaches a user, whatever happens."""
    try:
        entry(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the last guard; the tests hunt these down
        if os.environ.get("NOTIFYCFG_DEBUG"):
            raise
        click.echo(f"notifycfg: internal error ({type(exc).__name__}); rerun with NOTIFYCFG_DEBUG=1 for details", err=True)
        sys.exit(EXIT_USAGE)


@main.group()
def harness() -> None:
    """The bundled SMTP test server (smtp_harness)."""


def _users(pairs: tuple[str, ...]) -> dict[str, str]:
    users = {}
    for pair in pairs:
        user, sep, password = pair.partition(":")
        if not sep or not user:
            raise click.BadParameter("expected USER:PASS", param_hint="--auth")
        users[user] = password
    return users


@harness.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback unless told otherwise).")
@click.option("--smtp-port", type=click.IntRange(0, 65535), default=2525, show_default=True, help="SMTP port; 0 picks a free one.")
@click.option("--http-port", type=click.IntRange(0, 65535), default=8025, show_default=True, help="HTTP API port; 0 picks a free one.")
@click.option("--no-http", is_flag=True, help="Do not start the HTTP API.")
@click.option("--tls", type=click.Choice(["off", "starttls", "implicit"]), default="off", show_default=True,
              help="starttls: offered on the plain port; implicit: TLS from the first byte (like port 465).")
@click.option("--require-tls", is_flag=True, help="With --tls starttls: refuse MAIL until STARTTLS.")
@click.option("--cert", type=click.Path(exists=True, dir_okay=False), help="Server certificate (PEM); default: a throwaway CA per run.")
@click.option("--key", type=click.Path(exists=True, dir_okay=False), help="Private key for --cert.")
@click.option("--auth", "auth", multiple=True, metavar="USER:PASS", help="Accept this user (PLAIN, LOGIN); repeatable.")
@click.option("--auth-required", is_flag=True, help="Refuse MAIL from clients that did not authenticate.")
@click.option("--maildir", type=click.Path(file_okay=False), help="Also persist every message here before acknowledging it.")
@click.option("--fault", "faults", multiple=True, metavar="SPEC",
              help="Inject a fault: STAGE=ACTION[,rcpt=REGEX][,nth=N][,probability=P,seed=S][,times=N]; "
                   "STAGE ehlo|auth|mail|rcpt|data; ACTION a 4xx/5xx reply, drop or delay:SECONDS. Repeatable.")
@click.option("--size-limit", type=click.IntRange(1), default=10 * 1024 * 1024, show_default=True,
              help="Largest message (SIZE; 552 beyond).")
@click.option("--idle-timeout", type=click.FloatRange(0.1), default=60.0, show_default=True,
              help="Seconds before an idle connection is closed.")
@click.option("--max-messages", type=click.IntRange(1), default=50_000, show_default=True, help="Messages kept in memory.")
@click.option("--on-full", type=click.Choice(["reject", "evict"]), default="reject", show_default=True,
              help="When full: reject new messages with 452, or evict the oldest (counted in /api/stats).")
def serve(host: str, smtp_port: int, http_port: int, no_http: bool, tls: str, require_tls: bool, cert: str | None,
          key: str | None, auth: tuple[str, ...], auth_required: bool, maildir: str | None, faults: tuple[str, ...],
          size_limit: int, idle_timeout: float, max_messages: int, on_full: str) -> None:
    """Serve until SIGINT/SIGTERM; prints `ready smtp=HOST:PORT http=HOST:PORT` once both listen.

    Messages are listed at GET /api/messages (see the README for the whole API).
    """
    from smtp_harness.faults import parse_fault
    from smtp_harness.harness import HarnessConfig
    from smtp_harness.serve import ServeError, run

    try:
        config = HarnessConfig(
            host=host, port=smtp_port, tls=tls, users=_users(auth), auth_required=auth_required, require_tls=require_tls,
            certfile=cert, keyfile=key, http=not no_http, http_port=http_port, maildir=maildir,
            faults=[parse_fault(f) for f in faults], size_limit=size_limit, idle_timeout=idle_timeout,
            max_messages=max_messages, on_full=on_full,
        )
        config.check()
    except ValueError as exc:  # FaultError included: bad --fault, --auth or option combination
        raise UsageFailure(str(exc)) from None
    try:
        run(config)
    except ServeError as exc:
        raise UsageFailure(str(exc)) from None
