"""`dealgate rules test`: a team's test cases for its pack, evaluated through the engine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dealgate.deals.readers import RawRecord, flatten
from dealgate.deals.source import read_records
from dealgate.engines.base import Engine
from dealgate.findings import DataFinding, FindingKind, Status
from dealgate.judging.assess import assess, request_for
from dealgate.judging.forecast import (
    ForecastJudgement,
    ProbabilityJudgement,
    judge_forecast,
    judge_probability,
)
from dealgate.rules.cases import CaseFile, RuleTestCase

EVALUATED_KINDS = (FindingKind.SKIPPED, FindingKind.TO_ADVANCE, FindingKind.HYGIENE)


@dataclass(frozen=True)
class CaseResult:
    """One case: the milestones expected missing, those found missing, how the forecast
    category and probability stand (judging/forecast.py), and what was read."""

    case: RuleTestCase
    expected: frozenset[str]
    actual: frozenset[str]
    data_findings: tuple[DataFinding, ...]
    forecast: str | None = None  # the standing found; None when not judged
    probability: str | None = None

    @property
    def passed(self) -> bool:
        return self.expected == self.actual and not self.standing_mismatches

    @property
    def standing_mismatches(self) -> list[tuple[str, str, str | None]]:
        """(claim, expected, found) for each expected standing the deal does not have."""
        return [
            (claim, expected, found)
            for claim, expected, found in (
                ("forecast", self.case.forecast, self.forecast),
                ("probability", self.case.probability, self.probability),
            )
            if expected is not None and expected != found
        ]

    @property
    def unexpected(self) -> list[str]:
        """Found missing, though the case expects them met or not applicable."""
        return sorted(self.actual - self.expected)

    @property
    def not_found(self) -> list[str]:
        """Expected missing, but met or not applicable."""
        return sorted(self.expected - self.actual)


def run_cases(case_file: CaseFile, engine: Engine) -> list[CaseResult]:
    """Evaluate every case of a file; cases are independent deals on their own dates."""
    results = []
    file = str(case_file.path)
    for index, case in enumerate(case_file.cases):
        record = RawRecord(case.location.line, f"cases[{index}].deal", flatten(case.deal))
        reads, mapper = read_records(file, [record], case_file.pack)
        missing: set[str] = set()
        forecast = probability = None
        for evaluated in engine.evaluate(
            case_file.pack, [request_for(read, case_file.pack) for read in reads], case.as_of
        ):
            assessment = assess(case_file.pack, evaluated)
            missing |= {
                f.milestone_id
                for f in assessment.findings
                if f.status is Status.MISSING and f.kind in EVALUATED_KINDS
            }
            forecast = _standing(judge_forecast(case_file.pack, assessment))
            probability = _standing(judge_probability(case_file.pack, assessment))
        results.append(
            CaseResult(
                case,
                frozenset(case.missing),
                frozenset(missing),
                tuple(mapper.findings),
                forecast,
                probability,
            )
        )
    return results


def _standing(judged: ForecastJudgement | ProbabilityJudgement | None) -> str | None:
    return None if judged is None else judged.standing.value


def summary(results: Iterable[CaseResult]) -> tuple[int, int]:
    """(passed, failed)."""
    outcomes = [result.passed for result in results]
    return sum(outcomes), len(outcomes) - sum(outcomes)
