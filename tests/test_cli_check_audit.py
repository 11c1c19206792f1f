"""`dealgate check` and `dealgate audit` as a rep and a sales-ops lead run them."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
import yaml

from command import dealgate
from dealgate.rules.catalog import bundled_rules_dir

AS_OF = "2026-11-27"
CASES = yaml.safe_load((bundled_rules_dir() / "tests" / "buyer-journey.yaml").read_text("utf-8"))


def case_deal(name_part: str) -> dict[str, Any]:
    return next(c["deal"] for c in CASES["cases"] if name_part in c["name"])


@pytest.fixture
def work(tmp_path: Path) -> Path:
    deals = [case["deal"] for case in CASES["cases"]]
    closed = {
        "id": "WON-1",
        "name": "Closed deal",
        "stage": "Closed Won",
        "owner": "Jo Kim",
        "amount": 1000,
        "currency": "USD",
    }
    (tmp_path / "pipeline.yaml").write_text(
        yaml.safe_dump({"deals": [*deals, closed]}), encoding="utf-8"
    )
    return tmp_path


def _write_deal(work: Path, deal: dict[str, Any], name: str = "deal.yaml") -> Path:
    path = work / name
    path.write_text(yaml.safe_dump(deal, sort_keys=False), encoding="utf-8")
    return path


def test_check_a_deal_that_skipped_a_milestone(work: Path) -> None:
    deal = case_deal("skipped")
    _write_deal(work, deal)
    result = dealgate("check", "deal.yaml", "--as-of", AS_OF, cwd=work)
    assert result.returncode == 1, result.stderr
    text = result.stdout
    assert "Evidence stage" in text and "claims" in text
    assert text.index("Skipped: milestones of earlier stages") < text.index("To advance from")
    assert text.index("To advance from") < text.index("Hygiene")
    assert "read: " in text and "how: " in text
    assert text.strip().splitlines()[-1].startswith("✗ Not ready to advance")


def test_check_a_ready_deal_exits_0(work: Path) -> None:
    ready = next(c for c in CASES["cases"] if c["missing"] == [])
    _write_deal(work, ready["deal"])
    result = dealgate("check", "deal.yaml", "--as-of", ready.get("as_of", AS_OF), cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("✓ Ready to advance to")


def test_check_json_names_every_finding_with_what_it_read(work: Path) -> None:
    deal = case_deal("skipped")
    _write_deal(work, deal)
    result = dealgate("check", "deal.yaml", "--as-of", AS_OF, "--format", "json", cwd=work)
    report = json.loads(result.stdout)
    assert report["ready"] is False
    assert report["deal"]["id"] == deal["id"]
    assert report["deal"]["inflation"] >= 1
    assert report["deal"]["disposition"].startswith("re-stage to ")
    kinds = {finding["kind"] for finding in report["deal"]["findings"]}
    assert {"skipped", "to-advance", "hygiene"} <= kinds
    missing = [f for f in report["deal"]["findings"] if f["status"] == "missing"]
    assert missing and all(f["read"] and f["guidance"] for f in missing)


def test_check_through_a_later_stage_with_to(work: Path) -> None:
    deal = case_deal("skipped")
    _write_deal(work, deal)
    plain = json.loads(
        dealgate("check", "deal.yaml", "--as-of", AS_OF, "--format", "json", cwd=work).stdout
    )
    further = json.loads(
        dealgate(
            "check",
            "deal.yaml",
            "--as-of",
            AS_OF,
            "--format",
            "json",
            "--to",
            "closed_won",
            cwd=work,
        ).stdout
    )
    assert len(further["deal"]["findings"]) > len(plain["deal"]["findings"])
    result = dealgate("check", "deal.yaml", "--to", "qualify", cwd=work)
    assert result.returncode == 2
    assert "is not after the deal's stage" in result.stderr


def test_check_in_a_pipeline_file_needs_an_id(work: Path) -> None:
    result = dealgate("check", "pipeline.yaml", cwd=work)
    assert result.returncode == 2
    assert "holds 11 deals; choose one with --id (ids: BJ-001, " in result.stderr
    assert "and 6 more)" in result.stderr
    deal_id = CASES["cases"][0]["deal"]["id"]
    chosen = dealgate("check", "pipeline.yaml", "--id", deal_id, "--as-of", AS_OF, cwd=work)
    assert chosen.returncode in (0, 1)
    assert f"({deal_id})" in chosen.stdout
    missing = dealgate("check", "pipeline.yaml", "--id", "NOPE", cwd=work)
    assert missing.returncode == 2 and "no deal with id 'NOPE'" in missing.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "deal.yaml", "--as-of", "27/11/2026"], "is not a date"),
        (["check", "deal.yaml", "--rules", "nope"], "no rule pack 'nope'"),
        (["check", "missing.yaml"], "missing.yaml: no such file"),
        (["audit", "pipeline.yaml", "--fail-on", "sometimes"], "--fail-on 'sometimes'"),
        (["audit", "pipeline.yaml", "--stage", "Nowhere"], "is not a stage of pack"),
        (["audit", "pipeline.yaml", "--closing-after", "soon"], "neither a date"),
        (["audit", "pipeline.yaml", "--spark-master", "local[2]"], "is for --engine spark"),
    ],
)
def test_usage_errors_exit_2_with_a_message_and_no_traceback(
    work: Path, args: list[str], message: str
) -> None:
    _write_deal(work, case_deal("skipped"))
    result = dealgate(*args, cwd=work)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def _audit_json(work: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = dealgate(
        "audit", "pipeline.yaml", "--as-of", AS_OF, "--format", "json", *args, cwd=work
    )
    return result.returncode, json.loads(result.stdout)


def test_audit_json_shape_and_reconciliation(work: Path) -> None:
    code, report = _audit_json(work)
    assert code == 1
    assert set(report) >= {
        "as_of",
        "pack",
        "engine",
        "summary",
        "reconciliation",
        "deals",
        "data_findings",
    }
    counts = report["reconciliation"]
    assert counts == {
        "rows_read": 11,
        "rows_rejected": 0,
        "deals_read": 11,
        "deals_audited": 10,
        "deals_excluded": 1,
        "excluded_closed": 1,
        "excluded_filtered": 0,
        "balanced": True,
    }
    # every audited deal is listed, some with no finding not met (issue 13)
    assert len(report["deals"]) == report["reconciliation"]["deals_audited"]
    deal = next(deal for deal in report["deals"] if deal["findings"])
    assert set(deal) >= {
        "needs_attention",
        "id",
        "name",
        "owner",
        "manager",
        "stage",
        "stage_id",
        "evidence_stage",
        "inflation",
        "amount",
        "currency",
        "disposition",
        "findings",
    }
    finding = deal["findings"][0]
    assert set(finding) >= {
        "milestone_id",
        "kind",
        "status",
        "severity",
        "stage_id",
        "read",
        "guidance",
    }
    assert all(f["status"] != "met" for d in report["deals"] for f in d["findings"])
    summary = report["summary"]
    assert summary["deals_audited"] == 10
    at_risk = {item["currency"]: item["amount"] for item in summary["pipeline_at_risk"]}
    inflated = [d for d in report["deals"] if d["inflation"] > 0]
    assert sum(d["amount"] for d in inflated if d["currency"] == "USD") == at_risk.get("USD", 0)


def test_audit_fail_on_threshold(work: Path) -> None:
    assert (
        dealgate(
            "audit", "pipeline.yaml", "--as-of", AS_OF, "--fail-on", "never", cwd=work
        ).returncode
        == 0
    )
    code, report = _audit_json(work, "--owner", "Ana Silva")
    failing = [
        f
        for d in report["deals"]
        for f in d["findings"]
        if f["status"] == "missing"
        and f["kind"] in ("skipped", "hygiene")
        and f["severity"] == "required"
    ]
    assert code == (1 if failing else 0)


def test_audit_filters_count_what_they_exclude(work: Path) -> None:
    _, by_owner = _audit_json(work, "--owner", "Jo Kim")
    assert {d["owner"] for d in by_owner["deals"]} <= {"Jo Kim"}
    counts = by_owner["reconciliation"]
    assert counts["balanced"]
    assert counts["deals_audited"] + counts["excluded_filtered"] + counts["excluded_closed"] == 11
    _, by_stage = _audit_json(work, "--stage", "Negotiation/Review", "--include-met")
    assert {d["stage_id"] for d in by_stage["deals"]} == {"negotiate"}
    _, quarter = _audit_json(
        work, "--closing-after", "2027-Q1", "--closing-before", "2027-Q1", "--include-met"
    )
    assert all("2027-01-01" <= d["close_date"] <= "2027-03-31" for d in quarter["deals"])
    _, closed = _audit_json(work, "--include-closed", "--include-met")
    assert "WON-1" in {d["id"] for d in closed["deals"]}
    assert closed["reconciliation"]["excluded_closed"] == 0


def test_audit_include_met_lists_every_deal_and_finding(work: Path) -> None:
    _, report = _audit_json(work, "--include-met")
    assert len(report["deals"]) == 10
    assert any(f["status"] == "met" for d in report["deals"] for f in d["findings"])


def test_waivers_turn_missing_into_waived_and_flag_stale_ones(work: Path) -> None:
    _, before = _audit_json(work)
    target = next(f for d in before["deals"] for f in d["findings"] if f["status"] == "missing")
    deal_id = next(d["id"] for d in before["deals"] if target in d["findings"])
    (work / "waivers.yaml").write_text(
        "waivers:\n"
        f"  - {{deal: '{deal_id}', milestone: {target['milestone_id']}, reason: Approved by VP,"
        " approved_by: Maria Lopez, expires: 2026-12-31}\n"
        "  - {deal: 'GONE-*', milestone: HYG-AMOUNT, reason: Old, expires: 2026-12-31}\n",
        encoding="utf-8",
    )
    _, after = _audit_json(work, "--waivers", "waivers.yaml")
    statuses = [
        f["status"]
        for d in after["deals"]
        if d["id"] == deal_id
        for f in d["findings"]
        if f["milestone_id"] == target["milestone_id"]
    ]
    assert statuses == ["waived"]
    assert [w["deal"] for w in after["waivers"]] == ["GONE-*"]
    (work / "bad.yaml").write_text("waivers:\n  - {deal: X, milestone: Y}\n", encoding="utf-8")
    broken = dealgate("audit", "pipeline.yaml", "--waivers", "bad.yaml", cwd=work)
    assert broken.returncode == 2
    assert "missing required key 'reason'" in broken.stderr


def test_audit_csv_is_one_row_per_deal_by_default_and_formula_safe(work: Path) -> None:
    deals = yaml.safe_load((work / "pipeline.yaml").read_text(encoding="utf-8"))["deals"]
    deals[1]["name"] = '=HYPERLINK("http://x")'
    (work / "pipeline.yaml").write_text(yaml.safe_dump({"deals": deals}), encoding="utf-8")
    per_deal = dealgate("audit", "pipeline.yaml", "--as-of", AS_OF, "--format", "csv", cwd=work)
    deal_rows = list(csv.DictReader(io.StringIO(per_deal.stdout)))
    assert deal_rows and deal_rows[0].keys() >= {"deal_id", "skipped", "hygiene", "to_advance"}
    per_finding = dealgate(
        *("audit", "pipeline.yaml", "--as-of", AS_OF, "--format", "csv"),
        *("--csv-rows", "finding"),
        cwd=work,
    )
    rows = list(csv.DictReader(io.StringIO(per_finding.stdout)))
    assert rows and rows[0].keys() >= {"deal_id", "milestone_id", "kind", "status", "read"}
    # the same deals, and each deal's missing milestones by kind, in both layouts
    assert [row["deal_id"] for row in deal_rows] == list(dict.fromkeys(r["deal_id"] for r in rows))
    for deal in deal_rows:
        for kind, column in (
            ("skipped", "skipped"),
            ("hygiene", "hygiene"),
            ("to-advance", "to_advance"),
        ):
            listed = [
                r["milestone_id"]
                for r in rows
                if r["deal_id"] == deal["deal_id"]
                and r["kind"] == kind
                and r["status"] == "missing"
            ]
            assert deal[column] == "; ".join(listed)
    for layout in (deal_rows, rows):
        names = {row["deal_id"]: row["deal_name"] for row in layout}
        assert names[deals[1]["id"]] == '\'=HYPERLINK("http://x")'
        assert not any(name.startswith("=") for name in names.values())


def test_audit_junit_and_markdown_and_jsonl(work: Path) -> None:
    junit = dealgate("audit", "pipeline.yaml", "--as-of", AS_OF, "--format", "junit", cwd=work)
    root = ElementTree.fromstring(junit.stdout)
    failures = int(root.get("failures", "0"))
    assert root.tag == "testsuites" and failures > 0
    assert len(root.findall(".//failure")) == failures
    markdown = dealgate(
        "audit", "pipeline.yaml", "--as-of", AS_OF, "--format", "markdown", cwd=work
    )
    assert markdown.stdout.startswith("# Pipeline audit: ")
    assert "## Exceptions" in markdown.stdout
    jsonl = dealgate("audit", "pipeline.yaml", "--as-of", AS_OF, "--format", "jsonl", cwd=work)
    lines = [json.loads(line) for line in jsonl.stdout.splitlines()]
    _, report = _audit_json(work)
    assert lines == report["deals"]


def test_audit_output_file_is_written_whole(work: Path) -> None:
    result = dealgate(
        "audit",
        "pipeline.yaml",
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--output",
        "out/audit.json",
        cwd=work,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert json.loads((work / "out" / "audit.json").read_text("utf-8"))["summary"]
    assert [p.name for p in (work / "out").iterdir()] == ["audit.json"]
    table = dealgate("audit", "pipeline.yaml", "--as-of", AS_OF, "--output", "audit.txt", cwd=work)
    assert table.returncode == 1
    assert "Pipeline audit" in (work / "audit.txt").read_text("utf-8")


def test_audit_of_an_unusable_file_exits_2(work: Path) -> None:
    (work / "broken.json").write_text("{nope", encoding="utf-8")
    result = dealgate("audit", "broken.json", cwd=work)
    assert result.returncode == 2
    assert result.stderr.startswith("broken.json:1: error: invalid JSON")


def test_audit_output_file_gets_the_usual_permissions(work: Path) -> None:
    dealgate(
        "audit", "pipeline.yaml", "--as-of", AS_OF, "--format", "csv", "--output", "a.csv", cwd=work
    )
    mask = os.umask(0)
    os.umask(mask)
    assert (work / "a.csv").stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux script for a tty")
def test_large_audits_show_progress_on_a_terminal(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    pipeline = tmp_path / "pipeline.csv"  # over the 5 MB from which progress is shown
    with pipeline.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Opportunity ID", "Opportunity Name", "Stage", "Amount", "Next Step"])
        for number in range(6_000):
            writer.writerow([f"D-{number}", f"Deal {number}", "Proposal", "1000", "x" * 900])
    command = (
        f"{sys.executable} -m dealgate audit {pipeline} --as-of {AS_OF} --format json "
        f"--output {tmp_path / 'audit.json'}"
    )
    result = subprocess.run(
        ["script", "-qec", command, "/dev/null"],
        capture_output=True,
        text=True,
        check=False,
        cwd=root,
        timeout=300,
    )
    assert "auditing pipeline.csv" in result.stdout
    assert json.loads((tmp_path / "audit.json").read_text("utf-8"))["summary"]["deals_audited"]


def test_junit_marks_only_a_deals_own_failures_when_two_rows_share_an_id(tmp_path: Path) -> None:
    """Two rows with one id (a data finding): the second meets the milestone the first
    misses. Its test case passes; the failures were once keyed by deal id and marked both."""
    export = tmp_path / "dup.csv"
    export.write_text(
        "Opportunity ID,Opportunity Name,Stage,Amount,Close Date,Opportunity Owner,Next Step\n"
        "006A,First,Needs Analysis,100,2027-01-01,Sam,\n"
        "006A,Second,Needs Analysis,100,2027-01-01,Sam,Call back\n",
        encoding="utf-8",
    )
    junit = dealgate(
        "audit", str(export), "--as-of", AS_OF, "--format", "junit", "--include-met", cwd=tmp_path
    )
    root = ElementTree.fromstring(junit.stdout)
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}

    def failed(suite: str) -> set[str]:
        return {
            str(case.get("name")).split()[0]
            for case in suites[suite].findall("testcase")
            if case.find("failure") is not None
        }

    assert failed("006A First") == {"HYG-NEXT-STEP"}
    assert failed("006A Second") == set()
    assert any(
        str(case.get("name")).startswith("HYG-NEXT-STEP ")
        for case in suites["006A Second"].findall("testcase")
    )  # its own, passing
    assert int(root.get("failures", "0")) == len(root.findall(".//failure"))
