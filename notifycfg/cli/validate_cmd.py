"""`notifycfg validate`."""

from __future__ import annotations

import click

from notifycfg.cli.common import UsageFailure, finish
from notifycfg.report import VALIDATION

_FORMAT_HELP = (
    "text: one line per problem; json: one object; github: workflow annotations; junit: XML; sarif: SARIF 2.1.0 for code scanning; "
    "gitlab: GitLab Code Quality JSON; markdown: a table for a pull-request comment."
)


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--format", "fmt", type=click.Choice(list(VALIDATION)), default="text", show_default=True, help=_FORMAT_HELP)
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("-v", "--verbose", is_flag=True, help="Print a summary even when everything is fine.")
def validate(paths: tuple[str, ...], fmt: str, strict: bool, verbose: bool) -> None:
    """Check files or environment directories against the schemas and rules.

    Prints nothing and exits 0 when all is well (pre-commit friendly); otherwise
    one `file:line:column: severity RULE message` line per problem and exit 1.
    """
    from notifycfg.config.validate import validate as run

    try:
        result = run(list(paths))
    except FileNotFoundError as exc:
        raise UsageFailure(f"no such file or directory: {exc.args[0]}") from None
    click.echo(VALIDATION[fmt](result, strict, verbose), nl=False)
    finish(result.ok(strict))
