"""The bundled packs: sound, complete for real teams, and readable as a playbook."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dealgate.rules.catalog import PackCatalog, bundled_rules_dir
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack

SALESFORCE_STAGES = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
]
HUBSPOT_STAGES = [
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
    "Appointment Scheduled",
    "Qualified To Buy",
    "Presentation Scheduled",
    "Decision Maker Bought-In",
    "Contract Sent",
]
BUNDLED = ["buyer-journey", "meddpicc", "bant", "salesforce-default", "hubspot-default"]


def _pack(pack_id: str) -> RulePack:
    return load_pack(pack_id, PackCatalog([bundled_rules_dir()], include_bundled=False))


@pytest.mark.parametrize("pack_id", BUNDLED)
def test_bundled_pack_resolves_and_every_milestone_carries_guidance(pack_id: str) -> None:
    pack = _pack(pack_id)
    assert pack.open_stages and pack.terminal_stages
    for milestone in pack.milestones():
        assert milestone.guidance.strip(), milestone.id
        assert milestone.evidence.strip(), milestone.id


@pytest.mark.parametrize("pack_id", BUNDLED)
def test_no_stage_asks_for_more_than_seven_required_milestones(pack_id: str) -> None:
    for stage in _pack(pack_id).open_stages:
        required = [m for m in stage.exit if m.severity == "required"]
        assert len(required) <= 7, stage.id


def test_default_pack_reads_plain_salesforce_and_hubspot_exports() -> None:
    pack = _pack("buyer-journey")
    assert 6 <= len(pack.open_stages) <= 7
    for crm_stage in SALESFORCE_STAGES + HUBSPOT_STAGES:
        assert pack.match_stage(crm_stage) is not None, crm_stage
    assert pack.match_stage("Closed Won") == pack.stage("closed_won")
    assert pack.match_stage("closedlost").terminal == "lost"  # type: ignore[union-attr]


def test_default_pack_stages_follow_the_process_order_of_both_crms() -> None:
    pack = _pack("buyer-journey")
    for names in (SALESFORCE_STAGES, HUBSPOT_STAGES[:7]):
        positions = [pack.match_stage(name).position for name in names]  # type: ignore[union-attr]
        assert positions == sorted(positions), names


def test_default_pack_has_a_mutual_action_plan_milestone_and_standard_hygiene() -> None:
    pack = _pack("buyer-journey")
    plan_readers = [m for m in pack.milestones() if "action_plan" in m.reads and not m.is_hygiene]
    assert plan_readers, "a mutual action plan exit milestone"
    assert "action_plan[].owner" in plan_readers[0].reads
    assert "action_plan[].due" in plan_readers[0].reads
    hygiene_reads = {field for check in pack.checks for field in check.reads}
    for field in (
        "close_date",
        "next_step",
        "next_step_date",
        "last_activity_date",
        "amount",
        "contacts",
        "action_plan[].due",
    ):
        assert field in hygiene_reads, field


@pytest.mark.parametrize(
    ("pack_id", "crm_stages", "other_crm"),
    [
        ("salesforce-default", SALESFORCE_STAGES, "qualifiedtobuy"),
        ("hubspot-default", HUBSPOT_STAGES, "Needs Analysis"),
    ],
)
def test_crm_packs_map_exactly_their_crm_stages(
    pack_id: str, crm_stages: list[str], other_crm: str
) -> None:
    pack = _pack(pack_id)
    base = _pack("buyer-journey")
    assert pack.extends == ("buyer-journey",)
    for crm_stage in crm_stages:
        stage = pack.match_stage(crm_stage)
        assert stage is not None, crm_stage
        assert stage.id == base.match_stage(crm_stage).id  # type: ignore[union-attr]
    assert pack.match_stage(other_crm) is None
    base_ids = {m.id for m in base.milestones()}
    assert base_ids <= {m.id for m in pack.milestones()}


def test_playbook_reads_in_process_order_with_guidance_for_every_milestone() -> None:
    pack = _pack("buyer-journey")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dealgate",
            "rules",
            "show",
            "buyer-journey",
            "--format",
            "markdown",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    text = result.stdout
    assert text.startswith(f"# {pack.title}\n")
    headings = [
        f"## {number}. {stage.name}" for number, stage in enumerate(pack.open_stages, start=1)
    ]
    positions = [text.index(heading) for heading in headings]
    assert positions == sorted(positions)
    assert text.index("## Deal hygiene") > positions[-1]
    for milestone in pack.milestones():
        assert f"### {milestone.milestone}" in text
        assert f"- **How to get it:** {milestone.guidance.strip()}" in text
    for stage in pack.open_stages:
        assert f"**Where the buyer is:** {stage.buyer_step}" in text
