"""`dealgate deals ...`: how dealgate reads a deal file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dealgate.cli import options
from dealgate.cli.console import guarded, out
from dealgate.cli.options import (
    DEFAULT_PACK,
    ContactsOption,
    DataFormat,
    EncodingOption,
    MappingOption,
    ProfileOption,
    SheetOption,
    StageHistoryOption,
    TeamsOption,
)

app = typer.Typer(
    name="deals",
    help="Deal files: see how dealgate reads an export.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("inspect")
def deals_inspect(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX, JSON, JSONL, YAML or Parquet.")],
    rules: Annotated[
        str | None,
        typer.Option(
            "--rules",
            help=f"Rule pack: a bundled or ./rules pack id, or a file (default: {DEFAULT_PACK}; "
            "without it, a mapping file's stage ids that pack lacks are a note, not an error).",
        ),
    ] = None,
    profile: ProfileOption = None,
    mapping: MappingOption = None,
    teams: TeamsOption = None,
    contacts: ContactsOption = None,
    stage_history: StageHistoryOption = None,
    sheet: SheetOption = None,
    encoding: EncodingOption = None,
    output_format: Annotated[DataFormat, typer.Option("--format")] = DataFormat.TABLE,
    limit: Annotated[int, typer.Option(help="Data findings listed (0: all).")] = 20,
) -> None:
    """Show how a deal file is read: format, profile, each column, stages, findings."""
    from dealgate.deals.inspect import inspect_deals
    from dealgate.deals.source import Reading
    from dealgate.report.inspection import render_inspection

    pack = options.pack(rules or DEFAULT_PACK)
    reading = Reading(
        profile,
        mapping,
        teams,
        contacts,
        sheet,
        encoding,
        stage_history=stage_history,
        pack_named=bool(rules),
    )
    inspection = guarded(lambda: inspect_deals(reading.open(file, pack), pack))
    if output_format is DataFormat.JSON:
        typer.echo(json.dumps(inspection.as_json(), indent=2, default=str))
        return
    out.print(render_inspection(inspection, finding_limit=limit or 10**9))
