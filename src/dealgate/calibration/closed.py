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
from dealgate.calibration.statistics import Measure, Observation
from dealgate.findings import Finding, Status

_MEASURES = {
    Status.MET: Measure.MET,
    Status.MISSING: Measure.MISSING,
    Status.UNMEASURED: Measure.UNKNOWN,
}


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
        for finding in assessment.findings:
            measure = _MEASURES.get(finding.status)
            if measure is None:
                continue
            found.observations.append(
                Observation(assessment.deal_id, finding.milestone_id, measure, won)
            )
            if measure is Measure.MET and _after(finding, close_date):
                found.leaking[finding.milestone_id] += 1
    return found


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
