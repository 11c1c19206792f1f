"""The cell rules compile to Python and to DuckDB alike: the same text reads the same value.

tests/conformance/normalisation/cases.yaml names the cases a reader must get right; this
holds the two compiled targets of every rule to each other on random texts made of the
characters the rules look at (digits, marks, currency symbols, spaces of several kinds), so a
primitive whose two spellings differ in meaning is found.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealgate.deals.cell_language import sql_macros
from dealgate.deals.cell_rules import RULES
from dealgate.deals.normalise import _rule
from dealgate.deals.sql_normalise import install

# (rule, its flags after the text): every rule a reader calls
CALLS = [
    ("clean", ()),
    ("placeholder", ()),
    ("text", ()),
    ("number_text", (False,)),
    ("number_text", (True,)),
    ("money_text", (False,)),
    ("money_text", (True,)),
    ("money_currency", ()),
    ("percent", (False,)),
    ("percent", (True,)),
    ("percent_issue", (False,)),
    ("bool", ()),
    ("count", ()),
    ("date", (True,)),
    ("date", (False,)),
    ("deal_key", ()),
]

_MARKS = [*"0123456789,.-+()%$€£/:' ", "\u00a0", "\u202f", "\t", "US$", "EUR", "kr"]
_WORDS = ["N/A", "tbd", "Yes", "no", "x", "T", "Z", "PM", "2026", "11", "27", "1764201600000"]
number_like = st.lists(st.sampled_from(_MARKS + _WORDS), max_size=8).map("".join)
_SIDES = ["", "$", "€", "£ ", "US$", "EUR ", " GBP", " kr", "-", "(", ")", " ", "\u00a0", "%"]
money_like = st.builds(
    lambda before, digits, after: before + digits + after,
    st.sampled_from(_SIDES),
    st.from_regex(r"\d{1,4}([,. '\u00a0]\d{3}){0,2}([.,]\d{1,2})?", fullmatch=True),
    st.sampled_from(_SIDES),
)
date_like = st.builds(
    lambda parts, sep, tail: sep.join(parts) + tail,
    st.lists(st.sampled_from(["2026", "11", "5", "31", "0000", "02", "30", "1"]), max_size=3),
    st.sampled_from(["-", "/", ".", " "]),
    st.sampled_from(["", " 9:30 PM", "T10:00:00Z", " 21:30:10", "T23:30:00-05:00", " "]),
)
id_like = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    min_size=15,
    max_size=18,
)


@pytest.fixture(scope="module")
def connection() -> Any:
    connection = duckdb.connect()
    install(connection)
    return connection


def _same(python: Any, sql: Any) -> bool:
    """Python keeps Decimals and dates where DuckDB gives DOUBLE, DECIMAL or text."""
    if python is None or sql is None:
        return python is None and sql is None
    if isinstance(python, bool) or isinstance(sql, bool):
        return python is sql
    if isinstance(python, Decimal) or isinstance(sql, float | Decimal):
        return Decimal(str(python)) == Decimal(str(sql))
    if isinstance(python, date):
        return python == sql
    return bool(python == sql)


def _check(connection: Any, rule: str, flags: tuple[bool, ...], text: str) -> None:
    python = _rule(rule)(text, *flags)
    arguments = ", ".join(["?", *("true" if flag else "false" for flag in flags)])
    (sql,) = connection.execute(f"SELECT dg_{rule}({arguments})", [text]).fetchone()
    assert _same(python, sql), f"{rule}({text!r}, {flags}): Python {python!r}, DuckDB {sql!r}"


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize(("rule", "flags"), [call for call in CALLS if call[0] != "deal_key"])
@_SETTINGS
@given(text=st.one_of(number_like, money_like, date_like))
def test_a_rule_reads_alike_in_python_and_duckdb(
    connection: Any, rule: str, flags: tuple[bool, ...], text: str
) -> None:
    _check(connection, rule, flags, text)


@_SETTINGS
@given(deal_id=id_like)
def test_the_deal_key_reads_alike_in_python_and_duckdb(connection: Any, deal_id: str) -> None:
    _check(connection, "deal_key", (), deal_id)


def test_a_computed_argument_is_bound_once_in_sql() -> None:
    """DuckDB pastes a macro's argument at each use of its parameter: number_text names its
    text four times, so the amount without its currency is bound before the call."""
    (money_of,) = [
        m for m in sql_macros(RULES) if m.startswith("CREATE OR REPLACE MACRO dg_money_of(")
    ]
    assert money_of.count("dg_money_number(") == 1
    assert "list_transform([dg_money_number(s)]" in money_of
