"""--stage-history: Salesforce's OpportunityHistory export as each deal's stage history."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from command import dealgate
from dealgate.deals.model import ReadDeal
from dealgate.deals.source import DealSource, open_deals
from dealgate.errors import InputError
from dealgate.findings import DataIssue
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PIPELINE = "examples/salesforce-opportunities.csv"
HISTORY = "examples/salesforce-opportunity-history.csv"
AS_OF = "2026-11-27"
# HYG-STAGE-MOVED of the deals examples/salesforce-opportunity-history.csv holds, as of AS_OF
# (README of examples/): stuck when the last stage change is more than 90 days old.
STAGE_MOVED = {
    "0065g000003WTmlAAG": "missing",  # Needs Analysis since 14 Jul; later rows are amount edits
    "0065g000003WTo6AAG": "met",  # 15-character id in the file; Negotiation/Review on 24 Nov
    "0065g000003WTt8AAG": "missing",  # Negotiation/Review since 10 Aug; a close date push since
    "0065g000003WTu2AAG": "met",  # back to Value Proposition on 22 Oct, Proposal again 28 Oct
    "0065g000003WTvfAAG": "met",  # Needs Analysis on 20 Oct
    "0065g000003WU3KAAW": "met",  # Proposal/Price Quote on 4 Nov; one row's date unreadable
}


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack("buyer-journey", PackCatalog(cwd=Path("/nonexistent")))


def _read(path: Path, pack: RulePack, **options: Path) -> tuple[DealSource, list[ReadDeal]]:
    source = open_deals(path, pack, **options)  # type: ignore[arg-type]
    return source, list(source)


def _data_loader_export(path: Path, changes: list[tuple[str, str, str]]) -> Path:
    """An OpportunityHistory export as Data Loader writes it: (OpportunityId, CreatedDate,
    StageName) of each row, the other fields filled in as an amount edit would leave them."""
    lines = [
        '"Id","OpportunityId","CreatedById","CreatedDate","StageName","Amount",'
        '"ExpectedRevenue","CloseDate","Probability","ForecastCategory","SystemModstamp",'
        '"IsDeleted"'
    ]
    for number, (deal, created, stage) in enumerate(changes, start=1):
        lines.append(
            f'"0085g00000K{number:04d}","{deal}","0055g00000Ar7QpAAJ","{created}","{stage}",'
            f'"30000.0","6000.0","2027-01-29","20.0","Pipeline","{created}","false"'
        )
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def _pipeline(tmp_path: Path) -> Path:
    pipeline = tmp_path / "pipeline.csv"
    pipeline.write_text(
        "Opportunity ID,Opportunity Name,Stage,Close Date\n"
        "0065g00000AbCdEAAV,Acme,Proposal/Price Quote,1/29/2027\n"
        "0065g00000ZZZZZAAA,Globex,Prospecting,3/31/2027\n",
        encoding="utf-8",
    )
    return pipeline


def test_a_data_loader_export_gives_each_deal_its_stage_changes_in_date_order(
    tmp_path: Path, pack: RulePack
) -> None:
    acme = "0065g00000AbCdEAAV"
    history = _data_loader_export(
        tmp_path / "OpportunityHistory.csv",
        [
            # out of date order, as an export sorted by something else would be
            (acme, "2026-10-01T09:00:00.000+0000", "Needs Analysis"),
            ("0065g00000AbCdE", "2026-09-03T23:59:59.000+0000", "Prospecting"),
            # an amount edit: the stage is unchanged, so it is no stage change
            (acme, "2026-10-20T10:00:00.000+0000", "needs analysis"),
            (acme, "2026-11-03T14:22:05.000+0000", "Proposal/Price Quote"),
            # moved back, and on again: both moves are kept
            (acme, "2026-11-10T08:00:00.000+0000", "Needs Analysis"),
            (acme, "2026-11-20T08:00:00.000+0000", "Proposal/Price Quote"),
        ],
    )
    source, deals = _read(_pipeline(tmp_path), pack, stage_history=history)
    first, second = (read.deal for read in deals)
    assert [(change.stage, change.entered_on) for change in first.stage_history or []] == [
        ("Prospecting", date(2026, 9, 3)),  # the 15-character id joins the same deal
        ("Needs Analysis", date(2026, 10, 1)),
        ("Proposal/Price Quote", date(2026, 11, 3)),
        ("Needs Analysis", date(2026, 11, 10)),
        ("Proposal/Price Quote", date(2026, 11, 20)),
    ]
    assert second.stage_history == []  # history was exported; this deal has none
    assert source.findings == []
    assert source.history is not None
    assert source.supply.fields >= {"stage_history"}
    (note,) = [note for note in source.mapper.notes if "stage history" in note]
    assert "6 rows read = 5 stage changes of 1 deals + 1 repeating the stage before" in note
    assert "replaces" not in note  # a Salesforce report has no stage history of its own


def test_a_report_of_opportunity_history_reads_by_its_labels(
    tmp_path: Path, pack: RulePack
) -> None:
    history = tmp_path / "history-report.csv"
    history.write_text(
        "Opportunity ID,Opportunity Name,Stage,Amount,Created Date\n"
        "0065g00000AbCdE,Acme,Qualification,30000,9/3/2026 4:05 PM\n"
        "0065g00000AbCdE,Acme,Proposal/Price Quote,30000,2026-11-03\n",
        encoding="utf-8",
    )
    _, deals = _read(_pipeline(tmp_path), pack, stage_history=history)
    assert [(c.stage, c.entered_on) for c in deals[0].deal.stage_history or []] == [
        ("Qualification", date(2026, 9, 3)),
        ("Proposal/Price Quote", date(2026, 11, 3)),
    ]


def test_a_json_export_of_opportunity_history_reads_as_the_csv_does(
    tmp_path: Path, pack: RulePack
) -> None:
    history = tmp_path / "history.json"
    history.write_text(
        json.dumps(
            [
                {
                    "OpportunityId": "0065g00000ZZZZZAAA",
                    "StageName": "Prospecting",
                    "CreatedDate": "2026-11-02T10:00:00.000+0000",
                }
            ]
        ),
        encoding="utf-8",
    )
    _, deals = _read(_pipeline(tmp_path), pack, stage_history=history)
    assert [(c.stage, c.entered_on) for c in deals[1].deal.stage_history or []] == [
        ("Prospecting", date(2026, 11, 2))
    ]


def test_rows_for_unknown_deals_and_unusable_rows_are_findings_and_every_row_is_counted(
    tmp_path: Path, pack: RulePack
) -> None:
    acme, unknown = "0065g00000AbCdEAAV", "0065g00000NOPEXYZ"
    history = _data_loader_export(
        tmp_path / "OpportunityHistory.csv",
        [
            (acme, "2026-10-01T09:00:00.000+0000", "Needs Analysis"),
            (unknown, "2026-10-02T09:00:00.000+0000", "Prospecting"),
            (unknown, "2026-10-09T09:00:00.000+0000", "Qualification"),
            (acme, "31/10/2026", "Proposal/Price Quote"),
            ("", "2026-10-03T09:00:00.000+0000", "Prospecting"),
            (acme, "2026-10-04T09:00:00.000+0000", ""),
        ],
    )
    source, deals = _read(_pipeline(tmp_path), pack, stage_history=history)
    assert [c.stage for c in deals[0].deal.stage_history or []] == ["Needs Analysis"]
    found = [(Path(f.file).name, f.row, f.column, f.issue) for f in source.findings]
    assert found == [
        ("OpportunityHistory.csv", 5, "CreatedDate", DataIssue.UNREADABLE),
        ("OpportunityHistory.csv", 6, "OpportunityId", DataIssue.MISSING_ID),
        ("OpportunityHistory.csv", 7, "StageName", DataIssue.UNREADABLE),
        ("OpportunityHistory.csv", 3, "OpportunityId", DataIssue.UNKNOWN_DEAL),
    ]
    unknown = source.findings[-1]
    assert unknown.deal_id == "0065g00000NOPEXYZ" and "(lines 3, 4)" in unknown.message
    assert "'31/10/2026' is not a calendar date" in source.findings[0].message
    assert source.history is not None
    tally = source.history.account(source.mapper._seen, "pipeline.csv")
    assert (tally.rows_read, tally.changes, tally.repeats, tally.unknown_deal) == (6, 1, 0, 2)
    assert tally.left_out == 3 and tally.balanced


def test_the_history_file_wins_over_hubspot_date_entered_columns(
    tmp_path: Path, pack: RulePack
) -> None:
    pipeline = tmp_path / "hubspot.csv"
    pipeline.write_text(
        'Record ID,Deal Name,Deal Stage,Date entered "Appointment Scheduled (Sales Pipeline)"\n'
        "101,Initech,appointmentscheduled,2026-05-01 10:00\n",
        encoding="utf-8",
    )
    history = tmp_path / "history.csv"
    history.write_text(
        "OpportunityId,StageName,CreatedDate\n"
        "101,appointmentscheduled,2026-05-01\n"
        "101,qualifiedtobuy,2026-06-01\n"
        "101,appointmentscheduled,2026-11-20\n",
        encoding="utf-8",
    )
    source, deals = _read(pipeline, pack, stage_history=history)
    assert [c.entered_on for c in deals[0].deal.stage_history or []] == [
        date(2026, 5, 1),
        date(2026, 6, 1),
        date(2026, 11, 20),  # a move back, which the columns cannot show
    ]
    assert any("replaces the export's own stage history" in note for note in source.mapper.notes)


def test_a_history_file_without_a_stage_column_is_refused_naming_its_columns(
    tmp_path: Path,
) -> None:
    history = tmp_path / "history.csv"
    history.write_text("OpportunityId,Stage_Nme,CreatedDate\n0065g00000AbCdE,x,2026-11-01\n")
    result = dealgate("audit", PIPELINE, "--stage-history", str(history), "--as-of", AS_OF)
    assert result.returncode == 2
    assert f"{history}:1: error: a stage history file needs a column StageName" in result.stderr
    assert "its columns: OpportunityId, Stage_Nme, CreatedDate" in result.stderr
    assert "did you mean 'Stage_Nme'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_report_keyed_by_deal_names_cannot_take_a_history_file(
    tmp_path: Path, pack: RulePack
) -> None:
    pipeline = tmp_path / "report.csv"
    pipeline.write_text("Opportunity Name,Stage\nAcme,Prospecting\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"stage history \(--stage-history\) joins deals by"):
        open_deals(pipeline, pack, stage_history=EXAMPLES / "salesforce-opportunity-history.csv")


def _stage_moved(report: dict[str, object]) -> dict[str, str]:
    deals = report["deals"]
    assert isinstance(deals, list)
    return {
        deal["id"]: finding["status"]
        for deal in deals
        for finding in deal["findings"]
        if finding["milestone_id"] == "HYG-STAGE-MOVED" and deal["id"] in STAGE_MOVED
    }


@pytest.mark.parametrize("engine", ["durable", "sql"])
def test_the_example_history_makes_stuck_deals_measurable_on_both_engines(engine: str) -> None:
    result = dealgate(
        "audit", PIPELINE, "--stage-history", HISTORY, "--contacts",
        "examples/salesforce-contact-roles.csv", "--as-of", AS_OF, "--format", "json",
        "--include-met", "--engine", engine,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["engine"] == engine
    assert _stage_moved(report) == STAGE_MOVED
    # deals without a row have an empty history: the check does not apply to them
    others = {
        finding["status"]
        for deal in report["deals"]
        if deal["id"] not in STAGE_MOVED and deal["stage"] != "Closed Won"
        for finding in deal["findings"]
        if finding["milestone_id"] == "HYG-STAGE-MOVED"
    }
    assert others == {"not_applicable"}
    assert "stage_history" not in {f["field"] for f in report["coverage"]["lacking_fields"]}
    history_findings = [
        (f["row"], f["column"], f["issue"]) for f in report["data_findings"] if f["file"] == HISTORY
    ]
    assert history_findings == [
        (31, "CreatedDate", "unreadable"),
        (20, "OpportunityId", "unknown_deal"),
    ]
    assert (
        "36 rows read = 30 stage changes of 7 deals + 3 repeating the stage before" in result.stderr
    )


def test_the_columnar_route_steps_aside_for_a_history_file_and_says_why() -> None:
    result = dealgate(
        "audit", PIPELINE, "--stage-history", HISTORY, "--as-of", AS_OF, "--format", "csv",
        "--engine", "sql", "-v",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "columnar path not taken: --stage-history" in result.stderr
    rows = {row["deal_id"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    stuck = {deal for deal, status in STAGE_MOVED.items() if status == "missing"}
    flagged = {deal for deal, row in rows.items() if "HYG-STAGE-MOVED" in row["hygiene"]}
    assert flagged == stuck


def test_without_the_history_file_coverage_says_how_salesforce_supplies_it() -> None:
    result = dealgate("audit", PIPELINE, "--as-of", AS_OF, "--format", "json")
    lacking = {f["field"]: f for f in json.loads(result.stdout)["coverage"]["lacking_fields"]}
    assert lacking["stage_history"]["milestones"] == ["HYG-STAGE-MOVED"]
    assert "--stage-history FILE" in lacking["stage_history"]["how"]


def test_deals_inspect_names_the_history_file_of_each_finding() -> None:
    result = dealgate(
        "deals", "inspect", PIPELINE, "--stage-history", HISTORY, "--limit", "0"
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "salesforce-opportunity-history.csv: CreatedDate" in result.stdout
    assert "36 rows read = 30 stage changes of 7 deals" in " ".join(result.stdout.split())
