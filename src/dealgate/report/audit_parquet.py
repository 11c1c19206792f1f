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
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from dealgate.audit import AuditResult, FailOn, StreamedDeals
from dealgate.judging.assess import DealAssessment
from dealgate.report.audit_json import DealTaker
from dealgate.report.listing import name_milestones, named_milestones
from dealgate.rules.model import RulePack

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


def render_parquet(
    document: dict[str, Any], spooled: StreamedDeals | ParquetRows | None = None
) -> bytes:
    """The file's bytes: the deals as rows, the audit and its milestones as metadata. The
    rows are the document's deals, or those spooled as an audit judged them (`ParquetSpool`)
    or as a saved audit was read (`ParquetRows`)."""
    import pyarrow as pa
    import pyarrow.parquet as parquet

    batches: Iterable[Any]
    if isinstance(spooled, ParquetRows):
        batches, milestones = spooled.batches(), list(spooled.milestones.values())
    elif spooled is not None:
        batches, milestones = spooled.deals(), list(spooled.listed)
    else:
        deals = document.get("deals") or []
        batches = [pa.RecordBatch.from_pylist([_row(d) for d in deals], _schema())]
        milestones = named_milestones(deals)
    schema = _schema().with_metadata(
        {
            "dealgate.audit": json.dumps({k: document[k] for k in _AUDIT_KEYS if k in document}),
            "dealgate.milestones": json.dumps(milestones),
        }
    )
    buffer = io.BytesIO()
    with parquet.ParquetWriter(buffer, schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)
    return buffer.getvalue()


class ParquetRows:
    """Deals' rows (of their JSON documents) written to a temporary Arrow stream in batches,
    with the milestones their findings name; read back once (`batches`), or closed."""

    batch_rows = 10_000

    def __init__(self) -> None:
        import pyarrow as pa

        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close() on every way out
        self.stream = pa.ipc.new_stream(self.file, _schema())
        self.rows: list[dict[str, Any]] = []
        self.milestones: dict[str, dict[str, Any]] = {}
        self.complete = False

    def add(self, deal: dict[str, Any]) -> None:
        name_milestones(self.milestones, deal)
        self.rows.append(_row(deal))
        if len(self.rows) >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self.rows:
            self.stream.write_batch(pa.RecordBatch.from_pylist(self.rows, _schema()))
            self.rows = []

    def written(self) -> None:
        """Every row added: the stream is complete."""
        if not self.complete:
            self._flush()
            self.stream.close()
            self.complete = True

    def batches(self) -> Iterator[Any]:
        """The spooled record batches, read back once; the stream is then closed."""
        import pyarrow as pa

        self.written()
        self.file.seek(0)
        try:
            yield from pa.ipc.open_stream(self.file)
        finally:
            self.close()

    def close(self) -> None:
        self.file.close()


class ParquetSpool(DealTaker):
    """A Parquet audit's rows, spooled as the audit judges (`ParquetRows`): the file of a
    million deals is then written without holding them (`render_parquet(document,
    result.streamed)`)."""

    form = "parquet"

    def __init__(self, include_met: bool, fail_on: FailOn) -> None:
        super().__init__(include_met, fail_on)
        self.rows = ParquetRows()

    def keep(self, assessment: DealAssessment, pack: RulePack) -> None:
        self.rows.add(self.deal_json(assessment, pack))

    def finish(self, result: AuditResult) -> AuditResult:
        self.rows.written()
        return super().finish(result)

    def shown(self) -> tuple[tuple[Any, ...], int]:
        return tuple(self.rows.milestones.values()), 0  # the milestones the findings name

    def deals(self) -> Iterator[Any]:
        return self.rows.batches()

    def close(self) -> None:
        self.rows.close()


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
