"""The whole audit as one query of a warehouse's dialect (`dealgate sql --judged`).

A warehouse holds a table of canonical deals (`dealgate sql --schema`); reading and
normalising raw exports is the local engines' job. Over that table the query gives one row
per deal that needs attention: its claimed and evidence stage, inflation, disposition, and
the ids of its missing milestones by kind, the columns the CSV report per deal judges with.
It is the columnar judge's SQL (stage rules from `judging.semantics`) over the statuses the
rule compiler writes for the dialect, written out by sqlglot for that dialect.
"""

from __future__ import annotations

from datetime import date

import sqlglot
from sqlglot import exp

from dealgate.audit import AuditFilters
from dealgate.columnar.canonical import ident
from dealgate.columnar.judge import Judge, statuses_query
from dealgate.engines.sql import ROW
from dealgate.findings import FindingKind
from dealgate.rules.model import RulePack

# The columns of a judged row: what the CSV report per deal says of a deal's judgement.
JUDGED_COLUMNS = (
    ROW,
    "stage_id",
    "evidence_stage",
    "inflation",
    "disposition",
    "skipped",
    "hygiene",
    "to_advance",
)


def audit_sql(pack: RulePack, as_of: date, dialect: str = "duckdb", table: str = "deals") -> str:
    """The audit query as text of one dialect, pretty-printed, with a header saying what it
    returns."""
    judge = Judge(pack, AuditFilters())
    judged = {
        ROW: ident(ROW),
        "stage_id": judge.stage_id(),
        "evidence_stage": "dg_evidence_id",
        "inflation": "dg_inflation",
        "disposition": judge.disposition(),
        "skipped": judge.missing_ids(FindingKind.SKIPPED),
        "hygiene": judge.missing_ids(FindingKind.HYGIENE),
        "to_advance": judge.missing_ids(FindingKind.TO_ADVANCE),
    }
    assert tuple(judged) == JUDGED_COLUMNS
    columns = ", ".join(f"{sql} AS {ident(name)}" for name, sql in judged.items())
    kept = f"d.{ident(ROW)}, d.stage"
    text = (
        f"WITH {judge.findings_sql('SELECT 1', kept)} "
        f"SELECT {columns} FROM dg_exceptions ORDER BY {ident(ROW)}"
    )
    query = sqlglot.parse_one(text, read="duckdb")
    statuses = statuses_query(pack, as_of, table=table, dialect=dialect, kept=[ROW, "stage"])
    [cte] = [cte for cte in query.find_all(exp.CTE) if cte.alias == "dg_statuses"]
    cte.set("this", statuses)
    if dialect == "bigquery":  # no CONCAT_WS there; ARRAY_TO_STRING leaves out NULL items
        query = query.transform(_array_to_string)
    header = (
        f"-- The audit of pack {pack.id} as of {as_of.isoformat()} ({dialect}), over the table\n"
        f"-- of `dealgate sql --schema`. One row per open deal that needs attention, in\n"
        f"-- {ROW} order: {', '.join(JUDGED_COLUMNS[1:])}; missing milestone ids\n"
        f"-- are joined with '; '.\n"
    )
    return header + query.sql(dialect=dialect, pretty=True) + ";\n"


def _array_to_string(node: exp.Expr) -> exp.Expr:
    if not isinstance(node, exp.ConcatWs):
        return node
    separator, *items = node.expressions
    return exp.func("ARRAY_TO_STRING", exp.Array(expressions=items), separator)
