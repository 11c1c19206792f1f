"""The expression language: what parses to what, and where syntax errors point."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dealgate.rules.expr import (
    Arithmetic,
    Boolean,
    ByStage,
    Call,
    Compare,
    DateLiteral,
    ExpressionError,
    FieldPath,
    InList,
    Logical,
    Negate,
    Not,
    Number,
    String,
    Today,
    parse_expression,
    to_text,
)


def test_bare_iso_date_is_a_date_never_a_subtraction() -> None:
    tree = parse_expression("close_date <= 2026-12-31")
    assert tree == Compare("<=", FieldPath(("close_date",)), DateLiteral(date(2026, 12, 31)))


def test_spaced_minus_between_numbers_is_arithmetic() -> None:
    tree = parse_expression("2026 - 12")
    assert tree == Arithmetic("-", Number(Decimal(2026)), Number(Decimal(12)))


def test_and_binds_tighter_than_or_and_not_tighter_than_and() -> None:
    tree = parse_expression("not a or b and c")
    a, b, c = (FieldPath((name,)) for name in "abc")
    assert tree == Logical("or", Not(a), Logical("and", b, c))


def test_arithmetic_precedence_and_left_associativity() -> None:
    tree = parse_expression("a - b - c * d")
    a, b, c, d = (FieldPath((name,)) for name in "abcd")
    assert tree == Arithmetic("-", Arithmetic("-", a, b), Arithmetic("*", c, d))


def test_not_in_list_with_strings() -> None:
    tree = parse_expression("forecast_category not in ['Omitted', \"Pipeline\"]")
    assert tree == InList(
        FieldPath(("forecast_category",)), (String("Omitted"), String("Pipeline")), negated=True
    )


def test_function_with_condition_and_deal_path() -> None:
    tree = parse_expression("any(contacts, role == 'Economic Buyer' and deal.amount > 0)")
    assert isinstance(tree, Call)
    assert tree.function == "any"
    assert tree.args[0] == FieldPath(("contacts",))
    assert tree.args[1] == Logical(
        "and",
        Compare("==", FieldPath(("role",)), String("Economic Buyer")),
        Compare(">", FieldPath(("deal", "amount")), Number(Decimal(0))),
    )


def test_literals() -> None:
    assert parse_expression("true") == Boolean(True)
    assert parse_expression("today") == Today()
    assert parse_expression("-1.5") == Negate(Number(Decimal("1.5")))
    assert parse_expression("'it\\'s'") == String("it's")


def test_spans_cover_the_source_text() -> None:
    tree = parse_expression("  amount > 100")
    assert isinstance(tree, Compare)
    assert (tree.span.start, tree.span.end) == (2, 14)
    assert (tree.right.span.start, tree.right.span.end) == (11, 14)


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("amount >", "expression ends too early", 8),
        ("amount = 5", "'=' is not an operator", 7),
        ("a && b", "'&' is not an operator", 2),
        ("close_date < 2026-02-30", "'2026-02-30' is not a calendar date", 13),
        ("close_date < 2026-2-3", "'2026-2-3' is not an ISO date", 13),
        ("present(pain", "expected ')' to close present(...), found the end", 12),
        ("a < b < c", "comparisons cannot be chained", 6),
        ("name == 'open", "text is not closed", 8),
        ("amount > 10 pain", "unexpected 'pain'", 12),
        ("stage in qualify", "expected '[' to open the list after 'in', found 'qualify'", 9),
        ("12abc > 1", "malformed number '12a'", 0),
        ("a > 1 )", "unexpected ')'", 6),
        ("", "empty expression", 0),
        ("deal. > 1", "expected a field name after '.'", 6),
        ("a # b", "unexpected character '#'", 2),
        ("by_stage(30)", "by_stage() takes 'stage: value' pairs", 9),
        ("by_stage(else: 3, discover: 2)", "'else:' must come last in by_stage()", 18),
        ("by_stage()", "by_stage() needs at least one 'stage: value' pair", 0),
        (
            "contains_any(next_step, ['tbd', 'n/a'])",
            "contains_any() takes its phrases one by one, not as a list",
            24,
        ),
        ("days_since(a: 3)", "expected ')' to close days_since(...), found ':'", 12),
    ],
)
def test_syntax_errors_name_the_problem_and_its_offset(
    text: str, message: str, offset: int
) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert caught.value.message == message
    assert caught.value.span.start == offset


def test_deep_nesting_is_refused_with_an_error_not_a_crash() -> None:
    with pytest.raises(ExpressionError, match="nested more than 64 levels"):
        parse_expression("-" * 100 + "a")
    with pytest.raises(ExpressionError, match="nested more than 64 levels"):
        parse_expression("(" * 3000 + "a" + ")" * 3000)
    with pytest.raises(ExpressionError, match="more than 200 operators"):
        parse_expression(" or ".join(["a"] * 300))


@pytest.mark.parametrize(
    "text",
    [
        "a or (b or c)",
        "a - (b - c)",
        "-(a + b) * c",
        "not (a and b)",
        "(a == b) == c",
        "x in [1, 2 + 3, -4]",
        "count(contacts, is_primary == true) >= 2",
        "'back\\\\slash' == name",
        "contains_any(lower(next_step), 'follow up', 'touch base')",
        "days_since(last_activity_date) <= by_stage(discover: 30, propose: 7 * 3, else: 45)",
        "by_stage(negotiate: (a or b))",
    ],
)
def test_printing_keeps_the_tree(text: str) -> None:
    tree = parse_expression(text)
    assert parse_expression(to_text(tree)) == tree


def test_by_stage_pairs_stages_with_values_and_keeps_else_apart() -> None:
    tree = parse_expression("by_stage(discover: 30, propose: 21, else: 45)")
    assert tree == ByStage(
        (FieldPath(("discover",)), FieldPath(("propose",))),
        (Number(Decimal(30)), Number(Decimal(21))),
        Number(Decimal(45)),
    )


def test_text_functions_are_calls_with_phrases_as_text() -> None:
    tree = parse_expression("contains_any(lower(next_step), 'tbd', 'touch base')")
    assert tree == Call(
        "contains_any",
        (Call("lower", (FieldPath(("next_step",)),)), String("tbd"), String("touch base")),
    )
