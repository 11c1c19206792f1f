"""The audit as one Parquet file for data teams (`--format parquet`), from its JSON document.

Nested, not two files: one row per audited deal (the JSON audit's `deals`, each flagged
`needs_attention`: the exception list is those rows), its findings and
overdue plan steps as list columns, so a BI tool needs no join. What repeats per milestone
(its name, guidance, evidence) is written once, in the file's metadata (`dealgate.milestones`),
not on every finding; the rest of the document (as-of date, pack, summary, reconciliation) is
there too, as `dealgate.audit`. docs/reports.md shows how to read it.
"""

from __future__ import annotations

import io
import json
import math
from datetime import date
from typing import Any

from dealgate.report.listing import named_milestones

FINDING_FIELDS = ("milestone_id", "kind", "status", "severity", "stage_id", "note")
# The document's keys that describe the whole audit rather than a deal.
_AUDIT_KEYS = (
    "schema_version",
    "as_of",
    "pack",
    "engine",
    "input",
    "summary",
    "reconciliation",
    "changes",
)


def render_parquet(document: dict[str, Any]) -> bytes:
    """The file's bytes: the deals as rows, the audit and its milestones as metadata."""
    import pyarrow as pa
    import pyarrow.parquet as parquet

    deals = document.get("deals") or []
    table = pa.Table.from_pylist([_row(deal) for deal in deals], schema=_schema())
    table = table.replace_schema_metadata(
        {
            "dealgate.audit": json.dumps({k: document[k] for k in _AUDIT_KEYS if k in document}),
            "dealgate.milestones": json.dumps(named_milestones(deals)),
        }
    )
    buffer = io.BytesIO()
    parquet.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def _schema() -> Any:
    import pyarrow as pa

    text = pa.string()
    finding = pa.struct(
        [(name, text) for name in FINDING_FIELDS]
        + [("read", text)]  # the values the milestone read, as a JSON object
    )
    step = pa.struct(
        [
            ("milestone", text),
            ("side", text),
            ("owner", text),
            ("due", pa.date32()),
            ("days_overdue", pa.int32()),
        ]
    )
    return pa.schema(
        [
            ("deal_id", text),
            ("deal_name", text),
            ("owner", text),
            ("manager", text),
            ("stage", text),
            ("stage_id", text),
            ("evidence_stage", text),
            ("inflation", pa.int32()),
            ("amount", pa.float64()),
            ("currency", text),
            ("close_date", pa.date32()),
            ("disposition", text),
            ("needs_attention", pa.bool_()),
            ("at_risk", pa.bool_()),
            ("file", text),
            ("row", pa.int64()),
            ("path", text),
            ("findings", pa.list_(finding)),
            ("overdue_steps", pa.list_(step)),
        ]
    )


def _row(deal: dict[str, Any]) -> dict[str, Any]:
    location = deal.get("location") or {}
    return {
        "deal_id": deal.get("id"),
        "deal_name": deal.get("name"),
        "owner": deal.get("owner"),
        "manager": deal.get("manager"),
        "stage": deal.get("stage"),
        "stage_id": deal.get("stage_id"),
        "evidence_stage": deal.get("evidence_stage"),
        "inflation": deal.get("inflation"),
        "amount": _amount(deal.get("amount")),
        "currency": deal.get("currency"),
        "close_date": _day(deal.get("close_date")),
        "disposition": deal.get("disposition"),
        "needs_attention": deal.get("needs_attention"),
        "at_risk": deal.get("at_risk"),
        "file": location.get("file"),
        "row": location.get("row"),
        "path": location.get("path"),
        "findings": [
            {name: finding.get(name) for name in FINDING_FIELDS}
            | {"read": json.dumps(finding.get("read") or {}, ensure_ascii=False)}
            for finding in deal.get("findings") or []
        ],
        "overdue_steps": [
            step | {"due": _day(step.get("due"))} for step in deal.get("overdue_steps") or []
        ],
    }


def _amount(value: float | None) -> float | None:
    """An amount as a double; one past a double's range (over 1.8e308) as infinity."""
    if value is None:
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
