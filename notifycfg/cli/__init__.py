"""The command line: parse arguments, call one function, pick a reporter, exit."""

from notifycfg.cli.app import main, run

__all__ = ["main", "run"]
