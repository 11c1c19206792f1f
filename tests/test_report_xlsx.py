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

from dealgate.report.audit_xlsx import MILESTONE_COLUMNS, PER_MILESTONE, render_xlsx, sheet_title
from dealgate.report.figures import amounts_from_json, amounts_text
from report_inputs import audit_deals, dealgate


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
def test_exceptions_sheet_is_the_csv_report(audited_examples: dict[str, Any], example: str) -> None:
    audited = audited_examples[example]
    with audited.csv.open(encoding="utf-8", newline="") as handle:
        expected = list(csv.reader(handle))
    rows = sheet_rows(audited.xlsx, "Exceptions")
    # the CSV's rows without the milestone's texts, which the Milestones sheet holds once
    texts = [expected[0].index(column) for column in PER_MILESTONE]
    expected = [[v for i, v in enumerate(row) if i not in texts] for row in expected]
    assert rows[0] == expected[0]
    assert len(rows) == len(expected) > 1
    for got, want in zip(rows[1:], expected[1:], strict=True):
        # Amounts are numbers in the workbook; the CSV writes them as the export had them.
        amount = expected[0].index("amount")
        assert float(got[amount] or 0) == pytest.approx(float(want[amount] or 0))
        got_text = [as_csv_text(v) for i, v in enumerate(got) if i != amount]
        assert got_text == [v for i, v in enumerate(want) if i != amount]


def test_the_exception_list_has_filters_and_a_frozen_header(
    audited_examples: dict[str, Any],
) -> None:
    workbook = load_workbook(audited_examples["salesforce"].xlsx)
    sheet = workbook["Exceptions"]
    assert sheet.freeze_panes == "C2"
    assert sheet.auto_filter.ref == f"A1:Q{sheet.max_row}"
    assert all(cell.font.bold for cell in sheet[1])


def test_one_sheet_per_manager_holds_that_team(audited_examples: dict[str, Any]) -> None:
    audited = audited_examples["salesforce"]
    workbook = load_workbook(audited.xlsx, read_only=True)
    deals = audited.json["deals"]
    managers = sorted({d["manager"] for d in deals if d["manager"]})
    assert workbook.sheetnames[:5] == [
        "Summary",
        "Exceptions",
        "Changes",
        "Overdue steps",
        "Milestones",
    ]
    assert workbook.sheetnames[5:] == managers + (
        ["(no manager)"] if any(d["manager"] is None for d in deals) else []
    )
    everything = sheet_rows(audited.xlsx, "Exceptions")
    column = everything[0].index("manager")
    for manager in managers:
        team = sheet_rows(audited.xlsx, manager)
        assert team[0] == everything[0]
        assert team[1:] == [row for row in everything[1:] if row[column] == manager]


def test_summary_sheet_shows_the_json_figures(audited_examples: dict[str, Any]) -> None:
    audited = audited_examples["salesforce"]
    summary = audited.json["summary"]
    labelled = {row[0]: row[1] for row in sheet_rows(audited.xlsx, "Summary") if len(row) > 1}

    def money(key: str) -> str:
        return amounts_text(amounts_from_json(summary[key]))

    assert labelled["Deals audited"] == summary["deals_audited"]
    assert labelled["Pipeline claimed"] == money("pipeline_claimed")
    assert labelled["Supported by evidence"] == money("pipeline_supported")
    assert labelled["Value at risk"] == money("pipeline_at_risk")
    assert labelled["Deals at risk"] == summary["deals_at_risk"]
    assert labelled["Deals with skipped milestones"] == summary["deals_with_skipped_milestones"]
    assert labelled["Overdue action plan steps"] == sum(summary["overdue_steps"].values())
    assert labelled["Data findings"] == sum(summary["data_findings"].values())
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
    assert workbook.sheetnames[3] == "=cmd|'  C calc'!A0"  # "/" is not allowed in a title
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
    guidance = str(rows[0][header.index("guidance")])
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
    got = [(row[0], row[header.index("step")], row[header.index("days_overdue")]) for row in rows]
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
    for row in rows:
        finding = findings[row[0]]
        assert row[1:] == [finding[column] for column in MILESTONE_COLUMNS[1:]]


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
