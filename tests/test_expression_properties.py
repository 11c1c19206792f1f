"""Property-based tests of the expression parser and printer (hypothesis)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from dealgate.rules.expr import (
    COMPARISONS,
    KEYWORDS,
    Arithmetic,
    Boolean,
    Call,
    Compare,
    DateLiteral,
    Expr,
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

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda name: name not in KEYWORDS
)
numbers = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False).map(
    lambda value: Number(Decimal(value))
)
literals: st.SearchStrategy[Expr] = st.one_of(
    numbers,
    st.text(max_size=12).map(String),
    st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)).map(DateLiteral),
    st.booleans().map(Boolean),
    st.just(Today()),
    st.lists(names, min_size=1, max_size=3).map(lambda parts: FieldPath(tuple(parts))),
)


def _compound(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        children.map(Not),
        children.map(Negate),
        st.builds(Logical, st.sampled_from(["and", "or"]), children, children),
        st.builds(Compare, st.sampled_from(COMPARISONS), children, children),
        st.builds(Arithmetic, st.sampled_from("+-*/"), children, children),
        st.builds(InList, children, st.lists(children, max_size=3).map(tuple), st.booleans()),
        st.builds(Call, names, st.lists(children, max_size=3).map(tuple)),
    )


trees = st.recursive(literals, _compound, max_leaves=25)


@given(trees)
@settings(max_examples=400)
def test_printed_tree_parses_back_to_the_same_tree(tree: Expr) -> None:
    assert parse_expression(to_text(tree)) == tree


@given(st.text(max_size=200))
@settings(max_examples=1000)
def test_parser_never_crashes_on_arbitrary_text(text: str) -> None:
    try:
        parse_expression(text)
    except ExpressionError as error:
        assert 0 <= error.span.start <= len(text)
        assert error.message


expression_alphabet = st.sampled_from(
    [
        *"abc ()[],.'\"-+*/<>=!0123456789_",
        *("and ", "or ", "not ", " in ", "today", "true", "2026-11-27", "count(", "present("),
    ]
)


@given(st.lists(expression_alphabet, max_size=40).map("".join))
@settings(max_examples=1000)
def test_parser_never_crashes_on_near_expressions(text: str) -> None:
    try:
        tree = parse_expression(text)
    except ExpressionError as error:
        assert 0 <= error.span.start <= len(text)
    else:
        assert parse_expression(to_text(tree)) == tree
