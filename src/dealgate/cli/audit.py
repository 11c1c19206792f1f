"""`dealgate audit`: a pipeline audited before the forecast call, in every report format.

The command checks its options and builds an `AuditRequest`; the application layer
(dealgate/application.py) runs it on a route; the command shows the run and renders its result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dealgate.cli import options
from dealgate.cli.console import (
    deliver,
    err,
    fail,
    guarded,
    needs_file,
    out,
    plain_text,
    refuse_to_replace_inputs,
    shown_path,
)
from dealgate.cli.live import SaveOption, TargetOrgOption, TimeoutOption, WhereOption, live_input
from dealgate.cli.options import (
    DEFAULT_PACK,
    AsOfOption,
    ContactsOption,
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
from dealgate.report.csv_layout import CsvRows
from dealgate.report.formats import (
    BASELINE_FORMATS,
    DOCUMENT_FORMATS,
    FORMATS,
    render_document,
    render_result,
)
from dealgate.report.ordering import ExceptionOrder

if TYPE_CHECKING:
    from dealgate.application import AuditRun
    from dealgate.audit import AuditResult, FailOn
    from dealgate.notify import NotifyRequest

app = typer.Typer(add_completion=False)


class AuditFormat(StrEnum):  # every one of report/formats.py's FORMATS
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    MARKDOWN = "markdown"
    JUNIT = "junit"
    HTML = "html"
    XLSX = "xlsx"
    PARQUET = "parquet"


@app.command("audit")
def audit(
    context: typer.Context,
    pipeline: Annotated[
        Path,
        typer.Argument(
            help="CRM export: CSV, XLSX, JSON, JSONL, YAML, Parquet; or the CRM's open "
            "pipeline: sf:, hubspot:."
        ),
    ],
    rules: PackOption = DEFAULT_PACK,
    contacts: ContactsOption = None,
    stage_history: StageHistoryOption = None,
    teams: TeamsOption = None,
    mapping: MappingOption = None,
    profile: ProfileOption = None,
    sheet: SheetOption = None,
    encoding: EncodingOption = None,
    as_of: AsOfOption = None,
    engine: EngineOption = "auto",
    spark_master: SparkMasterOption = None,
    owner: Annotated[list[str] | None, typer.Option(help="Only this owner (repeatable).")] = None,
    manager: Annotated[
        list[str] | None, typer.Option(help="Only this manager's team (repeatable).")
    ] = None,
    stage: Annotated[
        list[str] | None, typer.Option(help="Only this stage: id or CRM name (repeatable).")
    ] = None,
    closing_after: Annotated[
        str | None, typer.Option(help="Close date on or after: a date or a quarter (2026-Q4).")
    ] = None,
    closing_before: Annotated[
        str | None, typer.Option(help="Close date on or before: a date or a quarter.")
    ] = None,
    include_closed: Annotated[bool, typer.Option(help="Audit closed deals too.")] = False,
    include_met: Annotated[
        bool, typer.Option(help="List every deal and every finding, met ones too.")
    ] = False,
    output_format: Annotated[AuditFormat, typer.Option("--format")] = AuditFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option(help="Write the report to this file (atomically).")
    ] = None,
    fail_on: Annotated[
        str,
        typer.Option(
            help="Exit 1 when a skipped or hygiene finding of "
            "this severity is missing: required, recommended or "
            "never."
        ),
    ] = "required",
    waivers: WaiversOption = None,
    history: HistoryOption = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="A previous JSON audit: show what changed since (table, json, html, xlsx)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Exception rows in the table (0: all).")] = 50,
    sort: Annotated[
        ExceptionOrder,
        typer.Option(
            help="Order of the table's exception list: amount (each currency in turn, largest "
            "first), inflation, owner, or file (the export's order). Other formats keep file "
            "order."
        ),
    ] = ExceptionOrder.AMOUNT,
    csv_rows: Annotated[
        CsvRows,
        typer.Option(
            help="CSV report: one row per deal (its missing milestone ids by kind) or one "
            "row per finding."
        ),
    ] = CsvRows.DEAL,
    unmeasured_as_missing: UnmeasuredOption = False,
    notify: Annotated[
        list[str] | None,
        typer.Option(
            "--notify",
            help="Send the audit's headline to this apprise URL: Slack, Teams, email, a "
            "webhook (repeatable; docs/notify.md).",
        ),
    ] = None,
    notify_managers: Annotated[
        bool,
        typer.Option(
            help="Send each manager their own team's headline, to the address in the --teams "
            "file's Notify column."
        ),
    ] = False,
    notify_email_via: Annotated[
        str | None,
        typer.Option(
            help="The mailto:// URL of the email server that sends to the plain email "
            "addresses of the Notify column."
        ),
    ] = None,
    notify_link: Annotated[
        str | None,
        typer.Option(
            help="Where the team will find the report (a shared drive, an intranet page): "
            "every message links it, for the services that take no attachment."
        ),
    ] = None,
    notify_required: Annotated[
        bool, typer.Option(help="Exit 4 when a notification is not delivered.")
    ] = False,
    verbose: VerboseOption = False,
    save: SaveOption = None,
    where: WhereOption = None,
    timeout: TimeoutOption = None,
    target_org: TargetOrgOption = None,
) -> None:
    """Audit a pipeline before the forecast call: skipped milestones, evidence stage versus
    claimed stage, pipeline value at risk, per manager and owner.

    The open pipeline may be read straight from the CRM: `sf:` or `hubspot:`
    (docs/live-crm.md).

    Exit 0 when nothing fails --fail-on, 1 when a skipped or hygiene finding does, 2 when the
    pack or the file cannot be used, 4 with --notify-required when a notification is not
    delivered.
    """
    from dealgate.application import AuditRequest, run_audit_request
    from dealgate.audit import AuditFilters
    from dealgate.checking import stage_named
    from dealgate.deals.source import Reading
    from dealgate.judging.waivers import WaiverBook, load_waivers
    from dealgate.report.changes import check_comparable, load_baseline

    threshold = _fail_on(fail_on)
    if output is not None and str(output) == "-":
        output = None  # standard output, as with no --output
    inputs = {
        "the export": pipeline,
        "--contacts": contacts,
        "--stage-history": stage_history,
        "--teams": teams,
        "--waivers": waivers,
        "--baseline": baseline,
        "--save": save,  # what a live source read, kept
        "--mapping": mapping,
        "--rules": Path(rules) if Path(rules).is_file() else None,
        **{f"--history {number}": path for number, path in enumerate(history or (), 1)},
    }
    _check_output(output, output_format, inputs, mapping)
    if baseline is not None and output_format.value not in BASELINE_FORMATS:
        shown_in = ", ".join(BASELINE_FORMATS)
        fail(f"--baseline is shown in {shown_in}, not {output_format.value}")
    previous = guarded(lambda: load_baseline(baseline)) if baseline else None
    pack = options.pack(rules)
    if previous is not None and baseline is not None:
        guarded(lambda: check_comparable(previous, pack.id, shown_path(baseline)))
    day = options.as_of(as_of)
    chosen = options.engine(engine, pipeline, verbose, spark_master, pack)
    stage_ids = tuple(
        guarded(partial(stage_named, pack, name, "--stage")).id for name in stage or []
    )
    live = live_input(
        context,
        pipeline,
        pack,
        save=save,
        where=where,
        timeout=timeout,
        target_org=target_org,
        owners=tuple(owner or ()),
        stages=tuple(stage or ()),
    )
    if live is not None:
        pipeline, profile = live.path, profile or live.source.crm
    filters = AuditFilters(
        owners=tuple(owner or ()),
        managers=tuple(manager or ()),
        stages=stage_ids,
        closing_after=_close_date(closing_after, "--closing-after", end=False),
        closing_before=_close_date(closing_before, "--closing-before", end=True),
        include_closed=include_closed,
    )
    book = WaiverBook(guarded(lambda: load_waivers(waivers)), day) if waivers else None
    notifying = _notify_request(
        notify, notify_managers, notify_email_via, notify_link, teams, mapping
    )
    request = AuditRequest(
        pipeline=pipeline,
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
            label=live.source.label if live is not None else None,
            unread=live.unread if live is not None else (),
        ),
        filters=filters,
        fail_on=threshold,
        waivers=book,
        include_met=include_met,
        format=output_format.value,
        csv_rows=csv_rows,
        output=output,
        unmeasured_as_missing=unmeasured_as_missing,
        deals_read_after=False,
        compare_changes=baseline is not None,
        table_rows=(limit, sort),
        notify=bool(notifying),
    )
    with _progress(pipeline) as progress:
        run = guarded(lambda: run_audit_request(request, progress))
    _show_how_it_ran(run, verbose, pack.id == DEFAULT_PACK, output_format)
    if run.result is None:  # the columnar route wrote its report
        if output is not None:
            err.print(f"wrote {output}", markup=False)
    else:
        since = (previous.data, shown_path(baseline)) if previous and baseline else None
        report = _render_audit(
            run.result, output_format, include_met, threshold, limit, output, since, csv_rows, sort
        )
        if report is not None:
            deliver(report, output)
        if notifying and not _notified(run.result, notifying, output) and notify_required:
            raise typer.Exit(EXIT_NOT_NOTIFIED)
    if run.failing:
        raise typer.Exit(1)


def _fail_on(value: str) -> FailOn:
    from dealgate.audit import FailOn

    try:
        return FailOn(value)
    except ValueError:
        fail(f"--fail-on {value!r}: use required, recommended or never")


def _check_output(
    output: Path | None,
    output_format: AuditFormat,
    inputs: dict[str, Path | None],
    mapping: Path | None,
) -> None:
    """Stop (exit 2) before any work when --output would replace an input (the side tables a
    mapping joins too), or when a format of bytes has no --output."""
    if output is not None and mapping is not None:
        from dealgate.deals.mapping_file import joined_files

        joined = joined_files(mapping)
        inputs = inputs | {f"the side table '{name}' the mapping joins": f for name, f in joined}
    refuse_to_replace_inputs(output, inputs)
    needs_file(output_format.value, output)


def _close_date(value: str | None, option: str, *, end: bool) -> date | None:
    """--closing-after or --closing-before: a date or a quarter (2026-Q4)."""
    from dealgate.periods import day_or_quarter

    if value is None:
        return None
    try:
        return day_or_quarter(value, end=end)
    except ValueError:
        fail(f"{option} {value!r} is neither a date (YYYY-MM-DD) nor a quarter (YYYY-Q1..Q4)")


def _show_how_it_ran(
    run: AuditRun, verbose: bool, default_pack: bool, output_format: AuditFormat
) -> None:
    """On stderr: the route and what --history read (-v), how the file was read, and what the
    input cannot measure and the rows it rejected and its data findings, when the format does
    not show them."""
    if verbose and run.route is not None:
        err.print(f"reading: {run.route}", markup=False)
    if verbose:
        for detail in run.history:
            err.print(f"history: {detail}", markup=False)
    for note in run.notes:  # how the file was read, e.g. the columns deals are keyed by
        err.print(f"note: {note}", markup=False, style="dim")
    if run.profile == "hubspot" and default_pack:
        err.print(
            "note: this is a HubSpot export; --rules hubspot-default maps its stages and "
            "reads its associated-contact counts",
            markup=False,
            style="dim",
        )
    if not FORMATS[output_format.value].coverage and run.coverage is not None:
        from dealgate.report.coverage import coverage_text

        err.print(coverage_text(run.coverage), markup=False, end="")
    if not FORMATS[output_format.value].lists_data and run.data is not None:
        from dealgate.report.data_notice import data_text

        err.print(data_text(run.data, output_format.value), markup=False, end="")


EXIT_NOT_NOTIFIED = 4  # --notify-required: a notification was not delivered


def _notify_request(
    urls: list[str] | None,
    managers: bool,
    email_via: str | None,
    link: str | None,
    teams: Path | None,
    mapping: Path | None,
) -> NotifyRequest | None:
    """Where the headlines go, every URL checked before the audit
    runs; None without --notify or --notify-managers."""
    if not urls and not managers:
        if email_via is not None:
            fail("--notify-email-via sends to the teams file's addresses: add --notify-managers")
        if link is not None:
            fail("--notify-link is put in the messages of --notify or --notify-managers")
        return None
    from dealgate.deals.mapping_file import teams_columns
    from dealgate.deals.source import read_teams
    from dealgate.notify import notify_request

    if managers and teams is None:
        fail("--notify-managers needs --teams: a teams file with each manager's address")
    named = teams_columns(mapping) if mapping is not None else None
    team_file = guarded(lambda: read_teams(teams, named, mapping)) if managers and teams else None
    shown = shown_path(teams) if teams else ""
    return guarded(lambda: notify_request(urls or [], team_file, shown, email_via, link))


def _notified(result: AuditResult, request: NotifyRequest, output: Path | None) -> bool:
    """Send the headlines and say, on stderr, what came of each; whether all arrived."""
    from dealgate.notify import notify_audit

    report = output if output is not None and output.is_file() else None
    deliveries = notify_audit(result, request, report)
    for delivery in deliveries:
        who = f"{delivery.recipient} " if delivery.recipient else ""
        where = f"({delivery.target})" if who and delivery.target else delivery.target
        if delivery.delivered:
            attached = ", report attached" if delivery.attached else ""
            err.print(f"notified {who}{where}{attached}".rstrip(), markup=False)
        else:
            err.print(
                f"warning: not notified: {who}{where}: {delivery.reason}".replace(" :", ":"),
                markup=False,
                style="yellow",
            )
    return all(delivery.delivered for delivery in deliveries)


def _render_audit(
    result: AuditResult,
    output_format: AuditFormat,
    include_met: bool,
    fail_on: FailOn,
    limit: int,
    output: Path | None,
    baseline: tuple[dict[str, Any], str] | None = None,
    csv_rows: CsvRows = CsvRows.DEAL,
    sort: ExceptionOrder = ExceptionOrder.AMOUNT,
) -> Iterable[str] | bytes | None:
    """The report as chunks of text, or a workbook's bytes; None when it was printed to the
    terminal (a table). With a baseline (the previous audit's JSON and its file name), the
    report shows what changed since."""
    from dealgate.report.audit_json import audit_json, audit_json_chunks, compared_document
    from dealgate.report.audit_table import render_audit_table
    from dealgate.report.changes import compare

    # What changed since the baseline, and the JSON audit, which the html and xlsx reports read.
    changes = None
    if baseline is not None:
        changes = compare(baseline[0], compared_document(result, include_met), baseline[1])
    changed = changes.as_json() if changes is not None else None
    if output_format.value == "json":  # streamed, deal by deal
        return audit_json_chunks(result, include_met, changed)
    shape = audit_json(result, include_met) if output_format.value in DOCUMENT_FORMATS else {}
    if changed is not None:
        shape["changes"] = changed

    if output_format is AuditFormat.TABLE:
        table = render_audit_table(result, include_met, limit, changes, sort)
        if output is None:
            out.print(table)
            return None
        return [plain_text(table)]
    if output_format.value in DOCUMENT_FORMATS:
        spooled = result.streamed if output_format is AuditFormat.PARQUET else None
        return render_document(output_format.value, shape, spooled)
    return render_result(output_format.value, result, include_met, fail_on, csv_rows)


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[int], None] | None]:
    """A progress line on stderr for large inputs, only when stderr is a terminal."""
    if not err.is_terminal or path.stat().st_size < 5_000_000:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(f"auditing {path.name}", total=None)

        def advance(deals: int) -> None:
            progress.update(task, description=f"auditing {path.name}: {deals:,} deals")

        yield advance
