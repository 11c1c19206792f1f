"""`dealgate report`: a saved JSON audit rendered again, without the rules or the export."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from dealgate.cli.console import (
    deliver,
    guarded,
    needs_file,
    refuse_to_replace_inputs,
    shown_path,
)

app = typer.Typer(add_completion=False)


class ReportFormat(StrEnum):  # the DOCUMENT_FORMATS: what a saved audit renders as
    HTML = "html"
    XLSX = "xlsx"
    JSON = "json"
    PARQUET = "parquet"


@app.command("report")
def report(
    audit: Annotated[Path, typer.Argument(help="An audit saved with --format json.")],
    output_format: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.HTML,
    output: Annotated[
        Path | None, typer.Option(help="Write the report to this file (atomically).")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="A previous JSON audit: show what changed since.")
    ] = None,
) -> None:
    """Render a saved JSON audit as the HTML page, the Excel workbook or the Parquet file,
    without the rules or the export; with --baseline, with the changes since an earlier audit."""
    from dealgate.report.saved_reports import render_saved

    if output is not None and str(output) != "-":
        refuse_to_replace_inputs(output, {"the saved audit": audit, "--baseline": baseline})
    needs_file(output_format.value, output)
    since = (baseline, shown_path(baseline)) if baseline is not None else None
    # the deals read one at a time, kept as the format shows them
    deliver(guarded(lambda: render_saved(audit, output_format.value, since)), output)
