"""History from snapshots (--history, deals/history.py, docs/history.md): close-date pushes,
stage changes and stages moved back, derived from the JSON audits a team saved in earlier
weeks; a deal seen too few times has insufficient history, unmeasured and never met.

The snapshots are real documents: `dealgate audit --format json` of small exports taken on
four Fridays, the last one being today's export.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from command import dealgate, needs_durable
from dealgate.deals.history import HistoryRequest
from dealgate.deals.model import StageChange
from dealgate.deals.source import Reading
from dealgate.judging.coverage import COLUMN_HINT, HISTORY_HINT
from dealgate.rules.loader import load_pack

PACK = """\
pack: history-checks
title: Hygiene a team reads from its weekly snapshots
stages:
  - id: qualify
    crm_names: [Qualification]
    exit:
      - id: QUAL-AMOUNT
        milestone: Amount known
        require: present(amount)
  - id: discover
    crm_names: [Needs Analysis]
  - id: validate
    crm_names: [Value Proposition]
  - id: closed_won
    terminal: won
    crm_names: [Closed Won]
checks:
  - id: HYG-PUSHED-ONCE
    milestone: Close date pushed at most once
    require: close_date_pushes <= 1
  - id: HYG-PUSH-SMALL
    milestone: No single push of more than 30 days
    require: close_date_largest_push_days <= 30
  - id: HYG-PUSHED-LITTLE
    milestone: Pushed 100 days at most in all
    require: close_date_days_pushed <= 100
  - id: HYG-NOT-BACK
    milestone: Never moved back a stage
    require: not stage_moved_back
  - id: HYG-STUCK
    milestone: Changed stage in the last 60 days
    require: any(stage_history, days_since(entered_on) <= 60)
  - id: HYG-SETTLED
    milestone: In its stage for two weeks at least
    require: any(stage_history, days_since(entered_on) >= 14)
"""

HEADER = "id,name,stage,amount,close_date\n"
# Four Fridays. P-1 is pushed three times (16, 30 and 61 days) and stays in Qualification;
# P-2 goes forward and back; P-3 is pulled in and advances; P-4 is new today; P-5 was first
# seen four weeks ago. In the second week P-2 lost its amount, so it needed attention.
EXPORTS = {
    "2026-09-04": """\
P-1,Pushed three times,Qualification,1000,2026-10-15
P-2,Moved back,Needs Analysis,2000,2026-12-31
P-3,Advanced,Qualification,3000,2026-12-20
""",
    "2026-10-02": """\
P-1,Pushed three times,Qualification,1000,2026-10-31
P-2,Moved back,Value Proposition,,2026-12-31
P-3,Advanced,Qualification,3000,2026-12-10
""",
    "2026-10-30": """\
P-1,Pushed three times,Qualification,1000,2026-11-30
P-2,Moved back,Needs Analysis,2000,2026-12-31
P-3,Advanced,Needs Analysis,3000,2026-12-10
P-5,Recent,Qualification,5000,2027-01-31
""",
}
TODAY = "2026-11-27"
TODAY_EXPORT = """\
P-1,Pushed three times,Qualification,1000,2027-01-30
P-2,Moved back,Needs Analysis,2000,2026-12-31
P-3,Advanced,Needs Analysis,3000,2026-12-10
P-4,New today,Qualification,4000,2026-12-31
P-5,Recent,Qualification,5000,2027-01-31
"""


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pack, today's export, and a snapshot saved on each earlier Friday."""
    folder = tmp_path_factory.mktemp("weeks")
    (folder / "pack.yaml").write_text(PACK, encoding="utf-8")
    (folder / "today.csv").write_text(HEADER + TODAY_EXPORT, encoding="utf-8")
    for day, rows in EXPORTS.items():
        export = folder / f"export-{day}.csv"
        export.write_text(HEADER + rows, encoding="utf-8")
        done = dealgate(
            "audit", str(export), "--rules", str(folder / "pack.yaml"), "--as-of", day,
            "--format", "json", "--include-met", "--fail-on", "never",
            "--output", str(folder / f"snap-{day}.json"),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    return folder


def _snapshots(folder: Path) -> list[str]:
    # Newest first: the files are ordered by their as_of, not by the order given.
    return [str(folder / f"snap-{day}.json") for day in sorted(EXPORTS, reverse=True)]


def _history_args(files: list[str]) -> list[str]:
    return [part for file in files for part in ("--history", file)]


def _audit(
    folder: Path, *args: str, export: str = "today.csv", rules: str | None = None
) -> tuple[dict[str, Any], str]:
    done = dealgate(
        "audit", str(folder / export), "--rules", rules or str(folder / "pack.yaml"),
        "--as-of", TODAY, "--format", "json", "--include-met", "--fail-on", "never", *args,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def _findings(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (deal["id"], finding["milestone_id"]): finding
        for deal in document["deals"]
        for finding in deal["findings"]
    }


def test_a_deal_pushed_three_times_fails_the_push_checks_with_its_counts(weeks: Path) -> None:
    document, _ = _audit(weeks, *_history_args(_snapshots(weeks)))
    found = _findings(document)
    assert found[("P-1", "HYG-PUSHED-ONCE")]["status"] == "missing"
    assert found[("P-1", "HYG-PUSHED-ONCE")]["read"] == {"close_date_pushes": 3}
    assert found[("P-1", "HYG-PUSH-SMALL")]["read"] == {"close_date_largest_push_days": 61}
    assert found[("P-1", "HYG-PUSH-SMALL")]["status"] == "missing"
    assert found[("P-1", "HYG-PUSHED-LITTLE")]["read"] == {"close_date_days_pushed": 107}
    assert found[("P-1", "HYG-PUSHED-LITTLE")]["status"] == "missing"
    # Pulled in is not pushed: P-3's close date moved earlier.
    assert found[("P-3", "HYG-PUSHED-ONCE")]["read"] == {"close_date_pushes": 0}
    assert found[("P-3", "HYG-PUSHED-LITTLE")]["status"] == "met"


def test_a_deal_seen_at_a_later_stage_then_an_earlier_one_moved_back(weeks: Path) -> None:
    document, _ = _audit(weeks, *_history_args(_snapshots(weeks)))
    found = _findings(document)
    assert found[("P-2", "HYG-NOT-BACK")]["status"] == "missing"
    assert found[("P-2", "HYG-NOT-BACK")]["read"] == {"stage_moved_back": True}
    assert found[("P-3", "HYG-NOT-BACK")]["status"] == "met"
    assert found[("P-2", "HYG-STUCK")]["status"] == "met"  # back in discover since 30 October


def test_stage_history_lists_the_changes_seen_entered_on_the_first_sighting(weeks: Path) -> None:
    pack = load_pack(weeks / "pack.yaml")
    request = HistoryRequest(
        tuple(Path(file) for file in _snapshots(weeks)), date.fromisoformat(TODAY)
    )
    source = Reading(history=request).open(weeks / "today.csv", pack)
    deals = {read.deal.id: read for read in source}
    assert deals["P-2"].deal.stage_history == [
        StageChange(stage="Value Proposition", entered_on=date.fromisoformat("2026-10-02")),
        StageChange(stage="Needs Analysis", entered_on=date.fromisoformat("2026-10-30")),
    ]
    assert deals["P-3"].deal.stage_history == [
        StageChange(stage="Needs Analysis", entered_on=date.fromisoformat("2026-10-30"))
    ]
    assert deals["P-1"].deal.stage_history is None  # never seen changing stage
    assert deals["P-2"].deal.stage_moved_back is True
    assert deals["P-5"].deal.close_date_pushes == 0


def test_a_deal_first_seen_today_has_insufficient_history_never_met(weeks: Path) -> None:
    document, _ = _audit(weeks, *_history_args(_snapshots(weeks)))
    found = _findings(document)
    for milestone in ("HYG-PUSHED-ONCE", "HYG-PUSH-SMALL", "HYG-NOT-BACK", "HYG-STUCK"):
        finding = found[("P-4", milestone)]
        assert finding["status"] == "unmeasured", milestone
        assert finding["note"] == "insufficient history: seen in 1 of 4 observations"
    lacking = {entry["field"]: entry["how"] for entry in document["coverage"]["lacking_fields"]}
    assert lacking["close_date_pushes"] == HISTORY_HINT != COLUMN_HINT


def test_days_in_stage_known_only_as_a_lower_bound_decides_only_when_it_already_fails(
    weeks: Path,
) -> None:
    document, _ = _audit(weeks, *_history_args(_snapshots(weeks)))
    found = _findings(document)
    # P-1 was in Qualification in every snapshot since 4 September: 84 days at least.
    stuck = found[("P-1", "HYG-STUCK")]
    assert stuck["status"] == "missing"
    assert "since 2026-09-04" in stuck["note"]
    # P-5 only since 30 October (28 days at least): it may or may not have moved in 60 days.
    recent = found[("P-5", "HYG-STUCK")]
    assert recent["status"] == "unmeasured"
    assert recent["note"].startswith("insufficient history: at the same stage in all 2")
    # ... but 28 days at least is two weeks at least, whenever it entered.
    assert found[("P-5", "HYG-SETTLED")]["status"] == "met"
    assert found[("P-4", "HYG-SETTLED")]["status"] == "unmeasured"
    assert found[("P-5", "HYG-PUSHED-ONCE")]["status"] == "met"


def test_bundled_close_pushed_check_becomes_measurable_with_history(weeks: Path) -> None:
    plain, _ = _audit(weeks, rules="buyer-journey")
    unmeasured = {entry["milestone_id"]: entry for entry in plain["coverage"]["unmeasured"]}
    assert unmeasured["HYG-CLOSE-PUSHED"]["lacks"] == ["close_date_pushes"]
    assert unmeasured["HYG-CLOSE-PUSHED"]["partly"] is False
    assert {f["status"] for (_, m), f in _findings(plain).items() if m == "HYG-CLOSE-PUSHED"} == {
        "unmeasured"
    }

    document, _ = _audit(weeks, *_history_args(_snapshots(weeks)), rules="buyer-journey")
    found = _findings(document)
    assert found[("P-1", "HYG-CLOSE-PUSHED")]["status"] == "missing"  # 3 pushes, fewer than 3
    assert found[("P-3", "HYG-CLOSE-PUSHED")]["status"] == "met"
    assert found[("P-4", "HYG-CLOSE-PUSHED")]["status"] == "unmeasured"  # not "not applicable"
    # In qualify for 84 days at least: the pack's 90 days may or may not have passed.
    assert found[("P-1", "HYG-STAGE-MOVED")]["status"] == "unmeasured"
    assert found[("P-2", "HYG-STAGE-MOVED")]["status"] == "met"


def test_the_exports_own_push_count_wins_over_history(weeks: Path, tmp_path: Path) -> None:
    export = tmp_path / "with-pushes.csv"
    rows = [line + ",0" for line in TODAY_EXPORT.splitlines()]
    export.write_text(
        HEADER.replace("\n", ",close_date_pushes\n") + "\n".join(rows) + "\n", encoding="utf-8"
    )
    document, stderr = _audit(weeks, *_history_args(_snapshots(weeks)), "-v", export=str(export))
    found = _findings(document)
    assert found[("P-1", "HYG-PUSHED-ONCE")]["status"] == "met"  # the column says 0
    assert found[("P-1", "HYG-PUSH-SMALL")]["status"] == "missing"  # still from history
    assert "close_date_pushes: from the export's column, not from --history" in stderr


def test_a_deal_missing_from_a_snapshot_saved_before_version_4_is_unknown_there(
    weeks: Path, tmp_path: Path
) -> None:
    # As dealgate wrote it before version 4: only the deals needing attention (P-2).
    document = json.loads((weeks / "snap-2026-10-02.json").read_text(encoding="utf-8"))
    document["schema_version"] = 3
    del document["deals_listed"]
    document["deals"] = [deal for deal in document["deals"] if deal.pop("needs_attention")]
    assert [deal["id"] for deal in document["deals"]] == ["P-2"]
    old = tmp_path / "snap-old.json"
    old.write_text(json.dumps(document), encoding="utf-8")
    files = [str(weeks / "snap-2026-09-04.json"), str(old), str(weeks / "snap-2026-10-30.json")]

    found = _findings(_audit(weeks, *_history_args(files))[0])
    # Read as absent, P-1's sightings would show the same three pushes; it is unknown there.
    pushed = found[("P-1", "HYG-PUSHED-ONCE")]
    assert pushed["status"] == "unmeasured"
    assert "not listed in snap-old.json, saved before schema version 4" in pushed["note"]
    assert found[("P-2", "HYG-NOT-BACK")]["status"] == "missing"  # listed: measured
    assert found[("P-5", "HYG-PUSHED-ONCE")]["status"] == "met"  # first seen after it


@needs_durable
def test_the_durable_and_sql_engines_judge_history_alike(weeks: Path) -> None:
    def statuses(engine: str) -> dict[tuple[str, str], tuple[str, str]]:
        document, _ = _audit(weeks, *_history_args(_snapshots(weeks)), "--engine", engine)
        return {key: (f["status"], f["note"]) for key, f in _findings(document).items()}

    durable = statuses("durable")
    assert durable == statuses("sql")
    assert durable[("P-1", "HYG-STUCK")][0] == "missing"


def test_a_deal_left_out_of_a_filtered_snapshot_is_unknown_there(
    weeks: Path, tmp_path: Path
) -> None:
    filtered = tmp_path / "snap-validate-only.json"
    done = dealgate(
        "audit", str(weeks / "export-2026-10-02.csv"), "--rules", str(weeks / "pack.yaml"),
        "--as-of", "2026-10-02", "--stage", "validate", "--format", "json",
        "--fail-on", "never", "--output", str(filtered),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    first, last = weeks / "snap-2026-09-04.json", weeks / "snap-2026-10-30.json"
    files = [str(first), str(filtered), str(last)]

    found = _findings(_audit(weeks, *_history_args(files))[0])
    pushed = found[("P-1", "HYG-PUSHED-ONCE")]
    assert pushed["status"] == "unmeasured"
    assert "not listed in snap-validate-only.json, saved with --owner" in pushed["note"]
    assert found[("P-2", "HYG-NOT-BACK")]["status"] == "missing"


def test_check_reads_history_for_one_deal(weeks: Path) -> None:
    done = dealgate(
        "check", str(weeks / "today.csv"), "--id", "P-1", "--rules", str(weeks / "pack.yaml"),
        "--as-of", TODAY, "--format", "json", *_history_args(_snapshots(weeks)),
    )  # fmt: skip
    findings = {f["milestone_id"]: f for f in json.loads(done.stdout)["deal"]["findings"]}
    assert findings["HYG-PUSHED-ONCE"]["status"] == "missing"
    assert findings["HYG-PUSHED-ONCE"]["read"] == {"close_date_pushes": 3}


def test_a_snapshot_that_is_not_an_audit_stops_with_exit_2_naming_it(
    weeks: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "snap-broken.json"
    broken.write_text('{"as_of": "2026-10-02"', encoding="utf-8")
    done = dealgate(
        "audit", str(weeks / "today.csv"), "--rules", str(weeks / "pack.yaml"),
        "--as-of", TODAY, "--history", str(broken),
    )  # fmt: skip
    assert done.returncode == 2
    assert str(broken) in done.stderr
    assert "Traceback" not in done.stderr


def test_two_snapshots_of_the_same_day_stop_with_exit_2(weeks: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.json"
    copy.write_bytes((weeks / "snap-2026-10-02.json").read_bytes())
    done = dealgate(
        "audit", str(weeks / "today.csv"), "--rules", str(weeks / "pack.yaml"),
        "--as-of", TODAY, "--history", str(weeks / "snap-2026-10-02.json"),
        "--history", str(copy),
    )  # fmt: skip
    assert done.returncode == 2
    assert "are both as of 2026-10-02" in done.stderr
    assert "copy.json" in done.stderr


def test_a_snapshot_not_before_the_audit_stops_with_exit_2(weeks: Path) -> None:
    done = dealgate(
        "audit", str(weeks / "today.csv"), "--rules", str(weeks / "pack.yaml"),
        "--as-of", "2026-10-30", "--history", str(weeks / "snap-2026-10-30.json"),
    )  # fmt: skip
    assert done.returncode == 2
    assert "not before the audit's as-of 2026-10-30" in done.stderr


def test_output_never_replaces_a_snapshot_it_reads(weeks: Path) -> None:
    snapshot = weeks / "snap-2026-10-30.json"
    before = snapshot.read_bytes()
    done = dealgate(
        "audit", str(weeks / "today.csv"), "--rules", str(weeks / "pack.yaml"),
        "--as-of", TODAY, "--history", str(snapshot), "--format", "json",
        "--output", str(snapshot),
    )  # fmt: skip
    assert done.returncode == 2
    assert snapshot.read_bytes() == before


COLUMNS_PACK = """\
pack: push-columns
stages:
  - id: qualify
    crm_names: [Qualification]
  - id: closed_won
    terminal: won
checks:
  - id: HYG-PUSH-SMALL
    milestone: No single push of more than 30 days
    require: close_date_largest_push_days <= 30
  - id: HYG-PUSHED-LITTLE
    milestone: Pushed 50 days at most in all
    require: close_date_days_pushed <= 50
  - id: HYG-NOT-BACK
    milestone: Never moved back a stage
    require: not stage_moved_back
"""


@needs_durable
def test_an_export_with_columns_for_the_history_fields_reads_alike_on_both_routes(
    tmp_path: Path,
) -> None:
    (tmp_path / "pack.yaml").write_text(COLUMNS_PACK, encoding="utf-8")
    (tmp_path / "export.csv").write_text(
        "id,name,stage,amount,close_date,close_date_largest_push_days,close_date_days_pushed,"
        "stage_moved_back\n"
        "C-1,Slipping,Qualification,100,2026-12-31,45,60,true\n"
        "C-2,Steady,Qualification,100,2026-12-31,0,0,false\n",
        encoding="utf-8",
    )

    def report(engine: str) -> tuple[str, str]:
        done = dealgate(
            "audit", str(tmp_path / "export.csv"), "--rules", str(tmp_path / "pack.yaml"),
            "--as-of", TODAY, "--format", "csv", "--engine", engine, "--fail-on", "never", "-v",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout, done.stderr

    columnar, said = report("sql")
    assert "columnar" in said
    assert "C-1,Slipping" in columnar
    assert "HYG-PUSH-SMALL; HYG-PUSHED-LITTLE; HYG-NOT-BACK" in columnar
    assert "C-2,Steady" not in columnar  # nothing missing
    assert report("durable")[0] == columnar
