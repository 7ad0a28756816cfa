"""Command line: parse arguments, call one function, pick a reporter, exit.

Exit status: 0 all good, 1 problems found or a check failed, 2 usage or
environment error. Nothing here decides what a problem is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from notifycfg import __version__

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class UsageFailure(click.ClickException):
    exit_code = EXIT_USAGE


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
    from notifycfg.reporters import REPORTERS
    from notifycfg.validate import validate as run

    try:
        result = run(list(paths))
    except FileNotFoundError as exc:
        raise UsageFailure(f"no such file or directory: {exc.args[0]}") from None
    click.echo(REPORTERS[fmt](result, strict=strict, verbose=verbose), nl=False)
    sys.exit(EXIT_OK if result.ok(strict) else EXIT_PROBLEMS)


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
