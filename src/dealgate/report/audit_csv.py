"""The audit as CSV: one row per finding that is not met, ready for a spreadsheet.

Text that a spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage
return) is written with a leading apostrophe, so a deal name can never execute.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from dealgate.audit import AuditResult
from dealgate.findings import Status, json_value
from dealgate.report.json_report import disposition_text

COLUMNS = [
    "deal_id",
    "deal_name",
    "owner",
    "manager",
    "stage",
    "stage_id",
    "evidence_stage",
    "inflation",
    "amount",
    "currency",
    "close_date",
    "disposition",
    "milestone_id",
    "milestone",
    "kind",
    "status",
    "severity",
    "read",
    "guidance",
]
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A cell value that spreadsheets show as text, never run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def render_csv(result: AuditResult, include_met: bool) -> str:
    return "".join(csv_lines(result, include_met))


def csv_lines(result: AuditResult, include_met: bool) -> Iterator[str]:
    """The CSV report line by line, so a large audit is written without holding it all."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield flush()
    for assessment in result.exceptions(include_met):
        deal = assessment.read.deal
        base = [
            deal.id,
            deal.name,
            deal.owner,
            deal.manager,
            deal.stage,
            assessment.stage.id if assessment.stage else None,
            assessment.evidence_stage.id if assessment.evidence_stage else None,
            assessment.inflation,
            deal.amount,
            deal.currency,
            deal.close_date.isoformat() if deal.close_date else None,
            disposition_text(assessment),
        ]
        safe_base = ["" if cell is None else safe_cell(cell) for cell in base]  # once a deal
        for finding in assessment.findings:
            if not include_met and finding.status in (Status.MET, Status.NOT_APPLICABLE):
                continue
            read = json.dumps({name: json_value(value) for name, value in finding.read})
            row = [
                finding.milestone_id,
                finding.milestone,
                finding.kind.value,
                finding.status.value,
                finding.severity,
                read,
                finding.guidance,
            ]
            finding_cells = ("" if cell is None else safe_cell(cell) for cell in row)
            writer.writerow([*safe_base, *finding_cells])
        yield flush()
