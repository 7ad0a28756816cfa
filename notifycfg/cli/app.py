"""The `notifycfg` command group and the console-script entry point.

Each command lives in the module of its room (validate_cmd, compile_cmds,
notify_cmds, promote_cmd) and imports its room only when it runs, so
`notifycfg validate` pays for nothing else. The harness's commands belong to
smtp_harness and are loaded only when asked for.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import click

from notifycfg import __version__
from notifycfg.cli.common import EXIT_USAGE
from notifycfg.cli.compile_cmds import compile_cmd, diff, explain
from notifycfg.cli.doctor_cmd import doctor
from notifycfg.cli.notify_cmds import check, flows, send_test
from notifycfg.cli.platform_cmds import apply, export, import_cmd, plan
from notifycfg.cli.promote_cmd import promote
from notifycfg.cli.providers_cmd import providers
from notifycfg.cli.validate_cmd import validate


class _HarnessGroup(click.Group):
    """`notifycfg harness ...` is smtp_harness's own command line, imported on first use."""

    def _commands(self) -> click.Group:
        from smtp_harness.cli import main as harness_main

        return harness_main

    def list_commands(self, ctx: click.Context) -> list[str]:
        return ["serve"]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._commands().get_command(ctx, cmd_name) if cmd_name in self.list_commands(ctx) else None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="notifycfg")
def main() -> None:
    """Email-notification settings as code: validate, compile, test end to end, promote.

    An environment is a directory with host.yaml, orgs/<org-id>.yaml and
    flows/<name>.yaml. Exit status: 0 good, 1 problems found, 2 usage or
    environment error.
    """


@main.group(cls=_HarnessGroup)
def harness() -> None:
    """The bundled SMTP test server (smtp_harness)."""


for _command in (
    validate,
    compile_cmd,
    explain,
    diff,
    flows,
    check,
    send_test,
    promote,
    doctor,
    export,
    plan,
    apply,
    import_cmd,
    providers,
):
    main.add_command(_command)


def run(entry: Callable[..., object] = main) -> None:
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
