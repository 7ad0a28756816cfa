"""`notifycfg compile`, `explain` and `diff`: the effective configuration and where it came from."""

from __future__ import annotations

from pathlib import Path

import click

from notifycfg.cli.common import UsageFailure, environment, finish, usage_errors


@click.command(name="compile")
@click.argument("env_dir", metavar="ENV_DIR")
@click.option("-o", "--output", "out", type=click.Path(file_okay=False), help="Output directory (replaced as a whole).")
@click.option("--org", "orgs", multiple=True, metavar="ID", help="Only this organization; repeatable.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["files", "json"]),
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
    from notifycfg.compile import output
    from notifycfg.compile.canonical import CanonicalEncoder
    from notifycfg.files import ReplaceRefused

    if fmt == "files" and not out:
        raise UsageFailure("give -o OUT (or --format json to print instead)")
    env = environment(env_dir, "compile")
    with usage_errors():
        env.require(orgs)
    effective = env.all_effective(sorted(set(orgs)) if orgs else None)
    if fmt == "json":
        click.echo(CanonicalEncoder().encode({org: e.document() for org, e in effective.items()}), nl=False)
        return
    assert out is not None
    try:
        output.write(Path(out), env, effective)
    except ReplaceRefused as exc:
        raise UsageFailure(str(exc)) from None
    except OSError as exc:
        raise UsageFailure(f"cannot write {out}: {exc.strerror}") from None


@click.command()
@click.argument("env_dir", metavar="ENV_DIR")
@click.argument("org", metavar="ORG")
@click.argument("key", metavar="KEY")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain(env_dir: str, org: str, key: str, fmt: str) -> None:
    """The effective value(s) of KEY for ORG, and the file:line (or schema default) that set each.

    KEY is dotted: `email.smtp.port`, or a prefix such as `email.from`.
    """
    from notifycfg.compile.explain import UnknownKey
    from notifycfg.compile.explain import explain as run_explain
    from notifycfg.config.schema import replaced_paths
    from notifycfg.report import jsonout, text

    env = environment(env_dir, "explain")
    with usage_errors():
        env.require([org])
    try:
        items = run_explain(env.effective(org, track=True), key, replaced_paths())
    except UnknownKey as exc:
        raise UsageFailure(str(exc)) from None
    click.echo((jsonout if fmt == "json" else text).explain(items), nl=False)


@click.command()
@click.argument("env_a", metavar="ENV_A")
@click.argument("env_b", metavar="ENV_B")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def diff(env_a: str, env_b: str, fmt: str) -> None:
    """What differs in effective configuration, per organization. Exit 0 when equal, 1 when they differ."""
    from notifycfg.compile.diff import diff as run_diff
    from notifycfg.report import jsonout, text

    a, b = environment(env_a, "diff"), environment(env_b, "diff")
    result = run_diff(a.all_effective(), b.all_effective())
    click.echo((jsonout if fmt == "json" else text).diff(result, env_a, env_b), nl=False)
    finish(result.equal)
