"""The audit as an Excel workbook (`dealgate audit --format xlsx --output F.xlsx`).

Read from the audit's JSON document, like the HTML report. Sheets: Summary (headline figures,
pipeline by stage, by manager and owner), Exceptions (one row per deal: what it misses and what
to do, with filters and a frozen header), Findings (one row per finding), Changes (with
--baseline), Overdue steps (late action plan steps, when there are any), Milestones (each
milestone's name, evidence and guidance, once) and one sheet per manager with that team's rows
of Exceptions. Headers are a sales manager's words; money is a number with its currency's number
format, and a sum has one column per currency, as money is never added across currencies.
Past LISTED_DEALS deals, the sheets list the deals with the largest amounts, and Summary says
how many are left out; the figures count every deal.

Every text cell is stored as text (never a formula), so a deal name that starts with `=`, `+`,
`-`, `@`, a tab or a carriage return shows as typed and can never run in Excel.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dealgate.judging.forecast import claim_label, unverifiable_label
from dealgate.report.coverage import coverage_headline, coverage_lines, unmeasured_count
from dealgate.report.figures import amounts_from_json
from dealgate.report.formats import FORMATS
from dealgate.report.listing import largest_deals, left_out_text, named_milestones

# Headers in the words of a sales manager, not the JSON document's field ids.
EXCEPTION_COLUMNS = [
    "Deal id",
    "Deal",
    "Owner",
    "Manager",
    "Claimed stage",
    "Evidence stage",
    "Stages ahead",
    "Amount",
    "Currency",
    "Close date",
    "Missing",
    "What to do",
]
FINDING_COLUMNS = [
    "Deal id",
    "Deal",
    "Owner",
    "Manager",
    "Claimed stage",
    "Evidence stage",
    "Amount",
    "Currency",
    "Close date",
    "Milestone id",
    "Milestone",
    "Kind",
    "Status",
    "Severity",
    "Fields read",
    "What to do",
]
MILESTONE_COLUMNS = [
    "Milestone id",
    "Milestone",
    "Exit of stage",
    "Severity",
    "Evidence",
    "How to get it",
]
_MILESTONE_KEYS = ["milestone_id", "milestone", "stage_id", "severity", "evidence", "guidance"]
# A finding's kind as a sales manager says it.
KIND_WORDS = {
    "skipped": "skipped milestone",
    "to-advance": "to advance",
    "hygiene": "hygiene",
    "data": "data",
    "waiver": "waiver",
}
# The deals a workbook lists at most (report/formats.py says why).
LISTED_DEALS = FORMATS["xlsx"].lists_largest or 0

_BOLD = Font(bold=True)
# Id columns fit an 18-character Salesforce id (006Dn00000AbCdEfGh) with room to spare.
_WIDTHS = {
    "Deal id": 22,
    "Milestone id": 22,
    "Deal": 38,
    "Owner": 20,
    "Manager": 20,
    "Claimed stage": 18,
    "Evidence stage": 18,
    "Amount": 18,
    "Milestone": 44,
    "Missing": 44,
    "What to do": 60,
    "How to get it": 60,
    "Evidence": 50,
    "Fields read": 40,
    "Step": 40,
}
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


# A worksheet holds at most 1,048,576 rows; longer lists go on in "Exceptions (2)" and so on.
ROWS_PER_SHEET = 1_048_575
CELL_LIMIT = 32_767  # characters in one cell


def render_xlsx(document: dict[str, Any], listed_deals: int = LISTED_DEALS) -> bytes:
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    deals, left_out = largest_deals(
        document["deals"], listed_deals, document.get("deals_left_out", 0)
    )
    names = stage_names(document)
    _summary_sheet(
        workbook.create_sheet(sheet_title("Summary", taken)),
        document,
        left_out_text(len(deals), left_out) if left_out else None,
    )
    rows = list(exception_rows(deals, names))
    _exception_sheets(workbook, "Exceptions", EXCEPTION_COLUMNS, rows, taken)
    _exception_sheets(
        workbook, "Findings", FINDING_COLUMNS, list(finding_rows(deals, names)), taken
    )
    if document.get("changes"):
        _changes_sheet(
            workbook.create_sheet(sheet_title("Changes", taken)), document["changes"], names
        )
    late = list(overdue_rows(deals))
    if late:
        _table_sheet(workbook.create_sheet(sheet_title("Overdue steps", taken)), OVERDUE, late)
    milestones = [
        [names.get(m[key], m[key]) if key == "stage_id" else m[key] for key in _MILESTONE_KEYS]
        for m in named_milestones(deals)
    ]
    _table_sheet(
        workbook.create_sheet(sheet_title("Milestones", taken)), MILESTONE_COLUMNS, milestones
    )
    teams: dict[str | None, list[list[object]]] = {}
    manager = EXCEPTION_COLUMNS.index("Manager")
    for row in rows:
        teams.setdefault(str(row[manager]) if row[manager] is not None else None, []).append(row)
    for name in sorted(teams, key=lambda m: (m is None, m or "")):
        _exception_sheets(workbook, name or "(no manager)", EXCEPTION_COLUMNS, teams[name], taken)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Money:
    """An amount in one currency: a number in the cell, shown with its currency code."""

    amount: float | None
    currency: str | None

    @property
    def number_format(self) -> str:
        code = (self.currency or "").replace('"', "")
        return f'"{code}" #,##0.00' if code else "#,##0.00"


def stage_names(document: dict[str, Any]) -> dict[str, str]:
    """The pack's stage names by stage id."""
    return {stage["id"]: stage["name"] for stage in document["pack"].get("stages") or []}


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


def _close_date(deal: dict[str, Any]) -> date | None:
    close = deal.get("close_date")
    return date.fromisoformat(close) if isinstance(close, str) else None


def _deal_part(deal: dict[str, Any], names: dict[str, str]) -> list[object]:
    evidence = deal.get("evidence_stage")
    return [
        deal["id"],
        deal.get("name"),
        deal.get("owner"),
        deal.get("manager"),
        names.get(deal.get("stage_id") or "", deal.get("stage")),
        names.get(evidence, evidence) if evidence else None,
    ]


def exception_rows(deals: list[dict[str, Any]], names: dict[str, str]) -> Iterable[list[object]]:
    """One row per deal (EXCEPTION_COLUMNS): what it misses, and the first thing to do."""
    for deal in deals:
        missing = [f for f in deal["findings"] if f["status"] == "missing"]
        yield [
            *_deal_part(deal, names),
            deal.get("inflation"),
            Money(deal.get("amount"), deal.get("currency")),
            deal.get("currency"),
            _close_date(deal),
            "; ".join(f"{f.get('milestone') or f['milestone_id']}" for f in missing),
            next((f.get("guidance") for f in missing if f.get("guidance")), None),
        ]


def finding_rows(deals: list[dict[str, Any]], names: dict[str, str]) -> Iterable[list[object]]:
    """One row per finding (FINDING_COLUMNS), the CSV report's `--csv-rows finding` layout
    in words."""
    for deal in deals:
        base = [
            *_deal_part(deal, names),
            Money(deal.get("amount"), deal.get("currency")),
            deal.get("currency"),
            _close_date(deal),
        ]
        for finding in deal["findings"]:
            yield [
                *base,
                finding["milestone_id"],
                finding.get("milestone"),
                KIND_WORDS.get(finding["kind"], finding["kind"]),
                str(finding["status"]).replace("_", " "),
                finding["severity"],
                json.dumps(finding.get("read") or {}, ensure_ascii=False),
                finding.get("guidance"),
            ]


# openpyxl's write-only sheets forward column_dimensions, freeze_panes and auto_filter to a
# worksheet its type stubs do not show; they are typed Any here.
Sheet = Any


def _exception_sheets(
    workbook: Workbook, title: str, columns: list[str], rows: list[list[object]], taken: set[str]
) -> None:
    for start in range(0, max(len(rows), 1), ROWS_PER_SHEET):
        sheet = workbook.create_sheet(sheet_title(title, taken))
        # The header row and the deal's id and name stay in view.
        _table_sheet(sheet, columns, rows[start : start + ROWS_PER_SHEET], freeze="C2")


def cell_text(text: str) -> str:
    """Text a cell can hold: control characters XML cannot carry become U+FFFD, and text past
    Excel's 32,767 characters is cut, saying so."""
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    if len(text) > CELL_LIMIT:
        note = f"… (cut: {len(text):,} characters)"
        text = text[: CELL_LIMIT - len(note)] + note
    return text


OVERDUE = [
    "Deal id",
    "Deal",
    "Owner",
    "Manager",
    "Claimed stage",
    "Step",
    "Side",
    "Step owner",
    "Due",
    "Days late",
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
    if isinstance(value, Money):
        cell = WriteOnlyCell(sheet, value=value.amount)
        cell.number_format = value.number_format
        return cell
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


def currencies_of(*lists: object) -> list[str]:
    """The currencies the `[{currency, amount}]` lists name, sorted; "" for no currency."""
    return sorted({currency for items in lists for currency in amounts_from_json(items)})


def per_currency(items: object, currencies: list[str]) -> list[Money]:
    """One number per currency, in the order of `currencies`: money is never added across
    currencies, so a sum gets a column per currency."""
    amounts = amounts_from_json(items)
    return [Money(float(amounts.get(code, 0)), code) for code in currencies]


def _currency_headers(label: str, currencies: list[str]) -> list[str]:
    return [f"{label} {code or '(no currency)'}" for code in currencies]


def _summary_sheet(sheet: Sheet, document: dict[str, Any], left_out: str | None) -> None:
    summary, counts = document["summary"], document.get("reconciliation") or {}
    forecast = summary.get("forecast") or []
    currencies = currencies_of(
        summary["pipeline_claimed"],
        summary.get("pipeline_supported"),
        summary["pipeline_at_risk"],
        *(figures.get("without_evidence_amounts") for figures in forecast),
    )
    sheet.column_dimensions["A"].width = 34
    for index in range(2, 2 + 3 + 2 * max(len(currencies), 1)):
        sheet.column_dimensions[get_column_letter(index)].width = 20
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
    _append(sheet, ["Money", *(code or "(no currency)" for code in currencies)], bold=True)
    for label, key in (
        ("Pipeline claimed", "pipeline_claimed"),
        ("Supported by evidence", "pipeline_supported"),
        ("Value at risk", "pipeline_at_risk"),
    ):
        _append(sheet, [label, *per_currency(summary.get(key), currencies)])
    for label, amounts in _forecast_money(forecast):
        _append(sheet, [label, *per_currency(amounts, currencies)])
    _append(sheet, [])
    overdue = summary.get("overdue_steps") or {}
    for label, value in (
        ("Deals audited", summary["deals_audited"]),
        ("Deals at risk", summary["deals_at_risk"]),
        ("Deals with skipped milestones", summary["deals_with_skipped_milestones"]),
        ("Overdue action plan steps", sum(overdue.values())),
        ("Deals with overdue steps", summary.get("deals_with_overdue_steps", 0)),
        *_forecast_counts(forecast),
        ("Data findings", sum((summary.get("data_findings") or {}).values())),
        ("Rows read", counts.get("rows_read")),
        ("Rows rejected", counts.get("rows_rejected")),
        ("Deals excluded (closed, filtered)", counts.get("deals_excluded")),
    ):
        _append(sheet, [label, value])
    _append(sheet, [])
    _append(
        sheet,
        [
            "Stage",
            "Deals",
            *_currency_headers("Claimed", currencies),
            "Deals at risk",
            *_currency_headers("At risk", currencies),
        ],
        bold=True,
    )
    for stage in summary["by_stage"]:
        _append(
            sheet,
            [
                stage["name"],
                stage["deals"],
                *per_currency(stage["claimed"], currencies),
                stage["deals_at_risk"],
                *per_currency(stage["at_risk"], currencies),
            ],
        )
    _append(sheet, [])
    header = ["Manager", "Owner", "Deals", "With skipped", "Deals missing required"]
    forecast = [
        "Forecast without evidence",
        *_currency_headers("Without evidence", currencies),
        "Forecast unverifiable",
        *_currency_headers("Unverifiable", currencies),
    ]
    _append(
        sheet,
        [*header, *_currency_headers("At risk", currencies), "Overdue steps", *forecast],
        bold=True,
    )
    for owner in summary["by_owner"]:
        _append(
            sheet,
            [
                owner["manager"],
                owner["owner"],
                owner["deals"],
                owner["deals_with_skipped_milestones"],
                owner.get("deals_missing_required"),  # blank in an audit saved before it
                *per_currency(owner["at_risk"], currencies),
                sum((owner.get("overdue_steps") or {}).values()),
                owner.get("forecast_without_evidence", 0),
                *per_currency(owner.get("forecast_without_evidence_amounts"), currencies),
                owner.get("forecast_unverifiable", 0),
                *per_currency(owner.get("forecast_unverifiable_amounts"), currencies),
            ],
        )


def _forecast_counts(forecast: list[dict[str, Any]]) -> Iterable[tuple[str, object]]:
    """Per claim (category, probability): the deals the evidence does not support, and the
    unverifiable ones."""
    for figures in forecast:
        category = figures.get("category")
        yield f"{claim_label(category)} (deals)", figures["without_evidence"]
        yield f"{unverifiable_label(category)} (deals)", figures.get("unverifiable", 0)


def _forecast_money(forecast: list[dict[str, Any]]) -> Iterable[tuple[str, object]]:
    """Per claim: the value of those deals, per currency."""
    for figures in forecast:
        category = figures.get("category")
        yield claim_label(category), figures["without_evidence_amounts"]
        yield unverifiable_label(category), figures.get("unverifiable_amounts")


def _changes_sheet(sheet: Sheet, changes: dict[str, Any], names: dict[str, str]) -> None:
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 38
    for letter in "CDEFG":
        sheet.column_dimensions[letter].width = 24
    baseline = changes["baseline"]
    _append(sheet, [f"Changes since {baseline['as_of']} ({baseline['file']})"], bold=True)
    value = changes["value_at_risk"]
    currencies = currencies_of(value["then"], value["now"])
    _append(sheet, ["Money", *(code or "(no currency)" for code in currencies)], bold=True)
    _append(sheet, ["Value at risk then", *per_currency(value["then"], currencies)])
    _append(sheet, ["Value at risk now", *per_currency(value["now"], currencies)])
    _append(sheet, ["Deals at risk then", changes["deals_at_risk"]["then"]])
    _append(sheet, ["Deals at risk now", changes["deals_at_risk"]["now"]])
    for note in changes.get("notes") or []:
        _append(sheet, ["Note", note])
    _append(sheet, [])
    _append(sheet, ["Moved stage without their milestones"], bold=True)
    _append(sheet, ["Deal id", "Deal", "Owner", "From stage", "To stage", "Skipped"], bold=True)
    for move in changes["moved_without_milestones"]:
        _append(
            sheet,
            [
                move["deal_id"],
                move["deal_name"],
                move["owner"],
                names.get(move["from_stage"], move["from_stage"]),
                names.get(move["to_stage"], move["to_stage"]),
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
                    KIND_WORDS.get(change["kind"], change["kind"]),
                    change["severity"],
                ],
            )
