"""`notifycfg export`, `plan`, `apply` and `import`: the repository and the running platform in step."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from notifycfg.cli.common import UsageFailure, environment, exit_with, format_option, refusals, usage_errors
from notifycfg.report import APPLY, PLAN

if TYPE_CHECKING:
    from notifycfg.platform.audit import AuditLog


def _proxy_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    import httpx

    if value is None:
        return None
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        # the value is never echoed: it may hold a password
        raise click.BadParameter("expected http://[USER:PASSWORD@]HOST:PORT", param=param)
    return value


_ORG = click.option("--org", "orgs", multiple=True, metavar="ID", help="Only this organization's partition (not the host's); repeatable.")


def _network(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--cafile", type=click.Path(exists=True, dir_okay=False), help="Trust this CA (PEM) instead of the system's."),
            click.option(
                "--timeout",
                type=click.FloatRange(0.1, 600),
                default=30.0,
                show_default=True,
                help="Seconds per HTTP call, end to end: connect, TLS, headers and the whole body.",
            ),
            click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True, help="Partitions handled at once."),
            click.option(
                "--proxy",
                metavar="URL",
                callback=_proxy_url,
                help="Reach the platform through this HTTP proxy (CONNECT; TLS verified end to end). "
                "Default: HTTPS_PROXY / HTTP_PROXY, minus NO_PROXY.",
            ),
        ]
    ):
        command = option(command)
    return command


def _options(cafile: str | None, timeout: float, concurrency: int, proxy: str | None, rotate: bool = False, reset: bool = False) -> Any:
    from notifycfg.platform.bridge import Options

    return Options(cafile=cafile, timeout=timeout, concurrency=concurrency, rotate_passwords=rotate, reset=reset, proxy=proxy)


def _valid(env_dir: str, orgs: tuple[str, ...], what: str, strict: bool = False) -> Any:
    env = environment(env_dir, what, strict)
    with usage_errors():
        env.require(orgs)
    return env


@click.command()
@click.argument("env_dir", metavar="ENV_DIR")
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False), help="Output directory (replaced as a whole).")
@_ORG
def export(env_dir: str, out: str, orgs: tuple[str, ...]) -> None:
    """Write the platform's PUT bodies, one file per partition (OUT/host.json, OUT/<org-id>.json), offline.

    Passwords stay references ({"env": "NAME"}); same input, same bytes. An
    organization at the platform's defaults gets no file (nothing is written to it).
    """
    from notifycfg.files import ReplaceRefused
    from notifycfg.platform.bridge import NoPlatform
    from notifycfg.platform.transfer import export_bodies, write_export

    env = _valid(env_dir, orgs, "export")
    try:
        files, defaults = export_bodies(env, sorted(set(orgs)) or None)
        write_export(Path(out), files)
    except (NoPlatform, ReplaceRefused) as exc:
        raise UsageFailure(str(exc)) from None
    except OSError as exc:
        raise UsageFailure(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"wrote {len(files)} partition file(s) to {out}")
    for org in defaults:
        click.echo(f"{org}: the platform's default mail settings (no file: nothing is written to its partition)")


@click.command()
@click.argument("env_dir", metavar="ENV_DIR")
@_ORG
@_network
@click.option("--rotate-passwords", is_flag=True, help="Plan to write every password again, changed or not.")
@format_option(PLAN)
def plan(
    env_dir: str,
    orgs: tuple[str, ...],
    cafile: str | None,
    timeout: float,
    concurrency: int,
    proxy: str | None,
    rotate_passwords: bool,
    fmt: str,
) -> None:
    """Read every partition's current settings and show, per partition, `in sync` or each key `old -> new`.

    Passwords cannot be compared: plan says when one would be written (a new
    server or login, a partition without custom settings yet, --rotate-passwords).
    No SMTP password is resolved. Exit 0 in sync, 1 changes pending, 2 usage,
    configuration, connection, authentication or permission problem.
    """
    from notifycfg.platform import bridge
    from notifycfg.platform.client import PlatformError
    from notifycfg.secrets import resolve

    env = _valid(env_dir, orgs, "plan")
    try:
        result = bridge.plan(env, sorted(set(orgs)) or None, resolve, _options(cafile, timeout, concurrency, proxy, rotate_passwords))
    except bridge.NoPlatform as exc:
        raise UsageFailure(str(exc)) from None
    except PlatformError as exc:
        raise UsageFailure(f"platform: {exc}") from None
    click.echo(PLAN[fmt](result), nl=False)
    exit_with(result)


@click.command()
@click.argument("env_dir", metavar="ENV_DIR")
@_ORG
@_network
@click.option("--rotate-passwords", is_flag=True, help="Write every password again, changed or not.")
@click.option(
    "--audit",
    metavar="FILE",
    help="Append one JSON line per partition written: time, actor, commit, environment, partition, keys, result.",
)
@click.option(
    "--reset",
    is_flag=True,
    help="Delete the email settings (Email.Smtp.*, by id) of a partition the repository leaves at defaults, "
    "so it uses the host's again; without it such a partition is left as it is.",
)
@format_option(APPLY)
def apply(
    env_dir: str,
    orgs: tuple[str, ...],
    cafile: str | None,
    timeout: float,
    concurrency: int,
    proxy: str | None,
    rotate_passwords: bool,
    audit: str | None,
    reset: bool,
    fmt: str,
) -> None:
    """Make the platform hold what the repository says: one PUT per partition that changes, carrying all its keys.

    The environment is validated strictly first. Each written partition is read
    back and every non-secret key confirmed. Prints per partition `applied`,
    `unchanged` or `failed: <class>: <reason>`. Only the passwords written are
    resolved. Exit 0 all applied or nothing to do, 1 some partition failed (the
    others stay applied; run it again to finish), 2 usage, configuration, or a
    refused token or unreachable platform before any write.
    """
    from notifycfg.platform import bridge
    from notifycfg.platform.client import PlatformError
    from notifycfg.secrets import resolve

    env = _valid(env_dir, orgs, "apply", strict=True)
    options = _options(cafile, timeout, concurrency, proxy, rotate_passwords, reset)
    with _audit_log(audit, env.root.resolve().name, env.root) as log:
        try:
            result = bridge.apply(env, sorted(set(orgs)) or None, resolve, options, log.record if log else None)
        except bridge.NoPlatform as exc:
            raise UsageFailure(str(exc)) from None
        except PlatformError as exc:
            raise UsageFailure(f"platform: {exc}; nothing applied") from None
    click.echo(APPLY[fmt](result), nl=False)
    exit_with(result)


@contextlib.contextmanager
def _audit_log(path: str | None, environment: str, root: Path) -> Iterator[AuditLog | None]:
    """The --audit file, open before any request (exit 2 if it cannot be), or None without the option."""
    from notifycfg.platform.audit import AuditLog, AuditRefused

    if path is None:
        yield None
        return
    try:
        log = AuditLog.open(path, environment, root)
    except AuditRefused as exc:
        raise UsageFailure(str(exc)) from None
    with log:
        yield log


@click.command(name="import")
@click.argument("env_dir", metavar="ENV_DIR", type=click.Path(file_okay=False))
@_network
def import_cmd(env_dir: str, cafile: str | None, timeout: float, concurrency: int, proxy: str | None) -> None:
    """Start a repository from a running platform: ENV_DIR holds only platform.yaml.

    Reads the host's and each mapped organization's settings and writes host.yaml
    and orgs/<id>.yaml. Passwords become references: {env: HOST_SMTP_PASSWORD},
    {env: <ORG_ID>_SMTP_PASSWORD}. An organization at the platform's defaults
    gets an empty file. The result validates before anything is written; existing
    files are never overwritten.
    """
    from notifycfg.platform.client import PlatformError
    from notifycfg.platform.transfer import import_platform
    from notifycfg.secrets import resolve

    try:
        with refusals("import"):
            written = import_platform(Path(env_dir), resolve, _options(cafile, timeout, concurrency, proxy))
    except PlatformError as exc:
        raise UsageFailure(f"platform: {exc}; nothing written") from None
    click.echo(f"wrote {len(written)} file(s) in {env_dir}: {', '.join(written)}")
