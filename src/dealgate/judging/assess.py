"""One evaluated deal judged against a pack: its findings, evidence stage, inflation and
disposition, by the stage rules of `judging.semantics` (docs/rules.md, "Stage semantics").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from dealgate.deals.model import ReadDeal
from dealgate.engines.base import DealOutcomes, DealRequest, Outcome, deal_values
from dealgate.findings import Disposition, Finding, FindingKind, Status
from dealgate.judging.action_plan import OverdueStep
from dealgate.rules.model import Milestone, RulePack, Stage

if TYPE_CHECKING:  # waivers (and their pydantic models) load only where a waiver file is read
    from dealgate.judging.semantics import StageSemantics
    from dealgate.judging.waivers import WaiverBook

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
    # Late steps of the mutual action plan (judging/action_plan.py); an audit fills them in.
    overdue_steps: tuple[OverdueStep, ...] = ()
    # Milestones the input could not measure on this deal (judging/coverage.py), made even
    # where an audit keeps only missing findings: the forecast judgement reads them.
    unmeasured: frozenset[str] = frozenset()

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
    scope = pack.semantics.scope(
        pack.position(read.stage_id), to_stage.position if to_stage else None
    )
    return DealRequest(read, scope)


def assess(
    pack: RulePack, evaluated: DealOutcomes, *, detail: bool = True, as_of: date | None = None
) -> DealAssessment:
    """Findings and stage judgement of one evaluated deal.

    With detail=False only the missing findings are made: an audit reports only those (a
    check, or an audit with --include-met, shows every finding). A pack judged on an input
    lacking fields (judging/coverage.py) needs the as-of date to tell met from unmeasured.
    """
    semantics = pack.semantics
    read = evaluated.request.read
    stage = pack.stage(read.stage_id) if read.stage_id else None
    position = stage.position if stage else None
    outcomes = evaluated.outcomes
    values = evaluated.values if evaluated.values is not None else deal_values(read, pack)
    findings = []
    unmeasured: set[str] = set()
    missing: set[str] = set()
    for milestone in semantics.milestones if detail else _judged(semantics, outcomes):
        outcome = outcomes.get(milestone.id)
        if outcome is None:
            continue
        status = _STATUS[outcome]
        note = ""
        if milestone.unmeasured is not None and status is not Status.MISSING:
            status = _measured_status(pack, milestone, status, values, as_of, read)
            if status is Status.UNMEASURED:
                unmeasured.add(milestone.id)
            note = _history_note(milestone, read, status)
        if status is Status.MISSING:
            missing.add(milestone.id)
        elif not detail:
            continue
        findings.append(
            Finding(
                deal_id=read.deal.id,
                milestone_id=milestone.id,
                milestone=milestone.milestone,
                stage_id=milestone.stage_id,
                kind=semantics.kind(milestone, position),
                status=status,
                severity=milestone.severity.value,
                read=read_values(milestone, values, read)
                if detail or status is not Status.MET
                else (),
                guidance=milestone.guidance,
                evidence=milestone.evidence,
                note=note,
            )
        )
    # The pack's order is already skipped exits, then to-advance ones, then hygiene checks.
    evidence = semantics.evidence(position, lambda milestone: milestone.id in missing)
    inflation = semantics.inflation(position, evidence)
    findings_tuple = tuple(findings)
    return DealAssessment(
        read,
        stage,
        semantics.stage_at(evidence),
        inflation,
        _disposition(pack, findings_tuple, inflation),
        findings_tuple,
        unmeasured=frozenset(unmeasured),
    )


def _judged(semantics: StageSemantics, outcomes: Mapping[str, Outcome]) -> list[Milestone]:
    """The milestones that can make a finding without detail, in the pack's order: the
    missing ones, and those the input cannot measure (met or not, they may be unmeasured)."""
    chosen = [name for name, outcome in outcomes.items() if outcome is Outcome.MISSING]
    chosen.extend(
        m.id
        for m in semantics.unmeasurable
        if outcomes.get(m.id, Outcome.MISSING) is not Outcome.MISSING
    )
    order = semantics.order
    milestones = semantics.milestones
    return [milestones[order[name]] for name in sorted(chosen, key=order.__getitem__)]


def _measured_status(
    pack: RulePack,
    milestone: Milestone,
    status: Status,
    values: Mapping[str, Any],
    as_of: date | None,
    read: ReadDeal,
) -> Status:
    from dealgate.judging.coverage import status_within, unmeasured_status

    measured = milestone.unmeasured
    assert measured is not None
    if as_of is None:
        raise ValueError("a pack judged on an input lacking fields is assessed as of a date")
    positions = {stage.id: stage.position for stage in pack.stages}
    status = unmeasured_status(measured, status, values, as_of, positions)
    history = read.insufficient_history
    if (
        status is not Status.UNMEASURED
        or history is None
        or history.stage_since is None
        or measured.lacks != ("stage_history",)
    ):
        return status
    # At the same stage in every sighting: entered it between the deal's creation (or long
    # ago) and the first sighting; a condition that holds, or fails, at both is decided.
    since = history.stage_since
    earliest = min(read.deal.created_date or _LONG_AGO, since)
    latest_entry = [{"stage": read.deal.stage, "entered_on": since}]
    earliest_entry = [{"stage": read.deal.stage, "entered_on": earliest}]
    ends = (latest_entry, earliest_entry)
    return status_within(measured, values, as_of, positions, "stage_history", ends)


_LONG_AGO = date(1900, 1, 1)  # before any CRM held a deal


def _history_note(milestone: Milestone, read: ReadDeal, status: Status) -> str:
    """Why a milestone is unmeasured on this deal when its history is what lacks (the
    coverage section says what the input lacks for every deal), or how the stage's first
    sighting decided it."""
    assert milestone.unmeasured is not None
    history = read.insufficient_history
    if history is None:
        return ""
    lacks = milestone.unmeasured.lacks
    if status is not Status.UNMEASURED:
        if history.stage_since is None or "stage_history" not in lacks:
            return ""
        since = history.stage_since.isoformat()
        return f"at the same stage in every snapshot since {since}: entered it on or before then"
    reasons = dict.fromkeys(history.reasons[name] for name in lacks if name in history.reasons)
    return "; ".join(reasons)


def _disposition(pack: RulePack, findings: tuple[Finding, ...], inflation: int) -> Disposition:
    """The disposition by the findings as they stand (a waived one is not missing)."""
    missing = {f.milestone_id for f in findings if f.status is Status.MISSING}
    return pack.semantics.disposition(lambda milestone: milestone.id in missing, inflation)


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
    disposition = _disposition(pack, findings, assessment.inflation)
    waived = {f.milestone_id for f in findings if f.status is Status.WAIVED}
    return replace(
        assessment,
        findings=findings,
        disposition=disposition,
        unmeasured=assessment.unmeasured - waived,
    )
