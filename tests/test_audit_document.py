"""The JSON audit as a versioned document: it names its schema version and the content hash of
the pack that judged it, and every saved version reads back through one loader, so a team's audit
of last week keeps working for `dealgate report` and `--baseline` after dealgate changes.

tests/fixtures/audit-v1.json is an audit as dealgate wrote it before versions (version 1), made
in a folder linking to examples/ with:

    dealgate audit examples/salesforce-opportunities-last-week.csv \\
      --contacts examples/salesforce-contact-roles.csv --teams examples/teams.csv \\
      --as-of 2026-11-20 --owner "Paula Ortiz" --format json --output audit-v1.json
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from command import REPO, dealgate
from dealgate.errors import InputError
from dealgate.report.saved_audit import SCHEMA_VERSION, load_audit, upgrade
from dealgate.rules.loader import load_pack

V1 = REPO / "tests" / "fixtures" / "audit-v1.json"
OWNER = ("--owner", "Paula Ortiz")
READING = ("--contacts", "examples/salesforce-contact-roles.csv", "--teams", "examples/teams.csv")
LAST_WEEK = ("examples/salesforce-opportunities-last-week.csv", *READING, "--as-of", "2026-11-20")
THIS_WEEK = ("examples/salesforce-opportunities.csv", *READING, "--as-of", "2026-11-27")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder linking to the examples, as the fixture was made, with the v1 audit in it."""
    (tmp_path / "examples").symlink_to(REPO / "examples", target_is_directory=True)
    shutil.copy(V1, tmp_path / "audit-v1.json")
    return tmp_path


def audit(folder: Path, *args: str) -> dict[str, Any]:
    result = dealgate("audit", *args, "--format", "json", cwd=folder)
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_an_audit_names_its_schema_version_and_its_packs_hash(folder: Path) -> None:
    document = audit(folder, *LAST_WEEK, *OWNER)
    assert next(iter(document)) == "schema_version" and document["schema_version"] == 5
    assert list(document["pack"])[:2] == ["id", "hash"]
    assert document["pack"]["hash"] == load_pack("buyer-journey").content_hash()


def test_a_version_1_audit_upgrades_to_what_dealgate_writes_today(folder: Path) -> None:
    """The fixture is today's audit but for the keys version 2 added; the upgrade fills them
    with what version 1 could not know. When this fails, the JSON shape changed: raise
    SCHEMA_VERSION and add the upgrade step to report/saved_audit.py."""
    saved = json.loads(V1.read_text(encoding="utf-8"))
    assert "schema_version" not in saved and "hash" not in saved["pack"]
    today = audit(folder, *LAST_WEEK, *OWNER, "--output", "-")
    today["pack"]["hash"] = None
    today["coverage"] = None  # version 3: what the export could not measure
    _without_forecast(today)  # keys added within versions 3 and 4, read as absent
    # version 4: every audited deal, flagged; version 1 listed those needing attention, here
    # all of them (the owner's three deals need attention)
    today["deals_listed"] = "needing attention"
    upgraded = upgrade(saved, 1)
    assert upgraded == today
    assert list(upgraded) == list(today) and list(upgraded["pack"]) == list(today["pack"])


def _without_forecast(document: dict[str, Any]) -> None:
    """The forecast figures (judging/forecast.py) are optional keys of version 3; the
    probability judgement and the owners' deals missing required of version 4."""
    summary = document["summary"]
    del summary["forecast"]
    for owner in summary["by_owner"]:
        for key in [key for key in owner if key.startswith("forecast_")]:
            del owner[key]
        del owner["deals_missing_required"]
    for deal in document["deals"]:
        del deal["forecast_category"], deal["forecast"], deal["probability_ceiling"]


def as_saved_before_version_4(document: dict[str, Any], include_met: bool) -> dict[str, Any]:
    """A version 4 audit as version 3 wrote it: only the deals needing attention (every deal
    with --include-met), without the flag and without `deals_listed` and `findings_listed`."""
    listed = [
        {key: value for key, value in deal.items() if key != "needs_attention"}
        for deal in document["deals"]
        if include_met or deal["needs_attention"]
    ]
    added = ("deals_listed", "findings_listed")
    return {key: value for key, value in document.items() if key not in added} | {
        "schema_version": 3,
        "deals": listed,
    }


def test_a_version_3_audit_lists_its_deals_flagged_and_says_which_it_lists(
    folder: Path,
) -> None:
    """Version 4 lists every audited deal; a version 3 audit listed those needing attention, and
    each of them is flagged by the upgrade as the writer flags it today."""
    today = audit(folder, *LAST_WEEK)
    assert len(today["deals"]) == len(today["audited_stages"]) == today["summary"]["deals_audited"]
    assert not all(deal["needs_attention"] for deal in today["deals"])
    assert today["deals_listed"] == "all"
    upgraded = upgrade(as_saved_before_version_4(today, include_met=False), 3)
    assert upgraded["deals_listed"] == "needing attention"
    assert upgraded["deals"] == [deal for deal in today["deals"] if deal["needs_attention"]]
    assert list(upgraded) == list(today)
    assert list(upgraded["deals"][0]) == list(today["deals"][0])


def test_a_version_3_audit_with_every_deal_upgrades_as_listing_all(folder: Path) -> None:
    """--include-met listed every deal before version 4 too: a listed deal that needs no
    attention says so, and its to-advance findings are known."""
    today = audit(folder, *LAST_WEEK, "--include-met")
    upgraded = upgrade(as_saved_before_version_4(today, include_met=True), 3)
    assert upgraded["deals_listed"] == "all" and upgraded["deals"] == today["deals"]
    saved = folder / "v3.json"
    saved.write_text(
        json.dumps(as_saved_before_version_4(today, include_met=True)), encoding="utf-8"
    )
    loaded = load_audit(saved)
    assert loaded.saved_version == 3 and loaded.audit.deals_listed == "all"
    assert [deal.needs_attention for deal in loaded.audit.deals] == [
        deal["needs_attention"] for deal in today["deals"]
    ]


@pytest.mark.parametrize("include_met", [True, False])
def test_a_version_4_audit_says_whether_it_lists_met_findings(
    folder: Path, include_met: bool
) -> None:
    """Version 5 says whether each deal lists every finding (a snapshot calibrate can read);
    a version 4 audit listing a met finding ran with --include-met."""
    today = audit(folder, *LAST_WEEK, *(["--include-met"] if include_met else []))
    assert today["findings_listed"] == ("all" if include_met else "not met")
    saved = {key: value for key, value in today.items() if key != "findings_listed"}
    upgraded = upgrade(saved | {"schema_version": 4}, 4)
    assert upgraded == today and list(upgraded) == list(today)


def test_a_deal_needing_no_attention_is_listed_with_its_next_steps(folder: Path) -> None:
    """A deal whose only missing milestones are those of its own stage needs no attention, and
    is listed all the same (flagged so), with the rep's next steps; JSON Lines alike."""
    document = audit(folder, *LAST_WEEK)
    quiet = [deal for deal in document["deals"] if not deal["needs_attention"]]
    assert quiet
    for deal in quiet:
        assert deal["inflation"] == 0
        kinds = {f["kind"] for f in deal["findings"] if f["status"] == "missing"}
        assert kinds <= {"to-advance"}
    assert any(deal["findings"] for deal in quiet)
    lines = dealgate("audit", *LAST_WEEK, "--format", "jsonl", cwd=folder).stdout.splitlines()
    assert [json.loads(line) for line in lines] == document["deals"]


def test_the_loader_reads_version_1_as_the_current_version(folder: Path) -> None:
    loaded = load_audit(folder / "audit-v1.json")
    assert (loaded.saved_version, loaded.pack_id, loaded.pack_hash) == (1, "buyer-journey", None)
    assert loaded.audit.schema_version == loaded.data["schema_version"] == SCHEMA_VERSION
    assert loaded.audit.deals[0].id == loaded.data["deals"][0]["id"]
    written = folder / "v2.json"
    written.write_text(json.dumps(audit(folder, *LAST_WEEK, *OWNER)), encoding="utf-8")
    current = load_audit(written)
    assert (
        current.saved_version == SCHEMA_VERSION
        and current.pack_hash == load_pack("buyer-journey").content_hash()
    )


def test_report_renders_a_version_1_audit(folder: Path) -> None:
    as_json = dealgate("report", "audit-v1.json", "--format", "json", cwd=folder)
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["schema_version"] == SCHEMA_VERSION and document["pack"]["hash"] is None
    assert document["coverage"] is None
    page = dealgate("report", "audit-v1.json", "--output", "audit.html", cwd=folder)
    assert page.returncode == 0, page.stderr
    assert "Paula Ortiz" in (folder / "audit.html").read_text(encoding="utf-8")


def test_a_version_1_baseline_compares_as_the_same_audit_saved_today(folder: Path) -> None:
    (folder / "audit-v2.json").write_text(
        json.dumps(audit(folder, *LAST_WEEK, *OWNER)), encoding="utf-8"
    )
    since_v1 = audit(folder, *THIS_WEEK, *OWNER, "--baseline", "audit-v1.json")["changes"]
    since_v2 = audit(folder, *THIS_WEEK, *OWNER, "--baseline", "audit-v2.json")["changes"]
    assert since_v1["moved_without_milestones"] and since_v1["new_findings"]
    assert since_v1["notes"] == since_v2["notes"] == []
    since_v1["baseline"]["file"] = since_v2["baseline"]["file"]
    assert since_v1 == since_v2
    report = dealgate(
        "report", "audit-v2.json", "--baseline", "audit-v1.json", "--format", "json", cwd=folder
    )
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["changes"]["notes"] == []


def test_a_pack_edited_since_the_baseline_is_compared_with_a_note(folder: Path) -> None:
    """Same pack id, other content: compared all the same (a team edits its pack between calls
    and wants to see the effect), and every report says the pack changed."""
    pack = (REPO / "rules" / "buyer-journey.yaml").read_text(encoding="utf-8")
    (folder / "pack.yaml").write_text(pack, encoding="utf-8")
    then = audit(folder, *LAST_WEEK, *OWNER, "--rules", "pack.yaml", "--output", "-")
    (folder / "then.json").write_text(json.dumps(then), encoding="utf-8")
    edited = pack.replace("severity: recommended", "severity: required", 1)
    assert edited != pack
    (folder / "pack.yaml").write_text(edited, encoding="utf-8")
    now = audit(folder, *THIS_WEEK, *OWNER, "--rules", "pack.yaml", "--baseline", "then.json")
    then_hash, now_hash = then["pack"]["hash"], now["pack"]["hash"]
    assert then_hash != now_hash
    note = f"the pack changed since the baseline (hash {then_hash[:12]}… → {now_hash[:12]}…)"
    assert [n for n in now["changes"]["notes"] if n.startswith(note)]
    table = dealgate(
        "audit", *THIS_WEEK, *OWNER, "--rules", "pack.yaml", "--baseline", "then.json", cwd=folder
    )
    assert note in table.stdout


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (6, "the audit was saved by a later dealgate (schema version 6); this one reads versions"),
        ("2", 'not an audit: schema_version: "2" is not a version'),
        (0, "not an audit: schema_version: 0 is not a version"),
        (True, "not an audit: schema_version: true is not a version"),
    ],
)
def test_a_version_this_dealgate_cannot_read_stops_with_exit_2(
    folder: Path, version: object, message: str
) -> None:
    saved = json.loads(V1.read_text(encoding="utf-8"))
    (folder / "b.json").write_text(
        json.dumps({"schema_version": version} | saved), encoding="utf-8"
    )
    with pytest.raises(InputError, match="schema"):
        load_audit(folder / "b.json")
    for command in (("report", "b.json"), ("audit", *THIS_WEEK, "--baseline", "b.json")):
        result = dealgate(*command, cwd=folder)
        assert result.returncode == 2 and message in result.stderr, result.stderr
