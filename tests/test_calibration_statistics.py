"""Which milestones go with winning: figures, intervals and verdicts on deal sets whose rates are
known, the intervals checked against statsmodels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.stats.proportion import (  # type: ignore[import-untyped]
    confint_proportions_2indep,
    proportion_confint,
)

from dealgate.calibration.statistics import (
    Correction,
    DealJourney,
    Measure,
    MilestoneCounts,
    Observation,
    StageConversion,
    StageVisit,
    Thresholds,
    Verdict,
    count,
    judge,
    newcombe,
    stage_conversion,
    wilson,
)
from dealgate.errors import UsageError

LEVELS = (0.95, 0.99, 0.8, 1 - 0.05 / 40)


def deals(milestone: str, measure: Measure, won: int, lost: int) -> list[Observation]:
    """`won` won and `lost` lost deals standing on `milestone` as `measure`."""
    outcomes = [True] * won + [False] * lost
    return [
        Observation(f"{milestone}-{measure}-{n}", milestone, measure, outcome)
        for n, outcome in enumerate(outcomes)
    ]


def counts(
    met: tuple[int, int], missing: tuple[int, int], unknown: tuple[int, int] = (0, 0)
) -> MilestoneCounts:
    """A milestone met by (won, lost), missing on (won, lost), unknown on (won, lost) deals."""
    return MilestoneCounts("economic-buyer", *met, *missing, *unknown)


# --- the intervals, against statsmodels --------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    ("won", "total"),
    [(0, 1), (1, 1), (0, 10), (10, 10), (1, 2), (3, 7), (20, 30), (0, 100), (99, 100)],
)
def test_win_rate_interval_is_statsmodels_wilson(won: int, total: int, level: float) -> None:
    expected = proportion_confint(won, total, alpha=1 - level, method="wilson")
    assert wilson(won, total, level) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    "groups",
    [
        (20, 30, 10, 30),
        (0, 5, 5, 5),  # none of the met won, all the missing won
        (3, 3, 0, 4),
        (1, 1, 0, 1),
        (0, 10, 0, 10),
        (10, 10, 10, 10),
        (2, 3, 1, 4),
        (61, 200, 80, 190),
    ],
)
def test_difference_interval_is_statsmodels_newcombe(
    groups: tuple[int, int, int, int], level: float
) -> None:
    won_a, deals_a, won_b, deals_b = groups
    expected = confint_proportions_2indep(
        won_a, deals_a, won_b, deals_b, compare="diff", method="newcomb", alpha=1 - level
    )
    assert newcombe(won_a, deals_a, won_b, deals_b, level) == pytest.approx(expected, abs=1e-12)


def rate_counts() -> st.SearchStrategy[tuple[int, int]]:
    return st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


confidences = st.floats(0.5, 0.9999)


@given(rate_counts(), confidences)
def test_win_rate_interval_holds_the_rate_within_0_and_1(
    rate: tuple[int, int], level: float
) -> None:
    won, total = rate
    low, high = wilson(won, total, level)
    assert 0 <= low <= won / total <= high <= 1
    expected = proportion_confint(won, total, alpha=1 - level, method="wilson")
    assert (low, high) == pytest.approx(expected, abs=1e-9)


@given(rate_counts(), rate_counts(), confidences)
def test_difference_interval_holds_the_difference_within_minus_1_and_1(
    a: tuple[int, int], b: tuple[int, int], level: float
) -> None:
    low, high = newcombe(*a, *b, level)
    difference = a[0] / a[1] - b[0] / b[1]
    assert -1 <= low <= difference + 1e-12 and difference - 1e-12 <= high <= 1
    expected = confint_proportions_2indep(*a, *b, compare="diff", method="newcomb", alpha=1 - level)
    assert (low, high) == pytest.approx(expected, abs=1e-9)


@given(st.integers(1, 200).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_a_higher_confidence_never_narrows_the_interval(rate: tuple[int, int]) -> None:
    low95, high95 = wilson(*rate, 0.95)
    low99, high99 = wilson(*rate, 0.99)
    assert low99 <= low95 + 1e-12 and high95 <= high99 + 1e-12


def test_a_rate_of_no_deals_has_no_interval() -> None:
    with pytest.raises(ValueError, match="deals > 0"):
        wilson(0, 0, 0.95)
    with pytest.raises(ValueError, match="deals > 0"):
        newcombe(1, 2, 0, 0, 0.95)


# --- counting ---------------------------------------------------------------------------------


def test_counts_keep_unknown_answers_apart_from_missing_ones() -> None:
    observations = [
        *deals("budget", Measure.MET, won=6, lost=2),
        *deals("budget", Measure.MISSING, won=1, lost=3),
        *deals("budget", Measure.UNKNOWN, won=2, lost=5),
        *deals("champion", Measure.MET, won=1, lost=0),
    ]
    budget, never_observed, champion = count(observations, ["budget", "decision", "champion"])
    assert budget == MilestoneCounts("budget", 6, 2, 1, 3, 2, 5)
    assert (budget.met, budget.missing, budget.unknown) == (8, 4, 7)
    assert (budget.measured, budget.deals, budget.won) == (12, 19, 9)
    assert never_observed == MilestoneCounts("decision")
    assert never_observed.deals == 0
    assert champion.met_won == 1


def test_a_deal_counted_twice_on_one_milestone_is_refused() -> None:
    twice = [Observation("acme", "budget", Measure.MET, True)] * 2
    with pytest.raises(ValueError, match="acme"):
        count(twice, ["budget"])
    with pytest.raises(ValueError, match="unknown milestone"):
        count([Observation("acme", "pain", Measure.MET, True)], ["budget"])


# --- one deal set per verdict -----------------------------------------------------------------


def test_milestone_met_by_winners_is_predictive_with_its_figures() -> None:
    # 20 of 30 won when met (67%), 10 of 30 when missing (33%)
    (verdict,) = judge([counts(met=(20, 10), missing=(10, 20))])
    assert verdict.verdict is Verdict.PREDICTIVE
    assert verdict.confidence == 0.95
    assert verdict.met.rate == pytest.approx(2 / 3)
    assert verdict.missing.rate == pytest.approx(1 / 3)
    assert (verdict.met.low, verdict.met.high) == pytest.approx(wilson(20, 30, 0.95))
    assert verdict.met.low == pytest.approx(0.48780, abs=1e-5)
    assert verdict.difference == pytest.approx(1 / 3)
    assert verdict.difference_low == pytest.approx(0.080378, abs=1e-6)
    assert verdict.difference_high == pytest.approx(0.532778, abs=1e-6)
    assert verdict.reason == (
        "won 67% when met vs 33% when missing (difference 33 points, 95% interval 8 to 53); "
        "deals meeting it win more often"
    )


def test_milestone_met_by_losers_is_inverse() -> None:
    (verdict,) = judge([counts(met=(10, 20), missing=(20, 10))])
    assert verdict.verdict is Verdict.INVERSE
    assert verdict.difference == pytest.approx(-1 / 3)
    assert verdict.difference_high is not None and verdict.difference_high < 0
    assert "win less often" in verdict.reason


def test_milestone_with_equal_win_rates_on_many_deals_is_not_predictive() -> None:
    # 50% either way on 400 deals each: the interval is about ±7 points, inside ±10
    (verdict,) = judge([counts(met=(200, 200), missing=(200, 200))])
    assert verdict.verdict is Verdict.NOT_PREDICTIVE
    assert verdict.difference == 0
    assert verdict.difference_low == pytest.approx(-0.0688, abs=1e-3)
    assert verdict.reason.startswith("won 50% when met vs 50% when missing (difference 0 points")
    assert "within 10 points either way" in verdict.reason


def test_milestone_with_equal_win_rates_on_few_deals_is_no_evidence_either_way() -> None:
    (verdict,) = judge([counts(met=(10, 10), missing=(10, 10))])
    assert verdict.verdict is Verdict.NO_EVIDENCE
    assert verdict.difference_low is not None and verdict.difference_low < -0.10
    assert "too wide to say" in verdict.reason


def test_milestone_missed_by_nine_deals_is_too_few_to_say() -> None:
    (verdict,) = judge([counts(met=(30, 20), missing=(0, 9))])
    assert verdict.verdict is Verdict.TOO_FEW
    assert verdict.reason.startswith("only 9 deals missed it; 10 are needed in each group")
    assert verdict.missing.rate == 0
    assert verdict.difference == pytest.approx(0.6)


def test_milestone_met_by_nearly_every_deal_gives_no_information() -> None:
    # 96 of 100 recorded deals meet it: at most 4 to compare with
    (verdict,) = judge([counts(met=(50, 46), missing=(2, 2))])
    assert verdict.verdict is Verdict.NO_INFORMATION
    assert verdict.reason.startswith("met by 96 of 100 deals recorded (96%)")
    (never_met,) = judge([counts(met=(0, 0), missing=(40, 60))])
    assert never_met.verdict is Verdict.NO_INFORMATION
    assert never_met.met.low is None and never_met.difference is None
    assert never_met.reason.startswith("missed by 100 of 100")


def test_milestone_mostly_answered_unknown_is_not_verifiable() -> None:
    # recorded on 40 of 100 deals; the 60 "Unknown" answers are not counted as missing
    (verdict,) = judge([counts(met=(15, 5), missing=(5, 15), unknown=(30, 30))])
    assert verdict.verdict is Verdict.NOT_VERIFIABLE
    assert verdict.reason == (
        "recorded for only 40 of 100 deals (40%); at least 50% must be recorded to judge it"
    )
    assert verdict.missing.deals == 20
    (nobody,) = judge([MilestoneCounts("economic-buyer")])
    assert nobody.verdict is Verdict.NOT_VERIFIABLE
    assert nobody.reason == "no closed deal was observed on it"


def test_unknown_answers_do_not_change_the_missing_win_rate() -> None:
    plain, with_unknowns = judge(
        [
            counts(met=(20, 10), missing=(10, 20)),
            counts(met=(20, 10), missing=(10, 20), unknown=(0, 25)),
        ]
    )
    assert plain.missing == with_unknowns.missing
    assert plain.verdict is with_unknowns.verdict is Verdict.PREDICTIVE
    assert (with_unknowns.unknown.won, with_unknowns.unknown.deals) == (0, 25)
    assert with_unknowns.reason.endswith("; 0% of the 25 with no answer won")
    assert plain.unknown.rate is None and "no answer" not in plain.reason


def test_a_difference_of_one_point_reads_as_one_point() -> None:
    # 51% vs 50% on 200 deals each
    (verdict,) = judge([counts(met=(102, 98), missing=(100, 100))])
    assert "(difference 1 point, 95% interval" in verdict.reason


def test_not_verifiable_comes_before_no_information_and_too_few() -> None:
    (verdict,) = judge([counts(met=(3, 1), missing=(0, 0), unknown=(10, 10))])
    assert verdict.verdict is Verdict.NOT_VERIFIABLE
    (verdict,) = judge([counts(met=(3, 2), missing=(0, 0))])
    assert verdict.verdict is Verdict.NO_INFORMATION  # and too few, but it says less


def test_thresholds_set_by_options_change_the_verdict() -> None:
    few = counts(met=(8, 1), missing=(1, 8))
    assert judge([few])[0].verdict is Verdict.TOO_FEW
    assert judge([few], Thresholds(min_deals=5))[0].verdict is Verdict.PREDICTIVE
    wide = counts(met=(10, 10), missing=(10, 10))
    assert judge([wide], Thresholds(margin=0.5))[0].verdict is Verdict.NOT_PREDICTIVE
    with pytest.raises(UsageError, match="confidence"):
        Thresholds(confidence=95)


# --- multiple comparisons ---------------------------------------------------------------------


def test_milestone_predictive_alone_is_no_evidence_among_40() -> None:
    predictive = counts(met=(20, 10), missing=(10, 20))
    others = [MilestoneCounts(f"m{n}", 15, 15, 15, 15) for n in range(39)]
    (alone,) = judge([predictive])
    among_40 = judge([predictive, *others])
    assert alone.verdict is Verdict.PREDICTIVE
    assert among_40[0].verdict is Verdict.NO_EVIDENCE
    assert among_40[0].confidence == pytest.approx(1 - 0.05 / 40)
    assert all(verdict.confidence == among_40[0].confidence for verdict in among_40)
    assert among_40[0].difference_low is not None and alone.difference_low is not None
    assert among_40[0].difference_low < alone.difference_low
    assert "99.88% interval" in among_40[0].reason
    uncorrected = judge([predictive, *others], Thresholds(correction=Correction.NONE))
    assert uncorrected[0].verdict is Verdict.PREDICTIVE


def test_milestones_stopped_before_the_interval_do_not_widen_it() -> None:
    predictive = counts(met=(20, 10), missing=(10, 20))
    unrecorded = [MilestoneCounts(f"m{n}", unknown_won=5, unknown_lost=5) for n in range(39)]
    verdicts = judge([predictive, *unrecorded])
    assert verdicts[0].verdict is Verdict.PREDICTIVE
    assert verdicts[0].confidence == 0.95
    assert {verdict.verdict for verdict in verdicts[1:]} == {Verdict.NOT_VERIFIABLE}


def test_bonferroni_level_is_one_minus_alpha_over_m() -> None:
    many = [MilestoneCounts(f"m{n}", 15, 15, 15, 15) for n in range(7)]
    levels = [verdict.confidence for verdict in judge(many, Thresholds(confidence=0.9))]
    assert levels == pytest.approx([1 - 0.1 / 7] * 7)
    spans = []
    for m in (1, 5, 20):
        first = judge([MilestoneCounts(f"m{n}", 15, 15, 15, 15) for n in range(m)])[0]
        assert first.difference_low is not None and first.difference_high is not None
        spans.append(first.difference_high - first.difference_low)
    assert spans[0] < spans[1] < spans[2]


# --- stage conversion -------------------------------------------------------------------------

STAGES = ("qualify", "develop", "propose")


def journey(deal: str, won: bool, *visits: tuple[str, float | None, bool | None]) -> DealJourney:
    return DealJourney(deal, tuple(StageVisit(*visit) for visit in visits), won)


def test_stage_conversion_splits_deals_by_whether_they_met_the_exits() -> None:
    journeys = [
        journey("a", True, ("qualify", 5, True), ("develop", 10, True), ("propose", 3, True)),
        journey("b", False, ("qualify", 7, True), ("develop", 20, False)),
        journey("c", False, ("qualify", 30, False)),
        journey("d", True, ("qualify", 9, False), ("propose", 4, True)),  # skipped develop
        journey("e", False, ("qualify", None, True), ("develop", 2, None)),  # exits not known
    ]
    rows = stage_conversion(journeys, STAGES)
    assert [(row.stage_id, row.exits_met) for row in rows] == [
        (stage, met) for stage in STAGES for met in (True, False)
    ]
    qualify_met, qualify_missed = rows[0], rows[1]
    assert qualify_met == StageConversion("qualify", True, 3, 3, 1, 6.0)
    assert qualify_missed == StageConversion("qualify", False, 2, 1, 1, 19.5)
    assert qualify_met.next_rate == 1.0 and qualify_missed.win_rate == 0.5
    develop_met, develop_missed = rows[2], rows[3]
    assert develop_met == StageConversion("develop", True, 1, 1, 1, 10)
    assert develop_missed == StageConversion("develop", False, 1, 0, 0, 20)
    propose_missed = rows[5]
    assert propose_missed.deals == 0 and propose_missed.median_days_in_stage is None
    assert propose_missed.next_rate is None


def test_a_deal_back_in_a_stage_counts_there_once() -> None:
    back = journey("f", False, ("qualify", 4, False), ("develop", 6, True), ("qualify", 3, True))
    rows = {(row.stage_id, row.exits_met): row for row in stage_conversion([back], STAGES)}
    assert rows[("qualify", True)] == StageConversion("qualify", True, 1, 1, 0, 7)
    assert rows[("qualify", False)].deals == 0
