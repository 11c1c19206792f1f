"""The application layer of `dealgate check`: a request for one deal becomes a run; the CLI
only renders it. And the close-date periods an audit's filters name."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dealgate.checking import CheckRequest, check_deal, read_deals
from dealgate.deals.source import Reading
from dealgate.engines import get_engine
from dealgate.errors import UsageError
from dealgate.periods import day_or_quarter
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack

ROOT = Path(__file__).parent.parent
DEAL = ROOT / "examples" / "deals" / "globex-skipped.yaml"
EXPORT = ROOT / "examples" / "salesforce-opportunities.csv"
PACK = load_pack("buyer-journey", PackCatalog(cwd=Path("/nonexistent")))


def _request(file: Path, **asked: object) -> CheckRequest:
    return CheckRequest(
        file=file,
        named=file.name,
        pack=PACK,
        as_of=date(2026, 11, 27),
        engine=get_engine("durable"),
        reading=Reading(),
        **asked,  # type: ignore[arg-type]
    )


def test_a_deal_that_skipped_required_milestones_is_not_ready_to_advance() -> None:
    request = _request(DEAL)
    run = check_deal(request, read_deals(request))
    assert run.assessment.deal_id == "GLOBEX-0087"
    assert not run.readiness.ready
    blocking = {finding.milestone_id for finding in run.readiness.blocking}
    assert {"VAL-EB-MET", "NEG-LEGAL"} <= blocking


def test_to_a_stage_before_the_deal_is_refused_with_the_deal_stage() -> None:
    request = _request(DEAL, to="qualify")
    with pytest.raises(UsageError, match="--to qualify is not after the deal's stage"):
        check_deal(request, read_deals(request))


def test_a_pipeline_without_id_asks_which_deal_to_check() -> None:
    request = _request(EXPORT)
    with pytest.raises(UsageError, match=r"holds \d+ deals; choose one with --id \(ids: "):
        check_deal(request, read_deals(request))


@pytest.mark.parametrize(
    ("text", "end", "day"),
    [
        ("2026-Q4", False, date(2026, 10, 1)),
        ("2026-Q4", True, date(2026, 12, 31)),
        ("2027q1", True, date(2027, 3, 31)),
        ("2026-05-17", True, date(2026, 5, 17)),
    ],
)
def test_a_close_date_bound_is_a_day_or_a_quarter(text: str, end: bool, day: date) -> None:
    assert day_or_quarter(text, end=end) == day


def test_a_close_date_bound_that_is_neither_is_refused() -> None:
    with pytest.raises(ValueError):
        day_or_quarter("2026-Q5", end=False)
