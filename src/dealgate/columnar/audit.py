"""The columnar audit of a CSV (or text Parquet) export, written as the CSV report, in DuckDB."""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlglot import exp

from dealgate.atomic import atomic_file
from dealgate.audit import AuditFilters, FailOn, FilterTally
from dealgate.columnar.canonical import CanonicalQuery, Export, Unsupported, literal
from dealgate.columnar.canonical import install as install_reading
from dealgate.columnar.judge import (
    Judge,
    StageRow,
    stage_rows,
    staged_deals,
    statuses_query,
)
from dealgate.deals.normalise import clean_text, is_placeholder
from dealgate.deals.opportunity_history import HistoryTally
from dealgate.deals.profiles import Profile
from dealgate.deals.readers import open_table
from dealgate.deals.source import choose_profile, supplied_fields
from dealgate.engines.dialects import func
from dealgate.engines.sql import ROW, EngineError
from dealgate.errors import OutputError
from dealgate.findings import DataFinding, FindingKind
from dealgate.interrupts import interruptible
from dealgate.judging.coverage import Coverage, measure
from dealgate.report.cell_writing import sql_macros as writing_macros
from dealgate.report.csv_layout import DEAL_COLUMNS, FINDING_COLUMNS, CsvRows
from dealgate.rules.model import RulePack

_UTF8 = ("utf-8", "utf-8-sig")
# A wider file is read by the Python readers: DuckDB's plan grows with every column.
WIDEST = 1_000
# DuckDB's own memory limit (80% of the machine's memory) is kept: with a tight one (1 GB)
# the audit of 1M deals spilled its sort to disk and took 588 s instead of 76 s.


@dataclass(frozen=True)
class ColumnarRequest:
    """Everything an audit asked for that the columnar path reads."""

    pipeline: Path
    pack: RulePack
    as_of: date
    filters: AuditFilters
    fail_on: FailOn
    profile: str | None = None
    mapping: Path | None = None
    teams: Path | None = None
    contacts: Path | None = None
    stage_history: Path | None = None  # Salesforce's OpportunityHistory export
    encoding: str | None = None
    rows: CsvRows = CsvRows.DEAL
    threads: int | None = None  # DuckDB's threads; None: one per core
    unmeasured_as_missing: bool = False  # the strict reading of coverage


@dataclass(frozen=True)
class ColumnarOutcome:
    failing: int  # missing findings that fail --fail-on
    coverage: Coverage  # what the export could not measure
    notes: tuple[
        str, ...
    ] = ()  # said once: how the file was read, filters matching only closed deals
    # Why the Python readers may report rejected rows or data findings of the inputs, which
    # this route does not read (`_data_doubts`); None when they cannot.
    data_doubt: str | None = None


def _export(path: Path, encoding: str | None) -> Export:
    table = open_table(path, encoding=encoding)
    if len(table.headers) > WIDEST:
        raise Unsupported(
            f"{path.name} has {len(table.headers):,} columns, over the {WIDEST:,} DuckDB reads "
            "well (10,000 columns took it 66 s and 1.1 GB, the Python readers 1.7 s)"
        )
    if table.format == "parquet":
        return _parquet_export(path, table.headers)
    if table.format != "csv":
        raise Unsupported(f"{path.name} is {table.format}, not CSV or Parquet")
    if (table.encoding or "").lower() not in _UTF8:
        raise Unsupported(f"{path.name} is {table.encoding} text (DuckDB reads UTF-8)")
    return Export(path, table.headers, table.delimiter or ",")


def _parquet_export(path: Path, headers: list[str]) -> Export:
    """A Parquet file of text columns reads as a CSV file does; typed columns (numbers,
    dates, ...) are read by the Python readers, which keep their native values."""
    import pyarrow as pa
    import pyarrow.parquet as parquet

    schema = parquet.read_schema(path)
    typed = [
        field.name
        for field in schema
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type))
    ]
    if typed:
        raise Unsupported(f"{path.name} has columns that are not text ({', '.join(typed[:3])})")
    return Export(path, headers, format="parquet")


def run_columnar_audit(request: ColumnarRequest, output: Path | None) -> ColumnarOutcome:
    """Audit the export in DuckDB and write the CSV report to output (or stdout).

    Raises Unsupported when the input needs something only the Python path reads, and
    EngineError when DuckDB cannot read the file as the Python reader would.
    """
    import duckdb

    export = _export(request.pipeline, request.encoding)
    roles = _export(request.contacts, None) if request.contacts is not None else None
    team_findings: list[DataFinding] = []
    profile, _ = choose_profile(
        export.headers,
        request.pack,
        request.profile,
        request.mapping,
        request.teams,
        export=request.pipeline.name,
        findings=team_findings,
    )
    history = _export(request.stage_history, None) if request.stage_history is not None else None
    canonical = CanonicalQuery(request.pack, profile, export, roles, history)
    contacts = str(request.contacts) if request.contacts is not None else None
    supply = supplied_fields(
        canonical.plan,
        profile,
        f"the columns of {export.path}",
        contacts,
        keyed_by_names=canonical.id_key is not None,
        stage_history=str(request.stage_history) if request.stage_history is not None else None,
    )
    coverage = measure(request.pack, supply, as_missing=request.unmeasured_as_missing)
    pack = coverage.judged_pack
    spill = tempfile.mkdtemp(prefix="dealgate-duckdb-")
    try:
        config: dict[str, str | bool | int | float | list[str]] = {"temp_directory": spill}
        if request.threads is not None:
            config["threads"] = request.threads
        connection = duckdb.connect(config=config)
    except duckdb.Error as error:
        shutil.rmtree(spill, ignore_errors=True)
        raise EngineError(f"DuckDB could not start: {error}") from None
    try:
        # Ctrl-C and SIGTERM stop a long query at once (dealgate/interrupts.py).
        with interruptible(connection):
            connection.execute("SET enable_progress_bar = false")  # dealgate's output only
            install_reading(connection)
            judge = Judge(pack, request.filters, canonical.read_keys(connection))
            # how a cell is written (report/cell_writing.py); what a finding read is written
            # only in a row per finding
            reads = judge.read_macros() if request.rows is CsvRows.FINDING else writing_macros()
            for statement in reads:
                connection.execute(statement)
            connection.execute(
                f"CREATE TEMP VIEW dg_canonical AS {canonical.sql()} SELECT * FROM dg_deals"
            )
            stages = _map_stages(connection, pack, profile, canonical)
            doubt = _data_doubt(connection, request, canonical, stages, bool(team_findings))
            notes = (*_history_tally(connection, canonical), *_check_filters(connection, request))
            statuses = statuses_query(pack, request.as_of)
            keep = _keep_exceptions(judge, statuses, canonical, request.rows, request.fail_on)
            if not canonical.numbered:
                _check_order(connection, keep)
            connection.execute(keep)
            _write(connection, judge, request.rows, output)
            failing = _failing(connection)
            return ColumnarOutcome(failing, coverage, (*canonical.notes, *notes), doubt)
    except duckdb.Error as error:
        raise EngineError(f"DuckDB could not audit {request.pipeline}: {error}") from None
    finally:
        connection.close()
        shutil.rmtree(spill, ignore_errors=True)


def _keep_exceptions(
    judge: Judge,
    statuses: exp.Select,
    canonical: CanonicalQuery,
    rows: CsvRows,
    fail_on: FailOn,
) -> str:
    """The deals that need attention, kept once, in file order, for the report and the
    failing count. DuckDB keeps the order it read through every step but a join: only deals
    joined with their contact roles are numbered and sorted back.

    Each deal's count of failing findings is counted here, by every thread, and for a row
    per deal its cells of the report are written here too: the report's COPY, which runs on
    one thread, then only lays them out (1.54-1.61x from 1 to 2 threads at 1M deals instead
    of 1.43-1.55x; docs/performance.md). A row per finding keeps the judged columns
    instead, to unnest the findings: its deal cells, repeated per finding, are written by
    the COPY (kept here, they held 2.5 GB instead of 1.6 GB at 10M deals)."""
    cells: list[exp.Expr] = [exp.Star()]
    if rows is CsvRows.DEAL:
        cells = [_as_cell(name, value) for name, value in _deal_cells(judge).items()]
    failing = exp.alias_(judge.failing(fail_on.severities), "dg_failing")
    exceptions = judge.exceptions_query(statuses).select(*cells, failing, append=False)
    if canonical.numbered:
        exceptions = exceptions.order_by(exp.column(exp.to_identifier(ROW, quoted=True)))
    return _create_temporary("TABLE", "dg_exception_deals", exceptions)


def _create_temporary(kind: str, name: str, query: exp.Query) -> str:
    """CREATE TEMPORARY TABLE (or VIEW) name AS query, as DuckDB's text."""
    create = exp.Create(
        this=exp.to_table(name),
        kind=kind,
        expression=query,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )
    return create.sql(dialect="duckdb")


def _map_stages(
    connection: Any, pack: RulePack, profile: Profile, canonical: CanonicalQuery
) -> list[StageRow]:
    """The pack stage of each CRM stage text, as its position (`stage`) and id."""
    texts = {clean_text(cell) for cell in canonical.stage_cells}
    rows = stage_rows(pack, profile, sorted(t for t in texts if t and not is_placeholder(t)))

    connection.execute(_create_temporary("VIEW", "deals", staged_deals(rows, "dg_canonical")))
    return rows


def _data_doubt(
    connection: Any,
    request: ColumnarRequest,
    canonical: CanonicalQuery,
    stages: list[StageRow],
    team_findings: bool,
) -> str | None:
    """Why the Python readers may report a rejected row or a data finding of the inputs;
    None when they cannot. This route reads no data findings: it only tells when the
    readers must be asked (application.py), from what it knows and one more scan."""
    if request.contacts is not None or request.stage_history is not None:
        return "the side files are read for their findings by the Python readers"
    if team_findings:
        return "the teams file has data findings"
    if any(row.stage_id is None for row in stages):  # blank ones are counted in the scan
        return "a stage is no stage of the pack"
    rows, duplicates = connection.execute(canonical.data_check_sql()).fetchone()
    if rows:
        return f"{rows:,} rows may be rejected or have a cell read as missing"
    if duplicates:
        return "deal ids may be duplicated"
    return None


def _history_tally(connection: Any, canonical: CanonicalQuery) -> tuple[str, ...]:
    """Where every row of the stage history file went, as the Python reader's note says."""
    history = canonical.history_file
    if history is None:
        return ()
    (rows_read,) = connection.execute(
        f"SELECT count(*) FROM {canonical.source(history)}"
    ).fetchone()
    changes, repeats, unknown, deals = connection.execute(
        f"""WITH dg_rows AS ({canonical.history_rows_sql()}),
            dg_known AS ({canonical.deal_keys_sql()})
        SELECT count(*) FILTER (WHERE k.dg_key IS NOT NULL AND r.dg_starts),
            count(*) FILTER (WHERE k.dg_key IS NOT NULL AND NOT r.dg_starts),
            count(*) FILTER (WHERE k.dg_key IS NULL),
            count(DISTINCT r.dg_key) FILTER (WHERE k.dg_key IS NOT NULL)
        FROM dg_rows AS r LEFT JOIN dg_known AS k ON k.dg_key = r.dg_key"""
    ).fetchone()
    left_out = rows_read - changes - repeats - unknown  # no id, no stage, or no readable date
    tally = HistoryTally(rows_read, changes, repeats, unknown, left_out, deals)
    own = any("stage_history" in (use.kind, use.field) for use in canonical.plan)
    return (tally.describe(str(history.path), replaces=own),)


def _safe(column: str) -> exp.Expr:
    """Formula-safe text, blank as an empty cell (report/cell_writing.py)."""
    return func("dg_safe_text", exp.column(column))


def _deal_values(judge: Judge) -> dict[str, exp.Expr]:
    """The columns every row of the report starts with: the deal and its judgement."""
    return {
        "deal_id": _safe("id"),
        "deal_name": _safe("name"),
        "owner": _safe("owner"),
        "manager": _safe("manager"),
        "stage": _safe("dg_crm_stage"),
        "stage_id": _safe("dg_stage_id"),
        "evidence_stage": _safe("dg_evidence_id"),
        "inflation": exp.column("dg_inflation"),
        "amount": func("dg_amount_text", exp.column("dg_amount_text")),
        "currency": _safe("currency"),
        # Dates, dispositions, kinds and the read values ('{...') never start like a
        # formula; the pack's own texts were made safe when the query was written.
        "close_date": func("dg_date_text", exp.column("close_date")),
        "disposition": judge.disposition(),
    }


# The columns of a row per deal that list missing milestone ids, by kind.
_MISSING_IDS = {
    "skipped": FindingKind.SKIPPED,
    "hygiene": FindingKind.HYGIENE,
    "to_advance": FindingKind.TO_ADVANCE,
}


def _deal_cells(judge: Judge) -> dict[str, exp.Expr]:
    """The cells of a row per deal that DuckDB writes as it judges (all but `waived`)."""
    missing = {name: judge.missing_ids(kind) for name, kind in _MISSING_IDS.items()}
    return {**_deal_values(judge), **missing}


def _cell(name: str) -> exp.Identifier:
    """The column of the kept deals that holds a report cell (`dg_cell_<column>`)."""
    return exp.to_identifier(f"dg_cell_{name}", quoted=True)


def _as_cell(name: str, value: exp.Expr) -> exp.Expr:
    return exp.alias_(value, _cell(name))


def _kept_cells(names: list[str]) -> dict[str, exp.Expr]:
    return {name: exp.column(_cell(name)) for name in names}


def _deal_rows(judge: Judge) -> exp.Select:
    """One row per deal: its missing milestone ids by kind (report/audit_csv.py)."""
    values = {
        **_kept_cells(list(_deal_cells(judge))),
        "waived": exp.null(),  # waivers are read on the Python path only
    }
    assert list(values) == DEAL_COLUMNS
    return _report_rows(values).from_("dg_exception_deals")


def _finding_rows(judge: Judge) -> exp.Select:
    """One row per missing finding (report/audit_csv.py), `dg_m` the milestone's index."""
    by_milestone = judge.finding_columns()
    values = {
        **_deal_values(judge),
        "milestone_id": by_milestone["milestone_id"],
        "milestone": by_milestone["milestone"],
        "kind": by_milestone["kind"],
        "status": exp.Literal.string("missing"),
        "severity": by_milestone["severity"],
        "read": by_milestone["read"],
        "guidance": by_milestone["guidance"],
    }
    assert list(values) == FINDING_COLUMNS
    findings = exp.select(
        exp.Star(), exp.alias_(func("unnest", judge.missing_indexes()), "dg_m")
    ).from_("dg_exception_deals")
    return _report_rows(values).from_(findings.subquery())


def _report_rows(values: dict[str, exp.Expr]) -> exp.Select:
    return exp.select(
        *(exp.alias_(value, exp.to_identifier(name, quoted=True)) for name, value in values.items())
    )


def _write(connection: Any, judge: Judge, rows: CsvRows, output: Path | None) -> None:
    """The report, written next to the target and renamed (atomic), or to stdout.

    Raises OutputError when the file cannot be written (a folder that cannot be written, a
    full disk): the Python route could not write it either, so it is not run instead."""
    import duckdb

    if output is not None:
        try:
            with atomic_file(output) as temporary:
                try:
                    _copy_report(connection, judge, rows, temporary)
                except duckdb.IOException as error:
                    raise OutputError(output, _duckdb_reason(error)) from None
        except OSError as error:
            raise OutputError(output, error.strerror or error) from None
        return
    with tempfile.TemporaryDirectory(prefix="dealgate-") as folder:
        report = Path(folder) / "report.csv"
        _copy_report(connection, judge, rows, report)
        with report.open(encoding="utf-8", newline="") as stream:
            shutil.copyfileobj(stream, sys.stdout)


def _duckdb_reason(error: Exception) -> str:
    """Why DuckDB could not write: the system's words for its errno when it gives one
    ('No space left on device'), else its message without the 'IO Error: ' prefix."""
    import os
    import re

    number = re.search(r'"errno":\s*"?(\d+)', str(error))
    if number is not None:
        return os.strerror(int(number[1]))
    return str(error).removeprefix("IO Error: ").strip()


def _copy_statement(judge: Judge, rows: CsvRows, path: Path) -> str:
    """One row per deal, or per missing finding, in the order the deals were kept."""
    rows_query = _deal_rows(judge) if rows is CsvRows.DEAL else _finding_rows(judge)
    query = rows_query.sql(dialect="duckdb")
    # the statement around the query stays DuckDB's text: sqlglot writes COPY's options
    # as `WITH (...)`, and nothing but DuckDB runs it
    return f"COPY ({query}) TO {literal(str(path))} (FORMAT csv, HEADER true, NEW_LINE '\r\n')"


def _copy_report(connection: Any, judge: Judge, rows: CsvRows, path: Path) -> None:
    """The report written to path, in the file's order (checked first)."""
    copy = _copy_statement(judge, rows, path)
    _check_order(connection, copy)
    # Two threads write the rows of a finding per row 1.3 s sooner at 1M deals, but hold
    # 850 MB instead of 320 MB keeping batches in order; a row per deal, its cells written
    # as it was judged, no sooner at 10M deals (26.5-33.4 s against 28.0-30.9 s) for 2.3 GB
    # instead of 1.45 GB: the report is written by one.
    connection.execute("SET threads = 1")  # the last step: nothing after it is heavy
    connection.execute(copy)


# The sinks DuckDB plans when their input keeps the order it was read in: it writes each
# batch of rows in its place, however many threads run.
_ORDERED_SINKS = ("Batch Create Table As", "Batch Copy To File")


def _check_order(connection: Any, statement: str) -> None:
    """The report lists deals in the file's order. DuckDB keeps it through a plan without
    a join or an aggregate, and says so by choosing a batch sink; when it does not, the
    audit runs on the Python path rather than write rows out of order.

    The plan is asked for at two threads at least: at one, DuckDB plans no batch sink, but a
    plan with a join still lost the order (a report written by one thread came out of order
    when the formula guard was an IN list)."""
    (threads,) = connection.execute("SELECT current_setting('threads')").fetchone()
    if int(threads) < 2:
        connection.execute("SET threads = 2")
    try:
        explained = connection.execute(f"EXPLAIN {statement}").fetchall()
    finally:
        if int(threads) < 2:
            connection.execute(f"SET threads = {int(threads)}")
    plan = "\n".join(str(row[-1]) for row in explained)
    if not any(sink in plan for sink in _ORDERED_SINKS):
        raise Unsupported("DuckDB's plan for this audit would not keep the file's order of deals")


def _check_filters(connection: Any, request: ColumnarRequest) -> tuple[str, ...]:
    """AuditFilters.check_values on the deals' owners, managers and stages, before any
    report is written. One more scan of the export, only when a filter names values."""
    filters = request.filters
    if not filters.by_value:
        return ()
    tally = FilterTally()
    for owner, manager, position, deals in connection.execute(
        "SELECT owner, manager, stage, count(*) FROM deals GROUP BY ALL"
    ).fetchall():
        tally.add(owner, manager, position, deals)
    return tuple(filters.check_values(tally, request.pack, str(request.pipeline)))


def _failing(connection: Any) -> int:
    """How many missing findings fail the audit (--fail-on), counted as the deals were kept."""
    total = exp.Coalesce(
        this=exp.Sum(this=exp.column("dg_failing")), expressions=[exp.Literal.number(0)]
    )
    query = exp.select(total).from_("dg_exception_deals")
    (failing,) = connection.execute(query.sql(dialect="duckdb")).fetchone()
    return int(failing)
