"""A deal's forecast category against its evidence stage (docs/rules.md, "Forecast").

The pack states, per forecast category, the evidence stage a deal needs to be in it
(`forecast: {Commit: negotiate}`). A deal whose evidence, waived milestones counted as met,
stops before that stage claims more than it shows: "Commit without evidence". A deal whose
evidence reaches it only because a milestone could not be measured from the input (an
unmeasured milestone, judging/coverage.py) is unverifiable: a different message from "no
evidence". Every report and `check` read this one rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from dealgate.findings import Status
from dealgate.rules.model import RulePack, Stage

if TYPE_CHECKING:
    from dealgate.judging.assess import DealAssessment

# The categories that claim more, in rising order; Omitted claims nothing.
RANK = ("Pipeline", "Best Case", "Commit", "Closed")


class Standing(StrEnum):
    SUPPORTED = "supported"
    WITHOUT_EVIDENCE = "without_evidence"
    UNVERIFIABLE = "unverifiable"


@dataclass(frozen=True)
class ForecastJudgement:
    """A deal's category, the stage it needs, and the highest category its evidence supports."""

    category: str
    required: Stage
    evidence_stage: Stage | None  # waived milestones counted as met
    supports: str  # the highest category the evidence supports
    standing: Standing

    @property
    def line(self) -> str:
        """One line for `check`: 'Forecast: Commit, evidence supports Best Case'."""
        if self.standing is Standing.SUPPORTED:
            return f"Forecast: {self.category}, supported by the evidence"
        if self.standing is Standing.UNVERIFIABLE:
            return (
                f"Forecast: {self.category}, unverifiable: the input cannot show evidence "
                f"up to {self.required.name}"
            )
        return f"Forecast: {self.category}, evidence supports {self.supports}"


def judge_forecast(pack: RulePack, assessment: DealAssessment) -> ForecastJudgement | None:
    """The forecast judgement of an open deal at a known stage whose category the pack gives
    a requirement; None for any other deal."""
    requirements = pack.forecast_requirements
    category = assessment.read.deal.forecast_category
    stage = assessment.stage
    if category is None or category not in requirements or stage is None or not stage.is_open:
        return None
    required = pack.stage(requirements[category])
    semantics = pack.semantics
    missing = {f.milestone_id for f in assessment.findings if f.status is Status.MISSING}
    unknown = missing | assessment.unmeasured
    evidence = semantics.evidence(stage.position, lambda m: m.id in missing)
    lowest = semantics.evidence(stage.position, lambda m: m.id in unknown)
    reached = -1 if evidence is None else evidence
    if reached < required.position:
        standing = Standing.WITHOUT_EVIDENCE
    elif lowest is None or lowest < required.position:
        standing = Standing.UNVERIFIABLE
    else:
        standing = Standing.SUPPORTED
    return ForecastJudgement(
        category,
        required,
        semantics.stage_at(evidence),
        supported_category(pack, reached),
        standing,
    )


def supported_category(pack: RulePack, position: int) -> str:
    """The highest category whose required stage an evidence stage at `position` reaches."""
    supported = RANK[0]
    for category in RANK:
        needed = pack.forecast_requirements.get(category)
        if needed is None and category != RANK[0]:
            continue
        if needed is None or pack.stage(needed).position <= position:
            supported = category
    return supported
