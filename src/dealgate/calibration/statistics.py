"""Does meeting a milestone go with winning? Win rates, their intervals and a plain verdict.

Each closed deal stands on each milestone as met, missing or unknown (not measured, or an
"Unknown" answer: never counted as missing). For a milestone, the win rate of the deals that met
it is compared with the win rate of those that missed it:

- each win rate has a Wilson score interval (good at small counts and at 0 or 100%);
- the difference (met minus missing) has Newcombe's hybrid score interval (method 10 of
  Newcombe 1998), built from the two Wilson intervals; statsmodels calls it "newcomb".

The verdict, first that applies (each threshold is a field of `Thresholds`):

1. not verifiable: fewer than `recorded_at_least` of the deals have it recorded (met or missing);
2. no information: `nearly_all` of the recorded deals meet it, or miss it, so there is little to
   compare;
3. too few deals to say: fewer than `min_deals` deals met it, or missed it;
4. by the interval of the difference: above 0 is predictive, below 0 inverse (deals meeting it
   win less), inside ±`margin` not predictive (the difference is small, and shown), else no
   evidence either way. An interval above 0 but inside ±margin is still predictive: the
   difference is real, if small, and the reason gives its size.

With dozens of milestones, some look predictive by chance. With the Bonferroni correction
(the default), m is the number of milestones that reach step 4, and every interval is computed at
1 - (1 - confidence) / m: the chance that any of them misses its true value stays at most
1 - confidence. Every interval of one `judge` call is computed at that one level (also for the
milestones stopped at steps 1-3, so one table has one level), and `MilestoneVerdict.confidence`
says which. Holm's step-down method is not offered: it corrects tests, not intervals.

Only the standard library is used at run time; the tests check the figures against statsmodels.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from statistics import NormalDist

from dealgate.errors import UsageError


class Measure(StrEnum):
    """How one deal stood on one milestone."""

    MET = "met"
    MISSING = "missing"
    UNKNOWN = "unknown"  # not measured, or an "Unknown" answer


@dataclass(frozen=True)
class Observation:
    """One deal on one milestone, with the deal's final outcome."""

    deal_id: str
    milestone_id: str
    measure: Measure
    won: bool


@dataclass(frozen=True)
class MilestoneCounts:
    """How many deals met, missed or had no answer for one milestone, by outcome."""

    milestone_id: str
    met_won: int = 0
    met_lost: int = 0
    missing_won: int = 0
    missing_lost: int = 0
    unknown_won: int = 0
    unknown_lost: int = 0

    @property
    def met(self) -> int:
        return self.met_won + self.met_lost

    @property
    def missing(self) -> int:
        return self.missing_won + self.missing_lost

    @property
    def unknown(self) -> int:
        return self.unknown_won + self.unknown_lost

    @property
    def measured(self) -> int:
        """Deals whose answer was recorded: met or missing."""
        return self.met + self.missing

    @property
    def deals(self) -> int:
        return self.measured + self.unknown

    @property
    def won(self) -> int:
        return self.met_won + self.missing_won + self.unknown_won


def count(
    observations: Iterable[Observation], milestone_ids: Sequence[str]
) -> list[MilestoneCounts]:
    """Counts per milestone, in `milestone_ids` order; a milestone no deal was observed on has
    all zeros. A deal observed twice on one milestone is a caller's error (ValueError)."""
    cells: dict[str, dict[str, int]] = {milestone: {} for milestone in milestone_ids}
    seen: set[tuple[str, str]] = set()
    for observation in observations:
        tally = cells.get(observation.milestone_id)
        if tally is None:
            raise ValueError(f"observation of unknown milestone {observation.milestone_id!r}")
        key = (observation.deal_id, observation.milestone_id)
        if key in seen:
            raise ValueError(f"deal {key[0]!r} observed twice on milestone {key[1]!r}")
        seen.add(key)
        name = f"{observation.measure.value}_{'won' if observation.won else 'lost'}"
        tally[name] = tally.get(name, 0) + 1
    return [MilestoneCounts(milestone, **cells[milestone]) for milestone in milestone_ids]


class Correction(StrEnum):
    """How intervals are widened for the number of milestones compared at once."""

    BONFERRONI = "bonferroni"
    NONE = "none"


class Verdict(StrEnum):
    PREDICTIVE = "predictive"  # deals meeting it win more: interval above 0
    INVERSE = "inverse"  # deals meeting it win less: interval below 0
    NOT_PREDICTIVE = "not predictive"  # interval inside ±margin: the difference is small
    NO_EVIDENCE = "no evidence either way"  # interval spans 0 and reaches past ±margin
    TOO_FEW = "too few deals to say"  # met or missing group below min_deals
    NO_INFORMATION = "no information"  # nearly every recorded deal meets it (or nearly none)
    NOT_VERIFIABLE = "not verifiable"  # recorded for too few of the deals


@dataclass(frozen=True)
class Thresholds:
    """The thresholds of the verdicts; the module docstring says how each is used."""

    confidence: float = 0.95
    min_deals: int = 10
    nearly_all: float = 0.95
    recorded_at_least: float = 0.5
    margin: float = 0.10
    correction: Correction = Correction.BONFERRONI

    def __post_init__(self) -> None:
        if not 0 < self.confidence < 1:
            raise UsageError(f"confidence must be between 0 and 1, not {self.confidence}")
        if self.min_deals < 1:
            raise UsageError(f"the fewest deals per group must be at least 1, not {self.min_deals}")
        if not 0.5 < self.nearly_all <= 1:
            raise UsageError(f"'nearly all' must be above 0.5 and at most 1, not {self.nearly_all}")
        if not 0 <= self.recorded_at_least <= 1:
            raise UsageError(
                f"the recorded share must be between 0 and 1, not {self.recorded_at_least}"
            )
        if not 0 <= self.margin < 1:
            raise UsageError(f"the margin must be between 0 and 1, not {self.margin}")


@dataclass(frozen=True)
class Rate:
    """A win rate with its Wilson interval; no interval (None) when there are no deals."""

    won: int
    deals: int
    low: float | None
    high: float | None

    @property
    def rate(self) -> float | None:
        return self.won / self.deals if self.deals else None


@dataclass(frozen=True)
class MilestoneVerdict:
    """What the closed deals say about one milestone, with the figures behind it."""

    counts: MilestoneCounts
    met: Rate
    missing: Rate
    difference: float | None  # met rate minus missing rate
    difference_low: float | None
    difference_high: float | None
    confidence: float  # the level each interval was computed at, after correction
    verdict: Verdict
    reason: str  # plain words for a sales leader, with the numbers
    unknown: Rate  # deals with no answer: shown, never counted as missing


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def wilson(won: int, deals: int, confidence: float) -> tuple[float, float]:
    """The Wilson score interval of a win rate, won of deals (deals > 0)."""
    if deals <= 0 or not 0 <= won <= deals:
        raise ValueError(f"a rate needs 0 <= won <= deals and deals > 0, not {won} of {deals}")
    z = _z(confidence)
    rate = won / deals
    spread = z * z / deals
    centre = (rate + spread / 2) / (1 + spread)
    half = z / (1 + spread) * math.sqrt(rate * (1 - rate) / deals + spread / (4 * deals))
    # At 0 of n and n of n the bound is exactly 0 (1); rounding would leave it a hair off.
    low = 0.0 if won == 0 else max(0.0, centre - half)
    high = 1.0 if won == deals else min(1.0, centre + half)
    return low, high


def newcombe(
    won_a: int, deals_a: int, won_b: int, deals_b: int, confidence: float
) -> tuple[float, float]:
    """The interval of rate_a - rate_b by Newcombe's hybrid score method (method 10), from the
    two Wilson intervals."""
    low_a, high_a = wilson(won_a, deals_a, confidence)
    low_b, high_b = wilson(won_b, deals_b, confidence)
    rate_a, rate_b = won_a / deals_a, won_b / deals_b
    difference = rate_a - rate_b
    low = difference - math.hypot(rate_a - low_a, high_b - rate_b)
    high = difference + math.hypot(high_a - rate_a, rate_b - low_b)
    return max(-1.0, low), min(1.0, high)


def judge(
    counts: Sequence[MilestoneCounts], thresholds: Thresholds = Thresholds()
) -> list[MilestoneVerdict]:
    """A verdict per milestone, in order; intervals corrected for the milestones compared."""
    early = [_early_verdict(milestone, thresholds) for milestone in counts]
    compared = sum(1 for verdict in early if verdict is None)
    level = thresholds.confidence
    if thresholds.correction is Correction.BONFERRONI and compared > 1:
        level = 1 - (1 - thresholds.confidence) / compared
    return [
        _verdict(milestone, verdict, level, thresholds)
        for milestone, verdict in zip(counts, early, strict=True)
    ]


def _early_verdict(counts: MilestoneCounts, thresholds: Thresholds) -> Verdict | None:
    """The verdict decided before any interval, or None when the interval decides."""
    if counts.deals == 0 or counts.measured < thresholds.recorded_at_least * counts.deals:
        return Verdict.NOT_VERIFIABLE
    if counts.measured == 0 or max(counts.met, counts.missing) >= (
        thresholds.nearly_all * counts.measured
    ):
        return Verdict.NO_INFORMATION
    if min(counts.met, counts.missing) < thresholds.min_deals:
        return Verdict.TOO_FEW
    return None


def _verdict(
    counts: MilestoneCounts, early: Verdict | None, level: float, thresholds: Thresholds
) -> MilestoneVerdict:
    met = _rate(counts.met_won, counts.met, level)
    missing = _rate(counts.missing_won, counts.missing, level)
    difference = low = high = None
    if met.deals and missing.deals:
        difference = counts.met_won / counts.met - counts.missing_won / counts.missing
        low, high = newcombe(counts.met_won, counts.met, counts.missing_won, counts.missing, level)
    verdict = early or _by_interval(low, high, thresholds.margin)
    figures = _Figures(counts, met, missing, difference, low, high, level, thresholds)
    unknown = _rate(counts.unknown_won, counts.unknown, level)
    return MilestoneVerdict(
        counts,
        met,
        missing,
        difference,
        low,
        high,
        level,
        verdict,
        figures.reason(verdict),
        unknown,
    )


def _rate(won: int, deals: int, level: float) -> Rate:
    if deals == 0:
        return Rate(won, deals, None, None)
    return Rate(won, deals, *wilson(won, deals, level))


def _by_interval(low: float | None, high: float | None, margin: float) -> Verdict:
    if low is None or high is None:  # not reached: both groups hold min_deals >= 1 deals
        raise AssertionError("an interval verdict needs deals met and missing")
    if low > 0:
        return Verdict.PREDICTIVE
    if high < 0:
        return Verdict.INVERSE
    if -margin <= low and high <= margin:
        return Verdict.NOT_PREDICTIVE
    return Verdict.NO_EVIDENCE


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _points(share: float) -> str:
    return f"{share * 100:.0f}"


def _difference(share: float) -> str:
    """e.g. '31 points', '1 point', '-4 points'."""
    points = _points(share)
    return f"{points} point" if points in ("1", "-1") else f"{points} points"


def _level(confidence: float) -> str:
    """95% as '95%', a corrected 99.875% as '99.88%'."""
    return f"{confidence * 100:.4g}%"


@dataclass(frozen=True)
class _Figures:
    """The numbers behind a verdict, put into words."""

    counts: MilestoneCounts
    met: Rate
    missing: Rate
    difference: float | None
    low: float | None
    high: float | None
    level: float
    thresholds: Thresholds = field(default_factory=Thresholds)

    def reason(self, verdict: Verdict) -> str:
        counts, limits = self.counts, self.thresholds
        if verdict is Verdict.NOT_VERIFIABLE:
            if counts.deals == 0:
                return "no closed deal was observed on it"
            return (
                f"recorded for only {counts.measured} of {counts.deals} deals "
                f"({_percent(counts.measured / counts.deals)}); at least "
                f"{_percent(limits.recorded_at_least)} must be recorded to judge it"
            )
        if verdict is Verdict.NO_INFORMATION:
            share = max(counts.met, counts.missing) / counts.measured
            who = "met" if counts.met >= counts.missing else "missed"
            return (
                f"{who} by {max(counts.met, counts.missing)} of {counts.measured} deals "
                f"recorded ({_percent(share)}): nearly all, so it cannot tell wins from losses"
            )
        rates = self._rates()
        if verdict is Verdict.TOO_FEW:
            group = "met" if counts.met < counts.missing else "missed"
            fewest = min(counts.met, counts.missing)
            return (
                f"only {fewest} {'deal' if fewest == 1 else 'deals'} {group} it; "
                f"{limits.min_deals} are needed in each group ({rates}){self._unknown()}"
            )
        meaning = {
            Verdict.PREDICTIVE: "deals meeting it win more often",
            Verdict.INVERSE: "deals meeting it win less often",
            Verdict.NOT_PREDICTIVE: (
                f"any difference is within {_points(limits.margin)} points either way"
            ),
            Verdict.NO_EVIDENCE: "the interval is too wide to say either way",
        }[verdict]
        return f"{rates}; {meaning}{self._unknown()}"

    def _unknown(self) -> str:
        """The deals with no answer, whose win rate can say something of its own."""
        unknown = self.counts.unknown
        if not unknown:
            return ""
        won = _percent(self.counts.unknown_won / unknown)
        return f"; {won} of the {unknown} with no answer won"

    def _rates(self) -> str:
        """e.g. 'won 62% when met vs 31% when missing (difference 31 points, 95% interval
        12 to 48)'."""
        parts = []
        for label, rate in (("met", self.met), ("missing", self.missing)):
            share = rate.rate
            parts.append(f"no deal {label}" if share is None else f"{_percent(share)} when {label}")
        text = "won " + " vs ".join(parts)
        if self.difference is None or self.low is None or self.high is None:
            return text
        return (
            f"{text} (difference {_difference(self.difference)}, {_level(self.level)} "
            f"interval {_points(self.low)} to {_points(self.high)})"
        )


@dataclass(frozen=True)
class StageVisit:
    """One stage a closed deal reached: days spent in it, and whether its exits were met."""

    stage_id: str
    days: float | None  # None when the history does not say
    exits_met: bool | None  # every exit milestone of the stage met; None when not known


@dataclass(frozen=True)
class DealJourney:
    """The stages one closed deal reached, in the order it reached them, and its outcome."""

    deal_id: str
    visits: tuple[StageVisit, ...]
    won: bool


@dataclass(frozen=True)
class StageConversion:
    """For one stage, the deals that reached it with its exits met (or not): how many went
    on to a later stage, how many were won, and the median days they spent in the stage."""

    stage_id: str
    exits_met: bool
    deals: int
    reached_next: int  # reached any later stage of the process, or were won
    won: int
    median_days_in_stage: float | None

    @property
    def next_rate(self) -> float | None:
        return self.reached_next / self.deals if self.deals else None

    @property
    def win_rate(self) -> float | None:
        return self.won / self.deals if self.deals else None


def stage_conversion(
    journeys: Iterable[DealJourney], stage_ids: Sequence[str]
) -> list[StageConversion]:
    """Per open stage in process order, then exits met before not met: one StageConversion.

    A deal counts as reaching the next stage when it reached any later stage (stages can be
    skipped) or was won. A visit whose exits are not known is left out of both rows; a stage
    not in `stage_ids` (e.g. a terminal one) is ignored.
    """
    order = {stage: position for position, stage in enumerate(stage_ids)}
    groups: dict[tuple[str, bool], list[tuple[bool, bool, float | None]]] = {
        (stage, met): [] for stage in stage_ids for met in (True, False)
    }
    for journey in journeys:
        visits = _once_per_stage(journey.visits, order)
        furthest = max((order[visit.stage_id] for visit in visits), default=-1)
        for visit in visits:
            if visit.exits_met is None:
                continue
            went_on = journey.won or furthest > order[visit.stage_id]
            groups[(visit.stage_id, visit.exits_met)].append((went_on, journey.won, visit.days))
    return [_conversion(stage, met, deals) for (stage, met), deals in groups.items()]


def _once_per_stage(visits: Sequence[StageVisit], order: dict[str, int]) -> list[StageVisit]:
    """A deal that went back to a stage counts there once: the days of its visits added up,
    and its exits as they stood when it last left."""
    merged: dict[str, StageVisit] = {}
    for visit in visits:
        if visit.stage_id not in order:
            continue
        before = merged.get(visit.stage_id)
        if before is not None:
            days = None if before.days is None or visit.days is None else before.days + visit.days
            visit = StageVisit(visit.stage_id, days, visit.exits_met)
        merged[visit.stage_id] = visit
    return list(merged.values())


def _conversion(
    stage_id: str, exits_met: bool, deals: list[tuple[bool, bool, float | None]]
) -> StageConversion:
    days = [spent for _, _, spent in deals if spent is not None]
    return StageConversion(
        stage_id,
        exits_met,
        len(deals),
        sum(1 for went_on, _, _ in deals if went_on),
        sum(1 for _, won, _ in deals if won),
        statistics.median(days) if days else None,
    )
