"""Forecast categories against evidence: a pack says which evidence stage each category needs,
and the audit and `check` report the deals whose category claims more than their evidence."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from command import REPO, dealgate
from dealgate.errors import PackError
from dealgate.rules.catalog import PackCatalog, bundled_rules_dir
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack
from dealgate.rules.spec import json_schema

EXAMPLE = (
    "examples/salesforce-opportunities.csv",
    "--contacts",
    "examples/salesforce-contact-roles.csv",
    "--teams",
    "examples/teams.csv",
    "--as-of",
    "2026-11-27",
)
BASE = """\
pack: base
forecast: {Commit: negotiate, Best Case: propose}
stages:
  - id: qualify
  - id: propose
  - id: negotiate
  - {id: won, terminal: won}
"""
TEAM = """\
pack: team
extends: [base]
forecast: {Best Case: qualify}
stages: []
"""


def _load(folder: Path, pack_id: str, **files: str) -> RulePack:
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return load_pack(pack_id, PackCatalog([folder], include_bundled=False))


@pytest.mark.parametrize(
    "pack_id", sorted(path.stem for path in bundled_rules_dir().glob("*.yaml"))
)
def test_every_bundled_pack_needs_negotiate_for_commit_and_propose_for_best_case(
    pack_id: str,
) -> None:
    pack = load_pack(pack_id)
    assert dict(pack.forecast_requirements) == {"Commit": "negotiate", "Best Case": "propose"}


def test_salesforce_default_no_longer_compares_the_category_with_the_claimed_stage() -> None:
    ids = {milestone.id for milestone in load_pack("salesforce-default").milestones()}
    assert not ids & {"SF-FORECAST-COMMIT", "SF-FORECAST-BEST-CASE"}
    assert "SF-FORECAST-OPEN-CLOSED" in ids


def test_an_extending_pack_inherits_the_requirements_and_overrides_a_category(
    tmp_path: Path,
) -> None:
    team = _load(tmp_path, "team", base=BASE, team=TEAM)
    assert dict(team.forecast_requirements) == {"Commit": "negotiate", "Best Case": "qualify"}


def test_a_category_spelled_as_a_crm_writes_it_is_read_as_the_category(tmp_path: Path) -> None:
    pack = _load(tmp_path, "base", base=BASE.replace("Best Case:", "BEST_CASE:"))
    assert pack.forecast_requirements["Best Case"] == "propose"


def test_an_unknown_category_is_an_error_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(PackError) as caught:
        _load(tmp_path, "base", base=BASE.replace("Commit:", "Comit:"))
    [problem] = caught.value.problems
    assert problem.message == "unknown forecast category 'Comit'"
    assert problem.hint == "did you mean 'Commit'?"
    assert problem.location.line == 2


def test_a_stage_the_pack_does_not_have_is_an_error_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(PackError) as caught:
        _load(tmp_path, "base", base=BASE.replace("Commit: negotiate", "Commit: negotiat"))
    [problem] = caught.value.problems
    assert problem.message == "forecast category 'Commit' needs unknown stage 'negotiat'"
    assert problem.hint == "did you mean 'negotiate'?"


def test_the_requirements_are_part_of_the_fingerprint(tmp_path: Path) -> None:
    written = _load(tmp_path, "base", base=BASE).content_hash()
    other = tmp_path / "other"
    other.mkdir()
    changed = _load(other, "base", base=BASE.replace("Best Case: propose", "Best Case: qualify"))
    assert changed.content_hash() != written


def test_the_schema_describes_forecast_for_editors() -> None:
    assert "forecast" in json_schema()["properties"]


# --- the audit -------------------------------------------------------------------------


def _audit_json(*args: str, cwd: Path | None = None) -> dict[str, Any]:
    result = dealgate("audit", *args, "--format", "json", **({"cwd": cwd} if cwd else {}))
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _money(figures: list[dict[str, Any]]) -> dict[str | None, Decimal]:
    return {item["currency"]: Decimal(str(item["amount"])) for item in figures}


def _evidence_position(deal: dict[str, Any], order: dict[str, int]) -> int:
    """The evidence stage, worked out here from the findings: the first stage before the
    claimed one with a required exit missing stops the deal there."""
    stopped = [
        order[f["stage_id"]]
        for f in deal["findings"]
        if f["status"] == "missing" and f["severity"] == "required" and f["kind"] == "skipped"
    ]
    return min(stopped, default=order[deal["stage_id"]])


def test_the_example_export_has_commit_and_best_case_deals_without_evidence() -> None:
    document = _audit_json(*EXAMPLE, "--include-met")
    order = {stage["id"]: index for index, stage in enumerate(document["pack"]["stages"])}
    needed = {"Commit": order["negotiate"], "Best Case": order["propose"]}
    expected: dict[str, dict[str | None, Decimal]] = {"Commit": {}, "Best Case": {}}
    counts = {"Commit": 0, "Best Case": 0}
    for deal in document["deals"]:
        category = deal["forecast_category"]
        if category not in needed or deal["stage_id"] is None:
            continue
        if _evidence_position(deal, order) < needed[category]:
            counts[category] += 1
            if deal["amount"] is not None:
                into = expected[category]
                into[deal["currency"]] = into.get(deal["currency"], Decimal(0)) + Decimal(
                    str(deal["amount"])
                )
    by_category = {f["category"]: f for f in document["summary"]["forecast"]}
    for category in needed:
        figures = by_category[category]
        assert figures["without_evidence"] == counts[category]
        assert _money(figures["without_evidence_amounts"]) == expected[category]
    commit = by_category["Commit"]
    assert commit["without_evidence"] == 11
    assert _money(commit["without_evidence_amounts"]) == {"USD": Decimal("993731.1")}
    assert commit["unverifiable"] == 0  # stage history is unmeasured, but gates no stage
    owners = document["summary"]["by_owner"]
    assert sum(o["forecast_without_evidence"] for o in owners) == 11 + counts["Best Case"]


EXPORT_LACKING_COLUMNS = (
    "Opportunity ID,Opportunity Name,Opportunity Owner,Stage,Amount,Opportunity Currency,"
    "Close Date,Forecast Category\n"
    """\
OPP-1,Acme renewal,Ana Ruiz,Negotiation/Review,50000,USD,2027-01-15,Commit
OPP-2,Birch pilot,Ana Ruiz,Proposal/Price Quote,20000,EUR,2027-01-20,Commit
OPP-3,Cedar rollout,Ben Ode,Needs Analysis,9000,USD,2027-02-01,Best Case
"""
)


def test_a_commit_deal_whose_milestones_the_export_lacks_is_unverifiable(tmp_path: Path) -> None:
    (tmp_path / "thin.csv").write_text(EXPORT_LACKING_COLUMNS, encoding="utf-8")
    document = _audit_json("thin.csv", "--as-of", "2026-11-27", "--include-met", cwd=tmp_path)
    commit = next(f for f in document["summary"]["forecast"] if f["category"] == "Commit")
    # Negotiation/Review reaches negotiate only if the unmeasured exits are met: unverifiable.
    # Proposal/Price Quote cannot reach negotiate whatever they say: without evidence.
    assert (commit["unverifiable"], _money(commit["unverifiable_amounts"])) == (
        1,
        {"USD": Decimal(50000)},
    )
    assert (commit["without_evidence"], _money(commit["without_evidence_amounts"])) == (
        1,
        {"EUR": Decimal(20000)},
    )
    standing = {deal["id"]: deal["forecast"]["standing"] for deal in document["deals"]}
    assert standing == {
        "OPP-1": "unverifiable",
        "OPP-2": "without_evidence",
        "OPP-3": "without_evidence",
    }
    [ana] = [o for o in document["summary"]["by_owner"] if o["owner"] == "Ana Ruiz"]
    assert (ana["forecast_unverifiable"], ana["forecast_without_evidence"]) == (1, 1)


def test_check_says_which_category_the_evidence_supports() -> None:
    result = dealgate(
        "check",
        "examples/salesforce-opportunities.csv",
        "--contacts",
        "examples/salesforce-contact-roles.csv",
        "--id",
        "0065g000003WVH8AAO",
        "--as-of",
        "2026-11-27",
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert "Forecast: Commit, evidence supports Best Case" in result.stdout.splitlines()


def test_a_waived_milestone_counts_as_met_for_the_forecast(tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(REPO / "examples", target_is_directory=True)
    deal_id = "0065g000003WWS0AAO"  # Negotiation/Review in Commit, evidence stops at validate
    before = _audit_json(*EXAMPLE, "--include-met", cwd=tmp_path)
    [deal] = [d for d in before["deals"] if d["id"] == deal_id]
    assert deal["forecast"]["standing"] == "without_evidence"
    skipped = {
        f["milestone_id"]
        for f in deal["findings"]
        if f["status"] == "missing" and f["kind"] == "skipped" and f["severity"] == "required"
    }
    (tmp_path / "waivers.yaml").write_text(
        "waivers:\n"
        + "".join(
            f"  - {{deal: '{deal_id}', milestone: {milestone}, reason: Signed off by the VP,"
            " approved_by: Maria Lopez, expires: 2026-12-31}\n"
            for milestone in sorted(skipped)
        ),
        encoding="utf-8",
    )
    after = _audit_json(*EXAMPLE, "--waivers", "waivers.yaml", cwd=tmp_path)
    commit = next(f for f in after["summary"]["forecast"] if f["category"] == "Commit")
    assert commit["without_evidence"] == 10
    assert _money(commit["without_evidence_amounts"]) == {"USD": Decimal("885731.1")}


def test_check_counts_a_waived_milestone_as_met_for_the_forecast(tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(REPO / "examples", target_is_directory=True)
    deal_id = "0065g000003WWS0AAO"  # Negotiation/Review in Commit, evidence stops at validate
    common = (*EXAMPLE[:3], "--id", deal_id, "--as-of", "2026-11-27", "--format", "json")
    before = json.loads(dealgate("check", *common, cwd=tmp_path).stdout)
    assert before["forecast"]["standing"] == "without_evidence"
    skipped = sorted(
        f["milestone_id"]
        for f in before["deal"]["findings"]
        if f["status"] == "missing" and f["kind"] == "skipped" and f["severity"] == "required"
    )
    (tmp_path / "waivers.yaml").write_text(
        "waivers:\n"
        + "".join(
            f"  - {{deal: '{deal_id}', milestone: {milestone}, reason: Signed off by the VP,"
            " approved_by: Maria Lopez, expires: 2026-12-31}\n"
            for milestone in skipped
        ),
        encoding="utf-8",
    )
    after = json.loads(dealgate("check", *common, "--waivers", "waivers.yaml", cwd=tmp_path).stdout)
    assert after["forecast"]["standing"] in ("supported", "unverifiable")
    assert {f["milestone_id"] for f in after["deal"]["findings"] if f["status"] == "waived"} == (
        set(skipped)
    )
    shown = dealgate("check", *common[:-2], "--waivers", "waivers.yaml", cwd=tmp_path).stdout
    assert "Forecast: Commit, evidence supports" not in shown
