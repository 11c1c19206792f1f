"""A calibration: for each milestone of a pack, do deals that meet it win more often?

Three sources, one result (docs/calibration.md):
- snapshots and outcomes: each closed deal's last snapshot at least `lead_days` before its
  close, joined with whether it was won. The honest way: what is compared was recorded before
  the outcome was known, and each milestone is compared among the deals that had reached its
  stage.
- closed deals alone: the export's won and lost deals as they stand today, with a warning,
  since fields filled in at or after the close leak the outcome (calibration/closed.py).
- a win/loss review table of qualification answers (calibration/review.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from dealgate.calibration.closed import ClosedDeals
from dealgate.calibration.measures import exits_met
from dealgate.calibration.outcomes import Outcomes
from dealgate.calibration.review import ReviewData
from dealgate.calibration.snapshots import (
    Journey,
    Snapshot,
    SnapshotDeal,
    journeys,
    last_before,
    observations,
)
from dealgate.calibration.statistics import (
    DealJourney,
    MilestoneVerdict,
    Observation,
    StageConversion,
    StageVisit,
    Thresholds,
    count,
    judge,
    stage_conversion,
)
from dealgate.findings import DataFinding
from dealgate.rules.model import RulePack

SNAPSHOTS = "snapshots"
CLOSED_DEALS = "closed deals"
REVIEW = "win/loss review"

REVIEW_WARNING = (
    "win/loss review answers are usually recorded at or after the close, knowing the outcome: "
    "read the verdicts as what winning deals looked like, not as what predicts a win"
)
UNFAIR_WARNING = (
    "{who} compared on every milestone, as the export cannot say which stages "
    "they reached: a deal lost early misses every later milestone, which makes later "
    "milestones look predictive; stage history (HubSpot's date-entered columns, "
    "--stage-history) or snapshots compare each milestone among the deals that reached its "
    "stage"
)
LEAKAGE_WARNING = (
    "calibrated from closed deals as they stand today: fields filled in at or after the close "
    "describe the outcome rather than predict it, and make their milestones look predictive; "
    "calibrate from snapshots for a fair answer (docs/calibration.md)"
)


@dataclass(frozen=True)
class MilestoneInfo:
    """A milestone as the calibration names it."""

    id: str
    name: str
    stage_id: str | None  # None for a hygiene check, or a review attribute
    severity: str | None


@dataclass(frozen=True)
class MilestoneCalibration:
    milestone: MilestoneInfo
    verdict: MilestoneVerdict
    leaking: int = 0  # deals meeting it that read a date after their close (closed deals alone)


@dataclass(frozen=True)
class Calibration:
    """The figures, verdicts and caveats of one calibration."""

    method: str  # SNAPSHOTS, CLOSED_DEALS or REVIEW
    source: str  # what was read, in words
    pack_id: str | None
    lead_days: int | None  # snapshots only
    thresholds: Thresholds
    deals_won: int
    deals_lost: int
    milestones: tuple[MilestoneCalibration, ...]
    stages: tuple[StageConversion, ...] = ()
    stage_names: dict[str, str] = field(default_factory=dict)  # stage id -> its name
    # why closed deals (or rows) were not calibrated, and how many: nothing read is lost
    not_calibrated: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # how the input was read
    data_findings: tuple[DataFinding, ...] = ()  # values read as unknown, rows left out

    @property
    def deals_calibrated(self) -> int:
        return self.deals_won + self.deals_lost


def milestones_of(pack: RulePack) -> list[MilestoneInfo]:
    """Every milestone and check of a pack, in the pack's order."""
    return [
        MilestoneInfo(m.id, m.milestone, m.stage_id, m.severity.value) for m in pack.milestones()
    ]


def from_snapshots(
    pack: RulePack,
    snapshots: Sequence[Snapshot],
    outcomes: Outcomes,
    lead_days: int,
    thresholds: Thresholds,
) -> Calibration:
    """Each closed deal's milestones as its last snapshot `lead_days` before the close saw them."""
    found: list[Observation] = []
    calibrated: list[Journey] = []
    not_calibrated = Counter(outcomes.not_outcomes)
    for journey in journeys(snapshots, outcomes.closed):
        seen = last_before(journey, lead_days)
        if seen is None:
            reason = (
                "closed, never seen open in a snapshot"
                if not journey.seen
                else f"closed, seen open only in the {lead_days} days before its close"
            )
            not_calibrated[reason] += 1
            continue
        calibrated.append(journey)
        found.extend(observations(journey, seen[1]))
    won = sum(journey.won for journey in calibrated)
    files = len(snapshots)
    return Calibration(
        SNAPSHOTS,
        f"{files} snapshot{'s' * (files != 1)} "
        f"({snapshots[0].as_of} to {snapshots[-1].as_of}) and the outcomes in {outcomes.file}",
        pack.id,
        lead_days,
        thresholds,
        won,
        len(calibrated) - won,
        _calibrated(milestones_of(pack), found, thresholds),
        tuple(stage_conversion(_stage_journeys(pack, calibrated), _open_ids(pack))),
        _stage_names(pack),
        dict(not_calibrated),
    )


def from_closed_deals(
    pack: RulePack, closed: ClosedDeals, source: str, thresholds: Thresholds
) -> Calibration:
    """The export's closed deals as they stand today, leaking milestones flagged."""
    infos = milestones_of(pack)
    verdicts = judge(count(closed.observations, [info.id for info in infos]), thresholds)
    return Calibration(
        CLOSED_DEALS,
        source,
        pack.id,
        None,
        thresholds,
        closed.won,
        closed.lost,
        tuple(
            MilestoneCalibration(info, verdict, closed.leaking[info.id])
            for info, verdict in zip(infos, verdicts, strict=True)
        ),
        tuple(stage_conversion(closed.journeys, _open_ids(pack))) if closed.journeys else (),
        _stage_names(pack),
        dict(closed.not_outcomes),
        (LEAKAGE_WARNING, *_fairness(closed)),
    )


def _fairness(closed: ClosedDeals) -> tuple[str, ...]:
    """The unfair-comparison warning, for the lost deals whose stage history cannot say how
    far they went; none when every one has it."""
    if not closed.lost_without_history:
        return ()
    if closed.lost_without_history == closed.lost:
        return (UNFAIR_WARNING.format(who="lost deals are"),)
    who = (
        f"{closed.lost_without_history} of {closed.lost} lost deals have no stage history, and are"
    )
    return (UNFAIR_WARNING.format(who=who),)


def from_review(review: ReviewData, thresholds: Thresholds) -> Calibration:
    """A win/loss review table's answers, each attribute a milestone."""
    infos = [MilestoneInfo(m.id, m.name, None, None) for m in review.milestones]
    excluded = {f"outcome {value!r}": rows for value, rows in review.excluded}
    return Calibration(
        REVIEW,
        review.table,
        None,
        None,
        thresholds,
        review.won,
        review.deals - review.won,
        _calibrated(infos, list(review.observations), thresholds),
        (),
        {},
        excluded,
        (REVIEW_WARNING,),
        tuple(review.notes),
        review.problems,
    )


def _calibrated(
    infos: list[MilestoneInfo], found: list[Observation], thresholds: Thresholds
) -> tuple[MilestoneCalibration, ...]:
    verdicts = judge(count(found, [info.id for info in infos]), thresholds)
    return tuple(
        MilestoneCalibration(info, verdict) for info, verdict in zip(infos, verdicts, strict=True)
    )


def _stage_names(pack: RulePack) -> dict[str, str]:
    return {stage.id: stage.name for stage in pack.stages}


def _open_ids(pack: RulePack) -> list[str]:
    return [stage.id for stage in pack.open_stages]


def _stage_journeys(pack: RulePack, calibrated: Sequence[Journey]) -> list[DealJourney]:
    """Each calibrated deal's visits to open stages, as the snapshots saw them."""
    return [
        DealJourney(journey.deal_id, _visits(pack, journey), journey.won) for journey in calibrated
    ]


def _visits(pack: RulePack, journey: Journey) -> tuple[StageVisit, ...]:
    """Runs of snapshots at one stage. Days are counted from the snapshot that first saw the
    stage to the one that first saw the next (or the close): unknown for the stage the deal
    was in at its first snapshot, as it entered it before. Exits are as they stood at the
    last snapshot in the stage: met when every required exit was met, unknown when one
    could not be measured."""
    runs: list[tuple[str, date, SnapshotDeal]] = []  # stage id, first seen, last seen deal
    for day, deal in journey.seen:
        if runs and runs[-1][0] == deal.stage_id:
            runs[-1] = (deal.stage_id, runs[-1][1], deal)
        else:
            runs.append((deal.stage_id, day, deal))
    visits = []
    for number, (stage_id, entered, deal) in enumerate(runs):
        left = runs[number + 1][1] if number + 1 < len(runs) else journey.close_date
        days = None if number == 0 else float((left - entered).days)
        visits.append(StageVisit(stage_id, days, exits_met(pack.stage(stage_id), deal.statuses)))
    return tuple(visits)
