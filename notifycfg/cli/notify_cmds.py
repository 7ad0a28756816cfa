"""`notifycfg flows run`, `check` and `send-test`: notifications sent for real."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from notifycfg.cli.common import UsageFailure, environment, exit_with, finish, format_option, usage_errors, write_report
from notifycfg.report import CHECK, FLOWS, FLOWS_PRINTED

if TYPE_CHECKING:
    from notifycfg.notify.flows import FlowsResult


@click.group()
def flows() -> None:
    """Notification flows (ENV_DIR/flows/*.yaml) checked end to end."""


@flows.command(name="run")
@click.argument("env_dir", metavar="ENV_DIR")
@click.option("--junit", "junit", type=click.Path(dir_okay=False), help="Also write a JUnit XML report here.")
@click.option("--html", "html", type=click.Path(dir_okay=False), help="Also write a self-contained HTML report here.")
@format_option(FLOWS_PRINTED, help="What is printed: text, or markdown for a pull-request comment or $GITHUB_STEP_SUMMARY.")
def flows_run(env_dir: str, junit: str | None, html: str | None, fmt: str) -> None:
    """Send every flow's event through an in-process harness that mirrors each
    organization's security, and check what arrives. Exit 1 on any failure."""
    from notifycfg.notify import flows as flow_runner

    env = environment(env_dir, "run")
    specs = flow_runner.flows_of(env)
    if not specs:
        raise UsageFailure(f"no flows in {env_dir}/flows")
    result = flow_runner.FlowsResult(flow_runner.run(env, specs), f"notifycfg flows: {env_dir}")
    click.echo(FLOWS_PRINTED[fmt](result), nl=False)
    _write_reports(result, junit=junit, html=html)
    exit_with(result)


def _write_reports(result: FlowsResult, **files: str | None) -> None:
    """Each report file option names its format: --junit FILE is FLOWS["junit"], --html FILE is FLOWS["html"]."""
    for fmt, path in files.items():
        if path:
            write_report(path, FLOWS[fmt](result))


@click.command()
@click.argument("env_dir", metavar="ENV_DIR")
@click.option("--junit", "junit", type=click.Path(dir_okay=False), help="Also write the flows' JUnit XML report here.")
@click.option("--html", "html", type=click.Path(dir_okay=False), help="Also write the flows' self-contained HTML report here.")
@click.option("--strict", is_flag=True, help="Warnings fail validation too.")
@format_option(CHECK, help="text, or markdown for a pull-request comment or $GITHUB_STEP_SUMMARY.")
def check(env_dir: str, junit: str | None, html: str | None, strict: bool, fmt: str) -> None:
    """The main job: validate + compile + flows, one summary. Exit 1 if any part fails."""
    from notifycfg.compile import output
    from notifycfg.compile.environment import load_environment
    from notifycfg.notify import flows as flow_runner
    from notifycfg.notify.check import CheckResult

    with usage_errors():
        env, result = load_environment(env_dir, strict=strict)
    if env is None:
        checked = CheckResult(result, strict, None, None)
    else:
        files = output.render(env.all_effective())
        specs = flow_runner.flows_of(env)
        ran = flow_runner.FlowsResult(flow_runner.run(env, specs) if specs else [], f"notifycfg check: {env_dir}")
        _write_reports(ran, junit=junit, html=html)
        checked = CheckResult(result, strict, len(files), ran)
    click.echo(CHECK[fmt](checked), nl=False)
    exit_with(checked)


def _server(value: str | None) -> tuple[str, int] | None:
    if value is None:
        return None
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter("expected HOST:PORT (IPv6 as [::1]:25)", param_hint="--server")
    return host, int(port)


@click.command(name="send-test")
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
    from notifycfg.compile.endpoint import connection
    from notifycfg.config.formats import email_problem
    from notifycfg.notify import mailer, messages
    from notifycfg.notify.render import test_email

    problem = email_problem(to)
    if problem:
        raise UsageFailure(f"--to {to!r}: {problem}")
    target = _server(server)
    env = environment(env_dir, "send")
    with usage_errors():
        env.require([org])
    data = env.effective(org).data
    transport = connection(data)
    message = messages.build(test_email(org), data["email"]["from"], [to])
    host, port = target or (transport.endpoint.host, transport.endpoint.port)
    try:
        sent = mailer.send(message, [to], transport, server=target, cafile=cafile, timeout=timeout)
    except mailer.SendError as exc:
        click.echo(f"notifycfg: send failed ({exc.kind}): {exc.message}", err=True)
        if exc.explained:
            click.echo(f"  {exc.explained}", err=True)
        finish(False)
    how = transport.endpoint.mode if sent.tls else "no TLS"
    who = f"as {sent.authenticated_as}" if sent.authenticated_as else "anonymously"
    click.echo(f"sent to {to} via {host}:{port} ({how}, {who})")
