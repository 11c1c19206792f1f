"""The whole audit as one query of a warehouse's dialect (`dealgate sql --judged`).

A warehouse holds a table of canonical deals (`dealgate sql --schema`); reading and
normalising raw exports is the local engines' job. Over that table the query gives one row
per deal that needs attention: its claimed and evidence stage, inflation, disposition, and
the ids of its missing milestones by kind, the columns the CSV report per deal judges with.
It is the columnar judge's SQL (stage rules from `judging.semantics`) over the statuses the
rule compiler writes for the dialect: one sqlglot tree, written out for that dialect (what
differs, such as joining the missing ids, is asked of its `SqlDialect` strategy).
"""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from dealgate.audit import AuditFilters
from dealgate.columnar.judge import Judge, judged_column, statuses_query
from dealgate.engines.dialects import dialect_named
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
    judge = Judge(pack, AuditFilters(), dialect=dialect_named(dialect))
    judged = {
        ROW: exp.column(exp.to_identifier(ROW, quoted=True)),
        "stage_id": judge.stage_id(),
        "evidence_stage": exp.column("dg_evidence_id"),
        "inflation": exp.column("dg_inflation"),
        "disposition": judge.disposition(),
        "skipped": judge.missing_ids(FindingKind.SKIPPED),
        "hygiene": judge.missing_ids(FindingKind.HYGIENE),
        "to_advance": judge.missing_ids(FindingKind.TO_ADVANCE),
    }
    assert tuple(judged) == JUDGED_COLUMNS
    statuses = statuses_query(pack, as_of, table=table, dialect=dialect, kept=[ROW, "stage"])
    kept = [judged_column(ROW), judged_column("stage")]
    columns = [
        exp.alias_(value, exp.to_identifier(name, quoted=True)) for name, value in judged.items()
    ]
    query = judge.exceptions_query(statuses, kept).select(*columns, append=False, copy=False)
    query = query.order_by(exp.column(exp.to_identifier(ROW, quoted=True)), copy=False)
    header = (
        f"-- The audit of pack {pack.id} as of {as_of.isoformat()} ({dialect}), over the table\n"
        f"-- of `dealgate sql --schema`. One row per open deal that needs attention, in\n"
        f"-- {ROW} order: {', '.join(JUDGED_COLUMNS[1:])}; missing milestone ids\n"
        f"-- are joined with '; '.\n"
    )
    return header + query.sql(dialect=dialect, pretty=True) + ";\n"
