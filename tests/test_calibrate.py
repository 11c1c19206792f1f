"""`dealgate calibrate` on the example history (examples/history): weekly Salesforce reports
saved as snapshots, and the outcomes report of 2026-11-27."""

from __future__ import annotations

import csv
import functools
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from command import dealgate
from dealgate.cli import app

HISTORY = Path(__file__).resolve().parents[1] / "examples" / "history"
OUTCOMES = HISTORY / "outcomes-2026-11-27.csv"
WEEKS = sorted(HISTORY.glob("opportunities-*.csv"))


def audit(export: Path, as_of: str, output: Path, *extra: str) -> None:
    """A weekly audit saved as JSON, in this process (twelve audits: no process each)."""
    result = CliRunner().invoke(
        app,
        [
            *("audit", str(export), "--as-of", as_of, "--fail-on", "never", "--format", "json"),
            *("--output", str(output), "--engine", "sql", *extra),
        ],
    )
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("snapshots")
    saved = []
    for week in WEEKS:
        day = week.stem.removeprefix("opportunities-")
        saved.append(folder / f"{day}.json")
        audit(week, day, saved[-1], "--include-met")
    return saved


@functools.cache  # the same calibration is read by several tests, never changed
def calibrate(*args: str) -> dict[str, Any]:
    result = dealgate("calibrate", *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["milestone_id"]: row for row in document["milestones"]}


def test_every_closed_deal_is_calibrated_or_counted_with_its_reason(snapshots: list[Path]) -> None:
    document = calibrate(*map(str, snapshots), "--outcomes", str(OUTCOMES))
    with OUTCOMES.open(encoding="utf-8") as file:
        stages = [row["Stage"] for row in csv.DictReader(file)]
    won, lost = stages.count("Closed Won"), stages.count("Closed Lost")
    calibrated = document["deals_won"] + document["deals_lost"]
    assert calibrated + sum(document["not_calibrated"].values()) == len(stages)
    assert document["not_calibrated"]["still open"] == len(stages) - won - lost
    assert document["deals_won"] <= won and document["deals_lost"] <= lost and calibrated > 60
    assert document["method"] == "snapshots" and document["lead_days"] == 14


def test_a_champion_predicts_wins_and_listing_competitors_does_not_say(
    snapshots: list[Path],
) -> None:
    """The example's hidden deal quality drives the champion, not the competitor list."""
    milestones = by_id(calibrate(*map(str, snapshots), "--outcomes", str(OUTCOMES)))
    champion, competition = milestones["DISC-CHAMPION"], milestones["DISC-COMPETITION"]
    assert champion["verdict"] == "predictive" and champion["difference_interval"][0] > 0
    assert champion["win_rate_met"]["rate"] > champion["win_rate_missing"]["rate"]
    assert competition["verdict"] == "no evidence either way"
    low, high = competition["difference_interval"]
    assert low < 0 < high


def test_a_milestone_the_export_cannot_show_is_not_verifiable_never_missing(
    snapshots: list[Path],
) -> None:
    """The reports have no contact roles: QUAL-CONTACT is unmeasured on every deal."""
    contact = by_id(calibrate(*map(str, snapshots), "--outcomes", str(OUTCOMES)))["QUAL-CONTACT"]
    assert contact["met"] == contact["missing"] == 0 and contact["unknown"] > 0
    assert contact["verdict"] == "not verifiable"


def test_each_milestone_is_compared_among_deals_that_reached_its_stage(
    snapshots: list[Path],
) -> None:
    """A deal lost in discovery says nothing about the proposal's milestones."""
    document = calibrate(*map(str, snapshots), "--outcomes", str(OUTCOMES))
    milestones = by_id(document)
    calibrated = document["deals_won"] + document["deals_lost"]
    qualify = milestones["QUAL-PAIN"]
    proposal = milestones["PROP-PROPOSAL-SENT"]
    assert qualify["met"] + qualify["missing"] + qualify["unknown"] == calibrated
    assert proposal["met"] + proposal["missing"] + proposal["unknown"] < calibrated / 2


def test_a_field_filled_in_at_the_close_leaks_from_closed_deals_but_not_from_snapshots(
    snapshots: list[Path],
) -> None:
    """Reps type the verbal commitment in after most wins: from closed deals alone it looks
    like the best predictor there is, and is flagged as leaking; the snapshots of two weeks
    before the close do not have it."""
    closed = calibrate("--closed-deals", str(OUTCOMES), "--as-of", "2026-11-27")
    verbal = by_id(closed)["NEG-VERBAL-COMMIT"]
    assert verbal["verdict"] == "predictive" and verbal["leaking_deals"] > 10
    assert any("filled in at or after the close" in warning for warning in closed["warnings"])
    honest = by_id(calibrate(*map(str, snapshots), "--outcomes", str(OUTCOMES)))
    assert honest["NEG-VERBAL-COMMIT"]["verdict"] != "predictive"
    assert honest["NEG-VERBAL-COMMIT"]["leaking_deals"] == 0


def test_the_lead_time_moves_each_deal_to_an_earlier_snapshot(snapshots: list[Path]) -> None:
    near = calibrate(*map(str, snapshots), "--outcomes", str(OUTCOMES), "--lead-days", "0")
    far = calibrate(*map(str, snapshots), "--outcomes", str(OUTCOMES), "--lead-days", "42")
    assert near["deals_won"] + near["deals_lost"] > far["deals_won"] + far["deals_lost"]
    assert far["lead_days"] == 42


def test_stage_figures_count_deals_that_met_the_exits_and_those_that_did_not(
    snapshots: list[Path],
) -> None:
    stages = calibrate(*map(str, snapshots), "--outcomes", str(OUTCOMES))["stages"]
    discover = {row["exits_met"]: row for row in stages if row["stage_id"] == "discover"}
    assert discover[True]["deals"] > 0 and discover[False]["deals"] > 0
    for row in stages:
        assert 0 <= row["won"] <= row["deals"] and 0 <= row["reached_next"] <= row["deals"]


def test_an_audit_without_met_findings_is_refused_as_a_snapshot(tmp_path: Path) -> None:
    saved = tmp_path / "plain.json"
    audit(WEEKS[0], "2026-09-04", saved)
    result = dealgate("calibrate", str(saved), "--outcomes", str(OUTCOMES))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "plain.json" in result.stderr and "--include-met" in result.stderr


def test_a_snapshot_of_another_pack_version_is_refused_unless_accepted(
    snapshots: list[Path], tmp_path: Path
) -> None:
    edited = tmp_path / "edited.json"
    document = json.loads(snapshots[0].read_text(encoding="utf-8"))
    document["pack"]["hash"] = "0" * 64
    edited.write_text(json.dumps(document), encoding="utf-8")
    refused = dealgate(
        "calibrate", str(edited), *map(str, snapshots[1:]), "--outcomes", str(OUTCOMES)
    )
    assert refused.returncode == 2 and "another version of pack" in refused.stderr
    accepted = dealgate(
        "calibrate",
        str(edited),
        *map(str, snapshots[1:]),
        "--outcomes",
        str(OUTCOMES),
        "--accept-pack-changes",
    )
    assert accepted.returncode == 0, accepted.stderr


def test_two_snapshots_of_one_day_are_refused(snapshots: list[Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy.json"
    copy.write_bytes(snapshots[0].read_bytes())
    result = dealgate("calibrate", str(snapshots[0]), str(copy), "--outcomes", str(OUTCOMES))
    assert result.returncode == 2 and "a second snapshot of 2026-09-04" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "calibrate from one source"),
        (("--outcomes", str(OUTCOMES)), "snapshots and --outcomes go together"),
        (("--closed-deals", str(OUTCOMES), "--review", "r.csv"), "calibrate from one source"),
        (("--closed-deals", str(OUTCOMES), "--correction", "holm"), "--correction 'holm'"),
        (("--closed-deals", str(OUTCOMES), "--confidence", "1.5"), "confidence must be between"),
    ],
)
def test_a_calibration_asked_wrongly_exits_2_with_a_message(
    args: tuple[str, ...], message: str
) -> None:
    result = dealgate("calibrate", *args)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_csv_has_one_row_per_milestone_with_its_verdict(snapshots: list[Path]) -> None:
    result = dealgate(
        "calibrate", *map(str, snapshots), "--outcomes", str(OUTCOMES), "--format", "csv"
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    document = calibrate(*map(str, snapshots), "--outcomes", str(OUTCOMES))
    assert [row["milestone_id"] for row in rows] == [
        m["milestone_id"] for m in document["milestones"]
    ]
    assert {row["verdict"] for row in rows} <= {
        "predictive",
        "inverse",
        "not predictive",
        "no evidence either way",
        "too few deals to say",
        "no information",
        "not verifiable",
    }


def test_the_table_says_what_was_calibrated_and_what_was_not(snapshots: list[Path]) -> None:
    result = dealgate("calibrate", *map(str, snapshots), "--outcomes", str(OUTCOMES))
    assert result.returncode == 0, result.stderr
    assert "12 snapshots (2026-09-04 to 2026-11-20)" in result.stdout
    assert "not calibrated:" in result.stdout and "still open" in result.stdout
    assert "DISC-CHAMPION" in result.stdout and "predictive" in result.stdout


def test_snapshot_dates_are_the_audits_as_of_not_the_file_names(snapshots: list[Path]) -> None:
    """The example's weekly files are named by their day; calibrate reads the audit's date."""
    assert [json.loads(p.read_text(encoding="utf-8"))["as_of"] for p in snapshots] == [
        date.fromisoformat(p.stem).isoformat() for p in snapshots
    ]


REVIEW = Path(__file__).resolve().parent / "fixtures" / "review" / "salvirt-shape.csv"
REVIEW_MAPPING = HISTORY.parent / "salvirt-review-mapping.yaml"


def test_a_win_loss_review_is_calibrated_with_its_caveat() -> None:
    document = calibrate("--review", str(REVIEW), "--review-mapping", str(REVIEW_MAPPING))
    assert document["method"] == "win/loss review" and document["pack"] is None
    assert any("recorded at or after the close" in warning for warning in document["warnings"])
    with REVIEW.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file, delimiter=";"))
    assert document["deals_won"] + document["deals_lost"] + sum(
        document["not_calibrated"].values()
    ) == len(rows)
    for milestone in document["milestones"]:
        assert milestone["met"] + milestone["missing"] + milestone["unknown"] == (
            document["deals_won"] + document["deals_lost"]
        )


def test_the_calibration_page_charts_each_stage_and_escapes_names(
    snapshots: list[Path], tmp_path: Path
) -> None:
    page = tmp_path / "calibration.html"
    result = dealgate(
        "calibrate",
        *map(str, snapshots),
        "--outcomes",
        str(OUTCOMES),
        "--format",
        "html",
        "--output",
        str(page),
    )
    assert result.returncode == 0, result.stderr
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    assert html.count("<svg") >= 5  # qualify to negotiate, and the hygiene checks
    assert "Stage: Discover" in html and "Champion identified" in html


def test_a_review_attribute_named_like_markup_is_shown_as_text(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    text = REVIEW_MAPPING.read_text(encoding="utf-8")
    mapping.write_text(
        text.replace("name: Budget allocated", "name: '<img src=x onerror=alert(1)>'"),
        encoding="utf-8",
    )
    page = tmp_path / "review.html"
    result = dealgate(
        *("calibrate", "--review", str(REVIEW), "--review-mapping", str(mapping)),
        *("--format", "html", "--output", str(page)),
    )
    assert result.returncode == 0, result.stderr
    html = page.read_text(encoding="utf-8")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_closed_deals_with_stage_history_are_compared_where_they_reached() -> None:
    """HubSpot's date-entered columns say how far each lost deal went: a deal lost in
    qualification is not counted as missing the negotiation's milestones, and the stage
    figures come from the same history."""
    hubspot = HISTORY.parent / "hubspot-deals.csv"
    document = calibrate(
        "--closed-deals", str(hubspot), "--rules", "hubspot-default", "--as-of", "2026-11-27"
    )
    assert not any("compared on every milestone" in w for w in document["warnings"])
    calibrated = document["deals_won"] + document["deals_lost"]
    observed = {
        row["milestone_id"]: row["met"] + row["missing"] + row["unknown"]
        for row in document["milestones"]
        if row["stage_id"] is not None
    }
    assert max(observed.values()) == calibrated > min(observed.values())
    assert {row["stage_id"] for row in document["stages"] if row["deals"]} >= {"qualify"}


def test_closed_deals_without_stage_history_warn_of_the_unfair_comparison() -> None:
    document = calibrate("--closed-deals", str(OUTCOMES), "--as-of", "2026-11-27")
    assert any(
        w.startswith("lost deals are compared on every milestone") for w in document["warnings"]
    )
    assert document["stages"] == []
