"""`notifycfg compile`, `explain` and `diff`: the effective configuration and where it came from."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from notifycfg.cli.common import UsageFailure, environment, exit_with, format_option, usage_errors
from notifycfg.report import DIFF, EXPLAIN

if TYPE_CHECKING:
    from notifycfg.compile.environment import Environment
    from notifycfg.config.layering import Effective


def _print_json(env: Environment, effective: Mapping[str, Effective], out: str | None) -> None:
    from notifycfg.compile.canonical import CanonicalEncoder

    click.echo(CanonicalEncoder().encode({org: e.document() for org, e in effective.items()}), nl=False)


def _write_files(env: Environment, effective: Mapping[str, Effective], out: str | None) -> None:
    from notifycfg.compile import output
    from notifycfg.files import ReplaceRefused

    if out is None:  # checked before loading (_NEEDS_OUT): a caller's bug
        raise click.UsageError("-o/--out is needed for this format")
    try:
        output.write(Path(out), env, dict(effective))
    except ReplaceRefused as exc:
        raise UsageFailure(str(exc)) from None
    except OSError as exc:
        raise UsageFailure(f"cannot write {out}: {exc.strerror}") from None


# compile's outputs: each format is how the effective configurations leave the process.
_COMPILE = {"files": _write_files, "json": _print_json}
_NEEDS_OUT = {"files"}


@click.command(name="compile")
@click.argument("env_dir", metavar="ENV_DIR")
@click.option("-o", "--output", "out", type=click.Path(file_okay=False), help="Output directory (replaced as a whole).")
@click.option("--org", "orgs", multiple=True, metavar="ID", help="Only this organization; repeatable.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(_COMPILE)),
    default="files",
    show_default=True,
    help="files: OUT/<org-id>.json + OUT/manifest.json; json: one object on stdout.",
)
def compile_cmd(env_dir: str, out: str | None, orgs: tuple[str, ...], fmt: str) -> None:
    """Write every organization's effective configuration.

    OUT/<org-id>.json has the input's shape with every default filled in, plus
    `mail_settings` ("host" or "custom"); OUT/manifest.json has a sha256 per
    input and output. Same input, same bytes. Secrets stay references. OUT is
    written to a temporary directory and moved into place: an invalid
    environment (exit 1) or a failure leaves OUT as it was.
    """
    if fmt in _NEEDS_OUT and not out:
        raise UsageFailure("give -o OUT (or --format json to print instead)")
    env = environment(env_dir, "compile")
    with usage_errors():
        env.require(orgs)
    _COMPILE[fmt](env, env.all_effective(sorted(set(orgs)) if orgs else None), out)


@click.command()
@click.argument("env_dir", metavar="ENV_DIR")
@click.argument("org", metavar="ORG")
@click.argument("key", metavar="KEY")
@format_option(EXPLAIN)
def explain(env_dir: str, org: str, key: str, fmt: str) -> None:
    """The effective value(s) of KEY for ORG, and the file:line (or schema default) that set each.

    KEY is dotted: `email.smtp.port`, or a prefix such as `email.from`.
    """
    from notifycfg.compile.explain import UnknownKey
    from notifycfg.compile.explain import explain as run_explain
    from notifycfg.config.schema import replaced_paths

    env = environment(env_dir, "explain")
    with usage_errors():
        env.require([org])
    try:
        items = run_explain(env.effective(org, track=True), key, replaced_paths())
    except UnknownKey as exc:
        raise UsageFailure(str(exc)) from None
    click.echo(EXPLAIN[fmt](items), nl=False)


@click.command()
@click.argument("env_a", metavar="ENV_A")
@click.argument("env_b", metavar="ENV_B")
@format_option(DIFF)
def diff(env_a: str, env_b: str, fmt: str) -> None:
    """What differs in effective configuration, per organization. Exit 0 when equal, 1 when they differ."""
    from notifycfg.compile.diff import diff as run_diff

    a, b = environment(env_a, "diff"), environment(env_b, "diff")
    result = run_diff(a.all_effective(), b.all_effective(), env_a, env_b)
    click.echo(DIFF[fmt](result), nl=False)
    exit_with(result)
