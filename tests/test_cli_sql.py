"""`dealgate sql`: the audit query and the table it reads, printed for a warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import sqlglot

from command import dealgate
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack

PARSED_BACK = ["duckdb", "spark", "snowflake", "bigquery"]  # sqlglot reads no CREATE TYPE


def _milestone_ids(pack_id: str) -> list[str]:
    return [m.id for m in load_pack(pack_id, PackCatalog()).milestones()]


@pytest.mark.parametrize("dialect", PARSED_BACK)
def test_sql_prints_the_audit_query_of_a_pack_in_the_dialect(dialect: str) -> None:
    result = dealgate(
        "sql",
        "--rules",
        "meddpicc",
        "--dialect",
        dialect,
        "--as-of",
        "2026-11-27",
        "--table",
        "sales.deals",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("-- Audit query of pack meddpicc as of 2026-11-27")
    parsed = sqlglot.parse_one(result.stdout, read=dialect)
    assert [s.alias_or_name for s in parsed.selects][1:] == _milestone_ids("meddpicc")
    assert "sales" in parsed.sql(dialect=dialect)


def test_the_duckdb_schema_and_query_run_together(tmp_path: Path) -> None:
    schema = dealgate("sql", "--schema", "--dialect", "duckdb")
    query = dealgate("sql", "--dialect", "duckdb", "--as-of", "2026-11-27")
    assert schema.returncode == query.returncode == 0, schema.stderr + query.stderr
    connection = duckdb.connect()
    connection.execute(schema.stdout)
    connection.execute(
        "INSERT INTO deals (_dealgate_row, stage, pain) VALUES (0, 1, 'slow quotes')"
    )
    result = connection.execute(query.stdout)
    names = [column[0] for column in result.description]
    assert names[1:] == _milestone_ids("buyer-journey")
    [row] = result.fetchall()
    assert row[0] == 0 and set(row[1:]) <= {"m", "x", "n"} and "x" in row


@pytest.mark.parametrize("dialect", PARSED_BACK)
def test_schema_has_exactly_the_columns_the_query_reads(dialect: str) -> None:
    schema = dealgate("sql", "--schema", "--dialect", dialect, "--rules", "bant")
    query = dealgate("sql", "--dialect", dialect, "--rules", "bant")
    assert schema.returncode == query.returncode == 0
    created = sqlglot.parse_one(schema.stdout, read=dialect)
    declared = {column.name for column in created.find_all(sqlglot.exp.ColumnDef)}
    read = {
        column.name
        for column in sqlglot.parse_one(query.stdout, read=dialect).find_all(sqlglot.exp.Column)
    }
    assert read <= declared
    top_level = {c.name for c in created.this.expressions}
    assert top_level - read == {"stage"} or top_level - read == set()


def test_postgres_schema_declares_composite_types_for_lists_of_records() -> None:
    result = dealgate("sql", "--schema", "--dialect", "postgres", "--table", "crm.deals")
    assert result.returncode == 0
    assert "CREATE TYPE dealgate_contacts_item AS (" in result.stdout
    assert '"contacts" dealgate_contacts_item[]' in result.stdout
    assert "CREATE TABLE crm.deals (" in result.stdout


def test_sql_reads_a_pack_file_like_check_and_audit(tmp_path: Path) -> None:
    pack = tmp_path / "mine.yaml"
    pack.write_text(
        "pack: mine\nstages:\n  - id: open\nchecks:\n"
        "  - {id: MINE-NEXT, milestone: next step, require: present(next_step)}\n",
        encoding="utf-8",
    )
    result = dealgate("sql", "--rules", str(pack), "--dialect", "bigquery")
    assert result.returncode == 0, result.stderr
    assert "AS `MINE-NEXT`" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dialect", "oracle"], "'oracle' is not one of"),
        (["--rules", "no-such-pack"], "no rule pack 'no-such-pack'"),
        (["--table", "deals; DROP TABLE x"], "table name"),
        (["--as-of", "tomorrow"], "is not a date"),
        (["--schema", "--as-of", "2026-11-27"], "--schema prints the table, not a query"),
    ],
)
def test_bad_usage_exits_2_with_a_message_and_no_traceback(args: list[str], message: str) -> None:
    result = dealgate("sql", *args)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_sql_has_help_naming_every_dialect() -> None:
    result = dealgate("sql", "--help")
    assert result.returncode == 0
    for dialect in ("duckdb", "spark", "postgres", "snowflake", "bigquery"):
        assert dialect in result.stdout
