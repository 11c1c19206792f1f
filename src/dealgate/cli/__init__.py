"""The command line: parse arguments, call the library, turn errors into messages and exit codes.

One module per command (group): check.py, audit.py, report.py, calibrate.py, sql.py, init.py,
rules.py (`dealgate rules ...`) and deals.py (`dealgate deals ...`); options.py holds the options
they share and their parsing, console.py the output and the errors. Each command parses its
options, builds a request for the library (dealgate/application.py for an audit), and renders
what comes back. A command module imports its heavy modules inside the command, so that every
command starts as fast as `dealgate check` (tests/test_startup.py).

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
from dealgate.cli import audit, calibrate, check, deals, init, report, rules, sql


class _Commands(TyperGroup):
    """The command group, telling a closed standard output from a failing audit."""

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
# In the order `dealgate --help` lists them.
app.command("check")(check.check)
app.command("audit")(audit.audit)
app.command("report")(report.report)
app.command("calibrate")(calibrate.calibrate)
app.command("sql")(sql.sql)
app.command("init")(init.init)
app.add_typer(rules.app, name="rules")
app.add_typer(deals.app, name="deals")


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


def main() -> None:
    """The console script: exit codes for crashes and signals (dealgate/entry.py)."""
    from dealgate.entry import main as entry_main

    entry_main()
