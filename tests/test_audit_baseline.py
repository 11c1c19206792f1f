"""`dealgate audit … --baseline last-week.json`: what changed since a previous JSON audit.

Last week's export is the Salesforce example with known edits, so each change is known: one deal
was at the first stage (it has moved since, skipping milestones), one deal had no next step (now
resolved), one had a dated next step (now missing), one was not in the pipeline yet, and one deal
has left it."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from report_inputs import AS_OF, EXAMPLES, REPO, audit_deals, dealgate

TRACKED = ("skipped", "hygiene", "to-advance")


def tracked(deal: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (deal["id"], f["milestone_id"])
        for f in deal["findings"]
        if f["status"] == "missing" and f["kind"] in TRACKED
    }


def missing(deal: dict[str, Any], milestone: str) -> bool:
    return (deal["id"], milestone) in tracked(deal)


class LastWeek:
    """The Salesforce example export, edited into last week's version of it."""

    def __init__(self, current: dict[str, Any], folder: Path) -> None:
        source = REPO / EXAMPLES["salesforce"][0]
        with source.open(encoding="utf-8-sig", newline="") as handle:
            self.rows = list(csv.reader(handle))
        self.header = self.rows[0]
        deals = current["deals"]
        stages = current["audited_stages"]
        first = current["pack"]["stages"][0]["id"]
        position = {s["id"]: i for i, s in enumerate(current["pack"]["stages"])}

        def later(deal: dict[str, Any]) -> bool:
            return position.get(deal["stage_id"], 0) >= 2

        self.moved = next(
            d for d in deals if later(d) and any(f["kind"] == "skipped" for f in d["findings"])
        )
        at_first = next(d for d in deals if d["stage_id"] == first)
        self.resolved = next(
            d
            for d in deals
            if d["stage_id"] in position and not missing(d, "HYG-NEXT-STEP") and d is not self.moved
        )
        self.new = next(
            d for d in deals if missing(d, "HYG-NEXT-STEP") and d not in (self.moved, self.resolved)
        )
        self.joined = next(
            d for d in deals if tracked(d) and d not in (self.moved, self.resolved, self.new)
        )
        assert stages[self.moved["id"]] == self.moved["stage_id"]
        self.set(self.moved, "Stage", self.cell(at_first, "Stage"))
        self.set(self.resolved, "Next Step", "")
        self.set(self.new, "Next Step", "Call the champion")
        self.set(self.new, "Next Step Date", "12/15/2026")
        gone = list(self.row(self.joined))
        gone[self.header.index("Opportunity ID")] = "006LEFTPIPELINE"
        self.rows.remove(self.row(self.joined))
        self.rows.append(gone)
        self.path = folder / "last-week.csv"
        with self.path.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle, lineterminator="\r\n").writerows(self.rows)

    def row(self, deal: dict[str, Any]) -> list[str]:
        return self.rows[deal["location"]["row"] - 1]

    def cell(self, deal: dict[str, Any], column: str) -> str:
        return self.row(deal)[self.header.index(column)]

    def set(self, deal: dict[str, Any], column: str, value: str) -> None:
        self.row(deal)[self.header.index(column)] = value


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("weeks")
    options = [*EXAMPLES["salesforce"][1:], "--as-of", AS_OF]
    now = dealgate("audit", EXAMPLES["salesforce"][0], *options, "--format", "json")
    current = json.loads(now.stdout)
    last = LastWeek(current, folder)
    then = dealgate(
        "audit", str(last.path), *options, "--format", "json", "--output", str(folder / "b.json")
    )
    assert then.returncode in (0, 1), then.stderr
    compared = dealgate(
        "audit",
        EXAMPLES["salesforce"][0],
        *options,
        "--baseline",
        str(folder / "b.json"),
        "--format",
        "json",
    )
    assert compared.returncode in (0, 1), compared.stderr
    return {
        "now": current,
        "then": json.loads((folder / "b.json").read_text(encoding="utf-8")),
        "changes": json.loads(compared.stdout)["changes"],
        "edits": last,
        "folder": folder,
        "options": options,
    }


def test_new_and_resolved_findings_are_exactly_the_edits(weeks: dict[str, Any]) -> None:
    edits, changes, now = weeks["edits"], weeks["changes"], weeks["now"]
    then = {d["id"]: d for d in weeks["then"]["deals"]}
    then_moved = tracked(then[edits.moved["id"]])
    # the moved deal's skipped milestones and its new stage's to-advance checklist
    expected_new = (
        (tracked(edits.moved) - then_moved)
        | {(edits.new["id"], "HYG-NEXT-STEP")}
        | tracked(edits.joined)
    )
    assert {(c["deal_id"], c["milestone_id"]) for c in changes["new_findings"]} == expected_new
    resolved = {(c["deal_id"], c["milestone_id"]) for c in changes["resolved_findings"]}
    assert resolved == {(edits.resolved["id"], "HYG-NEXT-STEP")}
    assert changes["deals_new_to_audit"] == 1
    assert changes["deals_no_longer_audited"] == 1
    assert changes["baseline"]["as_of"] == AS_OF
    assert changes["value_at_risk"]["now"] == now["summary"]["pipeline_at_risk"]
    assert changes["value_at_risk"]["then"] == weeks["then"]["summary"]["pipeline_at_risk"]
    assert changes["deals_at_risk"] == {
        "then": weeks["then"]["summary"]["deals_at_risk"],
        "now": now["summary"]["deals_at_risk"],
    }


def test_the_work_a_rep_did_on_a_deal_needing_no_attention_is_resolved(
    audited_examples: dict[str, Any],
) -> None:
    """Every audited deal is listed with its to-advance checklist, so the work done since last
    week (the example weeks: evidence dated after last week is blank then) shows even on a deal
    that needed no attention last week."""
    audited = audited_examples["salesforce"]
    saved = audited.csv.parent / "salesforce-last-week.json"
    then = {d["id"]: d for d in json.loads(saved.read_text(encoding="utf-8"))["deals"]}
    now = {d["id"]: d for d in audited.json["deals"]}
    quiet = {i for i in then.keys() & now.keys() if not (then[i]["needs_attention"])}
    done = [
        c
        for c in audited.json["changes"]["resolved_findings"]
        if c["kind"] == "to-advance" and c["deal_id"] in quiet
    ]
    assert done and all(c["how"] == "no longer missing" for c in done)
    for change in done:
        assert (change["deal_id"], change["milestone_id"]) in tracked(then[change["deal_id"]])
        assert (change["deal_id"], change["milestone_id"]) not in tracked(now[change["deal_id"]])


def test_a_baseline_saved_before_version_4_calls_no_unlisted_deals_work_new(
    weeks: dict[str, Any],
) -> None:
    """An audit saved before version 4 listed only the deals needing attention: the to-advance
    findings of a deal it audited but did not list are unknown, neither new nor resolved; the
    skipped and hygiene changes are those of the same audit saved today, and a note says so."""
    folder, then = weeks["folder"], weeks["then"]
    old = {key: value for key, value in then.items() if key != "deals_listed"} | {
        "schema_version": 3,
        "deals": [
            {key: value for key, value in deal.items() if key != "needs_attention"}
            for deal in then["deals"]
            if deal["needs_attention"]
        ],
    }
    (folder / "v3.json").write_text(json.dumps(old), encoding="utf-8")
    compared = dealgate(
        "audit",
        EXAMPLES["salesforce"][0],
        *weeks["options"],
        "--baseline",
        str(folder / "v3.json"),
        "--format",
        "json",
    )
    assert compared.returncode in (0, 1), compared.stderr
    since_v3, since_v4 = json.loads(compared.stdout)["changes"], weeks["changes"]
    unlisted = {d["id"] for d in then["deals"] if not d["needs_attention"]}

    def known(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [c for c in found if c["kind"] != "to-advance" or c["deal_id"] not in unlisted]

    for key in ("new_findings", "resolved_findings"):
        assert since_v3[key] == known(since_v4[key])
    assert len(known(since_v4["new_findings"])) < len(since_v4["new_findings"])
    assert since_v3["moved_without_milestones"] == since_v4["moved_without_milestones"]
    unknown = len(unlisted & weeks["now"]["audited_stages"].keys())
    assert since_v3["notes"] == [
        "the baseline lists only the deals that needed attention: the to-advance findings "
        f"of {unknown:,} deals it did not list are not compared"
    ]


def test_a_deal_that_moved_past_its_milestones_is_named(weeks: dict[str, Any]) -> None:
    edits, changes = weeks["edits"], weeks["changes"]
    first = weeks["now"]["pack"]["stages"][0]["id"]
    moves = {m["deal_id"]: m for m in changes["moved_without_milestones"]}
    move = moves[edits.moved["id"]]
    assert (move["from_stage"], move["to_stage"]) == (first, edits.moved["stage_id"])
    assert set(move["skipped"]) == {
        f["milestone_id"]
        for f in edits.moved["findings"]
        if f["kind"] == "skipped" and f["status"] == "missing"
    }
    assert set(moves) == {edits.moved["id"]}  # no other deal changed stage


def test_the_terminal_and_the_html_show_the_changes(weeks: dict[str, Any]) -> None:
    folder, options = weeks["folder"], weeks["options"]
    baseline = str(folder / "b.json")
    table = dealgate("audit", EXAMPLES["salesforce"][0], *options, "--baseline", baseline)
    assert table.returncode in (0, 1), table.stderr
    changes = weeks["changes"]
    assert f"Changes since {AS_OF}" in table.stdout
    assert (
        f"{len(changes['new_findings'])} new, {len(changes['resolved_findings'])} resolved"
        in table.stdout
    )
    assert "Moved stage without their milestones (1)" in table.stdout
    assert weeks["edits"].moved["id"] in table.stdout
    page = folder / "r.html"
    html = dealgate(
        "audit",
        EXAMPLES["salesforce"][0],
        *options,
        "--baseline",
        baseline,
        "--format",
        "html",
        "--output",
        str(page),
    )
    assert html.returncode in (0, 1), html.stderr
    text = page.read_text(encoding="utf-8")
    assert 'id="changes"' in text and weeks["edits"].moved["id"] in text
    assert f"New findings ({len(changes['new_findings'])})" in text


def saved_audit(**changes: Any) -> str:
    """A small valid JSON audit, with some keys replaced."""
    document: dict[str, Any] = {
        "as_of": "2026-11-20",
        "pack": {"id": "buyer-journey", "title": "t", "stages": []},
        "summary": {
            "deals_audited": 1,
            "deals_with_skipped_milestones": 0,
            "deals_at_risk": 0,
            "pipeline_claimed": [{"currency": "USD", "amount": 5}],
            "pipeline_at_risk": [],
            "by_stage": [],
            "by_owner": [],
        },
        "deals": [
            {
                "id": "D-1",
                "stage_id": "propose",
                "findings": [
                    {
                        "milestone_id": "M",
                        "milestone": "m",
                        "kind": "hygiene",
                        "status": "missing",
                        "severity": "required",
                    }
                ],
            }
        ],
    }
    for path, value in changes.items():
        target = document
        *parents, last = path.split("__")
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[last] = value
    return json.dumps(document)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"as_of": "2026-11-20",\n  "deals": [}', "b.json:2:13: error: not JSON"),
        ('{"as_of": NaN}', "not JSON: NaN is not a number an audit writes"),
        ("[1, 2]", "not an audit: not a JSON object"),
        ('{"as_of": "2026-11-20", "deals": []}', "not an audit: summary: missing"),
        (saved_audit(summary=[1]), "not an audit: summary: Input should be a valid dictionary"),
        (saved_audit(pack="x"), "not an audit: pack: Input should be a valid dictionary"),
        (saved_audit(summary__deals_at_risk="many"), "summary.deals_at_risk: Input should be"),
        (saved_audit(summary__deals_at_risk=[1]), "summary.deals_at_risk: Input should be"),
        (saved_audit(summary__pipeline_at_risk=5), "summary.pipeline_at_risk: Input should be"),
        (
            saved_audit(summary__pipeline_at_risk=[{"currency": 1, "amount": 2}]),
            "summary.pipeline_at_risk[0].currency",
        ),
        (
            saved_audit(summary__pipeline_claimed=[{"currency": "USD", "amount": 999}]).replace(
                "999",
                "1e400",  # too large for a float: read as infinity
            ),
            "summary.pipeline_claimed[0].amount",
        ),
        (saved_audit(audited_stages=[1, 2]), "audited_stages: Input should be a valid dictionary"),
        (saved_audit(audited_stages={"a": ["x"]}), "audited_stages.a: Input should be"),
        (saved_audit(deals__0__findings=["x"]), "deals[0].findings[0]: Input should be"),
        (saved_audit(deals__0__stage_id={}), "deals[0].stage_id: Input should be"),
        (saved_audit(deals__0__id=1), "deals[0].id: Input should be a valid string"),
    ],
)
def test_a_baseline_that_is_not_an_audit_stops_with_exit_2(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "b.json").write_text(content, encoding="utf-8")
    (tmp_path / "pipeline.json").write_text('{"deals": []}', encoding="utf-8")
    for report_format in ("table", "json", "html"):
        result = dealgate(
            "audit",
            "pipeline.json",
            "--baseline",
            "b.json",
            "--format",
            report_format,
            cwd=tmp_path,
        )
        assert result.returncode == 2, result.stderr
        assert message in result.stderr
        assert "Traceback" not in result.stderr
    assert saved_audit()  # the valid one is accepted:
    (tmp_path / "b.json").write_text(saved_audit(), encoding="utf-8")
    accepted = dealgate("audit", "pipeline.json", "--baseline", "b.json", cwd=tmp_path)
    assert accepted.returncode == 0, accepted.stderr


def test_a_baseline_of_another_pack_stops_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text(saved_audit(pack={"id": "bant"}), encoding="utf-8")
    (tmp_path / "pipeline.json").write_text('{"deals": []}', encoding="utf-8")
    result = dealgate("audit", "pipeline.json", "--baseline", "b.json", cwd=tmp_path)
    assert result.returncode == 2
    assert "the baseline was audited with pack bant, this audit uses buyer-journey" in result.stderr


def test_baseline_errors_of_usage(tmp_path: Path) -> None:
    (tmp_path / "pipeline.json").write_text('{"deals": []}', encoding="utf-8")
    gone = dealgate("audit", "pipeline.json", "--baseline", "nope.json", cwd=tmp_path)
    assert gone.returncode == 2 and "nope.json: error: baseline file not found" in gone.stderr
    as_csv = dealgate(
        "audit", "pipeline.json", "--baseline", "nope.json", "--format", "csv", cwd=tmp_path
    )
    assert as_csv.returncode == 2 and "not csv" in as_csv.stderr


def test_last_weeks_example_export_is_written_again_byte_for_byte(tmp_path: Path) -> None:
    """examples/README.md says how the file was made; the command still makes it."""
    import subprocess
    import sys

    out = tmp_path / "last-week.csv"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "last_week.py"),
            "--export",
            str(REPO / "examples" / "salesforce-opportunities.csv"),
            "--day",
            "2026-11-20",
            "--seed",
            "7",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    committed = REPO / "examples" / "salesforce-opportunities-last-week.csv"
    assert out.read_bytes() == committed.read_bytes()


def test_the_example_weeks_compare_as_examples_readme_says(
    audited_examples: dict[str, Any],
) -> None:
    changes = audited_examples["salesforce"].json["changes"]
    assert len(changes["moved_without_milestones"]) == 5
    assert len(changes["new_findings"]) == 98
    assert len(changes["resolved_findings"]) == 94

    def failing(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [c for c in found if c["kind"] != "to-advance"]

    assert len(failing(changes["new_findings"])) == 32
    assert len(failing(changes["resolved_findings"])) == 4
    assert changes["deals_new_to_audit"] == 15
    assert changes["deals_no_longer_audited"] == 0
    assert changes["notes"] == []


def two_weeks(
    tmp_path: Path,
    then: list[dict[str, Any]],
    now: list[dict[str, Any]],
    *options: str,
    this_week: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Audit `then` as last week's pipeline and `now` against it (with `this_week` options
    too); the changes."""
    audit_deals(
        tmp_path, then, *options, "--format", "json", "--output", "b.json", name="then.json"
    )
    now_options = (*options, *this_week, "--baseline", "b.json", "--format", "json")
    result = audit_deals(tmp_path, now, *now_options, name="now.json")
    changes: dict[str, Any] = json.loads(result.stdout)["changes"]
    return changes


def bare(deal_id: str, stage: str, **fields: Any) -> dict[str, Any]:
    return {"id": deal_id, "name": f"Deal {deal_id}", "owner": "Jo Kim", "stage": stage, **fields}


def test_a_deal_moved_back_resolves_as_re_staged_and_a_closed_one_is_no_move(
    tmp_path: Path,
) -> None:
    then = [bare("BACK", "Proposal/Price Quote"), bare("WON", "Proposal/Price Quote")]
    now = [bare("BACK", "Needs Analysis"), bare("WON", "Closed Won")]
    changes = two_weeks(tmp_path, then, now, "--include-closed")
    assert changes["moved_without_milestones"] == []
    how = {(c["deal_id"], c["how"]) for c in changes["resolved_findings"]}
    assert {deal for deal, _ in how} == {"BACK", "WON"}
    assert {h for deal, h in how if deal == "BACK"} == {"re-staged"}
    assert {h for deal, h in how if deal == "WON"} == {"closed"}


def test_a_deal_that_advanced_past_its_milestones_is_a_move(tmp_path: Path) -> None:
    changes = two_weeks(
        tmp_path, [bare("UP", "Needs Analysis")], [bare("UP", "Proposal/Price Quote")]
    )
    [move] = changes["moved_without_milestones"]
    assert (move["deal_id"], move["from_stage"], move["to_stage"]) == ("UP", "discover", "propose")
    assert move["skipped"] and all(m.startswith(("DISC-", "VAL-")) for m in move["skipped"])


def test_a_duplicated_id_at_two_stages_is_not_a_move(tmp_path: Path) -> None:
    week = [bare("DUP", "Negotiation/Review"), bare("DUP", "Prospecting")]
    changes = two_weeks(tmp_path, week, week)
    assert changes["moved_without_milestones"] == []
    assert changes["new_findings"] == [] and changes["resolved_findings"] == []


def test_a_duplicated_id_at_two_stages_has_no_audited_stage(tmp_path: Path) -> None:
    """docs/check-and-audit.md: `null` for a duplicated id whose rows claim different stages,
    listed or not, whichever row comes last."""
    rows = [
        bare("DUP", "Negotiation/Review"),
        bare("DUP", "Prospecting"),
        bare("ONE", "Prospecting"),
    ]
    for week in (rows, rows[::-1]):
        result = audit_deals(tmp_path, week, "--format", "json")
        assert json.loads(result.stdout)["audited_stages"] == {"DUP": None, "ONE": "qualify"}


def test_a_waived_finding_resolves_as_waived(tmp_path: Path) -> None:
    (tmp_path / "waivers.yaml").write_text(
        "waivers:\n  - {deal: W, milestone: HYG-AMOUNT, reason: r, approved_by: a, "
        "expires: 2027-01-31}\n",
        encoding="utf-8",
    )
    week = [bare("W", "Proposal/Price Quote")]
    changes = two_weeks(tmp_path, week, week, this_week=("--waivers", "waivers.yaml"))
    resolved = changes["resolved_findings"]
    assert [(c["milestone_id"], c["how"]) for c in resolved] == [("HYG-AMOUNT", "waived")]


def test_names_with_terminal_markup_show_as_typed(tmp_path: Path) -> None:
    name = "Acme [/bold] [red]x[/red]"
    then = [bare("UP", "Needs Analysis", name=name, owner="[bold]Ann[/]")]
    now = [bare("UP", "Proposal/Price Quote", name=name, owner="[bold]Ann[/]")]
    two_weeks(tmp_path, then, now)
    table = dealgate(
        "audit",
        "now.json",
        "--as-of",
        AS_OF,
        "--baseline",
        "b.json",
        "--limit",
        "0",
        "--unmeasured-as-missing",  # as two_weeks audits the sparse deals
        cwd=tmp_path,
    )
    assert table.returncode == 1 and "Traceback" not in table.stderr, table.stderr
    assert "[bold]Ann[/]" in table.stdout
    assert "Acme [/bold] [red]x[/red]" in table.stdout
