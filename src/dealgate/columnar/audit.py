"""The columnar audit of a CSV (or text Parquet) export, written as the CSV report, in DuckDB."""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from dealgate.atomic import atomic_file
from dealgate.audit import AuditFilters, FailOn
from dealgate.columnar.canonical import CanonicalQuery, Export, Unsupported, ident, literal
from dealgate.columnar.canonical import install as install_reading
from dealgate.columnar.judge import (
    HYGIENE,
    SKIPPED,
    Judge,
    json_macros,
    stage_rows,
    statuses_sql,
)
from dealgate.deals.profiles import Profile
from dealgate.deals.readers import open_table
from dealgate.deals.source import choose_profile
from dealgate.engines.sql import ROW, EngineError
from dealgate.report.audit_csv import COLUMNS
from dealgate.rules.model import RulePack

_UTF8 = ("utf-8", "utf-8-sig")
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
    teams: Path | None = None
    contacts: Path | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class ColumnarOutcome:
    failing: int  # missing findings that fail --fail-on


def _export(path: Path, encoding: str | None) -> Export:
    table = open_table(path, encoding=encoding)
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
    profile, _ = choose_profile(export.headers, request.pack, request.profile, None, request.teams)
    canonical = CanonicalQuery(request.pack, profile, export, roles)
    spill = tempfile.mkdtemp(prefix="dealgate-duckdb-")
    try:
        connection = duckdb.connect(config={"temp_directory": spill})
    except duckdb.Error as error:
        shutil.rmtree(spill, ignore_errors=True)
        raise EngineError(f"DuckDB could not start: {error}") from None
    try:
        connection.execute("SET enable_progress_bar = false")  # dealgate's output only
        install_reading(connection)
        judge = Judge(request.pack, request.filters, canonical.read_keys(connection))
        for statement in json_macros():
            connection.execute(statement)
        connection.execute(
            f"CREATE TEMP VIEW dg_canonical AS {canonical.sql()} SELECT * FROM dg_deals"
        )
        _map_stages(connection, request.pack, profile, canonical)
        statuses = statuses_sql(request.pack, request.as_of)
        # Only deals that need attention are kept, in file order, their findings sorted
        # inside each; the report is then written by unnesting them in that order.
        connection.execute(
            f"CREATE TEMP TABLE dg_exception_deals AS WITH {judge.findings_sql(statuses)} "
            f"SELECT * FROM dg_exceptions ORDER BY {ident(ROW)}"
        )
        _write(connection, judge, output)
        return _outcome(connection, judge, request.fail_on)
    except duckdb.Error as error:
        raise EngineError(f"DuckDB could not audit {request.pipeline}: {error}") from None
    finally:
        connection.close()
        shutil.rmtree(spill, ignore_errors=True)


def _map_stages(
    connection: Any, pack: RulePack, profile: Profile, canonical: CanonicalQuery
) -> None:
    """The pack stage of each CRM stage text, and what applies to a deal at it."""
    texts = [text for (text,) in connection.execute(canonical.stage_texts_sql()).fetchall()]
    rows = stage_rows(pack, profile, texts)
    connection.execute(
        "CREATE TEMP TABLE dg_stage_map (crm VARCHAR, stage_id VARCHAR, "
        "position INTEGER, is_open BOOLEAN)"
    )
    if rows:
        connection.executemany(
            "INSERT INTO dg_stage_map VALUES (?, ?, ?, ?)",
            [(row.crm, row.stage_id, row.position, row.is_open) for row in rows],
        )
    last_open = pack.open_stages[-1].position
    connection.execute(
        f"""CREATE TEMP VIEW deals AS SELECT c.*, m.position AS stage,
            m.stage_id AS dg_stage_id, m.is_open AS dg_open,
            CASE WHEN m.stage_id IS NULL THEN -1 WHEN NOT m.is_open THEN {last_open}
                 ELSE m.position END AS dg_limit,
            (m.stage_id IS NULL OR m.is_open) AS dg_hygiene
            FROM dg_canonical AS c LEFT JOIN dg_stage_map AS m ON c.dg_crm_stage = m.crm"""
    )


def _safe(value: str) -> str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (safe_cell)."""
    return (
        f"CASE WHEN regexp_matches({value}, '^[=+\\-@\\t\\r]') THEN '''' || {value} "
        f"ELSE nullif({value}, '') END"
    )


def _report_columns(judge: Judge) -> str:
    """The CSV report's columns, as report/audit_csv.py writes them."""
    by_milestone = judge.finding_columns()
    disposition = (
        "CASE WHEN dg_re_date THEN 're-date' "
        "WHEN dg_inflation > 0 AND dg_evidence_id IS NOT NULL "
        "THEN 're-stage to ' || dg_evidence_id "
        "WHEN dg_inflation > 0 THEN 're-stage' ELSE 'keep' END"
    )
    values = {
        "deal_id": _safe("id"),
        "deal_name": _safe("name"),
        "owner": _safe("owner"),
        "manager": _safe("manager"),
        "stage": _safe("dg_crm_stage"),
        "stage_id": _safe("dg_stage_id"),
        "evidence_stage": _safe("dg_evidence_id"),
        "inflation": "dg_inflation",
        "amount": "dg_decimal_str(dg_amount_text)",
        "currency": _safe("currency"),
        # Dates, dispositions, kinds and the read values ('{...') never start like a
        # formula; the pack's own texts were made safe when the query was written.
        "close_date": "strftime(close_date, '%Y-%m-%d')",
        "disposition": disposition,
        "milestone_id": by_milestone["milestone_id"],
        "milestone": by_milestone["milestone"],
        "kind": "dg_f.kind",
        "status": "'missing'",
        "severity": by_milestone["severity"],
        "read": by_milestone["read"],
        "guidance": by_milestone["guidance"],
    }
    assert list(values) == COLUMNS
    return ", ".join(f"{sql} AS {ident(name)}" for name, sql in values.items())


def _write(connection: Any, judge: Judge, output: Path | None) -> None:
    """The report, written next to the target and renamed (atomic), or to stdout."""
    if output is not None:
        with atomic_file(output) as temporary:
            _copy_report(connection, judge, temporary)
        return
    with tempfile.TemporaryDirectory(prefix="dealgate-") as folder:
        report = Path(folder) / "report.csv"
        _copy_report(connection, judge, report)
        with report.open(encoding="utf-8", newline="") as stream:
            shutil.copyfileobj(stream, sys.stdout)


def _copy_report(connection: Any, judge: Judge, path: Path) -> None:
    """One row per missing finding, in the order the deals and their findings were kept."""
    connection.execute(
        f"COPY (SELECT {_report_columns(judge)} FROM "
        f"(SELECT *, unnest(dg_missing) AS dg_f FROM dg_exception_deals)) "
        f"TO {literal(str(path))} (FORMAT csv, HEADER true, NEW_LINE '\r\n')"
    )


def _outcome(connection: Any, judge: Judge, fail_on: FailOn) -> ColumnarOutcome:
    """How many missing findings fail the audit (--fail-on)."""
    severities = {
        FailOn.REQUIRED: "('required')",
        FailOn.RECOMMENDED: "('required', 'recommended')",
        FailOn.NEVER: "(NULL)",
    }[fail_on]
    severity = judge.finding_columns()["severity"]
    (failing,) = connection.execute(
        f"SELECT count(*) FROM (SELECT unnest(dg_missing) AS dg_f FROM dg_exception_deals) "
        f"WHERE dg_f.kind IN ({literal(SKIPPED)}, {literal(HYGIENE)}) "
        f"AND {severity} IN {severities}"
    ).fetchone()
    return ColumnarOutcome(int(failing))
