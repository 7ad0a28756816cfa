"""What every command shares: exit codes, usage errors, loading a valid environment."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Protocol, TypeVar

import click

if TYPE_CHECKING:
    from notifycfg.compile.environment import Environment

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class UsageFailure(click.ClickException):
    """A usage or environment error: one line on stderr, exit 2."""

    exit_code = EXIT_USAGE


F = TypeVar("F", bound=Callable[..., object])


class Judged(Protocol):
    """A result that knows its own exit code."""

    @property
    def exit_code(self) -> int: ...


def finish(ok: bool) -> NoReturn:
    sys.exit(EXIT_OK if ok else EXIT_PROBLEMS)


def exit_with(result: Judged) -> NoReturn:
    sys.exit(result.exit_code)


def format_option(registry: Mapping[str, object], help: str | None = None) -> Callable[[F], F]:
    """`--format`, its choices the registry's names: the CLI looks reporters up, never branches on a format."""
    return click.option("--format", "fmt", type=click.Choice(list(registry)), default="text", show_default=True, help=help)


@contextlib.contextmanager
def usage_errors() -> Iterator[None]:
    """The environment layer's usage errors (no such environment or organization) -> exit 2."""
    from notifycfg.compile.environment import NotAnEnvironment, UnknownOrganization

    try:
        yield
    except (NotAnEnvironment, UnknownOrganization) as exc:
        raise UsageFailure(str(exc)) from None


@contextlib.contextmanager
def refusals(what: str) -> Iterator[None]:
    """A Refused operation: `notifycfg: WHAT refused: ...` and its details on stderr, exit 1 (2 for usage)."""
    from notifycfg.config.problems import Refused

    try:
        yield
    except Refused as exc:
        click.echo(f"notifycfg: {what} refused: {exc.message}", err=True)
        for detail in exc.details:
            click.echo(f"  {detail}", err=True)
        sys.exit(EXIT_USAGE if exc.usage else EXIT_PROBLEMS)


def environment(path: str, what: str, strict: bool = False) -> Environment:
    """A valid environment (with `strict`, warnings count too), or the problems printed to stderr
    and exit (1 for compile, 2 otherwise)."""
    from notifycfg.compile.environment import load_environment
    from notifycfg.report import text

    with usage_errors():
        env, result = load_environment(path, strict=strict)
    if env is None:
        click.echo(text.validation(result, strict), err=True, nl=False)
        how = " (warnings count: validated strictly)" if strict else ""
        click.echo(f"notifycfg: {path} is not valid{how}: nothing to {what}", err=True)
        sys.exit(EXIT_PROBLEMS if what == "compile" else EXIT_USAGE)
    return env


def write_report(path: str, content: str) -> None:
    try:
        Path(path).write_text(content, encoding="utf-8")
    except OSError as exc:
        raise UsageFailure(f"cannot write {path}: {exc.strerror}") from None
