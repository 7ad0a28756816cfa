"""`notifycfg doctor`: each organization's real SMTP server, probed without sending."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from notifycfg.cli.common import environment, exit_with, format_option, usage_errors
from notifycfg.report import DOCTOR

if TYPE_CHECKING:
    from notifycfg.doctor.run import Only


def _dns_servers(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    import ipaddress

    out = []
    for value in values:
        host, port = value, "53"
        if value.startswith("["):
            host, _, rest = value[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else "53" if not rest else "x"
        elif value.count(":") == 1:
            host, port = value.split(":")
        try:
            ip = str(ipaddress.ip_address(host))
        except ValueError:
            raise click.BadParameter(f"{value!r}: expected an IP address, with an optional :PORT", param=param) from None
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise click.BadParameter(f"{value!r}: the port must be 1..65535", param=param)
        out.append((ip, int(port)))
    return tuple(out)


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
@click.option(
    "--concurrency", type=click.IntRange(1, 256), default=32, show_default=True, help="Endpoints probed at once, and sender pairs checked."
)
@click.option(
    "--only",
    type=click.Choice(["endpoints", "senders"]),
    help="Only the SMTP endpoints (sessions), or only the sender checks (DNS alone). Default: both.",
)
@click.option(
    "--dns-server",
    "dns_servers",
    multiple=True,
    metavar="IP[:PORT]",
    callback=_dns_servers,
    help="Ask this DNS server, for the sender checks and the endpoints' addresses (repeatable; IPv6 as [::1]:53). "
    "Default: the system's resolvers.",
)
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
    only: Only | None,
    dns_servers: tuple[tuple[str, int], ...],
    strict: bool,
    fmt: str,
) -> None:
    """Prove each organization's SMTP server will accept its settings, sending nothing.

    Every distinct endpoint (host, port, secure) is probed once, concurrently:
    dns, tcp (with a hint when another submission port answers), greeting, ehlo,
    tls (STARTTLS, or TLS first on 465; TLS 1.2+, a certificate that verifies for
    the host and is not about to expire), revocation (each http:// CRL and OCSP
    URL of the certificate answers within --timeout, and does not say revoked:
    the platform checks them during the handshake, over port 80), auth (PLAIN
    or LOGIN offered after TLS;
    with --login, each login is tried). Commands sent: EHLO, STARTTLS, AUTH, QUIT;
    never MAIL, RCPT or DATA.

    Then, for every distinct (From domain, relay) pair, from DNS alone: spf (for
    each sending address: deliverability.yaml's sending_ips, or the relay's
    A/AAAA), dmarc (the RFC 9989 tree walk, and whether the pair can meet p=),
    dkim (the selectors deliverability.yaml declares, 1024 bits at least), mx
    and ptr. Exit 0 all ok (warnings allowed unless --strict), 1 any error, 2
    usage or an invalid environment.
    """
    from notifycfg.doctor.options import EndpointOptions, SenderOptions
    from notifycfg.doctor.run import run
    from notifycfg.secrets import resolve

    env = environment(env_dir, "probe")
    with usage_errors():
        env.require(orgs)
    endpoint_options = EndpointOptions(
        timeout=timeout,
        cafile=cafile,
        login=resolve if login else None,
        cert_warn_days=cert_warn_days,
        concurrency=concurrency,
        dns_servers=dns_servers,
    )
    sender_options = SenderOptions(timeout=timeout, concurrency=concurrency, dns_servers=dns_servers)
    result = run(env, sorted(set(orgs)) if orgs else None, endpoint_options, sender_options, only, strict)
    click.echo(DOCTOR[fmt](result), nl=False)
    exit_with(result)
