"""`dealgate check`: a rep's self-check of one deal before advancing it.

Imports only what a check of one deal runs (tests/test_startup.py): the audit, the SQL engine
and the reports of a pipeline are never imported here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dealgate.cli import options
from dealgate.cli.console import err, fail, guarded, out
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
from dealgate.errors import did_you_mean
from dealgate.rules.model import RulePack, Stage

if TYPE_CHECKING:
    from dealgate.deals.model import ReadDeal


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
    from dealgate.deals.source import Reading, with_history
    from dealgate.judging.assess import assess, request_for, with_waivers
    from dealgate.judging.coverage import Supply, measure
    from dealgate.report.checklist import readiness, render_checklist
    from dealgate.report.coverage import coverage_text
    from dealgate.report.json_report import deal_json, forecast_json, probability_json

    pack = options.pack(rules)
    day = options.as_of(as_of)
    chosen = options.engine(engine, verbose=verbose, spark_master=spark_master, pack=pack)
    book = None
    if waivers is not None:  # imported only when asked for: a rep's check starts fast
        from dealgate.waivers import WaiverBook, load_waivers

        book = WaiverBook(guarded(lambda: load_waivers(waivers)), day)
    live = live_input(
        context, file, pack, save=save, where=where, timeout=timeout, target_org=target_org
    )
    named = str(file)
    if live is not None:
        file, named, profile = live[0], live[1].label, profile or live[1].crm
    reading = Reading(
        profile,
        mapping,
        teams,
        contacts,
        sheet,
        encoding,
        stage_history=stage_history,
        history=options.history(history, day),
        label=named if live is not None else None,
    )
    source = guarded(lambda: reading.open(file, pack))
    reads = guarded(lambda: list(source))
    if not reads:
        rows = source.mapper.reconciliation.rows_read
        if not rows:
            fail(f"{named} holds no deal")
        # a deal without an id is rejected as it is read
        records = "1 record" if rows == 1 else f"{rows} records"
        fail(
            f"no record in {named} has a deal id ({records} read), so there is no deal to check",
            "give each deal an `id`, or name an export's id column with --mapping; then "
            "choose a deal with --id ID or --id NAME",
        )
    # A deal written by hand: a key the rep left out is missing, and they are asked for it.
    # A deal of an export: a field it has no column for is unmeasured.
    # A live deal is the CRM's record: a field it does not give is unmeasured, as in an export.
    exported = (
        len(reads) > 1 or source.table.format in ("csv", "xlsx", "parquet") or live is not None
    )
    supply = source.supply if exported else Supply.complete(named)
    if not exported and source.history is not None:
        supply = with_history(supply, source.history)
    if verbose and source.history is not None:
        for detail in source.history.notes:
            err.print(f"history: {detail}", markup=False)
    coverage = measure(pack, supply, as_missing=unmeasured_as_missing)
    pack = coverage.judged_pack
    if deal_id is not None:
        reads = _deals_chosen(reads, deal_id, named)
    if len(reads) != 1:
        shown = ", ".join(read.deal.id for read in reads[:5])
        more = f", and {len(reads) - 5} more" if len(reads) > 5 else ""
        fail(
            f"{named} holds {len(reads)} deals; choose one with --id",
            f"ids: {shown}{more}" if reads else "",
        )
    read = reads[0]
    to_stage = _to_stage(pack, to, read.stage_id)
    [evaluated] = guarded(
        lambda: list(chosen.evaluate(pack, [request_for(read, pack, to_stage)], day))
    )
    assessment = assess(pack, evaluated, as_of=day)
    if book is not None:  # a waived milestone counts as met, for readiness and the forecast
        assessment = with_waivers(pack, assessment, book)
    ready = readiness(assessment, pack, to_stage)
    findings = [f for f in source.findings if f.deal_id in (None, read.deal.id)]
    if output_format is DataFormat.JSON:
        report = {
            "as_of": day.isoformat(),
            "pack": {"id": pack.id, "title": pack.title},
            "engine": chosen.name,
            "ready": ready.ready,
            "verdict": ready.sentence(assessment),
            "deal": deal_json(assessment),
            "forecast": forecast_json(pack, assessment),
            "probability_ceiling": probability_json(pack, assessment),
            "data_findings": [finding.as_json() for finding in findings],
            "coverage": coverage.as_json(),
        }
        typer.echo(json.dumps(report, indent=2))
    else:
        out.print(render_checklist(assessment, pack, day, ready, findings))
        unmeasured = coverage_text(coverage.as_json())
        if unmeasured:
            out.print(f"\n{unmeasured.rstrip()}", style="magenta", markup=False)
    if not ready.ready:
        raise typer.Exit(1)


def _deals_chosen(reads: list[ReadDeal], asked: str, file: str) -> list[ReadDeal]:
    """The deals --id means: by CRM id, else by name (case ignored); exit 2 when none is, or
    when a name is several deals'."""
    from dealgate.deals.mapper import deal_key
    from dealgate.deals.profiles import header_key

    by_id = [read for read in reads if deal_key(read.deal.id) == deal_key(asked)]
    if by_id:
        return by_id
    by_name = [read for read in reads if header_key(read.deal.name or "") == header_key(asked)]
    if len(by_name) > 1:
        ids = ", ".join(read.deal.id for read in by_name)
        fail(f"{len(by_name)} deals in {file} are named {asked!r}; choose one by its id: {ids}")
    if not by_name:
        known = [read.deal.id for read in reads] + [read.deal.name or "" for read in reads]
        fail(f"no deal with id '{asked}' in {file}, nor by that name", did_you_mean(asked, known))
    return by_name


def _to_stage(pack: RulePack, to: str | None, current: str | None) -> Stage | None:
    if to is None:
        return None
    stage = options.stage_named(pack, to, "--to")
    if current is not None and stage.position <= pack.stage(current).position:
        fail(f"--to {stage.id} is not after the deal's stage {current}")
    return stage
