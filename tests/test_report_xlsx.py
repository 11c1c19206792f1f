"""The Excel workbook of the example exports: its rows are the CSV report's, its figures the JSON
audit's, each manager has a sheet, and no cell can run as a formula."""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from dealgate.report.audit_xlsx import MILESTONE_COLUMNS, render_xlsx, sheet_title
from dealgate.report.figures import amounts_from_json
from report_inputs import audit_deals, dealgate

# The words of the forecast call, not the JSON document's ids.
KIND_WORDS = {"skipped": "skipped milestone", "hygiene": "hygiene", "to-advance": "to advance"}
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


def as_csv_text(value: object) -> str:
    """A workbook cell as the CSV report writes the same value."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value  # the CSV's guard; the workbook stores the text as it is
    return str(value)


def sheet_rows(path: Path, title: str) -> list[list[object]]:
    workbook = load_workbook(path, read_only=True)
    return [list(row) for row in workbook[title].iter_rows(values_only=True)]


@pytest.mark.parametrize("example", ["salesforce", "hubspot"])
def test_findings_sheet_is_the_csv_report_in_words(
    audited_examples: dict[str, Any], example: str
) -> None:
    audited = audited_examples[example]
    with audited.csv.open(encoding="utf-8", newline="") as handle:
        expected = list(csv.DictReader(handle))
    header, *rows = sheet_rows(audited.xlsx, "Findings")
    assert len(rows) == len(expected) > 1
    column = {name: header.index(name) for name in header}
    for got, want in zip(rows, expected, strict=True):
        assert as_csv_text(got[column["Deal id"]]) == want["deal_id"]
        assert as_csv_text(got[column["Deal"]]) == want["deal_name"]
        assert got[column["Milestone id"]] == want["milestone_id"]
        assert got[column["Kind"]] == KIND_WORDS[want["kind"]]
        assert as_csv_text(got[column["Close date"]]) == want["close_date"]
        # Amounts are numbers in the workbook; the CSV writes them as the export had them.
        assert float(got[column["Amount"]] or 0) == pytest.approx(float(want["amount"] or 0))


def test_exceptions_sheet_has_one_row_per_deal_with_what_to_do(
    audited_examples: dict[str, Any],
) -> None:
    audited = audited_examples["salesforce"]
    header, *rows = sheet_rows(audited.xlsx, "Exceptions")
    assert header == EXCEPTION_COLUMNS
    deals = [deal for deal in audited.json["deals"] if deal["needs_attention"]]
    assert [row[0] for row in rows] == [deal["id"] for deal in deals]
    names = {stage["id"]: stage["name"] for stage in audited.json["pack"]["stages"]}
    for row, deal in zip(rows, deals, strict=True):
        missing = [f for f in deal["findings"] if f["status"] == "missing"]
        assert row[header.index("Claimed stage")] == names.get(deal["stage_id"], deal["stage"])
        assert (row[header.index("Missing")] or "") == "; ".join(f["milestone"] for f in missing)
        if missing:
            assert row[header.index("What to do")] == missing[0]["guidance"]


def test_headers_are_words_and_id_columns_fit_a_salesforce_id(
    audited_examples: dict[str, Any],
) -> None:
    workbook = load_workbook(audited_examples["salesforce"].xlsx)
    for title in ("Exceptions", "Findings", "Overdue steps", "Milestones"):
        sheet = workbook[title]
        header = [cell.value for cell in sheet[1]]
        assert not any("_" in str(name) for name in header), (title, header)
        for index, name in enumerate(header, start=1):
            if str(name).endswith(" id"):
                width = sheet.column_dimensions[sheet.cell(1, index).column_letter].width
                assert width >= 20, (title, name, width)  # "006Dn00000AbCdEfGh" is 18


def test_money_is_a_number_formatted_in_its_currency(audited_examples: dict[str, Any]) -> None:
    audited = audited_examples["salesforce"]
    workbook = load_workbook(audited.xlsx)
    for title in ("Exceptions", "Findings"):
        sheet = workbook[title]
        header = [cell.value for cell in sheet[1]]
        amount, currency = header.index("Amount"), header.index("Currency")
        for row in sheet.iter_rows(min_row=2):
            if row[amount].value is None:
                continue
            assert isinstance(row[amount].value, int | float)
            assert row[amount].number_format == f'"{row[currency].value}" #,##0.00'
    summary = audited.json["summary"]
    claimed = amounts_from_json(summary["pipeline_claimed"])
    assert len(claimed) > 1  # the example has deals in more than one currency
    sheet = workbook["Summary"]
    cells = {row[0].value: row for row in sheet.iter_rows() if row and row[0].value}
    codes = [cell.value for cell in cells["Money"][1:] if cell.value]
    assert codes == sorted(claimed)
    for label, key in (
        ("Pipeline claimed", "pipeline_claimed"),
        ("Supported by evidence", "pipeline_supported"),
        ("Value at risk", "pipeline_at_risk"),
    ):
        amounts = amounts_from_json(summary[key])
        for code, cell in zip(codes, cells[label][1:], strict=False):
            assert cell.value == pytest.approx(float(amounts.get(code, 0)))
            assert cell.number_format == f'"{code}" #,##0.00'
    stage_header = [cell.value for cell in cells["Stage"]]
    assert [f"Claimed {code}" for code in codes] == stage_header[2 : 2 + len(codes)]
    # No figure is text such as "EUR 1,200.00".
    for row in sheet.iter_rows():
        texts = [c.value for c in row[1:] if isinstance(c.value, str)]
        assert not any(text[:3] in claimed and text[3:4] == " " for text in texts), texts


def test_one_sheet_per_manager_holds_that_team(audited_examples: dict[str, Any]) -> None:
    audited = audited_examples["salesforce"]
    workbook = load_workbook(audited.xlsx, read_only=True)
    deals = audited.json["deals"]
    managers = sorted({d["manager"] for d in deals if d["manager"]})
    assert workbook.sheetnames[:6] == [
        "Summary",
        "Exceptions",
        "Findings",
        "Changes",
        "Overdue steps",
        "Milestones",
    ]
    assert workbook.sheetnames[6:] == managers + (
        ["(no manager)"] if any(d["manager"] is None for d in deals) else []
    )
    everything = sheet_rows(audited.xlsx, "Exceptions")
    column = everything[0].index("Manager")
    for manager in managers:
        team = sheet_rows(audited.xlsx, manager)
        assert team[0] == everything[0]
        assert team[1:] == [row for row in everything[1:] if row[column] == manager]


def test_summary_sheet_shows_the_json_figures(audited_examples: dict[str, Any]) -> None:
    audited = audited_examples["salesforce"]
    summary = audited.json["summary"]
    labelled = {row[0]: row[1] for row in sheet_rows(audited.xlsx, "Summary") if len(row) > 1}

    assert labelled["Deals audited"] == summary["deals_audited"]
    assert labelled["Deals at risk"] == summary["deals_at_risk"]
    assert labelled["Deals with skipped milestones"] == summary["deals_with_skipped_milestones"]
    assert labelled["Overdue action plan steps"] == sum(summary["overdue_steps"].values())
    assert labelled["Data findings"] == sum(summary["data_findings"].values())
    assert labelled["Commit without evidence (deals)"] == 11
    rows = [row for row in sheet_rows(audited.xlsx, "Summary") if row]
    usd = next(row for row in rows if row[0] == "Money").index("USD")
    commit = next(row for row in rows if row[0] == "Commit without evidence")
    assert commit[usd] == pytest.approx(993_731.10)  # a number, in the USD column
    assert labelled["Commit, unverifiable (deals)"] == 0
    for stage in summary["by_stage"]:
        assert labelled[stage["name"]] == stage["deals"]


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    names = ['=HYPERLINK("http://x","y")', "+1+2", "-3", "@SUM(A1)"]
    deals = [
        {"id": f"D-{i}", "name": name, "manager": "=cmd|' /C calc'!A0", "stage": "Proposal"}
        for i, name in enumerate(names)
    ]
    audit_deals(tmp_path, deals, "--format", "xlsx", "--output", "r.xlsx")
    with zipfile.ZipFile(tmp_path / "r.xlsx") as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert all("<f>" not in archive.read(n).decode("utf-8") for n in sheets)
    workbook = load_workbook(tmp_path / "r.xlsx")
    rows = list(workbook["Exceptions"].iter_rows(min_row=2))
    shown = {row[1].value for row in rows}
    assert shown == set(names)
    assert all(row[1].data_type == "s" for row in rows)
    assert workbook.sheetnames[4] == "=cmd|'  C calc'!A0"  # "/" is not allowed in a title
    # Readers strip a leading tab or carriage return from a name; the writer keeps them as text.
    document = json.loads(audit_deals(tmp_path, deals, "--format", "json").stdout)
    document["deals"][0]["name"] = "\tTab"
    document["deals"][1]["name"] = "\rReturn"
    document["deals"][2]["name"] = "#N/A"  # an error code to Excel, kept as text
    (tmp_path / "direct.xlsx").write_bytes(render_xlsx(document))
    cells = [
        row[1] for row in load_workbook(tmp_path / "direct.xlsx")["Exceptions"].iter_rows(min_row=2)
    ]
    values = {cell.value for cell in cells}
    # XML reads a carriage return in text back as a line feed: still text, never a formula.
    assert "\tTab" in values and values & {"\rReturn", "\nReturn"} and "#N/A" in values
    assert all(cell.data_type == "s" for cell in cells)


def test_xlsx_needs_an_output_file(tmp_path: Path) -> None:
    (tmp_path / "pipeline.json").write_text(json.dumps({"deals": []}), encoding="utf-8")
    result = dealgate("audit", "pipeline.json", "--format", "xlsx", cwd=tmp_path)
    assert result.returncode == 2
    assert "--output" in result.stderr


def test_sheet_titles_are_valid_and_unique() -> None:
    taken: set[str] = set()
    assert sheet_title("Summary", taken) == "Summary"
    assert sheet_title("summary", taken) == "summary (2)"
    long = "A manager with a very long name indeed: [EMEA/North]"
    first = sheet_title(long, taken)
    second = sheet_title(long, taken)
    assert len(first) <= 31 and len(second) <= 31 and first != second
    assert not set("[]:*?/\\") & set(first + second)
    assert sheet_title("History", taken) == "History (2)"  # Excel reserves the name
    ending = sheet_title("x" * 30 + "'abc", taken)
    assert len(ending) <= 31 and not ending.endswith("'") and not ending.startswith("'")
    assert sheet_title("Bob\x01", taken) == "Bob"


def test_control_characters_and_long_text_do_not_break_the_workbook(tmp_path: Path) -> None:
    deals = [{"id": "D-1", "name": "Bob \x01 and \x0b tab", "stage": "Proposal"}]
    audit_deals(tmp_path, deals, "--format", "xlsx", "--output", "r.xlsx")
    names = {row[1] for row in sheet_rows(tmp_path / "r.xlsx", "Exceptions")[1:]}
    assert names == {"Bob \ufffd and \ufffd tab"}
    document = json.loads(audit_deals(tmp_path, deals, "--format", "json").stdout)
    document["deals"][0]["findings"][0]["guidance"] = "g" * 40_000
    (tmp_path / "long.xlsx").write_bytes(render_xlsx(document))
    header, *rows = sheet_rows(tmp_path / "long.xlsx", "Milestones")
    guidance = str(rows[0][header.index("How to get it")])
    assert len(guidance) == 32_767 and guidance.endswith("(cut: 40,000 characters)")


def test_changes_sheet_lists_what_changed_since_last_week(audited_examples: dict[str, Any]) -> None:
    audited = audited_examples["salesforce"]
    changes = audited.json["changes"]
    rows = sheet_rows(audited.xlsx, "Changes")
    titles = [row[0] for row in rows if row]
    assert (
        titles[0] == f"Changes since {changes['baseline']['as_of']} ({changes['baseline']['file']})"
    )

    def section(title: str) -> list[list[object]]:
        start = next(i for i, row in enumerate(rows) if row and row[0] == title) + 2
        end = next(
            (i for i in range(start, len(rows)) if not rows[i] or rows[i][0] is None), len(rows)
        )
        return rows[start:end]

    moved = section("Moved stage without their milestones")
    assert [row[0] for row in moved] == [m["deal_id"] for m in changes["moved_without_milestones"]]
    # Stages by the names a sales manager knows, not the pack's ids.
    names = {stage["id"]: stage["name"] for stage in audited.json["pack"]["stages"]}
    assert [(row[3], row[4]) for row in moved] == [
        (names[m["from_stage"]], names[m["to_stage"]]) for m in changes["moved_without_milestones"]
    ]
    assert any(
        names[m["from_stage"]] != m["from_stage"] for m in changes["moved_without_milestones"]
    )
    assert len(section("New findings")) == len(changes["new_findings"]) > 0
    assert len(section("Resolved findings")) == len(changes["resolved_findings"]) > 0


def test_overdue_steps_sheet_lists_each_late_step(audited_examples: dict[str, Any]) -> None:
    audited = audited_examples["salesforce"]
    header, *rows = sheet_rows(audited.xlsx, "Overdue steps")
    expected = [
        (deal["id"], step["milestone"], step["days_overdue"])
        for deal in audited.json["deals"]
        for step in deal["overdue_steps"]
    ]
    got = [(row[0], row[header.index("Step")], row[header.index("Days late")]) for row in rows]
    assert got == expected
    assert len(rows) == sum(audited.json["summary"]["overdue_steps"].values())


def test_output_dash_is_standard_output(tmp_path: Path) -> None:
    audited = audit_deals(
        tmp_path, [{"id": "D-1", "stage": "Proposal"}], "--format", "csv", "--output", "-"
    )
    assert audited.stdout.startswith("deal_id,deal_name,")
    (tmp_path / "export.csv").write_text("Id,Name,Stage\nD-2,Dash,Proposal/Price Quote\n")
    columnar = dealgate(
        "audit",
        "export.csv",
        "--engine",
        "sql",
        "--format",
        "csv",
        "--output",
        "-",
        "-v",
        cwd=tmp_path,
    )
    assert "reading: columnar" in columnar.stderr, columnar.stderr
    assert columnar.stdout.startswith("deal_id,deal_name,")
    assert not (tmp_path / "-").exists()
    workbook = dealgate("audit", "pipeline.json", "--format", "xlsx", "--output", "-", cwd=tmp_path)
    assert workbook.returncode == 2 and "--output" in workbook.stderr


def test_each_milestone_is_described_once(audited_examples: dict[str, Any]) -> None:
    audited = audited_examples["salesforce"]
    header, *rows = sheet_rows(audited.xlsx, "Milestones")
    assert header == MILESTONE_COLUMNS
    findings = {f["milestone_id"]: f for deal in audited.json["deals"] for f in deal["findings"]}
    assert sorted(row[0] for row in rows) == sorted(findings)
    names = {stage["id"]: stage["name"] for stage in audited.json["pack"]["stages"]}
    for row in rows:
        finding = findings[row[0]]
        assert row[1:] == [
            finding["milestone"],
            names.get(finding["stage_id"], finding["stage_id"]),
            finding["severity"],
            finding["evidence"],
            finding["guidance"],
        ]


def test_a_pipeline_too_large_for_a_workbook_lists_its_largest_deals_and_says_so(
    audited_examples: dict[str, Any], tmp_path: Path
) -> None:
    document = audited_examples["salesforce"].json
    exceptions = [deal for deal in document["deals"] if deal["needs_attention"]]
    deals = sorted(exceptions, key=lambda deal: deal["amount"] or 0)
    path = tmp_path / "capped.xlsx"
    path.write_bytes(render_xlsx(document, listed_deals=3))
    kept = {deal["id"] for deal in deals[-3:]}
    listed = {row[0] for row in sheet_rows(path, "Exceptions")[1:]}
    assert listed == kept
    summary = [row[0] for row in sheet_rows(path, "Summary") if row]
    left_out = len(deals) - 3
    assert any(
        isinstance(text, str) and f"{left_out:,} are left out" in text for text in summary
    ), summary
