"""Exports as CRMs write them, read as a new user would: a standard Salesforce opportunity
report has no id column, and a Maven-style export needs a mapping file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from command import dealgate

AS_OF = "2026-12-01"
KEY_NOTE = "note: no id column: deals are keyed by 'Account Name — Opportunity Name'"

# A standard opportunity report ("Export Details"): labels as headers, every cell quoted,
# CRLF line ends, no id column and no custom fields.
SALESFORCE_REPORT = [
    line.split("|")
    for line in (
        "Opportunity Name|Account Name|Stage|Amount|Close Date|Opportunity Owner|Next Step|"
        "Last Activity|Probability (%)|Forecast Category|Created Date",
        "Big renewal|Acme|Qualification|12000|12/15/2026|Ann Lee|Call CFO|11/20/2026|20|"
        "Pipeline|9/1/2026",
        "Big renewal|Globex|Prospecting|800|1/15/2027|Ann Lee|Intro|11/28/2026|10|Pipeline|"
        "10/1/2026",
        "Platform|Initech|Negotiation/Review|50000|12/20/2026|Bob Ray||11/25/2026|90|Commit|"
        "8/1/2026",
        "Pilot||Needs Analysis|500|1/20/2027|Bob Ray|Demo|11/29/2026|20|Pipeline|10/2/2026",
        "Big renewal|Acme|Proposal/Price Quote|9000|11/30/2026|Ann Lee|||75|Best Case|7/1/2026",
        "Old deal|Hooli|Closed Won|3000|10/1/2026|Bob Ray|||100|Closed|5/1/2026",
    )
]


def _write_report(folder: Path) -> Path:
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(SALESFORCE_REPORT)
    path = folder / "opportunities.csv"
    path.write_bytes(text.getvalue().encode("utf-8"))
    return path


def _deal_ids(report: str) -> list[str]:
    return [row["deal_id"] for row in csv.DictReader(io.StringIO(report))]


def test_a_salesforce_report_without_ids_audits_alike_on_both_routes(tmp_path: Path) -> None:
    _write_report(tmp_path)
    audits = {
        engine: dealgate(
            "audit",
            "opportunities.csv",
            "--engine",
            engine,
            "--format",
            "csv",
            "--as-of",
            AS_OF,
            "-v",
            cwd=tmp_path,
        )
        for engine in ("durable", "sql")
    }
    for result in audits.values():
        assert result.returncode == 1, result.stderr  # skipped milestones fail the audit
        assert result.stderr.count(KEY_NOTE) == 1, result.stderr
    assert "reading: columnar" in audits["sql"].stderr  # DuckDB keyed the deals itself
    ids = _deal_ids(audits["durable"].stdout)
    assert ids == _deal_ids(audits["sql"].stdout)
    assert ids == [
        "Acme — Big renewal",
        "Globex — Big renewal",
        "Initech — Platform",
        "Pilot",  # no account: the deal name alone
        "Acme — Big renewal",
    ]


def test_a_repeated_key_is_a_data_finding(tmp_path: Path) -> None:
    _write_report(tmp_path)
    result = dealgate(
        "audit", "opportunities.csv", "--format", "json", "--as-of", AS_OF, cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    repeated = [f for f in document["data_findings"] if f["issue"] == "duplicate_id"]
    assert [(f["row"], f["column"], f["deal_id"]) for f in repeated] == [
        (6, "Opportunity Name", "Acme — Big renewal")
    ]
    assert document["reconciliation"]["rows_rejected"] == 0


def test_deals_inspect_says_how_deals_are_keyed(tmp_path: Path) -> None:
    _write_report(tmp_path)
    shown = dealgate("deals", "inspect", "opportunities.csv", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Deal id Account Name — Opportunity Name" in shown.stdout
    assert shown.stdout.count(KEY_NOTE) == 1
    data = dealgate("deals", "inspect", "opportunities.csv", "--format", "json", cwd=tmp_path)
    inspection = json.loads(data.stdout)
    assert inspection["deal_id"] == {
        "columns": ["Account Name", "Opportunity Name"],
        "joiner": " — ",
        "id_column": False,
    }
    assert len(inspection["notes"]) == 1


def test_a_file_without_an_id_or_a_name_column_names_a_header_it_has(tmp_path: Path) -> None:
    (tmp_path / "deals.csv").write_text("Deal,Deal_ID,Stage\nAcme,7,Prospecting\n", "utf-8")
    result = dealgate("deals", "inspect", "deals.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "deals.csv:1: error: no column is read as the deal id" in result.stderr
    assert "columns: {Deal_ID: id}" in result.stderr
