"""`smtp-harness serve` (also `python -m smtp_harness serve` and `notifycfg harness serve`).

Exit status: 0 after a clean stop (SIGINT/SIGTERM), 2 for a usage error or a
server that cannot start (port in use, unreadable certificate).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

import click

from smtp_harness import config as defaults

_FAULT_HELP = (
    "Inject a fault: STAGE=ACTION[,rcpt=REGEX][,nth=N][,probability=P,seed=S][,times=N]; "
    "STAGE ehlo|auth|mail|rcpt|data; ACTION a 4xx/5xx reply, drop or delay:SECONDS. Repeatable."
)


F = TypeVar("F", bound=Callable[..., object])


class UsageFailure(click.ClickException):
    exit_code = 2


def _users(pairs: tuple[str, ...]) -> dict[str, str]:
    users = {}
    for pair in pairs:
        user, sep, password = pair.partition(":")
        if not sep or not user:
            raise click.BadParameter("expected USER:PASS", param_hint="--auth")
        users[user] = password
    return users


def _http_auth(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise click.BadParameter("expected USER:PASS, both non-empty", param_hint="--http-auth")
    return user, password


def _count(name: str, default: int, help: str) -> Callable[[F], F]:
    """A limit: a whole number of at least 1, its default shown."""
    return click.option(name, type=click.IntRange(1), default=default, show_default=True, help=help)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def main() -> None:
    """A capturing SMTP server for tests and CI (aiosmtpd, TLS, AUTH, faults, an HTTP API)."""


@main.command()
@click.option("--host", default=defaults.DEFAULT_HOST, show_default=True, help="Address to bind (loopback unless told otherwise).")
@click.option("--smtp-port", "port", type=click.IntRange(0, 65535), default=2525, show_default=True, help="SMTP port; 0 picks a free one.")
@click.option("--http-port", type=click.IntRange(0, 65535), default=8025, show_default=True, help="HTTP API port; 0 picks a free one.")
@click.option("--no-http", is_flag=True, help="Do not start the HTTP API.")
@click.option(
    "--tls",
    type=click.Choice(defaults.TLS_MODES),
    default="off",
    show_default=True,
    help="starttls: offered on the plain port; implicit: TLS from the first byte (like port 465).",
)
@click.option("--require-tls", is_flag=True, help="With --tls starttls: refuse MAIL until STARTTLS.")
@click.option(
    "--cert", "certfile", type=click.Path(exists=True, dir_okay=False), help="Server certificate (PEM); default: a throwaway CA per run."
)
@click.option("--key", "keyfile", type=click.Path(exists=True, dir_okay=False), help="Private key for --cert.")
@click.option("--auth", "auth", multiple=True, metavar="USER:PASS", help="Accept this user (PLAIN, LOGIN); repeatable.")
@click.option("--auth-required", is_flag=True, help="Refuse MAIL from clients that did not authenticate.")
@click.option("--maildir", type=click.Path(file_okay=False), help="Also persist every message here before acknowledging it.")
@click.option("--fault", "faults", multiple=True, metavar="SPEC", help=_FAULT_HELP)
@_count("--size-limit", defaults.DEFAULT_SIZE_LIMIT, "Largest message (SIZE; 552 beyond).")
@click.option(
    "--idle-timeout",
    type=click.FloatRange(0.1),
    default=defaults.DEFAULT_IDLE_TIMEOUT,
    show_default=True,
    help="Seconds before an idle connection is closed.",
)
@_count("--max-messages", defaults.DEFAULT_MAX_MESSAGES, "Messages kept in memory.")
@_count("--max-rcpt", defaults.DEFAULT_MAX_RCPT, "Recipients per message; the next RCPT is answered 452 4.5.3.")
@_count("--max-parts", defaults.DEFAULT_MAX_PARTS, "MIME parts a message may have and still be parsed; past it, it is shown raw.")
@_count("--max-depth", defaults.DEFAULT_MAX_DEPTH, "MIME nesting levels a message may have and still be parsed; past it, it is shown raw.")
@_count(
    "--max-encoded-words",
    defaults.DEFAULT_MAX_ENCODED_WORDS,
    "RFC 2047 encoded words a header may hold and still be decoded; past it, it is shown as it came, with a note.",
)
@_count(
    "--max-header-decode", defaults.DEFAULT_MAX_HEADER_DECODE, "Bytes of one header's raw value decoded at most; past it, shown as it came."
)
@click.option("--http-auth", metavar="USER:PASS", help="Require HTTP basic auth for the page, the API and the live stream.")
@click.option(
    "--http-allowed-host",
    "http_allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Also accept this Host header (a DNS name the harness is reached by); repeatable.",
)
@click.option(
    "--http-public-without-auth",
    is_flag=True,
    help="DANGEROUS: let the HTTP server bind beyond loopback without --http-auth (captured mail open to the network).",
)
@click.option(
    "--on-full",
    type=click.Choice(defaults.ON_FULL),
    default="reject",
    show_default=True,
    help="When full: reject new messages with 452, or evict the oldest (counted in /api/stats).",
)
def serve(**given: object) -> None:
    """Serve until SIGINT/SIGTERM; prints `ready smtp=HOST:PORT http=HOST:PORT` once both listen.

    The inbox page is at http://HOST:PORT/, the JSON API under /api (described at
    /api/openapi.json; see docs/harness.md). Binding the HTTP server beyond
    loopback needs --http-auth.
    """
    from smtp_harness.serve import ServeError, run

    try:
        config = _config(given)
        config.check()
    except ValueError as exc:  # FaultError included: bad --fault, --auth or option combination
        raise UsageFailure(str(exc)) from None
    try:
        run(config)
    except ServeError as exc:
        raise UsageFailure(str(exc)) from None


def _config(given: dict[str, object]) -> defaults.HarnessConfig:
    """The options as HarnessConfig takes them: most by the same name (click's dest), these converted."""
    from smtp_harness.faults import parse_fault

    options = dict(given)
    options["http"] = not options.pop("no_http")
    options["users"] = _users(cast(tuple[str, ...], options.pop("auth")))
    options["faults"] = [parse_fault(spec) for spec in cast(tuple[str, ...], options["faults"])]
    options["http_auth"] = _http_auth(cast(str | None, options["http_auth"]))
    options["http_allowed_hosts"] = list(cast(tuple[str, ...], options["http_allowed_hosts"]))
    return defaults.HarnessConfig.from_options(options)
