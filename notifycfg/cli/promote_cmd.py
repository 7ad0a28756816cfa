"""`notifycfg promote`."""

from __future__ import annotations

import click

from notifycfg.cli.common import format_option, refusals, usage_errors
from notifycfg.report import PROMOTE


@click.command()
@click.argument("src_env", metavar="SRC_ENV")
@click.argument("dst_env", metavar="DST_ENV")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@click.option("--org", "orgs", multiple=True, metavar="ID", help="Only this organization (host.yaml is then left alone); repeatable.")
@click.option("--allow-removals", is_flag=True, help="Also delete organizations that exist only in DST_ENV.")
@format_option(PROMOTE, help="text, or markdown for a pull-request comment (with --dry-run, a review before the promotion).")
def promote(src_env: str, dst_env: str, dry_run: bool, orgs: tuple[str, ...], allow_removals: bool, fmt: str) -> None:
    """Carry SRC_ENV's reviewed changes into DST_ENV, keeping DST_ENV's own settings and comments.

    Environment-local settings (each environment's SMTP servers and their
    credentials) are never carried. Both environments must validate, and so
    must the result, before anything is written; then all files are written or
    none, and one JSON line is appended to DST_ENV/promotions.jsonl. Prints the
    plan and a summary usable as a commit message. Running it twice is a no-op.
    Exit 0 done (or nothing to do), 1 refused, 2 usage.
    """
    from notifycfg.promote import promotion

    with usage_errors(), refusals("promotion"):
        outcome = promotion.promote(src_env, dst_env, list(orgs) or None, allow_removals, dry_run)
    click.echo(PROMOTE[fmt](outcome, dry_run), nl=False)
