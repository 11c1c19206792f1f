"""`dealgate check`: a rep's self-check of one deal before advancing it.

Imports only what a check of one deal runs (tests/test_startup.py): the audit, the SQL engine
and the reports of a pipeline are never imported here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dealgate.cli import options
from dealgate.cli.console import err, guarded, out
from dealgate.cli.live import SaveOption, TargetOrgOption, TimeoutOption, WhereOption, live_input
from dealgate.cli.options import (
    DEFAULT_PACK,
    AsOfOption,
    ContactsOption,
    DataFormat,
    EncodingOption,
    EngineOption,
    HistoryOption,
    MappingOption,
    PackOption,
    ProfileOption,
    SheetOption,
    SparkMasterOption,
    StageHistoryOption,
    TeamsOption,
    UnmeasuredOption,
    VerboseOption,
    WaiversOption,
)

app = typer.Typer(add_completion=False)


@app.command("check")
def check(
    context: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="A deal file (YAML/JSON), a pipeline with --id, or a CRM's deal: "
            "sf:OPPORTUNITY_ID, hubspot:DEAL_ID."
        ),
    ],
    deal_id: Annotated[
        str | None,
        typer.Option("--id", help="The deal to check in a file of several: its id or its name."),
    ] = None,
    rules: PackOption = DEFAULT_PACK,
    to: Annotated[
        str | None,
        typer.Option("--to", help="Check through this stage (id or CRM name), not just the next."),
    ] = None,
    as_of: AsOfOption = None,
    engine: EngineOption = "auto",
    spark_master: SparkMasterOption = None,
    profile: ProfileOption = None,
    mapping: MappingOption = None,
    teams: TeamsOption = None,
    contacts: ContactsOption = None,
    stage_history: StageHistoryOption = None,
    sheet: SheetOption = None,
    encoding: EncodingOption = None,
    output_format: Annotated[DataFormat, typer.Option("--format")] = DataFormat.TABLE,
    waivers: WaiversOption = None,
    history: HistoryOption = None,
    unmeasured_as_missing: UnmeasuredOption = False,
    verbose: VerboseOption = False,
    save: SaveOption = None,
    where: WhereOption = None,
    timeout: TimeoutOption = None,
    target_org: TargetOrgOption = None,
) -> None:
    """A rep's self-check of one deal before advancing it: what is missing, why, how to get it.

    The deal may be read straight from the CRM: `sf:OPPORTUNITY_ID`, `hubspot:DEAL_ID`
    (docs/live-crm.md).

    Exit 0 when the deal is ready to advance, 1 when a required milestone is missing.
    """
    from dealgate.checking import CheckRequest, check_deal, read_deals
    from dealgate.deals.source import Reading
    from dealgate.report.checklist import render_checklist
    from dealgate.report.coverage import coverage_text
    from dealgate.report.json_report import check_json

    pack = options.pack(rules)
    day = options.as_of(as_of)
    chosen = options.engine(engine, verbose=verbose, spark_master=spark_master, pack=pack)
    book = None
    if waivers is not None:  # imported only when asked for: a rep's check starts fast
        from dealgate.judging.waivers import WaiverBook, load_waivers

        book = WaiverBook(guarded(lambda: load_waivers(waivers)), day)
    live = live_input(
        context, file, pack, save=save, where=where, timeout=timeout, target_org=target_org
    )
    named = str(file)
    if live is not None:
        file, named, profile = live.path, live.source.label, profile or live.source.crm
    request = CheckRequest(
        file=file,
        named=named,
        pack=pack,
        as_of=day,
        engine=chosen,
        reading=Reading(
            profile,
            mapping,
            teams,
            contacts,
            sheet,
            encoding,
            stage_history=stage_history,
            history=options.history(history, day),
            label=named if live is not None else None,
            unread=live.unread if live is not None else (),
        ),
        live=live is not None,
        deal_id=deal_id,
        to=to,
        waivers=book,
        unmeasured_as_missing=unmeasured_as_missing,
    )
    deals = guarded(lambda: read_deals(request))
    if verbose and deals.source.history is not None:
        for detail in deals.source.history.notes:
            err.print(f"history: {detail}", markup=False)
    run = guarded(lambda: check_deal(request, deals))
    if output_format is DataFormat.JSON:
        typer.echo(json.dumps(check_json(run, day, chosen.name), indent=2))
    else:
        out.print(render_checklist(run.assessment, run.pack, day, run.readiness, run.findings))
        unmeasured = coverage_text(run.coverage.as_json())
        if unmeasured:
            out.print(f"\n{unmeasured.rstrip()}", style="magenta", markup=False)
    if not run.readiness.ready:
        raise typer.Exit(1)
