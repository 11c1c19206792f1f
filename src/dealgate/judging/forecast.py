"""A deal's forecast category against its evidence stage (docs/rules.md, "Forecast").

The pack states, per forecast category, the evidence stage a deal needs to be in it
(`forecast: {Commit: negotiate}`). A deal whose evidence, waived milestones counted as met,
stops before that stage claims more than it shows: "Commit without evidence". A deal whose
evidence reaches it only because a milestone could not be measured from the input (an
unmeasured milestone, judging/coverage.py) is unverifiable: a different message from "no
evidence".

A pack may also state the highest probability each evidence stage supports
(`probability_ceiling: {validate: 40}`); a deal whose probability is above the ceiling of its
evidence stage claims more than it shows in the same way. Every report and `check` read these
two rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
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


def claim_label(category: str | None) -> str:
    """The headline of a claim the evidence does not support: 'Commit without evidence', or
    for the probability (category None) 'Probability above evidence'."""
    return "Probability above evidence" if category is None else f"{category} without evidence"


def unverifiable_label(category: str | None) -> str:
    """'Commit, unverifiable': the deals whose evidence the input cannot show."""
    return f"{category or 'Probability'}, unverifiable"


# A deal's standing when both its category and its probability are judged: the worse one.
_WORSE = (Standing.SUPPORTED, Standing.UNVERIFIABLE, Standing.WITHOUT_EVIDENCE)


@dataclass(frozen=True)
class Reach:
    """How far a deal's evidence goes: `evidence` with waived and unmeasured milestones counted
    as met, `lowest` with unmeasured ones counted as missing (positions of stages)."""

    evidence: int
    lowest: int

    def standing(self, needed: int) -> Standing:
        """Supported when the evidence reaches position `needed` even at its lowest."""
        if self.evidence < needed:
            return Standing.WITHOUT_EVIDENCE
        return Standing.UNVERIFIABLE if self.lowest < needed else Standing.SUPPORTED


def _reach(pack: RulePack, assessment: DealAssessment, stage: Stage) -> Reach:
    semantics = pack.semantics
    missing = {f.milestone_id for f in assessment.findings if f.status is Status.MISSING}
    unknown = missing | assessment.unmeasured
    evidence = semantics.evidence(stage.position, lambda m: m.id in missing)
    lowest = semantics.evidence(stage.position, lambda m: m.id in unknown)
    return Reach(-1 if evidence is None else evidence, -1 if lowest is None else lowest)


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
    reach = _reach(pack, assessment, stage)
    return ForecastJudgement(
        category,
        required,
        pack.semantics.stage_at(None if reach.evidence < 0 else reach.evidence),
        supported_category(pack, reach.evidence),
        reach.standing(required.position),
    )


@dataclass(frozen=True)
class ProbabilityJudgement:
    """A deal's probability against the highest its evidence stage supports."""

    probability: Decimal
    ceiling: float  # at the evidence stage, waived milestones counted as met
    evidence_stage: Stage
    standing: Standing

    @property
    def line(self) -> str:
        """One line for `check`: 'Probability: 60%, evidence (Discover) supports at most 20%'."""
        shown = f"Probability: {self.probability:g}%"
        if self.standing is Standing.SUPPORTED:
            return f"{shown}, supported by the evidence"
        if self.standing is Standing.UNVERIFIABLE:
            return (
                f"{shown}, unverifiable: the input cannot show the evidence it needs "
                f"beyond {self.evidence_stage.name}"
            )
        return f"{shown}, evidence ({self.evidence_stage.name}) supports at most {self.ceiling:g}%"


def judge_probability(pack: RulePack, assessment: DealAssessment) -> ProbabilityJudgement | None:
    """The probability judgement of an open deal at a known stage with a probability, when the
    pack states a ceiling for its evidence stage; None for any other deal."""
    probability = assessment.read.deal.probability
    stage = assessment.stage
    if probability is None or stage is None or not stage.is_open or not pack.probability_ceiling:
        return None
    reach = _reach(pack, assessment, stage)
    evidence_stage = pack.semantics.stage_at(None if reach.evidence < 0 else reach.evidence)
    ceiling = None if evidence_stage is None else pack.ceiling_at(evidence_stage)
    if evidence_stage is None or ceiling is None:
        return None
    lowest_stage = pack.semantics.stage_at(None if reach.lowest < 0 else reach.lowest)
    lowest_ceiling = None if lowest_stage is None else pack.ceiling_at(lowest_stage)
    if probability > Decimal(str(ceiling)):
        standing = Standing.WITHOUT_EVIDENCE
    elif lowest_ceiling is None or probability > Decimal(str(lowest_ceiling)):
        standing = Standing.UNVERIFIABLE
    else:
        standing = Standing.SUPPORTED
    return ProbabilityJudgement(probability, ceiling, evidence_stage, standing)


def worse_standing(
    *judgements: ForecastJudgement | ProbabilityJudgement | None,
) -> Standing | None:
    """The worse of a deal's category and probability standings: what the per-owner counts
    of deals claiming more than their evidence read; None when neither is judged."""
    judged = [judgement.standing for judgement in judgements if judgement is not None]
    return max(judged, key=_WORSE.index) if judged else None


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
