"""The application layer: a request for an audit becomes a run, which picks the route.

The CLI parses and checks the options, builds an `AuditRequest`, and shows what the run
returns; it does not decide how the audit runs. The run takes the columnar route (DuckDB from
the CSV file to the CSV report, `dealgate/columnar`) when the engine is the SQL one, the format
is one that route writes (report/formats.py) and nothing asks for the Python readers; else the
Python route: readers, the engine deal by deal, judging, and a result every format renders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dealgate.audit import AuditFilters, FailOn
from dealgate.deals.source import Reading
from dealgate.report.csv_layout import CsvRows
from dealgate.report.formats import FORMATS
from dealgate.rules.model import RulePack

if TYPE_CHECKING:
    from dealgate.audit import AuditResult
    from dealgate.deals.source import DealSource
    from dealgate.engines.base import Engine
    from dealgate.judging.coverage import Coverage, Supply
    from dealgate.judging.waivers import WaiverBook
    from dealgate.report.audit_json import DealTaker
    from dealgate.report.data_notice import DataNotice
    from dealgate.report.ordering import ExceptionOrder


@dataclass(frozen=True)
class AuditRequest:
    """Everything an audit was asked for, checked by the command that asks."""

    pipeline: Path
    pack: RulePack
    as_of: date
    engine: Engine
    reading: Reading = field(default_factory=Reading)
    filters: AuditFilters = field(default_factory=AuditFilters)
    fail_on: FailOn = FailOn.REQUIRED
    waivers: WaiverBook | None = None
    include_met: bool = False
    format: str = "table"
    csv_rows: CsvRows = CsvRows.DEAL
    output: Path | None = None  # the columnar route writes its report here (None: stdout)
    unmeasured_as_missing: bool = False  # the strict reading of coverage
    kept_fields: tuple[str, ...] = ()  # deal fields each assessment keeps beyond the reported
    # Whether something reads every judged deal after the report (a library caller, by
    # default). When nothing does, the Python route keeps only what the report shows, as it
    # judges (`deal_taker`), and its memory stays flat.
    deals_read_after: bool = True
    # --baseline: every deal is also kept slim, as what changed since reads it
    # (report/changes.py `slim_deal`), whatever the report keeps of it.
    compare_changes: bool = False
    # The terminal table's rows: how many (--limit, 0 for all) and in which order (--sort).
    table_rows: tuple[int, ExceptionOrder] | None = None
    # --notify: the headlines are counted on the Python route as it judges (`HeadlineTally`)
    notify: bool = False

    @property
    def columnar_asked(self) -> bool:
        """The SQL engine and a format the columnar route writes."""
        return self.engine.name == "sql" and FORMATS[self.format].columnar

    def needs_python(self) -> str | None:
        """Why the columnar route cannot run an audit it was asked for, in words; None
        when it can."""
        if self.waivers is not None:
            return "waivers"
        if self.include_met:
            return "--include-met"
        if self.notify:
            return "--notify"
        return self.reading.needs_python()


@dataclass(frozen=True)
class AuditRun:
    """What an audit did: the route it took, and what fails --fail-on."""

    route: str | None  # the route, and why, in words (-v); None when only one was asked
    failing: int  # missing findings that fail --fail-on
    result: AuditResult | None = None  # the Python route's; the columnar one wrote its report
    profile: str | None = None  # the export's profile, as the Python readers chose it
    coverage: dict[str, Any] | None = None  # what the input could not measure (as JSON)
    notes: tuple[
        str, ...
    ] = ()  # said once: how the file was read, filters matching only closed deals
    history: tuple[str, ...] = ()  # with -v: what --history read, and which fields it derived
    data: DataNotice | None = None  # the rows rejected and the data findings, by kind


COLUMNAR = "columnar (DuckDB reads and judges the CSV)"
READ_AGAIN = "the Python readers read it again for its rejected rows and data findings"


def run_audit_request(
    request: AuditRequest, progress: Callable[[int], None] | None = None
) -> AuditRun:
    """The audit on the columnar route when it can run there, else on the Python route.

    Raises what the readers raise for a file they cannot use (InputError, UsageError).
    """
    if not request.columnar_asked:
        return _python(request, progress, None)
    reason = request.needs_python()
    if reason is None:
        outcome = _columnar(request)
        if isinstance(outcome, AuditRun):
            return outcome
        reason = outcome
    return _python(request, progress, f"Python readers (columnar path not taken: {reason})")


def _columnar(request: AuditRequest) -> AuditRun | str:
    """The columnar run, or why it stepped aside."""
    from dealgate.audit import FilterMatchesNothing
    from dealgate.columnar.audit import ColumnarRequest, run_columnar_audit
    from dealgate.columnar.canonical import Unsupported
    from dealgate.engines.sql import EngineError
    from dealgate.errors import InputError, UsageError

    reading = request.reading
    asked = ColumnarRequest(
        pipeline=request.pipeline,
        pack=request.pack,
        as_of=request.as_of,
        filters=request.filters,
        fail_on=request.fail_on,
        profile=reading.profile,
        mapping=reading.mapping,
        teams=reading.teams,
        contacts=reading.contacts,
        stage_history=reading.stage_history,
        encoding=reading.encoding,
        rows=request.csv_rows,
        unmeasured_as_missing=request.unmeasured_as_missing,
    )
    try:
        outcome = run_columnar_audit(asked, request.output)
    except (Unsupported, EngineError) as error:
        return str(error)
    except FilterMatchesNothing:
        raise  # the Python route would read the whole file to say the same
    except (InputError, UsageError):
        return "the Python reader reports what is wrong with the file"
    if outcome.data_doubt is None:
        route, data = COLUMNAR, None
    else:
        route = f"{COLUMNAR}; {READ_AGAIN} ({outcome.data_doubt})"
        data = _read_data(request)
    return AuditRun(
        route, outcome.failing, coverage=outcome.coverage.as_json(), notes=outcome.notes, data=data
    )


def _read_data(request: AuditRequest) -> DataNotice | None:
    """The rejected rows and data findings of an export the columnar route audited, as the
    Python readers report them: they read the inputs once more, without judging. Asked only
    when the columnar route saw that they may have something to report (`data_doubt`)."""
    from dealgate.report.data_notice import data_notice

    source = request.reading.open(request.pipeline, request.pack)
    for _ in source:
        pass
    mapper = source.mapper
    return data_notice(mapper.reconciliation.rows_read, mapper.rejected, source.findings)


def _unmeasured(coverage: Coverage) -> set[tuple[str, tuple[str, ...]]]:
    return {(entry.milestone.id, entry.lacks) for entry in coverage.unmeasured}


def _python_audit(
    request: AuditRequest,
    source: DealSource,
    progress: Callable[[int], None] | None,
    supply: Supply | None = None,
) -> AuditResult:
    from dealgate.audit import run_audit

    spool = None if request.deals_read_after else deal_taker(request)
    try:
        result = run_audit(
            source,
            request.pack,
            request.engine,
            request.as_of,
            request.filters,
            request.waivers,
            progress,
            include_met=request.include_met,
            unmeasured_as_missing=request.unmeasured_as_missing,
            supply=supply,
            kept_fields=request.kept_fields,
            deals_to=spool.take if spool is not None else None,
        )
    except BaseException:
        if spool is not None:
            spool.close()
        raise
    return spool.finish(result) if spool is not None else result


def deal_taker(request: AuditRequest) -> DealTaker | None:
    """Where the judged deals go when nothing reads them after the report: only what the
    report shows is kept (report/audit_json.py `DealTaker`), and with --baseline every deal
    slim; None keeps every deal."""
    taker = _report_taker(request)
    if taker is not None and request.compare_changes:
        taker.compare_changes()
    if taker is not None and request.notify:
        taker.tell_headlines()
    return taker


def _report_taker(request: AuditRequest) -> DealTaker | None:
    """What the report shows of the judged deals, kept as they come; None: every deal."""
    from dealgate.report.audit_json import DealSpool, LargestDeals

    asked = (request.include_met, request.fail_on)
    if request.format in ("json", "jsonl"):  # every deal, written to a spool
        return DealSpool(request.format, *asked)
    if request.format == "parquet":
        from dealgate.report.audit_parquet import ParquetSpool

        return ParquetSpool(*asked)
    if request.format == "csv":  # on the Python route (the columnar one writes inside DuckDB)
        from dealgate.report.audit_csv import CsvSpool

        return CsvSpool(request.csv_rows, *asked)
    if request.format == "markdown":
        from dealgate.report.audit_markdown import MarkdownSpool

        return MarkdownSpool(*asked)
    if request.format == "junit":
        from dealgate.report.audit_junit import JunitSpool

        return JunitSpool(*asked)
    listed = FORMATS[request.format].lists_largest
    if listed is not None:  # the HTML page and the workbook
        return LargestDeals(listed, *asked)
    if request.format == "table" and request.table_rows is not None:
        from dealgate.report.audit_table import FirstExceptions

        limit, order = request.table_rows
        return FirstExceptions(limit, order, *asked)
    return None


def _python(
    request: AuditRequest, progress: Callable[[int], None] | None, route: str | None
) -> AuditRun:
    from dealgate.judging.coverage import measure
    from dealgate.report.data_notice import data_notice

    source = request.reading.open(request.pipeline, request.pack)
    result = _python_audit(request, source, progress)
    supplied = source.supply
    if result.coverage is not None and _unmeasured(result.coverage) != _unmeasured(
        measure(request.pack, supplied)
    ):
        # A key first seen past the records the headers come from (JSON Lines peeks at the
        # first ones): judged again with what the whole file supplies, never as unmeasured.
        if result.streamed is not None:
            result.streamed.discard()
        source = request.reading.open(request.pipeline, request.pack)
        result = _python_audit(request, source, progress, supplied)
    coverage = result.coverage.as_json() if result.coverage is not None else None
    if result.streamed is not None:
        failing = result.streamed.failing
    else:
        failing = len(result.failing(request.fail_on))
    notes = (*source.mapper.notes, *result.notes)
    history = tuple(source.history.notes) if source.history is not None else ()
    data = data_notice(result.reconciliation.rows_read, result.rejected, result.data_findings)
    return AuditRun(route, failing, result, source.profile.name, coverage, notes, history, data)
