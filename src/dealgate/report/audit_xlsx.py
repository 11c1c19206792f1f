"""The audit as an Excel workbook (`dealgate audit --format xlsx --output F.xlsx`).

Read from the audit's JSON document, like the HTML report. Sheets: Summary (headline figures,
pipeline by stage, by manager and owner), Exceptions (one row per finding not met, with filters
and a frozen header), Changes (with --baseline), Overdue steps (late action plan steps, when
there are any), Milestones (each milestone's name, evidence and guidance, once, rather than on
every row of Exceptions) and one sheet per manager with that team's rows. Past LISTED_DEALS
deals, the sheets list the deals with the largest amounts, and Summary says how many are left
out; the figures count every deal.

Every text cell is stored as text (never a formula), so a deal name that starts with `=`, `+`,
`-`, `@`, a tab or a carriage return shows as typed and can never run in Excel.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dealgate.report.coverage import coverage_headline, coverage_lines, unmeasured_count
from dealgate.report.csv_layout import FINDING_COLUMNS
from dealgate.report.figures import json_amounts_text
from dealgate.report.listing import largest_deals, left_out_text, named_milestones

# The CSV report's columns per finding, but for the texts of the milestone (Milestones sheet).
PER_MILESTONE = ("milestone", "guidance")
EXCEPTION_COLUMNS = [column for column in FINDING_COLUMNS if column not in PER_MILESTONE]
MILESTONE_COLUMNS = ["milestone_id", "milestone", "stage_id", "severity", "evidence", "guidance"]
# The deals a workbook lists at most: openpyxl wrote 20,000 deals (70,000 findings, each on
# Exceptions and on its manager's sheet) in 60 s, and a sheet holds 1,048,576 rows.
LISTED_DEALS = 25_000

_BOLD = Font(bold=True)
_WIDTHS = {
    "deal_name": 38,
    "milestone": 44,
    "guidance": 60,
    "evidence": 50,
    "read": 40,
    "disposition": 20,
    "step": 40,
}
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


# A worksheet holds at most 1,048,576 rows; longer lists go on in "Exceptions (2)" and so on.
ROWS_PER_SHEET = 1_048_575
CELL_LIMIT = 32_767  # characters in one cell


def render_xlsx(document: dict[str, Any], listed_deals: int = LISTED_DEALS) -> bytes:
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    deals, left_out = largest_deals(document["deals"], listed_deals)
    _summary_sheet(
        workbook.create_sheet(sheet_title("Summary", taken)),
        document,
        left_out_text(len(deals), left_out) if left_out else None,
    )
    rows = list(exception_rows(deals))
    _exception_sheets(workbook, "Exceptions", rows, taken)
    if document.get("changes"):
        _changes_sheet(workbook.create_sheet(sheet_title("Changes", taken)), document["changes"])
    late = list(overdue_rows(deals))
    if late:
        _table_sheet(workbook.create_sheet(sheet_title("Overdue steps", taken)), OVERDUE, late)
    milestones = [[m[column] for column in MILESTONE_COLUMNS] for m in named_milestones(deals)]
    _table_sheet(
        workbook.create_sheet(sheet_title("Milestones", taken)), MILESTONE_COLUMNS, milestones
    )
    teams: dict[str | None, list[list[object]]] = {}
    for row in rows:
        teams.setdefault(str(row[3]) if row[3] is not None else None, []).append(row)
    for manager in sorted(teams, key=lambda m: (m is None, m or "")):
        _exception_sheets(workbook, manager or "(no manager)", teams[manager], taken)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique sheet name: at most 31 characters, none of []:*?/\\ nor a control
    character, not starting or ending with an apostrophe, not Excel's reserved "History"."""
    cleaned = _SHEET_NAME_FORBIDDEN.sub(" ", ILLEGAL_CHARACTERS_RE.sub(" ", name))
    base = cleaned.strip().strip("'")[:31].strip().strip("'") or "Team"
    title, number = base, 2
    while title.lower() in taken or title.lower() == "history":
        suffix = f" ({number})"
        title, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(title.lower())
    return title


def exception_rows(deals: list[dict[str, Any]]) -> Iterable[list[object]]:
    """The CSV report's rows per finding (report/audit_csv.py), from the JSON document's
    deals, without the milestone's texts (EXCEPTION_COLUMNS)."""
    for deal in deals:
        close = deal.get("close_date")
        base = [
            deal["id"],
            deal.get("name"),
            deal.get("owner"),
            deal.get("manager"),
            deal.get("stage"),
            deal.get("stage_id"),
            deal.get("evidence_stage"),
            deal.get("inflation"),
            deal.get("amount"),
            deal.get("currency"),
            date.fromisoformat(close) if isinstance(close, str) else None,
            deal.get("disposition"),
        ]
        for finding in deal["findings"]:
            yield [
                *base,
                finding["milestone_id"],
                finding["kind"],
                finding["status"],
                finding["severity"],
                json.dumps(finding.get("read") or {}),
            ]


# openpyxl's write-only sheets forward column_dimensions, freeze_panes and auto_filter to a
# worksheet its type stubs do not show; they are typed Any here.
Sheet = Any


def _exception_sheets(
    workbook: Workbook, title: str, rows: list[list[object]], taken: set[str]
) -> None:
    for start in range(0, max(len(rows), 1), ROWS_PER_SHEET):
        sheet = workbook.create_sheet(sheet_title(title, taken))
        _exceptions_sheet(sheet, rows[start : start + ROWS_PER_SHEET])


def cell_text(text: str) -> str:
    """Text a cell can hold: control characters XML cannot carry become U+FFFD, and text past
    Excel's 32,767 characters is cut, saying so."""
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    if len(text) > CELL_LIMIT:
        note = f"… (cut: {len(text):,} characters)"
        text = text[: CELL_LIMIT - len(note)] + note
    return text


OVERDUE = [
    "deal_id",
    "deal_name",
    "owner",
    "manager",
    "stage",
    "step",
    "side",
    "step_owner",
    "due",
    "days_overdue",
]


def overdue_rows(deals: list[dict[str, Any]]) -> Iterable[list[object]]:
    """The late steps of the listed deals' mutual action plans, one row each."""
    for deal in deals:
        for step in deal.get("overdue_steps") or []:
            yield [
                deal["id"],
                deal.get("name"),
                deal.get("owner"),
                deal.get("manager"),
                deal.get("stage"),
                step["milestone"],
                step["side"],
                step["owner"],
                date.fromisoformat(step["due"]),
                step["days_overdue"],
            ]


def _table_sheet(
    sheet: Sheet, columns: list[str], rows: list[list[object]], freeze: str = "A2"
) -> None:
    """A header row and rows, with filters on and the header frozen."""
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _WIDTHS.get(column, 14)
    sheet.freeze_panes = freeze
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    _append(sheet, columns, bold=True)
    for row in rows:
        _append(sheet, row)


def _cell(sheet: Sheet, value: Any, bold: bool = False) -> Any:
    """What to append for a value. Plain values go as they are (openpyxl writes them through
    one reused cell, which is fast); a cell is made only for a bold header, and for text that
    openpyxl would store as a formula (`=…`) or an error (`#N/A`): it is stored as text."""
    if isinstance(value, str):
        value = cell_text(value)
        if not bold and not value.startswith("=") and value not in ERROR_CODES:
            return value
    elif not bold:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, even when it starts with '=': never a formula
    if bold:
        cell.font = _BOLD
    return cell


def _append(sheet: Sheet, values: Iterable[object], bold: bool = False) -> None:
    sheet.append([_cell(sheet, value, bold) for value in values])


def _exceptions_sheet(sheet: Sheet, rows: list[list[object]]) -> None:
    # The header row and the deal's id and name stay in view.
    _table_sheet(sheet, EXCEPTION_COLUMNS, rows, freeze="C2")


def _summary_sheet(sheet: Sheet, document: dict[str, Any], left_out: str | None) -> None:
    summary, counts = document["summary"], document.get("reconciliation") or {}
    sheet.column_dimensions["A"].width = 34
    for letter in "BCDEFG":
        sheet.column_dimensions[letter].width = 24
    _append(sheet, [f"Pipeline audit as of {document['as_of']}"], bold=True)
    _append(sheet, [f"{document['pack']['title']} [{document['pack']['id']}]"])
    _append(sheet, [f"{(document.get('input') or {}).get('file', '')}"])
    if left_out:
        _append(sheet, [left_out], bold=True)
    coverage = document.get("coverage")
    if coverage is not None and unmeasured_count(coverage):
        _append(sheet, [f"Coverage: {coverage_headline(coverage)}"], bold=True)
        for line in coverage_lines(coverage):
            _append(sheet, [line])
    _append(sheet, [])
    overdue = summary.get("overdue_steps") or {}
    for label, value in (
        ("Deals audited", summary["deals_audited"]),
        ("Pipeline claimed", json_amounts_text(summary["pipeline_claimed"])),
        ("Supported by evidence", json_amounts_text(summary.get("pipeline_supported"))),
        ("Value at risk", json_amounts_text(summary["pipeline_at_risk"])),
        ("Deals at risk", summary["deals_at_risk"]),
        ("Deals with skipped milestones", summary["deals_with_skipped_milestones"]),
        ("Overdue action plan steps", sum(overdue.values())),
        ("Deals with overdue steps", summary.get("deals_with_overdue_steps", 0)),
        *_forecast_figures(summary.get("forecast") or []),
        ("Data findings", sum((summary.get("data_findings") or {}).values())),
        ("Rows read", counts.get("rows_read")),
        ("Rows rejected", counts.get("rows_rejected")),
        ("Deals excluded (closed, filtered)", counts.get("deals_excluded")),
    ):
        _append(sheet, [label, value])
    _append(sheet, [])
    _append(sheet, ["Stage", "Deals", "Claimed", "Deals at risk", "At risk"], bold=True)
    for stage in summary["by_stage"]:
        _append(
            sheet,
            [
                stage["name"],
                stage["deals"],
                json_amounts_text(stage["claimed"]),
                stage["deals_at_risk"],
                json_amounts_text(stage["at_risk"]),
            ],
        )
    _append(sheet, [])
    header = ["Manager", "Owner", "Deals", "With skipped", "Missing required", "At risk"]
    forecast = ["Forecast without evidence", "Amount", "Forecast unverifiable", "Amount"]
    _append(sheet, [*header, "Overdue steps", *forecast], bold=True)
    for owner in summary["by_owner"]:
        _append(
            sheet,
            [
                owner["manager"],
                owner["owner"],
                owner["deals"],
                owner["deals_with_skipped_milestones"],
                owner["missing_required"],
                json_amounts_text(owner["at_risk"]),
                sum((owner.get("overdue_steps") or {}).values()),
                owner.get("forecast_without_evidence", 0),
                json_amounts_text(owner.get("forecast_without_evidence_amounts")),
                owner.get("forecast_unverifiable", 0),
                json_amounts_text(owner.get("forecast_unverifiable_amounts")),
            ],
        )


def _forecast_figures(forecast: list[dict[str, Any]]) -> Iterable[tuple[str, object]]:
    """Per category: the deals whose evidence stops short, their value, and the unverifiable."""
    for figures in forecast:
        category = figures["category"]
        yield f"{category} without evidence (deals)", figures["without_evidence"]
        yield (
            f"{category} without evidence",
            json_amounts_text(figures["without_evidence_amounts"]),
        )
        yield f"{category}, unverifiable (deals)", figures.get("unverifiable", 0)
        yield (
            f"{category}, unverifiable",
            json_amounts_text(figures.get("unverifiable_amounts")),
        )


def _changes_sheet(sheet: Sheet, changes: dict[str, Any]) -> None:
    sheet.column_dimensions["A"].width = 30
    for letter in "BCDEF":
        sheet.column_dimensions[letter].width = 30
    baseline = changes["baseline"]
    _append(sheet, [f"Changes since {baseline['as_of']} ({baseline['file']})"], bold=True)
    value = changes["value_at_risk"]
    _append(sheet, ["Value at risk then", json_amounts_text(value["then"])])
    _append(sheet, ["Value at risk now", json_amounts_text(value["now"])])
    _append(sheet, ["Deals at risk then", changes["deals_at_risk"]["then"]])
    _append(sheet, ["Deals at risk now", changes["deals_at_risk"]["now"]])
    for note in changes.get("notes") or []:
        _append(sheet, ["Note", note])
    _append(sheet, [])
    _append(sheet, ["Moved stage without their milestones"], bold=True)
    _append(sheet, ["Deal id", "Deal", "Owner", "From", "To", "Skipped"], bold=True)
    for move in changes["moved_without_milestones"]:
        _append(
            sheet,
            [
                move["deal_id"],
                move["deal_name"],
                move["owner"],
                move["from_stage"],
                move["to_stage"],
                ", ".join(move["skipped"]),
            ],
        )
    for title, key in (
        ("New findings", "new_findings"),
        ("Resolved findings", "resolved_findings"),
    ):
        _append(sheet, [])
        _append(sheet, [title], bold=True)
        _append(sheet, ["Deal id", "Deal", "Owner", "Milestone", "Kind", "Severity"], bold=True)
        for change in changes[key]:
            _append(
                sheet,
                [
                    change["deal_id"],
                    change["deal_name"],
                    change["owner"],
                    f"{change['milestone_id']} {change['milestone']}",
                    change["kind"],
                    change["severity"],
                ],
            )
