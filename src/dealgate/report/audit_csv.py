"""The audit as CSV, ready for a spreadsheet or a BI tool.

Two layouts (`--csv-rows`): one row per deal that needs attention, with the ids of its missing
milestones by kind (what a spreadsheet user opens; the default), or one row per finding that is
not met, with the milestone's texts and the values it read (what a BI tool joins on).
Each cell is written by the rules of report/cell_writing.py, the same ones the columnar
route compiles to DuckDB: formula-safe text, ISO dates, and the read values as JSON.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from dealgate.audit import AuditResult, FailOn
from dealgate.findings import FindingKind, Status
from dealgate.judging.assess import DealAssessment
from dealgate.report.audit_json import TextSpool
from dealgate.report.cell_writing import PythonReadWriter, writer
from dealgate.report.csv_layout import DEAL_COLUMNS, FINDING_COLUMNS, ID_SEPARATOR, CsvRows
from dealgate.report.json_report import disposition_text
from dealgate.rules.model import RulePack


def csv_lines(
    result: AuditResult, include_met: bool, rows: CsvRows = CsvRows.DEAL
) -> Iterator[str]:
    """The CSV report line by line, so a large audit is written without holding it all."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    out.writerow(DEAL_COLUMNS if rows is CsvRows.DEAL else FINDING_COLUMNS)
    yield flush()
    if result.streamed is not None and result.streamed.form == "csv":  # spooled (CsvSpool)
        yield from result.streamed.deals()
        return
    read_writer = PythonReadWriter(result.pack)
    for assessment in result.exceptions(include_met):
        _write_rows(out, assessment, include_met, rows, read_writer)
        yield flush()


def _write_rows(
    out: Any,
    assessment: DealAssessment,
    include_met: bool,
    rows: CsvRows,
    read_writer: PythonReadWriter,
) -> None:
    """A deal's rows: one, or one per finding."""
    if rows is CsvRows.DEAL:
        out.writerow(_cells([*_deal_part(assessment), *_ids_by_kind(assessment)]))
        return
    deal = _cells(_deal_part(assessment))  # once a deal, not once a finding
    for finding in _finding_parts(assessment, include_met, read_writer):
        out.writerow([*deal, *_cells(finding)])


class CsvSpool(TextSpool):
    """A CSV audit's rows, written to a temporary file as the audit judges its deals (the
    header is written with the report): its memory does not grow with the pipeline."""

    def __init__(self, rows: CsvRows, include_met: bool, fail_on: FailOn) -> None:
        super().__init__("csv", include_met, fail_on)
        self.rows = rows
        self.out = csv.writer(self.file, lineterminator="\r\n")
        self.read_writer: PythonReadWriter | None = None

    def keep(self, assessment: DealAssessment, pack: RulePack) -> None:
        if not self.listed(assessment):
            return
        if self.read_writer is None:
            self.read_writer = PythonReadWriter(pack)
        _write_rows(self.out, assessment, self.include_met, self.rows, self.read_writer)


def _cells(values: list[object]) -> list[object]:
    """None as an empty cell."""
    return ["" if value is None else value for value in values]


def _deal_part(assessment: DealAssessment) -> list[object]:
    """The deal's cells, each by its rule (report/cell_writing.py) as the columnar route's."""
    deal = assessment.read.deal
    safe = writer("safe_text")
    return [
        safe(deal.id),
        safe(deal.name),
        safe(deal.owner),
        safe(deal.manager),
        safe(deal.stage),
        safe(assessment.stage.id if assessment.stage else None),
        safe(assessment.evidence_stage.id if assessment.evidence_stage else None),
        assessment.inflation,
        writer("amount_text")(None if deal.amount is None else format(deal.amount, "f")),
        safe(deal.currency),
        writer("date_text")(deal.close_date),
        disposition_text(assessment),
    ]


def _ids_by_kind(assessment: DealAssessment) -> list[str | None]:
    """The missing milestone ids of each kind (skipped, hygiene, to-advance), then the
    waived ones, in the order of the deal's findings."""

    safe = writer("safe_text")

    def ids(kind: FindingKind | None, status: Status) -> str | None:
        chosen = [
            safe(finding.milestone_id)
            for finding in assessment.findings
            if finding.status is status and (kind is None or finding.kind is kind)
        ]
        return ID_SEPARATOR.join(chosen) or None

    return [
        ids(FindingKind.SKIPPED, Status.MISSING),
        ids(FindingKind.HYGIENE, Status.MISSING),
        ids(FindingKind.TO_ADVANCE, Status.MISSING),
        ids(None, Status.WAIVED),
    ]


def _finding_parts(
    assessment: DealAssessment, include_met: bool, read_writer: PythonReadWriter
) -> Iterator[list[object]]:
    """The finding's own cells of each row of a deal, after the deal's."""
    safe = writer("safe_text")
    for finding in assessment.findings:
        if not include_met and finding.status in (Status.MET, Status.NOT_APPLICABLE):
            continue
        read = read_writer.text(finding.milestone_id, finding.read)
        yield [
            safe(finding.milestone_id),
            safe(finding.milestone),
            finding.kind.value,
            finding.status.value,
            safe(finding.severity),
            read,
            safe(finding.guidance),
        ]
