"""Calibration from the closed deals of an export alone, and the leakage it is open to.

A closed deal's fields are read as they stand today, after the close: a field filled in at
or after the close (the signed order form, the champion named in the win review) describes
the outcome rather than predicts it, and makes its milestone look predictive. Snapshots
(calibration/snapshots.py) avoid this; here each milestone's met findings are searched for
dates after the deal's close date, and a milestone with any is flagged as leaking.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from dealgate.audit import AuditResult
from dealgate.calibration.measures import MEASURES, exits_met
from dealgate.calibration.statistics import DealJourney, Measure, Observation, StageVisit
from dealgate.findings import Finding
from dealgate.judging.assess import DealAssessment
from dealgate.rules.model import RulePack, Stage


@dataclass
class ClosedDeals:
    """What the closed deals of an audit say about each milestone."""

    observations: list[Observation] = field(default_factory=list)
    won: int = 0
    lost: int = 0
    # milestone id -> the deals that met it reading a date after their close date
    leaking: Counter[str] = field(default_factory=Counter)
    # why an audited deal is not calibrated: still open, unknown stage, no close date
    not_outcomes: Counter[str] = field(default_factory=Counter)
    # the stages each deal with a stage history went through (stage conversion)
    journeys: list[DealJourney] = field(default_factory=list)
    lost_without_history: int = 0  # lost deals whose reach is unknown: compared on everything


def closed_deals(result: AuditResult) -> ClosedDeals:
    """Every won or lost deal of an audit run with closed deals and met findings included."""
    found = ClosedDeals()
    for assessment in result.assessments:
        stage = assessment.stage
        close_date = assessment.read.deal.close_date
        if stage is None:
            found.not_outcomes["stage the pack does not know"] += 1
            continue
        if stage.is_open:
            found.not_outcomes["still open"] += 1
            continue
        won = stage.terminal == "won"
        found.won += won
        found.lost += not won
        reached = _reached(result.pack, assessment, won)
        if reached is None:
            found.lost_without_history += 1
        journey = _journey(result.pack, assessment, won)
        if journey is not None:
            found.journeys.append(journey)
        for finding in assessment.findings:
            measure = MEASURES.get(finding.status)
            if measure is None or not _within(result.pack, finding, reached):
                continue
            found.observations.append(
                Observation(assessment.deal_id, finding.milestone_id, measure, won)
            )
            if measure is Measure.MET and _after(finding, close_date):
                found.leaking[finding.milestone_id] += 1
    return found


def _reached(pack: RulePack, assessment: DealAssessment, won: bool) -> int | None:
    """The furthest open stage a closed deal reached: every one for a won deal, the furthest
    its stage history shows for a lost one; None when a lost deal has no stage history."""
    if won:
        return pack.open_stages[-1].position
    positions = [stage.position for _, stage in _history(pack, assessment)]
    return max(positions) if positions else None


def _within(pack: RulePack, finding: Finding, reached: int | None) -> bool:
    """Whether a closed deal is compared on a milestone: one of a stage it reached (all of
    them when its reach is unknown)."""
    if reached is None or finding.stage_id is None:
        return True
    return pack.stage(finding.stage_id).position <= reached


def _history(pack: RulePack, assessment: DealAssessment) -> list[tuple[date, Stage]]:
    """The open pack stages a deal's stage history shows, by the day it entered each."""
    entered = []
    for change in assessment.read.deal.stage_history or ():
        stage = pack.match_stage(change.stage) if change.stage else None
        if stage is not None and stage.is_open and change.entered_on is not None:
            entered.append((change.entered_on, stage))
    return sorted(entered, key=lambda pair: (pair[0], pair[1].position))


def _journey(pack: RulePack, assessment: DealAssessment, won: bool) -> DealJourney | None:
    """A closed deal's visits to stages by its stage history; exits as its fields stand
    today (the leak the warning names); None without a history."""
    entered = _history(pack, assessment)
    if not entered:
        return None
    close_date = assessment.read.deal.close_date
    statuses = {finding.milestone_id: finding.status for finding in assessment.findings}
    visits = []
    for number, (day, stage) in enumerate(entered):
        left = entered[number + 1][0] if number + 1 < len(entered) else close_date
        days = float((left - day).days) if left is not None else None
        visits.append(StageVisit(stage.id, days, exits_met(stage, statuses)))
    return DealJourney(assessment.deal_id, tuple(visits), won)


def _after(finding: Finding, close_date: date | None) -> bool:
    """Whether the finding read a date after the close date."""
    return close_date is not None and any(day > close_date for day in _dates(finding))


def _dates(finding: Finding) -> Iterator[date]:
    """The dates a finding read, inside lists of records too (a contact's engaged_on)."""
    for _, value in finding.read:
        yield from _dates_in(value)


def _dates_in(value: object) -> Iterator[date]:
    if isinstance(value, date):
        yield value
    elif isinstance(value, str) and len(value) == 10:
        try:
            yield date.fromisoformat(value)
        except ValueError:
            return
    elif isinstance(value, dict):
        yield from _dates_in_all(value.values())
    elif isinstance(value, list | tuple):
        yield from _dates_in_all(value)


def _dates_in_all(values: Iterable[object]) -> Iterator[date]:
    for value in values:
        yield from _dates_in(value)
