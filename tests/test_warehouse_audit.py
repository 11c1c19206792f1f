"""`dealgate sql --judged`: the whole audit as one warehouse query, run on real DuckDB, a real
PostgreSQL server and a real local Spark session over the table of `dealgate sql --schema`,
gives each deal the judgement the CSV report per deal gives it. Snowflake and BigQuery get the
whole query too (test_every_dialect_gets_the_whole_query); no server of theirs runs here."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlglot import exp

from command import dealgate, needs_durable
from dealgate.columnar.warehouse import JUDGED_COLUMNS, audit_sql
from dealgate.deals.source import open_deals
from dealgate.engines.base import deal_values
from dealgate.engines.dialects import DuckDB
from dealgate.engines.sql import columns_read, deals_table, schema_sql, table_row
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack

ROOT = Path(__file__).parent.parent
EXPORT = ROOT / "examples" / "salesforce-opportunities.csv"
AS_OF = date(2026, 11, 27)
PACK = load_pack("buyer-journey", PackCatalog(cwd=Path("/nonexistent")))

Judged = list[tuple[Any, ...]]


def _deals(pack: RulePack) -> tuple[list[str], list[dict[str, Any]]]:
    """The example's deals as the table of canonical deals holds them, and their ids."""
    reads = list(open_deals(EXPORT, pack))
    return [read.deal.id for read in reads], [deal_values(read, pack) for read in reads]


def _reported(pack_id: str) -> Judged:
    """The CSV report per deal's judgement of each deal, in its order. The warehouse's table
    has a column for every field the pack reads: a value it lacks is missing, as with
    --unmeasured-as-missing (the export has no contact roles)."""
    result = dealgate(
        "audit", str(EXPORT), "--rules", pack_id, "--as-of", AS_OF.isoformat(),
        "--engine", "durable", "--format", "csv", "--fail-on", "never",
        "--unmeasured-as-missing",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [
        (row["deal_id"], *(row[name] or None for name in JUDGED_COLUMNS[1:]))
        for row in csv.DictReader(io.StringIO(result.stdout))
    ]


def _named(ids: list[str], rows: Judged) -> Judged:
    """Query rows with the row number as the deal's id and every value as the CSV has it."""
    return [
        (ids[row[0]], *(None if value is None else str(value) for value in row[1:])) for row in rows
    ]


@needs_durable
def test_the_query_judges_as_the_audit_does_on_duckdb() -> None:
    ids, values = _deals(PACK)
    deals = deals_table(values, columns_read(PACK))  # noqa: F841 - read by name below
    rows = duckdb.connect().execute(audit_sql(PACK, AS_OF)).fetchall()
    expected = _reported(PACK.id)
    assert expected, "the example has deals that need attention"
    assert _named(ids, rows) == expected


@needs_durable
def test_the_query_judges_as_the_audit_does_on_postgres(postgres_server: str) -> None:
    import psycopg

    ids, values = _deals(PACK)
    columns = columns_read(PACK)
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute("CREATE SCHEMA judged")
        try:
            connection.execute("SET search_path TO judged")
            connection.execute(schema_sql(PACK, "postgres").encode())
            for index, deal in enumerate(values):
                connection.execute(
                    "INSERT INTO deals SELECT * FROM json_populate_record(NULL::deals, %s::json)",
                    [json.dumps(table_row(index, deal, columns), default=_iso)],
                )
            rows = connection.execute(audit_sql(PACK, AS_OF, "postgres").encode()).fetchall()
        finally:
            connection.execute("DROP SCHEMA judged CASCADE")
    assert _named(ids, rows) == _reported(PACK.id)


def _iso(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no JSON for {value!r}")


@pytest.mark.parametrize("dialect", ["spark", "snowflake", "bigquery"])
def test_every_dialect_gets_the_whole_query(dialect: str) -> None:
    result = dealgate("sql", "--judged", "--dialect", dialect, "--as-of", AS_OF.isoformat())
    assert result.returncode == 0, result.stderr
    assert "dg_exceptions" in result.stdout and "disposition" in result.stdout
    # the missing ids are joined leaving out NULLs: BigQuery has no CONCAT_WS, and
    # Snowflake's is NULL when any item is
    joined_with = {
        "spark": "CONCAT_WS(",
        "snowflake": "ARRAY_CONSTRUCT_COMPACT(",
        "bigquery": "ARRAY_TO_STRING(",
    }
    assert joined_with[dialect] in result.stdout
    assert ("CONCAT_WS" in result.stdout) == (dialect == "spark")
    # the stage column quoted as the schema writes it: Snowflake reads a bare stage as STAGE
    query = "\n".join(line for line in result.stdout.splitlines() if not line.startswith("--"))
    assert not re.search(r"(?<![\w\"`-])stage(?![\w\"`])", query)


def test_missing_ids_are_joined_without_the_milestones_met() -> None:
    joined = DuckDB().join_texts("; ", [exp.Literal.string("QUAL-PAIN"), exp.null()])
    nothing = DuckDB().join_texts("; ", [exp.null(), exp.null()])
    query = exp.select(joined, nothing).sql(dialect="duckdb")
    assert duckdb.connect().execute(query).fetchall() == [("QUAL-PAIN", "")]


def test_judged_and_schema_do_not_go_together() -> None:
    result = dealgate("sql", "--judged", "--schema")
    assert result.returncode == 2
    assert "--schema prints the table" in result.stderr


@needs_durable
def test_the_query_judges_as_the_audit_does_on_spark(spark_engine: Any) -> None:
    """The Spark dialect's whole query, run by a real local Spark session over the table of
    canonical deals (as the spark engine hands Spark its batches)."""
    ids, values = _deals(PACK)
    session = spark_engine.session
    session.createDataFrame(deals_table(values, columns_read(PACK))).createOrReplaceTempView(
        "deals"
    )
    try:
        rows = [tuple(row) for row in session.sql(audit_sql(PACK, AS_OF, "spark")).collect()]
    finally:
        session.catalog.dropTempView("deals")
    assert rows, "the example has deals that need attention"
    assert _named(ids, rows) == _reported(PACK.id)
