"""The cell rules compile to Python and to DuckDB alike: the same text reads the same value,
and the same value is written as the same cell.

tests/conformance/normalisation/cases.yaml names the cases a reader must get right; this
holds the two compiled targets of every rule to each other on random texts made of the
characters the rules look at (digits, marks, currency symbols, spaces of several kinds), so a
primitive whose two spellings differ in meaning is found.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealgate.audit import AuditFilters
from dealgate.columnar.judge import _closing_window
from dealgate.deals.cell_language import sql_macros
from dealgate.deals.cell_rules import RULES
from dealgate.deals.normalise import cell_rule
from dealgate.deals.sql_normalise import install
from dealgate.findings import json_value
from dealgate.report import cell_writing

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
    python = cell_rule(rule)(text, *flags)
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


# -- writing a cell (report/cell_writing.py) --------------------------------------------------


@pytest.fixture(scope="module")
def writing() -> Any:
    connection = duckdb.connect()
    for statement in cell_writing.sql_macros():
        connection.execute(statement)
    return connection


def _written(connection: Any, rule: str, value: Any, sql_type: str) -> tuple[Any, Any]:
    python = cell_writing.writer(rule)(value)
    (sql,) = connection.execute(f"SELECT dg_{rule}(CAST(? AS {sql_type}))", [value]).fetchone()
    return python, sql


# any character: controls, quotes, DEL, accents, astral ones (surrogate pairs in JSON)
any_text = st.one_of(st.none(), st.text(st.characters(exclude_categories=["Cs"]), max_size=12))
formula_like = st.builds(
    lambda start, rest: start + rest, st.sampled_from([*"=+-@\t\r'a "]), any_text.filter(bool)
)


@_SETTINGS
@given(text=st.one_of(any_text, formula_like))
def test_a_text_is_written_alike_in_python_and_duckdb(writing: Any, text: str | None) -> None:
    for rule in ("json_text", "safe_text"):
        python, sql = _written(writing, rule, text, "VARCHAR")
        assert python == sql, f"{rule}({text!r}): Python {python!r}, DuckDB {sql!r}"
    # and the JSON is Python's own
    assert cell_writing.writer("json_text")(text) == json.dumps(text)


decimals = st.one_of(
    st.none(),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, max_value=10**12, min_value=-(10**12)
    ),
    st.integers(min_value=-(10**15), max_value=10**15).map(Decimal),
    # at most 15 significant digits and below 2**53: a DOUBLE holds them exactly
    st.from_regex(r"-?[0-9]{1,6}(\.[0-9]{1,8})?(E-?[0-9])?", fullmatch=True).map(Decimal),
)


@_SETTINGS
@given(number=decimals)
def test_a_number_is_written_alike_in_python_and_duckdb(
    writing: Any, number: Decimal | None
) -> None:
    """DuckDB holds a read number as DOUBLE, Python as the Decimal it read."""
    python, sql = _written(writing, "json_number", number, "DOUBLE")
    assert python == sql, f"json_number({number!r}): Python {python!r}, DuckDB {sql!r}"
    assert python == json.dumps(json_value(number)) or abs(number or 0) >= Decimal("1e38")


@_SETTINGS
@given(day=st.one_of(st.none(), st.dates()), flag=st.one_of(st.none(), st.booleans()))
def test_dates_and_yes_no_are_written_alike_in_python_and_duckdb(
    writing: Any, day: date | None, flag: bool | None
) -> None:
    for rule, value, sql_type in [
        ("json_date", day, "DATE"),
        ("date_text", day, "DATE"),
        ("json_bool", flag, "BOOLEAN"),
    ]:
        python, sql = _written(writing, rule, value, sql_type)
        assert python == sql, f"{rule}({value!r}): Python {python!r}, DuckDB {sql!r}"
    assert cell_writing.writer("json_date")(day) == json.dumps(json_value(day))
    assert cell_writing.writer("json_bool")(flag) == json.dumps(flag)


def test_a_native_value_of_a_yaml_deal_is_written_as_json() -> None:
    """SQL reads texts only; a YAML or JSON deal's undeclared field may hold any value."""
    json_text = cell_writing.writer("json_text")
    assert json_text(3) == "3"
    assert json_text(True) == "true"
    assert json_text(["a", {"b": date(2026, 1, 2)}]) == '["a", {"b": "2026-01-02"}]'


@_SETTINGS
@given(digits=st.from_regex(r"-?([0-9]{1,5}(\.[0-9]{1,9})?|\.[0-9]{1,9})", fullmatch=True))
def test_an_amount_is_written_alike_in_python_and_duckdb(writing: Any, digits: str) -> None:
    """The columnar route writes the digits a money cell read; the Python route its Decimal."""
    python = cell_writing.writer("amount_text")(format(Decimal(digits), "f"))
    (sql,) = writing.execute("SELECT dg_amount_text(?)", [digits]).fetchone()
    assert python == sql, f"amount_text({digits!r}): Python {python!r}, DuckDB {sql!r}"
    assert Decimal(python) == Decimal(digits)
    assert "E" not in python  # a spreadsheet's number, never 1E-7


maybe_text = st.one_of(st.none(), st.sampled_from(["USD", "EUR", "£", "Dana Whitfield"]))


@_SETTINGS
@given(column=maybe_text, written=maybe_text, default=maybe_text, amount_read=st.booleans())
def test_the_fills_read_alike_in_python_and_duckdb(
    connection: Any,
    column: str | None,
    written: str | None,
    default: str | None,
    amount_read: bool,
) -> None:
    """The currency and the manager one field gives another, as DealMapper completes them."""
    texts = "CAST(? AS VARCHAR)"
    currency = cell_rule("deal_currency")(column, written, default, amount_read)
    (sql,) = connection.execute(
        f"SELECT dg_deal_currency({texts}, {texts}, {texts}, ?)",
        [column, written, default, amount_read],
    ).fetchone()
    assert currency == sql
    assert currency == (column or ((written or default) if amount_read else None))
    manager = cell_rule("deal_manager")(column, default)
    (sql,) = connection.execute(
        f"SELECT dg_deal_manager({texts}, {texts})", [column, default]
    ).fetchone()
    assert manager == sql == (column or default)


some_day = st.one_of(st.none(), st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)))


@_SETTINGS
@given(day=some_day, after=some_day, before=some_day)
def test_the_closing_window_is_decided_alike_by_python_and_the_judges_sql(
    connection: Any, day: date | None, after: date | None, before: date | None
) -> None:
    """--closing-after/--closing-before: the Python route's rule and the judge's WHERE
    condition, inlined from the same rule through sqlglot."""
    python = cell_rule("closing_window")(day, after, before)
    if after is None and before is None:
        assert python is True
        return
    condition = _closing_window(AuditFilters(closing_after=after, closing_before=before))
    (sql,) = connection.execute(
        f"SELECT {condition.sql(dialect='duckdb')} FROM (SELECT CAST(? AS DATE) AS close_date) d",
        [day],
    ).fetchone()
    assert python is sql
    assert python == (day is not None and (after or day) <= day <= (before or day))
