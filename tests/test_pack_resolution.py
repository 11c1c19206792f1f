"""`extends`, `overrides` and `remove`: how a team builds its pack on a methodology pack."""

from __future__ import annotations

from pathlib import Path

import pytest

from dealgate.errors import PackError
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.expr import to_text
from dealgate.rules.loader import load_pack
from dealgate.rules.types import Kind

METHOD = """\
pack: method
fields:
  pain: text
  economic_buyer_met_on: date
stages:
  - id: qualify
    crm_names: [Qualification]
    exit:
      - id: QUAL-PAIN
        milestone: Pain confirmed
        require: present(pain)
        guidance: Ask what doing nothing costs.
  - id: propose
    crm_names: [Proposal]
    exit:
      - id: PROP-EB
        milestone: Economic buyer met
        require: present(economic_buyer_met_on)
  - id: closed_won
    terminal: won
  - id: closed_lost
    terminal: lost
checks:
  - id: HYG-CLOSE
    milestone: Close date not past
    require: close_date >= today
  - id: HYG-STALE
    milestone: Activity in the last 14 days
    require: days_since(last_activity_date) <= 14
"""

TEAM = """\
pack: team
extends: [method]
stages:
  - id: discover
    after: qualify
    crm_names: [Discovery, Needs Analysis]
    exit:
      - id: DISC-CRITERIA
        milestone: Decision criteria written down
        require: present(decision_criteria)
  - id: validate
    after: qualify
  - id: propose
    name: Proposal
    crm_names: [Proposal/Price Quote]
    exit:
      - id: PROP-SECURITY
        milestone: Security review passed
        require: present(security_review_done_on)
        when: amount >= 50000
overrides:
  QUAL-PAIN: {severity: recommended}
  HYG-STALE: {require: days_since(last_activity_date) <= 30}
remove: [HYG-CLOSE]
"""


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "method.yaml").write_text(METHOD, encoding="utf-8")
    (folder / "team.yaml").write_text(TEAM, encoding="utf-8")
    return folder


def test_new_stages_are_placed_after_their_anchor_in_written_order(rules: Path) -> None:
    pack = load_pack("team", PackCatalog([rules], include_bundled=False))
    assert [stage.id for stage in pack.stages] == [
        "qualify",
        "discover",
        "validate",
        "propose",
        "closed_won",
        "closed_lost",
    ]
    assert [stage.position for stage in pack.stages] == list(range(6))
    assert pack.lineage == ("method", "team")


def test_listing_an_inherited_stage_adds_milestones_and_replaces_names(rules: Path) -> None:
    pack = load_pack("team", PackCatalog([rules], include_bundled=False))
    propose = pack.stage("propose")
    assert propose.name == "Proposal"
    assert propose.crm_names == ("Proposal/Price Quote",)
    assert [milestone.id for milestone in propose.exit] == ["PROP-EB", "PROP-SECURITY"]
    assert pack.milestone("PROP-SECURITY").defined_in == "team"
    assert pack.milestone("PROP-EB").defined_in == "method"
    assert pack.match_stage("proposal") is None  # the inherited name was replaced
    assert pack.match_stage("  proposal/price QUOTE ") == propose


def test_overrides_and_remove(rules: Path) -> None:
    pack = load_pack("team", PackCatalog([rules], include_bundled=False))
    assert pack.milestone("QUAL-PAIN").severity == "recommended"
    assert pack.milestone("QUAL-PAIN").guidance == "Ask what doing nothing costs."
    assert to_text(pack.milestone("HYG-STALE").require.tree) == (
        "days_since(last_activity_date) <= 30"
    )
    assert [check.id for check in pack.checks] == ["HYG-STALE"]


def test_fields_declared_by_a_base_are_typed_in_the_extending_pack(rules: Path) -> None:
    pack = load_pack("team", PackCatalog([rules], include_bundled=False))
    assert pack.fields["economic_buyer_met_on"].type.kind is Kind.DATE
    # The team pack declares no fields, so its own undeclared names are allowed:
    assert pack.milestone("DISC-CRITERIA").require.reads == ("decision_criteria",)


def test_a_team_pack_may_shadow_a_base_of_the_same_id(tmp_path: Path, rules: Path) -> None:
    team_rules = tmp_path / "team-rules"
    team_rules.mkdir()
    (team_rules / "method.yaml").write_text(
        "pack: method\nextends: [method]\nstages: []\n"
        "overrides:\n  PROP-EB: {severity: recommended}\n",
        encoding="utf-8",
    )
    pack = load_pack("method", PackCatalog([team_rules, rules], include_bundled=False))
    assert pack.milestone("PROP-EB").severity == "recommended"
    assert pack.lineage == ("method", "method")


def test_diamond_extends_includes_a_shared_base_once(rules: Path) -> None:
    (rules / "left.yaml").write_text("pack: left\nextends: [method]\nstages: []\n", "utf-8")
    (rules / "right.yaml").write_text("pack: right\nextends: [method]\nstages: []\n", "utf-8")
    (rules / "both.yaml").write_text("pack: both\nextends: [left, right]\nstages: []\n", "utf-8")
    pack = load_pack("both", PackCatalog([rules], include_bundled=False))
    assert pack.lineage == ("method", "left", "right", "both")
    assert sum(1 for _ in pack.milestones()) == 4


def test_type_errors_in_an_override_point_at_the_override(rules: Path) -> None:
    (rules / "bad.yaml").write_text(
        "pack: bad\nextends: [method]\nstages: []\n"
        "overrides:\n  PROP-EB:\n    require: economic_buyer_met_on > 5\n",
        encoding="utf-8",
    )
    with pytest.raises(PackError) as caught:
        load_pack(rules / "bad.yaml", PackCatalog([rules], include_bundled=False))
    assert [str(problem) for problem in caught.value.problems] == [
        f"{rules / 'bad.yaml'}:6:14: error: cannot compare date with number"
    ]


def test_unknown_pack_id_suggests_the_closest(rules: Path) -> None:
    with pytest.raises(PackError) as caught:
        load_pack("tema", PackCatalog([rules], include_bundled=False))
    assert str(caught.value) == "tema: error: no rule pack 'tema' (did you mean 'team'?)"
