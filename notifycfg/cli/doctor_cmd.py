"""`notifycfg doctor`: each organization's real SMTP server, probed without sending."""

from __future__ import annotations

import click

from notifycfg.cli.common import environment, exit_with, format_option, usage_errors
from notifycfg.report import DOCTOR


@click.command()
@click.argument("env_dir", metavar="ENV_DIR")
@click.option("--org", "orgs", multiple=True, metavar="ID", help="Only this organization's server; repeatable.")
@click.option("--login", is_flag=True, help="Also log in with each distinct login (its secret is resolved now), then QUIT.")
@click.option("--cafile", type=click.Path(exists=True, dir_okay=False), help="Trust this CA (PEM) instead of the system's.")
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 300),
    default=10.0,
    show_default=True,
    help="Seconds for each network step, DNS included; the whole run is bounded too.",
)
@click.option(
    "--cert-warn-days", type=click.IntRange(0), default=30, show_default=True, help="Warn when a certificate expires within this many days."
)
@click.option("--concurrency", type=click.IntRange(1, 256), default=32, show_default=True, help="Endpoints probed at once.")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@format_option(DOCTOR)
def doctor(
    env_dir: str,
    orgs: tuple[str, ...],
    login: bool,
    cafile: str | None,
    timeout: float,
    cert_warn_days: int,
    concurrency: int,
    strict: bool,
    fmt: str,
) -> None:
    """Prove each organization's SMTP server will accept its settings, sending nothing.

    Every distinct endpoint (host, port, secure) is probed once, concurrently:
    dns, tcp (with a hint when another submission port answers), greeting, ehlo,
    tls (STARTTLS, or TLS first on 465; TLS 1.2+, a certificate that verifies for
    the host and is not about to expire), auth (PLAIN or LOGIN offered after TLS;
    with --login, each login is tried). Commands sent: EHLO, STARTTLS, AUTH, QUIT;
    never MAIL, RCPT or DATA. Exit 0 all ok (warnings allowed unless --strict),
    1 any error, 2 usage or an invalid environment.
    """
    from notifycfg.doctor.probe import Options
    from notifycfg.doctor.run import run
    from notifycfg.secrets import resolve

    env = environment(env_dir, "probe")
    with usage_errors():
        env.require(orgs)
    options = Options(
        timeout=timeout,
        cafile=cafile,
        login=login,
        cert_warn_days=cert_warn_days,
        resolve=resolve if login else None,
        concurrency=concurrency,
    )
    result = run(env, sorted(set(orgs)) if orgs else None, options)
    result.strict = strict
    click.echo(DOCTOR[fmt](result), nl=False)
    exit_with(result)
