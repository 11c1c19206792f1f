"""Turning exported cell values into typed values, by one set of rules for every reader.

Nothing is guessed: `1.2k` is not an amount and `5/6/2026` is read only in the date order the
profile says. A value that cannot be read raises `Unreadable`; the caller turns it into a data
finding and keeps the deal with that value missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache, lru_cache
from typing import Any

from dealgate.deals.cell_language import PythonRules
from dealgate.deals.cell_rules import (
    DOT_DATE,
    ISO_DATE,
    MAX_WHOLE_DIGITS,
    RULES,
    SHORT_YEAR_SLASH_DATE,
    SLASH_DATE,
    YEAR_FIRST_SLASH_DATE,
)
from dealgate.findings import DataIssue


class Unreadable(Exception):
    """A value that cannot be read as the type asked for."""

    def __init__(self, message: str, issue: DataIssue = DataIssue.UNREADABLE) -> None:
        super().__init__(message)
        self.message = message
        self.issue = issue


class OutOfReach(Unreadable):
    """A typed number that is no number to compute with: NaN, an infinity, or too large."""


class DateOrder(StrEnum):
    """How a date written with slashes is read."""

    MONTH_FIRST = "M/D/YYYY"
    DAY_FIRST = "D/M/YYYY"


_LARGEST = Decimal(10) ** MAX_WHOLE_DIGITS
# Forms a date is written in, to say why a text that takes one is no date (messages only).
_DATE_FORMS = re.compile(
    "|".join(f"(?:{form})" for form in (SLASH_DATE, DOT_DATE, YEAR_FIRST_SLASH_DATE))
    + f"|{ISO_DATE}.*",
    re.ASCII,
)
_SHORT_YEAR = re.compile(SHORT_YEAR_SLASH_DATE, re.ASCII)


@cache
def cell_rule(name: str) -> Callable[..., Any]:
    """The Python function compiled from a rule of cell_rules, by name."""
    return _python_rules().function(name)


@cache
def _python_rules() -> PythonRules:
    return PythonRules(RULES)


def clean_text(value: Any) -> str | None:
    """Text with surrounding spaces removed; None for a blank value."""
    if value is None:
        return None
    cleaned: str | None = cell_rule("clean")(str(value))
    return cleaned


def deal_key(deal_id: str) -> str:
    """Ids that are the same deal: a Salesforce 18-character id and its 15-character form
    (the rule `deal_key` of cell_rules)."""
    key: str = cell_rule("deal_key")(deal_id)
    return key


def salesforce_suffix(short_id: str) -> str:
    """The three checksum characters Salesforce appends to a 15-character id."""
    suffix: str = cell_rule("sf_suffix")(short_id)
    return suffix


def is_placeholder(text: str) -> bool:
    return bool(cell_rule("placeholder")(text))


def parse_date(value: Any, order: DateOrder = DateOrder.MONTH_FIRST) -> date:
    """A calendar date from a date, a datetime (taken as its UTC date) or text."""
    if isinstance(value, datetime):
        return _utc_date(value)
    if isinstance(value, date):
        return value
    return _date_from_text(str(value), order)


@lru_cache(maxsize=8192)
def _date_from_text(text: str, order: DateOrder) -> date:
    """Exports repeat the same few thousand dates: each text is read once."""
    found: date | None = cell_rule("date")(text, order is DateOrder.MONTH_FIRST)
    if found is not None:
        return found
    text = text.strip()
    if _SHORT_YEAR.fullmatch(text):
        raise Unreadable(f"date {text!r} has a two-digit year")
    if _DATE_FORMS.fullmatch(text):
        raise Unreadable(f"{_short(text)!r} is not a calendar date (read as {order.value})")
    raise Unreadable(f"unreadable date {_short(text)!r} (expected YYYY-MM-DD or {order.value})")


def _utc_date(moment: datetime) -> date:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def parse_number(value: Any, decimal_mark: str | None = None) -> Decimal:
    """A number from a number or from text with thousands separators (`12,500.50`)."""
    if isinstance(value, bool):
        raise Unreadable(f"{value!r} is not a number")
    if isinstance(value, int | float | Decimal):
        return checked_number(value)
    return _read_number(str(value), decimal_mark, "number_text", "number")


def _read_number(text: str, decimal_mark: str | None, rule: str, what: str) -> Decimal:
    """A number by the rule `rule` of cell_rules (`number_text`, `money_text`); a number
    the rule reads only without the digit limit is out of reach."""
    comma = decimal_mark == ","
    digits: str | None = cell_rule(rule)(text, comma)
    if digits is not None:
        return Decimal(digits)
    if cell_rule(f"unbounded_{rule}")(text, comma) is not None:
        raise OutOfReach(f"a number of more than {MAX_WHOLE_DIGITS} digits is not read")
    raise Unreadable(f"unreadable {what} {_short(text.strip())!r}")


def checked_number(value: int | float | Decimal) -> Decimal:
    """A typed number as a Decimal; Unreadable for NaN, an infinity, or more whole digits
    than MAX_WHOLE_DIGITS (checked without writing a huge integer out as text)."""
    if isinstance(value, int):
        if -_LARGEST < value < _LARGEST:
            return Decimal(value)
        raise OutOfReach(f"a number of more than {MAX_WHOLE_DIGITS} digits is not read")
    number = Decimal(repr(value)) if isinstance(value, float) else value
    if not number.is_finite():
        raise OutOfReach(f"{number} is not a number that can be read")
    if not -_LARGEST < number < _LARGEST:
        raise OutOfReach(f"a number of more than {MAX_WHOLE_DIGITS} digits is not read")
    return number


def _short(text: str) -> str:
    """Text quoted in a message, cut to a readable length."""
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text):,} characters)"


def _typed_text(value: Any) -> str:
    """A typed number written as text the rules read (no exponent), or the value as text."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return format(checked_number(value), "f")
    return str(value)


def parse_money(value: Any, decimal_mark: str | None = None) -> tuple[Decimal, str | None]:
    """An amount and its currency code, from `$12,500.00`, `12.500,00 €`, `EUR 900`, `900`."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return parse_number(value), None
    text = str(value)
    amount = _read_number(text, decimal_mark, "money_text", "amount")
    currency: str | None = cell_rule("money_currency")(text)
    return amount, currency


def parse_percent(value: Any, *, fraction: bool = False) -> Decimal:
    """A percentage 0-100 from `25`, `25%` or, where the CRM stores fractions, `0.25`."""
    text = _typed_text(value)
    number: Decimal | None = cell_rule("percent_raw")(text, fraction)
    if number is None:
        body = text.strip()
        parse_number(body.removesuffix("%"))  # says why the number cannot be read
        raise Unreadable(f"unreadable percentage {_short(body)!r}")
    if cell_rule("in_range")(number) is None:
        raise Unreadable(f"probability {number} is outside 0-100", DataIssue.OUT_OF_RANGE)
    return Decimal(int(number)) if number == number.to_integral() else number


def parse_bool(value: Any) -> bool:
    """A flag from Yes/No, True/False, 1/0, X (ticked) and their lower-case forms."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    flag: bool | None = cell_rule("bool")(str(value))
    if flag is None:
        raise Unreadable(f"unreadable yes/no value {str(value).strip()!r}")
    return flag


def parse_count(value: Any) -> int:
    """A whole number of times, e.g. how often a close date was pushed."""
    number = parse_number(value)  # says why a text is no number
    count: int | None = cell_rule("count")(format(number, "f"))
    if count is None:
        raise Unreadable(f"{value!r} is not a whole number of times")
    return count
