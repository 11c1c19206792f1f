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
            "--unmeasured-as-missing",  # a plain report: every deal is listed, and its key
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


MAVEN_PIPELINE = (
    "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\r\n"
    "1C1I7A6R,Moses Frase,GTX Plus Basic,Cancity,Won,2016-10-20,2017-03-01,1054\r\n"
    "Z063OYW0,Darcel Schlecht,GTXPro,Isdom,Engaging,2016-10-25,,\r\n"
    "EC4QE1BX,Darcel Schlecht,MG Special,Cancity,Prospecting,,,\r\n"
    "KX9WQ3RA,Moses Frase,GTX Basic,Isdom,Engaging,2016-11-02,,\r\n"
    "P2TT5ZAC,Moses Frase,GTK 500,Cancity,Engaging,2016-11-03,,\r\n"
)
# A team's own pack for it: the product must be a known one before a deal is engaged, and an
# engaged deal is worked on within 30 days.
TEAM_PACK = """\
pack: maven-team
title: Maven team
description: Two open stages.
fields:
  product: {type: text, description: The product sold}
stages:
  - id: prospect
    name: Prospect
    buyer_step: The buyer hears of us
    crm_names: [Prospecting]
    exit:
      - id: PRODUCT-KNOWN
        milestone: The product is one we sell
        require: product in ['GTX Basic', 'GTX Pro', 'GTX Plus Basic', 'MG Special']
        evidence: The product on the deal.
        verified_by: seller
        severity: required
  - id: engage
    name: Engage
    buyer_step: The buyer talks to us
  - id: won
    name: Won
    terminal: won
  - id: lost
    name: Lost
    terminal: lost
checks:
  - id: ENGAGED-RECENTLY
    milestone: Entered Engaging within 30 days
    when: present(stage_history)
    require: any(stage_history, days_since(entered_on) <= 30)
    evidence: The date the deal entered Engaging.
    verified_by: system
    severity: recommended
"""
MAVEN_MAPPING = """\
mapping: maven-crm
columns:
  opportunity_id: id
  sales_agent: owner
  deal_stage: stage
  close_value: amount
stage_history:
  engage_date: Engaging
stages:
  Engaging: engage
  Won: won
  Lost: lost
values:
  product: {GTXPro: GTX Pro}
"""


def _maven(folder: Path, mapping: str = MAVEN_MAPPING) -> None:
    (folder / "sales_pipeline.csv").write_bytes(MAVEN_PIPELINE.encode("utf-8"))
    (folder / "team.yaml").write_text(TEAM_PACK, encoding="utf-8")
    (folder / "maven.yaml").write_text(mapping, encoding="utf-8")


def test_a_maven_export_with_its_mapping_audits_alike_on_both_routes(tmp_path: Path) -> None:
    _maven(tmp_path)
    audits = {
        engine: dealgate(
            "audit",
            "sales_pipeline.csv",
            "--mapping",
            "maven.yaml",
            "--rules",
            "team.yaml",
            "--engine",
            engine,
            "--format",
            "csv",
            "--csv-rows",
            "finding",
            "--as-of",
            AS_OF,
            "-v",
            cwd=tmp_path,
        )
        for engine in ("durable", "sql")
    }
    for result in audits.values():
        assert result.returncode == 1, result.stderr  # GTK 500 is not a product sold
    assert "reading: columnar" in audits["sql"].stderr  # DuckDB read the mapping's plan
    assert audits["durable"].stdout == audits["sql"].stdout
    report = list(csv.DictReader(io.StringIO(audits["durable"].stdout)))
    # GTXPro is read as GTX Pro (values:): that engaged deal skipped nothing
    assert [(row["deal_id"], row["milestone_id"], row["kind"]) for row in report] == [
        ("Z063OYW0", "ENGAGED-RECENTLY", "hygiene"),
        ("KX9WQ3RA", "ENGAGED-RECENTLY", "hygiene"),
        ("P2TT5ZAC", "PRODUCT-KNOWN", "skipped"),
        ("P2TT5ZAC", "ENGAGED-RECENTLY", "hygiene"),
    ]


def test_a_maven_mapping_that_reads_nothing_exits_2_with_file_and_line(tmp_path: Path) -> None:
    _maven(
        tmp_path,
        MAVEN_MAPPING.replace("sales_agent: owner", "sales_agnet: owner")
        + "  prodcut: {GTXPro: GTX Pro}\n",
    )
    result = dealgate(
        "audit",
        "sales_pipeline.csv",
        "--mapping",
        "maven.yaml",
        "--rules",
        "team.yaml",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "maven.yaml:4:3: error: column 'sales_agnet' is not in sales_pipeline.csv (did you mean "
        "'sales_agent'?)",
        "maven.yaml:15:3: error: 'values' names the field 'prodcut', which no column is read as "
        "(not a canonical field, not declared by the pack, not mapped) (did you mean 'product'?)",
    ]
    shown = dealgate(
        "deals", "inspect", "sales_pipeline.csv", "--mapping", "maven.yaml", cwd=tmp_path
    )
    assert shown.returncode == 2
    assert shown.stderr.startswith("maven.yaml:4:3: error: column 'sales_agnet'")


def test_deals_inspect_with_a_mapping_needs_no_rules(tmp_path: Path) -> None:
    _maven(tmp_path)
    shown = dealgate(
        "deals", "inspect", "sales_pipeline.csv", "--mapping", "maven.yaml", cwd=tmp_path
    )
    assert shown.returncode == 0, shown.stderr
    assert (
        "note: maven.yaml:10:13: stage 'Engaging' is mapped to 'engage', not a stage of pack "
        in (shown.stdout)
    )
    named = dealgate(
        "deals",
        "inspect",
        "sales_pipeline.csv",
        "--mapping",
        "maven.yaml",
        "--rules",
        "team.yaml",
        "--format",
        "json",
        cwd=tmp_path,
    )
    inspection = json.loads(named.stdout)
    assert inspection["notes"] == []
    assert {use["crm_value"]: use["stage_id"] for use in inspection["stages"]} == {
        "Prospecting": "prospect",
        "Engaging": "engage",
        "Won": "won",
    }
    audit = dealgate("audit", "sales_pipeline.csv", "--mapping", "maven.yaml", cwd=tmp_path)
    assert audit.returncode == 2  # an audit needs the pack the mapping's stages belong to
    assert "maven.yaml:10:13: error: stage 'Engaging' is mapped to 'engage'" in audit.stderr


def test_a_value_map_on_the_amount_audits_on_the_python_route(tmp_path: Path) -> None:
    _maven(tmp_path, MAVEN_MAPPING + "  amount: {'1054': 'EUR 1054'}\n")
    result = dealgate(
        "audit",
        "sales_pipeline.csv",
        "--mapping",
        "maven.yaml",
        "--rules",
        "team.yaml",
        "--engine",
        "sql",
        "--format",
        "csv",
        "--as-of",
        AS_OF,
        "-v",
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert "columnar path not taken: a value map on the amount" in result.stderr


def test_a_stage_value_map_gives_the_same_stages_on_both_routes(tmp_path: Path) -> None:
    # "prospect" is no cell of the export: only the mapping writes it
    _maven(tmp_path, MAVEN_MAPPING + "  stage: {engaging: prospect}\n")
    audits = [
        dealgate(
            "audit",
            "sales_pipeline.csv",
            "--mapping",
            "maven.yaml",
            "--rules",
            "team.yaml",
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
    ]
    assert "reading: columnar" in audits[1].stderr
    assert audits[0].stdout == audits[1].stdout
    report = list(csv.DictReader(io.StringIO(audits[0].stdout)))
    assert {(row["deal_id"], row["stage"], row["stage_id"]) for row in report} == {
        ("Z063OYW0", "prospect", "prospect"),
        ("KX9WQ3RA", "prospect", "prospect"),
        ("P2TT5ZAC", "prospect", "prospect"),
    }


def test_a_report_mapped_to_use_its_deal_name_as_id_audits_alike_on_both_routes(
    tmp_path: Path,
) -> None:
    _write_report(tmp_path)
    (tmp_path / "report.yaml").write_text(
        "mapping: sf-report\nprofile: salesforce\ncolumns:\n  Opportunity Name: [id, name]\n",
        encoding="utf-8",
    )
    audits = [
        dealgate(
            "audit",
            "opportunities.csv",
            "--mapping",
            "report.yaml",
            "--engine",
            engine,
            "--format",
            "csv",
            "--as-of",
            AS_OF,
            "-v",
            "--unmeasured-as-missing",  # a plain report: every deal is listed, and its key
            cwd=tmp_path,
        )
        for engine in ("durable", "sql")
    ]
    assert "reading: columnar" in audits[1].stderr
    assert KEY_NOTE not in audits[0].stderr  # the mapping names the id column
    assert audits[0].stdout == audits[1].stdout
    report = list(csv.DictReader(io.StringIO(audits[0].stdout)))
    assert [(row["deal_id"], row["deal_name"]) for row in report][:2] == [
        ("Big renewal", "Big renewal"),
        ("Big renewal", "Big renewal"),
    ]
