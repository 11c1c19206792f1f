"""The bundled examples read as examples/README.md says; check and audit them as a newcomer."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from command import dealgate
from dealgate.deals.source import DealSource, open_deals
from dealgate.findings import DataIssue
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AS_OF = "2026-11-27"


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack("buyer-journey", PackCatalog(cwd=EXAMPLES))


def _read(pack: RulePack, name: str, **options: Path) -> tuple[DealSource, list[object]]:
    source = open_deals(EXAMPLES / name, pack, **options)  # type: ignore[arg-type]
    return source, list(source)


def _problems(source: DealSource) -> dict[tuple[int | None, str | None], str]:
    return {
        (f.row, f.column): f.message
        for f in source.findings
        if f.issue is not DataIssue.PLACEHOLDER
    }


def test_salesforce_report_reads_every_row(pack: RulePack) -> None:
    source, deals = _read(
        pack,
        "salesforce-opportunities.csv",
        contacts=EXAMPLES / "salesforce-contact-roles.csv",
        teams=EXAMPLES / "teams.csv",
    )
    assert source.profile.name == "salesforce"
    assert source.table.encoding == "utf-8-sig"
    counts = source.mapper.reconciliation
    assert (counts.rows_read, counts.deals_read, counts.rows_rejected) == (300, 298, 2)
    assert [row.row for row in source.mapper.rejected] == [19, 107]
    assert Counter(f.issue.value for f in source.findings) == {
        "placeholder": 84,
        "unreadable": 4,
        "unknown_stage": 2,
        "duplicate_id": 1,
        "unknown_deal": 1,
    }
    problems = _problems(source)
    assert problems[(17, "Close Date")] == (
        "'31/12/2026' is not a calendar date (read as M/D/YYYY): read as missing"
    )
    assert problems[(88, "Last Activity")].startswith("unreadable date 'yesterday'")
    assert problems[(179, "Amount")] == "unreadable amount '12k': read as missing"
    assert problems[(209, "Next Step Date")].startswith("unreadable date 'next week'")
    assert problems[(23, "Stage")].startswith("stage 'Stalled' is not a stage")
    assert problems[(195, "Stage")].startswith("stage 'Stalled' is not a stage")
    assert problems[(295, "Opportunity ID")] == (
        "duplicate deal id '0065g000003WW4nAAG' (first at row 146); both are read"
    )
    assert problems[(208, "OpportunityId")] == (
        "contact role for deal '0065g000003WYndAAG', which is not in "
        f"{EXAMPLES / 'salesforce-opportunities.csv'}"
    )
    assert all(use.field is not None for use in source.mapper.plan)  # every column recognised
    plan = {use.header: (use.field, use.type) for use in source.mapper.plan}
    assert plan["Economic Buyer Met On"] == ("economic_buyer_met_on", "date")
    assert plan["Next Step Date"] == ("next_step_date", "date")
    assert plan["Action Plan"] == ("action_plan", "list of records")
    with_roles = [d for d in deals if d.deal.contacts]  # type: ignore[attr-defined]
    assert len(with_roles) > 250
    assert all(d.deal.manager for d in deals)  # type: ignore[attr-defined]


def test_hubspot_export_reads_every_row(pack: RulePack) -> None:
    source, deals = _read(pack, "hubspot-deals.csv")
    assert source.profile.name == "hubspot"
    counts = source.mapper.reconciliation
    assert (counts.rows_read, counts.deals_read, counts.rows_rejected) == (300, 299, 1)
    assert [row.row for row in source.mapper.rejected] == [19]
    assert Counter(f.issue.value for f in source.findings) == {
        "placeholder": 84,
        "unreadable": 4,
        "unknown_stage": 2,
        "duplicate_id": 1,
    }
    problems = _problems(source)
    assert problems[(17, "Last Activity Date")].startswith("'31.13.2026' is not a calendar date")
    assert problems[(107, "Deal Stage")].startswith("stage '98765432' is not a stage")
    assert problems[(195, "Amount")] == "unreadable amount '1.2k': read as missing"
    assert problems[(209, "Close Date")].startswith("unreadable date 'end of Q1'")
    assert problems[(295, "Record ID")].startswith("duplicate deal id '15207014011'")
    first = deals[0].deal  # type: ignore[attr-defined]
    assert first.stage_history, "Date entered columns become the stage history"
    assert all(use.field is not None for use in source.mapper.plan)


def test_example_deals_read_cleanly(pack: RulePack) -> None:
    for path in sorted((EXAMPLES / "deals").glob("*.yaml")):
        source, deals = _read(pack, f"deals/{path.name}")
        assert len(deals) == 1, path
        assert source.findings == [], path


@pytest.mark.parametrize(
    ("deal", "ready", "missing"),
    [
        ("acme-clean.yaml", False, {"VAL-SOLUTION-FIT", "VAL-EB-MET", "VAL-MAP"}),
        (
            "globex-skipped.yaml",
            False,
            {
                "VAL-EB-MET",
                "NEG-VERBAL-COMMIT",
                "NEG-LEGAL",
                "NEG-CONTRACT-SENT",
                "HYG-MAP-ON-TRACK",
            },
        ),
        ("initech-ready.yaml", True, set()),
    ],
)
def test_check_example_deals(deal: str, ready: bool, missing: set[str]) -> None:
    result = dealgate("check", f"examples/deals/{deal}", "--as-of", AS_OF, "--format", "json")
    assert result.returncode == (0 if ready else 1), result.stderr
    report = json.loads(result.stdout)
    assert report["ready"] is ready
    found = {f["milestone_id"] for f in report["deal"]["findings"] if f["status"] == "missing"}
    assert found == missing


def test_globex_skipped_is_inflated_and_gets_re_staged() -> None:
    report = json.loads(
        dealgate(
            "check", "examples/deals/globex-skipped.yaml", "--as-of", AS_OF, "--format", "json"
        ).stdout
    )
    deal = report["deal"]
    skipped = [
        f["milestone_id"]
        for f in deal["findings"]
        if f["kind"] == "skipped" and f["status"] == "missing"
    ]
    assert skipped == ["VAL-EB-MET"]
    assert (deal["stage_id"], deal["evidence_stage"]) == ("negotiate", "validate")
    assert deal["disposition"] == "re-stage to validate"


def test_audit_salesforce_example_as_the_readme_runs_it() -> None:
    result = dealgate(
        "audit",
        "examples/salesforce-opportunities.csv",
        "--contacts",
        "examples/salesforce-contact-roles.csv",
        "--teams",
        "examples/teams.csv",
        "--as-of",
        AS_OF,
        "--format",
        "json",
    )
    assert result.returncode == 1
    report = json.loads(result.stdout)
    counts = report["reconciliation"]
    assert counts["balanced"] and counts["rows_read"] == 300 and counts["rows_rejected"] == 2
    assert counts["deals_audited"] + counts["deals_excluded"] == 298
    summary = report["summary"]
    assert summary["deals_with_skipped_milestones"] > 0
    at_risk = sum(Decimal(str(m["amount"])) for m in summary["pipeline_at_risk"])
    assert at_risk > 0
    managers = {owner["manager"] for owner in summary["by_owner"]}
    assert None not in managers and len(managers) == 6
    for deal in report["deals"]:
        if deal["inflation"] > 0:
            assert deal["disposition"] in ("re-date", f"re-stage to {deal['evidence_stage']}")


def test_audit_hubspot_example_with_the_hubspot_pack() -> None:
    result = dealgate(
        "audit",
        "examples/hubspot-deals.csv",
        "--rules",
        "hubspot-default",
        "--teams",
        "examples/teams.csv",
        "--as-of",
        AS_OF,
        "--format",
        "json",
    )
    report = json.loads(result.stdout)
    assert report["pack"]["id"] == "hubspot-default"
    assert report["reconciliation"]["balanced"]
    assert report["summary"]["deals_audited"] > 200


def test_examples_are_dated_for_the_as_of_in_the_readme() -> None:
    assert date.fromisoformat(AS_OF) == date(2026, 11, 27)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"--as-of {AS_OF}" in readme


def test_deals_inspect_explains_every_column_in_one_screen() -> None:
    result = dealgate(
        "deals",
        "inspect",
        "examples/salesforce-opportunities.csv",
        "--contacts",
        "examples/salesforce-contact-roles.csv",
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for header in ("Opportunity ID", "Economic Buyer Met On", "Action Plan", "Push Count"):
        assert header in text
    assert "Profile salesforce  detected from" in text
    assert "rows read 300 = deals read 298 + rows rejected 2  balanced" in text
    assert "Stalled" in text and "not in the pack" in text
    as_json = json.loads(
        dealgate(
            "deals", "inspect", "examples/salesforce-opportunities.csv", "--format", "json"
        ).stdout
    )
    assert as_json["reconciliation"] == {
        "rows_read": 300,
        "deals_read": 298,
        "rows_rejected": 2,
        "balanced": True,
    }
    assert len(as_json["columns"]) == 45
    assert {c["kind"] for c in as_json["columns"]} == {"canonical", "custom"}


@pytest.mark.parametrize(
    ("pipeline", "extra"),
    [
        (
            "examples/salesforce-opportunities.csv",
            ["--contacts", "examples/salesforce-contact-roles.csv"],
        ),
        ("examples/hubspot-deals.csv", ["--rules", "hubspot-default"]),
    ],
)
def test_durable_and_sql_engines_give_identical_audits(pipeline: str, extra: list[str]) -> None:
    reports = []
    for engine in ("durable", "sql"):
        result = dealgate(
            "audit",
            pipeline,
            *extra,
            "--as-of",
            AS_OF,
            "--format",
            "json",
            "--include-met",
            "--engine",
            engine,
        )
        report = json.loads(result.stdout)
        assert report.pop("engine") == engine
        reports.append(report)
    assert reports[0] == reports[1]


@pytest.mark.parametrize(
    ("pipeline", "extra"),
    [
        (
            "examples/salesforce-opportunities.csv",
            ["--contacts", "examples/salesforce-contact-roles.csv"],
        ),
        ("examples/hubspot-deals.csv", ["--rules", "hubspot-default"]),
    ],
)
def test_spark_and_sql_engines_give_identical_audits(
    pipeline: str, extra: list[str], spark_engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In this process, so the CLI's spark engine uses the test run's Spark session
    # (the spark_engine fixture) instead of starting a JVM per audit.
    from typer.testing import CliRunner

    from dealgate.cli import app

    monkeypatch.chdir(ROOT)
    reports, exit_codes = [], []
    for engine in ("sql", "spark"):
        result = CliRunner().invoke(
            app,
            [
                "audit",
                pipeline,
                *extra,
                "--as-of",
                AS_OF,
                "--format",
                "json",
                "--include-met",
                "--engine",
                engine,
            ],
        )
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        report = json.loads(result.stdout)
        assert report.pop("engine") == engine
        reports.append(report)
        exit_codes.append(result.exit_code)
    assert reports[0]["deals"], "the audit lists the deals"
    assert reports[0] == reports[1]
    assert exit_codes[0] == exit_codes[1]
