"""A win/loss review table read through a mapping file: answers become met, missing or unknown;
nothing the mapping does not list is read as a "no"."""

from __future__ import annotations

from pathlib import Path

import pytest

from dealgate.calibration.review import read_review
from dealgate.calibration.statistics import Measure, MilestoneCounts, Verdict, count, judge
from dealgate.errors import InputError
from dealgate.findings import DataIssue

REPO = Path(__file__).resolve().parent.parent
# 43 rows in the Salvirt shape: 19 won, 21 lost, 2 "Open" and 1 "Pending"
REVIEW = REPO / "tests" / "fixtures" / "review" / "salvirt-shape.csv"
EXAMPLE_MAPPING = REPO / "examples" / "salvirt-review-mapping.yaml"

BUDGET_ONLY = """\
outcome: {column: Status, won: [Won], lost: [Lost]}
milestones:
  budget-allocated: {column: Budgt_alloc, name: Budget allocated, met: [Yes], missing: [No],
                     unknown: [Unknown]}
"""


def mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "review-mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def budget_counts(tmp_path: Path, text: str = BUDGET_ONLY) -> MilestoneCounts:
    review = read_review(REVIEW, mapping(tmp_path, text))
    (budget,) = count(review.observations, review.milestone_ids)
    return budget


def test_review_answers_are_read_as_met_missing_and_unknown(tmp_path: Path) -> None:
    review = read_review(REVIEW, mapping(tmp_path, BUDGET_ONLY))
    assert (review.deals, review.won) == (40, 19)
    assert [(m.id, m.name, m.column) for m in review.milestones] == [
        ("budget-allocated", "Budget allocated", "Budgt_alloc")
    ]
    (budget,) = count(review.observations, review.milestone_ids)
    # Yes: 14 won, 6 lost; No: 4 won, 11 lost; Unknown: 1 won, 3 lost; "Maybe": 1 lost
    assert budget == MilestoneCounts("budget-allocated", 14, 6, 4, 11, 1, 4)


def test_deals_without_an_id_column_are_named_by_their_row(tmp_path: Path) -> None:
    review = read_review(REVIEW, mapping(tmp_path, BUDGET_ONLY))
    assert review.observations[0].deal_id == "row 2"
    assert "row 12" not in {o.deal_id for o in review.observations}  # an "Open" row


def test_yes_and_no_unquoted_in_the_mapping_are_the_answers_yes_and_no(tmp_path: Path) -> None:
    # YAML would read Yes as true; the table's answers are text, so the mapping is read as written
    quoted = BUDGET_ONLY.replace("[Yes]", "['Yes']").replace("[No]", '["No"]')
    assert budget_counts(tmp_path, quoted) == budget_counts(tmp_path)
    assert budget_counts(tmp_path).met == 20


def test_answers_are_matched_ignoring_case_and_spaces(tmp_path: Path) -> None:
    shouting = BUDGET_ONLY.replace("[Yes]", "['  YES ']").replace("[Unknown]", "[unknown]")
    assert budget_counts(tmp_path, shouting) == budget_counts(tmp_path)


def test_an_answer_listed_nowhere_is_a_data_finding_and_counts_as_unknown(tmp_path: Path) -> None:
    review = read_review(REVIEW, mapping(tmp_path, BUDGET_ONLY))
    (finding,) = review.problems
    assert (finding.file, finding.row, finding.column) == (str(REVIEW), 43, "Budgt_alloc")
    assert finding.deal_id == "row 43"
    assert finding.issue is DataIssue.UNREADABLE
    assert finding.message.startswith("'Maybe' is not listed in the mapping")
    assert "read as unknown" in finding.message
    maybe = next(o for o in review.observations if o.deal_id == "row 43")
    assert maybe.measure is Measure.UNKNOWN and not maybe.won


def test_a_blank_answer_is_unknown_without_a_finding(tmp_path: Path) -> None:
    text = BUDGET_ONLY + "  authority: {column: Authority, met: [High], missing: [Mid, Low]}\n"
    review = read_review(REVIEW, mapping(tmp_path, text))
    blank = next(
        o for o in review.observations if o.deal_id == "row 7" and o.milestone_id == "authority"
    )
    assert blank.measure is Measure.UNKNOWN
    assert all(finding.column != "Authority" for finding in review.problems)


def test_rows_neither_won_nor_lost_are_left_out_and_counted(tmp_path: Path) -> None:
    review = read_review(REVIEW, mapping(tmp_path, BUDGET_ONLY))
    assert review.excluded == (("Open", 2), ("Pending", 1))
    assert review.notes[0] == (
        f"3 row(s) of {REVIEW} left out: their outcome is neither won nor lost "
        "('Open' 2, 'Pending' 1)"
    )
    assert len(review.observations) == 40


def test_a_row_with_no_outcome_is_left_out_as_blank(tmp_path: Path) -> None:
    table = tmp_path / "review.csv"
    table.write_text("Budgt_alloc;Status\nYes;Won\nNo;\nNo;Lost\n", encoding="utf-8")
    review = read_review(table, mapping(tmp_path, BUDGET_ONLY))
    assert review.excluded == (("", 1),)
    assert review.notes[0].endswith("neither won nor lost (blank 1)")
    assert review.deals == 2


def test_a_listed_answer_no_row_holds_is_reported(tmp_path: Path) -> None:
    text = BUDGET_ONLY.replace("[No]", "[No, Not yet]")
    review = read_review(REVIEW, mapping(tmp_path, text))
    (unused,) = review.unused
    assert (unused.column, unused.listed_as, unused.value) == ("Budgt_alloc", "missing", "Not yet")
    assert unused.location.line == 3
    assert str(unused).endswith(
        "'Not yet' (listed as missing) is in no row of column 'Budgt_alloc'"
    )
    assert str(unused) in review.notes


def test_a_column_the_table_lacks_is_refused_with_the_nearest_header(tmp_path: Path) -> None:
    text = BUDGET_ONLY.replace("Budgt_alloc", "Budget_alloc")
    with pytest.raises(InputError) as raised:
        read_review(REVIEW, mapping(tmp_path, text))
    (problem,) = raised.value.problems
    assert problem.message == f"column 'Budget_alloc' is not in {REVIEW}"
    assert problem.hint == "did you mean 'Budgt_alloc'?"
    assert problem.location.line == 3


def test_an_outcome_column_that_is_nothing_like_a_header_lists_the_headers(tmp_path: Path) -> None:
    text = BUDGET_ONLY.replace("column: Status", "column: Closed as")
    with pytest.raises(InputError) as raised:
        read_review(REVIEW, mapping(tmp_path, text))
    assert raised.value.problems[0].hint.startswith("its columns: Product, Seller, Authority")
    assert raised.value.problems[0].location.line == 1


def test_an_answer_listed_as_met_and_as_missing_is_refused(tmp_path: Path) -> None:
    text = BUDGET_ONLY.replace("missing: [No]", "missing: [No, 'yes']")
    with pytest.raises(InputError, match="'yes' is listed as met and as missing"):
        read_review(REVIEW, mapping(tmp_path, text))


def test_a_misspelt_key_in_the_mapping_is_an_error_with_a_hint(tmp_path: Path) -> None:
    text = BUDGET_ONLY.replace("missing:", "mising:")
    with pytest.raises(InputError) as raised:
        read_review(REVIEW, mapping(tmp_path, text))
    (problem,) = raised.value.problems
    assert problem.message == "unknown key 'mising'"
    assert "missing" in problem.hint


def test_an_id_column_names_the_deals_and_a_repeated_id_is_left_out(tmp_path: Path) -> None:
    table = tmp_path / "review.csv"
    table.write_text(
        "Deal;Budget;Outcome\nACME-1;Yes;Won\nACME-2;No;Lost\nACME-1;No;Lost\n;Yes;Won\n",
        encoding="utf-8",
    )
    text = """\
outcome: {column: Outcome, won: [Won], lost: [Lost]}
id: {column: Deal}
milestones:
  budget: {column: Budget, met: [Yes], missing: [No]}
"""
    review = read_review(table, mapping(tmp_path, text))
    assert [o.deal_id for o in review.observations] == ["ACME-1", "ACME-2", "row 5"]
    assert [(f.row, f.issue) for f in review.problems] == [
        (4, DataIssue.DUPLICATE_ID),
        (5, DataIssue.MISSING_ID),
    ]
    assert review.deals == 3


def test_a_json_review_names_deals_by_their_place_in_the_file(tmp_path: Path) -> None:
    table = tmp_path / "review.json"
    table.write_text(
        '[{"Budgt_alloc": "Yes", "Status": "Won"}, {"Budgt_alloc": "Later", "Status": "Lost"}]',
        encoding="utf-8",
    )
    review = read_review(table, mapping(tmp_path, BUDGET_ONLY))
    assert [o.deal_id for o in review.observations] == ["record [0]", "record [1]"]
    (finding,) = review.problems
    assert finding.where == f"{table}, [1]"


def test_numbers_in_the_mapping_are_read_as_written(tmp_path: Path) -> None:
    table = tmp_path / "review.csv"
    table.write_text("Score,Outcome\n01,Won\n1,Lost\n00,Lost\n", encoding="utf-8")
    text = """\
outcome: {column: Outcome, won: [Won], lost: [Lost]}
milestones:
  scored: {column: Score, met: [01], missing: [00]}
"""
    review = read_review(table, mapping(tmp_path, text))
    assert [o.measure for o in review.observations] == [
        Measure.MET,
        Measure.UNKNOWN,  # '1' is not '01'
        Measure.MISSING,
    ]
    assert review.problems[0].message.startswith("'1' is not listed")


def test_the_salvirt_example_mapping_reads_a_table_of_that_shape() -> None:
    review = read_review(REVIEW, EXAMPLE_MAPPING)
    assert review.deals == 40 and len(review.milestones) == 10
    assert len(review.observations) == 400
    assert [f.column for f in review.problems] == ["Budgt_alloc"]  # the one "Maybe"
    # the fixture has no "Poor" needs definition nor a "Low" scope
    assert {(u.column, u.value) for u in review.unused} == {("Needs_def", "Poor"), ("Scope", "Low")}
    by_id = {
        verdict.counts.milestone_id: verdict
        for verdict in judge(count(review.observations, review.milestone_ids))
    }
    # no competitor: 17 of 20 won; a competitor: 0 of 18 won
    no_competitor = by_id["no-competitor"]
    assert no_competitor.counts == MilestoneCounts("no-competitor", 17, 3, 0, 18, 2, 0)
    assert no_competitor.verdict is Verdict.PREDICTIVE
    assert by_id["needs-defined"].verdict is Verdict.TOO_FEW  # 3 deals missed it
