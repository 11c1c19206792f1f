"""Assessments as JSON data: the shape every other audit format derives from (DESIGN.md)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from dealgate.findings import FindingKind, json_value
from dealgate.judging.assess import DealAssessment
from dealgate.judging.forecast import judge_forecast, judge_probability
from dealgate.rules.model import RulePack

if TYPE_CHECKING:
    from dealgate.checking import CheckRun


def disposition_text(assessment: DealAssessment) -> str:
    """`keep`, `re-date`, or `re-stage to <evidence stage id>` (Disposition.text)."""
    evidence = assessment.evidence_stage
    return assessment.disposition.text(evidence.id if evidence else None)


def attention_milestones(assessment: DealAssessment) -> list[str]:
    """The ids of the skipped and hygiene milestones a deal misses: the exception list's
    `missing` column."""
    return [f.milestone_id for f in assessment.missing(FindingKind.SKIPPED, FindingKind.HYGIENE)]


def deal_json(assessment: DealAssessment, *, include_met: bool = True) -> dict[str, Any]:
    deal = assessment.read.deal
    findings = [
        finding.as_json()
        for finding in assessment.findings
        if include_met or finding.status.value not in ("met", "not_applicable")
    ]
    return {
        "id": deal.id,
        "name": deal.name,
        "owner": deal.owner,
        "manager": deal.manager,
        "stage": deal.stage,
        "stage_id": assessment.stage.id if assessment.stage else None,
        "evidence_stage": assessment.evidence_stage.id if assessment.evidence_stage else None,
        "inflation": assessment.inflation,
        "amount": json_value(deal.amount),
        "currency": deal.currency,
        "close_date": json_value(deal.close_date),
        "disposition": disposition_text(assessment),
        "location": {
            "file": assessment.read.location.file,
            "row": assessment.read.location.line or None,
            "path": assessment.read.path or None,
        },
        "findings": findings,
    }


def forecast_json(pack: RulePack, assessment: DealAssessment) -> dict[str, Any] | None:
    """The deal's forecast category against its evidence (judging/forecast.py); None when the
    pack states no requirement for its category, or the deal is closed or of no known stage."""
    judged = judge_forecast(pack, assessment)
    if judged is None:
        return None
    return {
        "category": judged.category,
        "required_stage_id": judged.required.id,
        "evidence_stage_id": judged.evidence_stage.id if judged.evidence_stage else None,
        "supports": judged.supports,
        "standing": judged.standing.value,
    }


def probability_json(pack: RulePack, assessment: DealAssessment) -> dict[str, Any] | None:
    """The deal's probability against the ceiling of its evidence stage (judging/forecast.py);
    None when the deal has no probability, is closed or of no known stage, or the pack states
    no ceiling."""
    judged = judge_probability(pack, assessment)
    if judged is None:
        return None
    return {
        "probability": float(judged.probability),
        "ceiling": judged.ceiling,
        "evidence_stage_id": judged.evidence_stage.id,
        "standing": judged.standing.value,
    }


def check_json(run: CheckRun, as_of: date, engine: str) -> dict[str, Any]:
    """`dealgate check --format json`: the deal, whether it may advance, and what was judged."""
    return {
        "as_of": as_of.isoformat(),
        "pack": {"id": run.pack.id, "title": run.pack.title},
        "engine": engine,
        "ready": run.readiness.ready,
        "verdict": run.readiness.sentence(run.assessment),
        "deal": deal_json(run.assessment),
        "forecast": forecast_json(run.pack, run.assessment),
        "probability_ceiling": probability_json(run.pack, run.assessment),
        "data_findings": [finding.as_json() for finding in run.findings],
        "coverage": run.coverage.as_json(),
    }
