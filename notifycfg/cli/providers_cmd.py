"""`notifycfg providers [HOST]`: the relay catalogue, or what it knows of one host."""

from __future__ import annotations

import click

from notifycfg.cli.common import format_option
from notifycfg.report import PROVIDERS


@click.command()
@click.argument("host", required=False)
@format_option(PROVIDERS)
def providers(host: str | None, fmt: str) -> None:
    """What notifycfg knows of the relays: ports and TLS modes each accepts, its login,
    dated advisories and the refusals it is known to give, each with its public source.

    With HOST (an SMTP host name as email.smtp.host says it): that relay's entry and the
    advisories in force today (or SOURCE_DATE_EPOCH's day) or within 60 days. Exit 0,
    or 1 when HOST is not in the catalogue.
    """
    from notifycfg.providers.catalogue import catalogue, today
    from notifycfg.report.providers import ProvidersView

    known = catalogue()
    view = ProvidersView(known, today(), host, known.provider_for(host) if host else None)
    click.echo(PROVIDERS[fmt](view), nl=False)
    raise SystemExit(view.exit_code)
