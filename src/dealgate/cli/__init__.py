"""The command line: parse arguments, call the library, turn errors into messages and exit codes.

One module per command (group): check.py, audit.py, report.py, calibrate.py, sql.py, init.py,
rules.py (`dealgate rules ...`) and deals.py (`dealgate deals ...`), each with its own typer
app; options.py holds the options they share and their parsing, live.py the live source
options, console.py the output and the errors. Each command parses its options, builds a
request for the library (dealgate/application.py for an audit, dealgate/checking.py for a
check), and renders what comes back. Only the module of the command that runs is imported, and
it imports its heavy modules inside the command, so that `dealgate check` starts fast
(tests/test_startup.py, benchmarks/bench_check.py).

Exit codes: 0 fine, 1 a check or an audit found failures, 2 a usage error or an input (rule
pack, file) that cannot be used at all, or an output that cannot be written, 4 a notification
not delivered with `audit --notify-required`; dealgate/entry.py adds 3 (an internal error),
130 (Ctrl-C), 141 (standard output closed: `| head`) and 143 (SIGTERM).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from dealgate import __version__

# The module of each command, in the order `dealgate --help` lists them.
_COMMAND_MODULES = {
    "check": "dealgate.cli.check",
    "audit": "dealgate.cli.audit",
    "report": "dealgate.cli.report",
    "calibrate": "dealgate.cli.calibrate",
    "sql": "dealgate.cli.sql",
    "init": "dealgate.cli.init",
    "rules": "dealgate.cli.rules",
    "deals": "dealgate.cli.deals",
}
_GROUPS = ("rules", "deals")  # `dealgate deals` is a group of one command


class _Commands(TyperGroup):
    """The command group: a command's module is imported when it runs or help lists it (typer
    would build every command's options on each start); a closed standard output is told from
    a failing audit."""

    def list_commands(self, ctx: Any) -> list[str]:  # click's Context, which typer vendors
        return list(_COMMAND_MODULES)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        # A name that is no command loads them all, for click's "did you mean".
        for name in [cmd_name] if cmd_name in _COMMAND_MODULES else _COMMAND_MODULES:
            if name not in self.commands:
                self.add_command(_command(name), name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: Any) -> Any:  # click's Context, which newer typers vendor
        # Click turns BrokenPipeError into exit 1, the code of an audit that found failures;
        # dealgate/entry.py exits 141 (128 + SIGPIPE) for it, quietly, as Unix tools do.
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            from dealgate.entry import OutputClosed

            raise OutputClosed from None


app = typer.Typer(
    name="dealgate",
    cls=_Commands,
    help="Objective stage exit criteria for sales pipelines: check a deal, audit a pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _command(name: str) -> Any:
    """The click command (or group) of a command's module."""
    # __import__, not importlib.import_module: `python -X importtime` times it
    # (tests/test_startup.py, benchmarks/bench_check.py).
    commands: typer.Typer = __import__(_COMMAND_MODULES[name], fromlist=["app"]).app
    if name in _GROUPS:
        return typer.main.get_group(commands)
    return typer.main.get_command(commands)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dealgate {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """dealgate: objective, verifiable milestones for every stage of a sales process."""
    import os

    from dealgate.entry import TEST_CRASH

    if os.environ.get(TEST_CRASH) == "1":  # a test hook (docs/reliability.md), not a feature
        raise RuntimeError(f"{TEST_CRASH}=1 asked for a crash")
