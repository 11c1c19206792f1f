"""Cell values as CRMs and Excel write them, read by one set of rules; nothing guessed."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from dealgate.deals.normalise import (
    DateOrder,
    Unreadable,
    is_placeholder,
    parse_bool,
    parse_count,
    parse_date,
    parse_money,
    parse_percent,
)
from dealgate.findings import DataIssue


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2026-11-27", DateOrder.MONTH_FIRST, date(2026, 11, 27)),
        ("11/27/2026", DateOrder.MONTH_FIRST, date(2026, 11, 27)),
        ("3/4/2026", DateOrder.MONTH_FIRST, date(2026, 3, 4)),
        ("3/4/2026", DateOrder.DAY_FIRST, date(2026, 4, 3)),
        ("27.11.2026", DateOrder.MONTH_FIRST, date(2026, 11, 27)),
        ("2026/11/27", DateOrder.MONTH_FIRST, date(2026, 11, 27)),
        ("11/27/2026 4:05 PM", DateOrder.MONTH_FIRST, date(2026, 11, 27)),
        ("2026-12-15 00:00", DateOrder.MONTH_FIRST, date(2026, 12, 15)),
        # A datetime is taken as its UTC date: 23:30 in New York is the next day in UTC.
        ("2026-11-27T23:30:00-05:00", DateOrder.MONTH_FIRST, date(2026, 11, 28)),
        ("2013-12-20T04:13:07.000+0000", DateOrder.MONTH_FIRST, date(2013, 12, 20)),
        ("2026-11-27T10:00:00Z", DateOrder.MONTH_FIRST, date(2026, 11, 27)),
        ("1764201600000", DateOrder.MONTH_FIRST, date(2025, 11, 27)),
    ],
)
def test_dates(text: str, order: DateOrder, expected: date) -> None:
    assert parse_date(text, order) == expected


def test_typed_excel_dates_and_aware_datetimes() -> None:
    assert parse_date(datetime(2026, 11, 27, 9, 30)) == date(2026, 11, 27)
    tokyo = timezone(timedelta(hours=9))
    assert parse_date(datetime(2026, 11, 28, 1, 0, tzinfo=tokyo)) == date(2026, 11, 27)
    assert parse_date(date(2026, 1, 2)) == date(2026, 1, 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("next week", "unreadable date 'next week' (expected YYYY-MM-DD or M/D/YYYY)"),
        ("13/27/2026", "'13/27/2026' is not a calendar date (read as M/D/YYYY)"),
        ("2026-02-30", "'2026-02-30' is not a calendar date (read as M/D/YYYY)"),
        ("1/5/26", "date '1/5/26' has a two-digit year"),
    ],
)
def test_unreadable_dates_say_why(text: str, message: str) -> None:
    with pytest.raises(Unreadable) as caught:
        parse_date(text)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("$12,500.00", Decimal("12500.00"), "USD"),
        ("12.500,00 €", Decimal("12500.00"), "EUR"),
        ("€12.500,00", Decimal("12500.00"), "EUR"),
        ("EUR 900", Decimal("900"), "EUR"),
        ("1,250,000 USD", Decimal("1250000"), "USD"),
        ("12500", Decimal("12500"), None),
        ("12500.5", Decimal("12500.5"), None),
        ("12,5", Decimal("12.5"), None),
        ("£1 200", Decimal("1200"), "GBP"),
        ("-$300", Decimal("-300"), "USD"),
        ("(1,000.00)", Decimal("-1000.00"), None),
        ("CHF 1'000.50", Decimal("1000.50"), "CHF"),
        ("($1,200)", Decimal("-1200"), "USD"),
        (".5", Decimal("0.5"), None),
    ],
)
def test_money(text: str, amount: Decimal, currency: str | None) -> None:
    assert parse_money(text) == (amount, currency)


def test_decimal_comma_profile_reads_dotted_thousands() -> None:
    assert parse_money("12.500", decimal_mark=",") == (Decimal("12500"), None)
    assert parse_money("12.500") == (Decimal("12.500"), None)


@pytest.mark.parametrize("text", ["1.2k", "about 5000", "12,50,0", "$", "5 000 000 bucks"])
def test_amounts_are_never_guessed(text: str) -> None:
    with pytest.raises(Unreadable, match="unreadable amount"):
        parse_money(text)


@pytest.mark.parametrize(
    ("value", "fraction", "expected"),
    [
        ("25", False, Decimal(25)),
        ("25%", False, Decimal(25)),
        ("0.25", True, Decimal(25)),
        (Decimal("0.4"), True, Decimal(40)),
        ("100", False, Decimal(100)),
        ("12.5 %", False, Decimal("12.5")),
    ],
)
def test_percentages(value: object, fraction: bool, expected: Decimal) -> None:
    assert parse_percent(value, fraction=fraction) == expected


def test_probability_out_of_range_is_its_own_issue() -> None:
    with pytest.raises(Unreadable) as caught:
        parse_percent("140")
    assert caught.value.issue is DataIssue.OUT_OF_RANGE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes", True),
        ("no", False),
        ("TRUE", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("X", True),
        ("x", True),
        ("N", False),
    ],
)
def test_booleans(text: str, expected: bool) -> None:
    assert parse_bool(text) is expected


def test_unreadable_boolean() -> None:
    with pytest.raises(Unreadable, match="unreadable yes/no value 'maybe'"):
        parse_bool("maybe")


@pytest.mark.parametrize("text", ["N/A", "n/a", "TBD", "tbc", "-", "?", "  TBD  ", "#N/A"])
def test_placeholders(text: str) -> None:
    assert is_placeholder(text)


@pytest.mark.parametrize("text", ["None", "Unknown", "0", "Acme", "X"])
def test_real_answers_are_not_placeholders(text: str) -> None:
    assert not is_placeholder(text)


def test_push_count_must_be_a_whole_number() -> None:
    assert parse_count("3") == 3
    with pytest.raises(Unreadable):
        parse_count("2.5")
