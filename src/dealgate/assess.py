"""Stage semantics: from milestone outcomes to findings, evidence stage, inflation, disposition.

The same for every engine (docs/rules.md, "Stage semantics"). For an open deal at stage S:
exit milestones of earlier stages unmet are *skipped*; those of S are *to-advance*; hygiene
checks apply to every open deal. The evidence stage E is the furthest stage up to S such that
every required exit milestone of every stage before E is met; inflation = position(S) -
position(E).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from dealgate.action_plan import OverdueStep
from dealgate.deals.model import ReadDeal
from dealgate.engines.base import DealOutcomes, DealRequest, Outcome, deal_values
from dealgate.findings import Disposition, Finding, FindingKind, Status
from dealgate.rules.model import Milestone, RulePack, Severity, Stage

if TYPE_CHECKING:  # waivers (and their pydantic models) load only where a waiver file is read
    from dealgate.waivers import WaiverBook

_STATUS = {
    Outcome.MET: Status.MET,
    Outcome.MISSING: Status.MISSING,
    Outcome.NOT_APPLICABLE: Status.NOT_APPLICABLE,
}


@dataclass(frozen=True)
class DealAssessment:
    """A deal judged against a pack: where its evidence says it is, and every finding."""

    read: ReadDeal
    stage: Stage | None  # the pack stage its CRM stage means; None when unknown
    evidence_stage: Stage | None
    inflation: int
    disposition: Disposition
    findings: tuple[Finding, ...]
    # Late steps of the mutual action plan (dealgate/action_plan.py); an audit fills them in.
    overdue_steps: tuple[OverdueStep, ...] = ()

    @property
    def deal_id(self) -> str:
        return self.read.deal.id

    @property
    def at_risk(self) -> bool:
        return self.inflation > 0 and self.stage is not None and self.stage.is_open

    def missing(self, *kinds: FindingKind) -> list[Finding]:
        return [
            finding
            for finding in self.findings
            if finding.status is Status.MISSING and (not kinds or finding.kind in kinds)
        ]


def request_for(read: ReadDeal, pack: RulePack, to_stage: Stage | None = None) -> DealRequest:
    """Which milestones apply to a deal: its stage's and earlier exits, and hygiene if open."""
    if read.stage_id is None:
        return DealRequest(read, limit=-1, hygiene=True)
    stage = pack.stage(read.stage_id)
    if not stage.is_open:
        return DealRequest(read, limit=pack.open_stages[-1].position, hygiene=False)
    limit = stage.position
    if to_stage is not None and to_stage.position > stage.position:
        limit = to_stage.position - 1
    return DealRequest(read, limit=limit, hygiene=True)


def assess(pack: RulePack, evaluated: DealOutcomes, *, detail: bool = True) -> DealAssessment:
    """Findings and stage judgement of one evaluated deal.

    With detail=False only the missing findings are made: an audit reports only those (a
    check, or an audit with --include-met, shows every finding).
    """
    read = evaluated.request.read
    stage = pack.stage(read.stage_id) if read.stage_id else None
    values = evaluated.values if evaluated.values is not None else deal_values(read, pack)
    findings = []
    for milestone in pack.milestones():
        outcome = evaluated.outcomes.get(milestone.id)
        if outcome is None or (not detail and outcome is not Outcome.MISSING):
            continue
        kind = _kind(milestone, stage, pack)
        findings.append(
            Finding(
                deal_id=read.deal.id,
                milestone_id=milestone.id,
                milestone=milestone.milestone,
                stage_id=milestone.stage_id,
                kind=kind,
                status=_STATUS[outcome],
                severity=milestone.severity.value,
                read=read_values(milestone, values, read)
                if detail or outcome is not Outcome.MET
                else (),
                guidance=milestone.guidance,
                evidence=milestone.evidence,
            )
        )
    findings.sort(key=lambda finding: _ORDER[finding.kind])
    evidence = evidence_stage(pack, stage, evaluated.outcomes)
    inflation = stage.position - evidence.position if stage and evidence else 0
    return DealAssessment(
        read, stage, evidence, inflation, _disposition(pack, findings, inflation), tuple(findings)
    )


_ORDER = {
    FindingKind.SKIPPED: 0,
    FindingKind.TO_ADVANCE: 1,
    FindingKind.HYGIENE: 2,
    FindingKind.WAIVER: 3,
    FindingKind.DATA: 4,
}


def _kind(milestone: Milestone, stage: Stage | None, pack: RulePack) -> FindingKind:
    if milestone.stage_id is None:
        return FindingKind.HYGIENE
    if stage is None or pack.stage(milestone.stage_id).position < stage.position:
        return FindingKind.SKIPPED
    return FindingKind.TO_ADVANCE


def evidence_stage(
    pack: RulePack, stage: Stage | None, outcomes: Mapping[str, Outcome]
) -> Stage | None:
    """The furthest stage up to the claimed one whose earlier required exits are all met."""
    if stage is None:
        return None
    reached = pack.open_stages[0]
    for candidate in pack.stages:
        if candidate.position >= stage.position:
            break
        required = [m for m in candidate.exit if m.severity is Severity.REQUIRED]
        if any(outcomes.get(m.id) is Outcome.MISSING for m in required):
            break
        reached = pack.stages[candidate.position + 1]
    return reached


def _disposition(pack: RulePack, findings: list[Finding], inflation: int) -> Disposition:
    for finding in findings:
        if (
            finding.kind is FindingKind.HYGIENE
            and finding.status is Status.MISSING
            and finding.severity == Severity.REQUIRED.value
            and "close_date" in pack.milestone(finding.milestone_id).reads
        ):
            return Disposition.RE_DATE
    return Disposition.RE_STAGE if inflation > 0 else Disposition.KEEP


def read_values(
    milestone: Milestone, values: Mapping[str, Any], read: ReadDeal
) -> tuple[tuple[str, object], ...]:
    """The fields a milestone read, with the deal's values: the finding explains itself.

    A list shows its items with the item fields read, or its length when none are read.
    """
    shown: list[tuple[str, object]] = []
    for path, item_fields in milestone.read_plan:
        if path == "stage":
            shown.append(("stage", read.deal.stage))
            continue
        found: Any = values.get(path) if "." not in path else _walk(values, path)
        if isinstance(found, list):
            found = (
                [{f: item.get(f) for f in item_fields} for item in found if isinstance(item, dict)]
                if item_fields
                else len(found)
            )
        shown.append((path, found))
    return tuple(shown)


def _walk(values: Mapping[str, Any], path: str) -> Any:
    found: Any = values
    for part in path.split("."):
        found = found.get(part) if isinstance(found, Mapping) else None
    return found


def with_waivers(pack: RulePack, assessment: DealAssessment, book: WaiverBook) -> DealAssessment:
    """Waivers applied, and the disposition judged again: a waived check asks for nothing."""
    findings = book.apply(assessment.findings)
    disposition = _disposition(pack, list(findings), assessment.inflation)
    return replace(assessment, findings=findings, disposition=disposition)
