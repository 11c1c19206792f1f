"""`dealgate sql`: a pack's audit query in a warehouse's SQL dialect."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from dealgate.cli import options
from dealgate.cli.console import fail, guarded
from dealgate.cli.options import DEFAULT_PACK, AsOfOption, PackOption

app = typer.Typer(add_completion=False)


class SqlDialectName(StrEnum):
    DUCKDB = "duckdb"
    SPARK = "spark"
    POSTGRES = "postgres"
    SNOWFLAKE = "snowflake"
    BIGQUERY = "bigquery"


@app.command("sql")
def sql(
    rules: PackOption = DEFAULT_PACK,
    dialect: Annotated[
        SqlDialectName, typer.Option(help="SQL dialect of the warehouse that runs the query.")
    ] = SqlDialectName.DUCKDB,
    table: Annotated[
        str, typer.Option(help="The table of canonical deals: NAME, SCHEMA.NAME or C.S.NAME.")
    ] = "deals",
    as_of: AsOfOption = None,
    schema: Annotated[
        bool,
        typer.Option(
            "--schema", help="Print the DDL of the table of deals the query reads instead."
        ),
    ] = False,
    judged: Annotated[
        bool,
        typer.Option(
            "--judged",
            help="Print the whole audit: a row per deal needing attention, with its evidence "
            "stage, disposition and missing milestones by kind.",
        ),
    ] = False,
) -> None:
    """Print a pack's audit query in a warehouse's SQL dialect: one status per milestone
    per deal ('m' met, 'x' missing, 'n' not applicable), or with --judged the deals that
    need attention and why; --schema prints the table it reads.
    """
    from dealgate.engines.sql import query_sql, schema_sql

    pack = options.pack(rules)
    if schema and (as_of is not None or judged):
        fail("--schema prints the table, not a query", "leave out --as-of and --judged")
    day = options.as_of(as_of)
    if schema:
        text = guarded(lambda: schema_sql(pack, dialect.value, table))
    elif judged:
        from dealgate.columnar.warehouse import audit_sql

        text = guarded(lambda: audit_sql(pack, day, dialect.value, table))
    else:
        text = guarded(lambda: query_sql(pack, day, dialect.value, table))
    typer.echo(text, nl=False)
