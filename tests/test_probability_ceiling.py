"""A deal's probability against the highest its evidence stage supports (`probability_ceiling`,
judging/forecast.py): reported like a forecast category that claims more than it shows."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from command import dealgate
from dealgate.errors import PackError
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack

BASE = """\
pack: base
probability_ceiling: {qualify: 10, propose: 60, negotiate: 80}
stages:
  - id: qualify
  - id: discover
  - id: propose
  - id: negotiate
  - {id: won, terminal: won}
"""
TEAM = """\
pack: team
extends: [base]
probability_ceiling: {discover: 30}
stages: []
"""


def _load(folder: Path, pack_id: str, **files: str) -> RulePack:
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return load_pack(pack_id, PackCatalog([folder], include_bundled=False))


def test_a_stage_without_a_ceiling_takes_the_nearest_earlier_ones(tmp_path: Path) -> None:
    pack = _load(tmp_path, "base", base=BASE)
    assert {stage.id: pack.ceiling_at(stage) for stage in pack.open_stages} == {
        "qualify": 10,
        "discover": 10,
        "propose": 60,
        "negotiate": 80,
    }


def test_an_extending_pack_inherits_the_ceilings_and_adds_a_stage(tmp_path: Path) -> None:
    team = _load(tmp_path, "team", base=BASE, team=TEAM)
    assert team.ceiling_at(team.stage("discover")) == 30
    assert team.ceiling_at(team.stage("negotiate")) == 80


@pytest.mark.parametrize(
    ("ceilings", "message", "hint"),
    [
        (
            "{qualify: 10, propos: 60}",
            "probability_ceiling names unknown open stage 'propos'",
            "did you mean 'propose'?",
        ),
        (
            "{qualify: 10, won: 100}",
            "probability_ceiling names unknown open stage 'won'",
            "open stages: qualify, discover, propose, negotiate",
        ),
        (
            "{qualify: 10, propose: 160}",
            "probability ceiling 160 for 'propose' is outside 0-100",
            "",
        ),
        (
            "{qualify: 50, propose: 40}",
            "probability ceiling 40 for 'propose' is below 50 for the earlier stage 'qualify'",
            "more evidence never supports a lower probability",
        ),
    ],
)
def test_a_ceiling_that_cannot_be_used_is_an_error_at_its_line(
    tmp_path: Path, ceilings: str, message: str, hint: str
) -> None:
    text = BASE.replace("{qualify: 10, propose: 60, negotiate: 80}", ceilings)
    with pytest.raises(PackError) as caught:
        _load(tmp_path, "base", base=text)
    [problem] = caught.value.problems
    assert (problem.message, problem.hint, problem.location.line) == (message, hint, 2)


def test_the_ceilings_are_part_of_the_fingerprint(tmp_path: Path) -> None:
    written = _load(tmp_path, "base", base=BASE).content_hash()
    other = tmp_path / "other"
    other.mkdir()
    changed = _load(other, "base", base=BASE.replace("negotiate: 80", "negotiate: 90"))
    assert changed.content_hash() != written


def test_the_crm_packs_state_their_crms_default_stage_probabilities() -> None:
    salesforce, hubspot = load_pack("salesforce-default"), load_pack("hubspot-default")
    assert dict(salesforce.probability_ceiling or {}) == {
        "qualify": 10,
        "discover": 20,
        "validate": 70,
        "propose": 75,
        "negotiate": 90,
        "contract": 90,
    }
    assert dict(hubspot.probability_ceiling or {})["negotiate"] == 80
    # A generic pack cannot know what a CRM's probabilities mean: it states none.
    assert load_pack("buyer-journey").probability_ceiling is None


def test_hubspot_default_no_longer_compares_the_category_with_the_claimed_stage() -> None:
    ids = {milestone.id for milestone in load_pack("hubspot-default").milestones()}
    assert not ids & {"HS-FORECAST-COMMIT", "HS-FORECAST-BEST-CASE"}
    assert "HS-FORECAST-OPEN-CLOSED" in ids


# --- the audit -------------------------------------------------------------------------

# A standard Salesforce report: no custom fields, so the exits of qualify onward cannot be
# measured; the stage history says how far each deal's evidence certainly goes.
REPORT = """\
Opportunity ID,Opportunity Name,Opportunity Owner,Stage,Amount,Opportunity Currency,\
Close Date,Probability (%),Forecast Category,Next Step,Last Activity
OPP-1,Acme renewal,Ana Ruiz,Negotiation/Review,50000,USD,2027-01-15,90,Commit,Legal,2026-11-25
OPP-2,Birch pilot,Ana Ruiz,Prospecting,20000,EUR,2027-01-20,10,Pipeline,Call,2026-11-25
OPP-3,Cedar rollout,Ben Ode,Prospecting,9000,USD,2027-02-01,40,Best Case,Demo,2026-11-25
"""


def _audit(tmp_path: Path, *args: str) -> dict[str, Any]:
    (tmp_path / "report.csv").write_text(REPORT, encoding="utf-8")
    done = dealgate(
        "audit", "report.csv", "--rules", "salesforce-default", "--as-of", "2026-11-27",
        "--fail-on", "never", *args, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    if "--format" in args and args[args.index("--format") + 1] == "json":
        document: dict[str, Any] = json.loads(done.stdout)
        return document
    return {"stdout": done.stdout}


def _money(figures: list[dict[str, Any]]) -> dict[str | None, Decimal]:
    return {item["currency"]: Decimal(str(item["amount"])) for item in figures}


def test_a_probability_above_the_evidence_stage_is_reported_with_its_amount(
    tmp_path: Path,
) -> None:
    document = _audit(tmp_path, "--format", "json")
    judged = {deal["id"]: deal["probability_ceiling"] for deal in document["deals"]}
    # Prospecting is qualify (10%): 40% claims more than any evidence there supports.
    assert judged["OPP-3"] == {
        "probability": 40.0,
        "ceiling": 10.0,
        "evidence_stage_id": "qualify",
        "standing": "without_evidence",
    }
    assert judged["OPP-2"]["standing"] == "supported"
    # Negotiation/Review at 90% is supported only if the exits the report cannot show are met.
    assert judged["OPP-1"]["standing"] == "unverifiable"
    [row] = [f for f in document["summary"]["forecast"] if f["claim"] == "probability"]
    assert (row["category"], row["deals"], row["without_evidence"], row["unverifiable"]) == (
        None,
        3,
        1,
        1,
    )
    assert _money(row["without_evidence_amounts"]) == {"USD": Decimal(9000)}
    assert _money(row["unverifiable_amounts"]) == {"USD": Decimal(50000)}


def test_an_owner_counts_a_deal_once_by_the_worse_of_category_and_probability(
    tmp_path: Path,
) -> None:
    document = _audit(tmp_path, "--format", "json")
    owners = {o["owner"]: o for o in document["summary"]["by_owner"]}
    # OPP-3 is Best Case without evidence *and* above its probability ceiling: one deal.
    assert owners["Ben Ode"]["forecast_without_evidence"] == 1
    assert _money(owners["Ben Ode"]["forecast_without_evidence_amounts"]) == {"USD": 9000}
    # OPP-1 is Commit, unverifiable, and its probability too.
    ana = owners["Ana Ruiz"]
    assert (ana["forecast_unverifiable"], ana["forecast_without_evidence"]) == (1, 0)


def test_every_format_shows_the_probability_row(tmp_path: Path) -> None:
    table = _audit(tmp_path)["stdout"]
    assert "Probability above evidence 1 of 3 deals, USD 9,000" in table
    assert "Probability, unverifiable 1 deals, USD 50,000" in table
    markdown = _audit(tmp_path, "--format", "markdown")["stdout"]
    assert "- Probability above evidence: **1** of 3 deals, **USD 9,000**" in markdown
    html = _audit(tmp_path, "--format", "html")["stdout"]
    assert 'data-figure="forecast_probability"' in html
    _audit(tmp_path, "--format", "xlsx", "--output", "audit.xlsx")
    summary = load_workbook(tmp_path / "audit.xlsx")["Summary"]
    rows = {row[0]: row[1:] for row in summary.iter_rows(values_only=True) if row and row[0]}
    assert rows["Probability above evidence (deals)"][0] == 1
    assert 9000 in rows["Probability above evidence"]


def test_check_says_what_probability_the_evidence_supports(tmp_path: Path) -> None:
    (tmp_path / "report.csv").write_text(REPORT, encoding="utf-8")
    done = dealgate(
        "check", "report.csv", "--id", "OPP-3", "--rules", "salesforce-default",
        "--as-of", "2026-11-27", cwd=tmp_path,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    line = "Probability: 40%, evidence (Qualify (Prospecting, Qualification)) supports at most 10%"
    assert line in done.stdout
    as_json = dealgate(
        "check", "report.csv", "--id", "OPP-3", "--rules", "salesforce-default",
        "--as-of", "2026-11-27", "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert json.loads(as_json.stdout)["probability_ceiling"]["standing"] == "without_evidence"


def test_a_case_expecting_another_standing_fails_and_says_which(tmp_path: Path) -> None:
    (tmp_path / "cases.yaml").write_text(
        """\
pack: salesforce-default
as_of: 2026-11-27
cases:
  - name: Prospecting deal at 40%
    deal: {id: C-1, stage: Prospecting, amount: 9000, probability: 40}
    missing: []
    probability: supported
""",
        encoding="utf-8",
    )
    done = dealgate("rules", "test", "cases.yaml", cwd=tmp_path)
    assert done.returncode == 1
    assert "~ probability  expected supported, but without_evidence" in done.stdout
