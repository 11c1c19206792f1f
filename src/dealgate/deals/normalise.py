"""Turning exported cell values into typed values, by one set of rules for every reader.

Nothing is guessed: `1.2k` is not an amount and `5/6/2026` is read only in the date order the
profile says. A value that cannot be read raises `Unreadable`; the caller turns it into a data
finding and keeps the deal with that value missing.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any

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


# Values reps type to get past a required field. Read as missing, and reported.
PLACEHOLDERS = frozenset(
    {
        "n/a",
        "na",
        "n.a.",
        "n.a",
        "tbd",
        "tbc",
        "tba",
        "-",
        "--",
        "---",
        "?",
        "??",
        "???",
        ".",
        "..",
        "...",
        "xxx",
        "#n/a",
    }
)
TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "x", "on"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", "off"})
CURRENCY_SYMBOLS = {
    "$": "USD",
    "US$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "CHF": "CHF",
    "A$": "AUD",
    "C$": "CAD",
    "R$": "BRL",
    "kr": "SEK",
}

# The text forms read, as patterns Python's re and DuckDB's RE2 read alike: the SQL rules
# (sql_normalise.py) are written with these same patterns.
ISO_DATE = r"\d{4}-\d{2}-\d{2}"
TIME_OF_DAY = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp][Mm])?)?"
SLASH_DATE = r"(\d{1,2})/(\d{1,2})/(\d{4})" + TIME_OF_DAY
DOT_DATE = r"(\d{1,2})\.(\d{1,2})\.(\d{4})" + TIME_OF_DAY
YEAR_FIRST_SLASH_DATE = r"(\d{4})/(\d{1,2})/(\d{1,2})"
EPOCH_MILLIS = r"\d{13}"
CURRENCY_CODE = r"[A-Z]{3}"
PLAIN_NUMBER = r"\d+(\.\d+)?|\.\d+"
GROUPED_BY_COMMA = r"\d{1,3}(,\d{3})+"
GROUPED_BY_DOT = r"\d{1,3}(\.\d{3})+"
GROUPING_MARKS = " \u00a0\u202f'\u2019"  # spaces and apostrophes between thousands

_ISO_DATE = re.compile(ISO_DATE)
_SLASH_DATE = re.compile(SLASH_DATE)
_SHORT_YEAR_SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2,3})" + TIME_OF_DAY)
_DOT_DATE = re.compile(DOT_DATE)
_YMD_SLASH = re.compile(YEAR_FIRST_SLASH_DATE)
_EPOCH_MILLIS = re.compile(EPOCH_MILLIS)
_CURRENCY_CODE = re.compile(CURRENCY_CODE)
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)
_GROUPED_COMMA = re.compile(GROUPED_BY_COMMA)
_GROUPED_DOT = re.compile(GROUPED_BY_DOT)
_GROUPING_MARKS = str.maketrans("", "", GROUPING_MARKS)

# A number with more digits before its point than this is not read: no amount, probability or
# count needs them, Python refuses to turn integers of over 4,300 digits into text, and the SQL
# route holds numbers as DECIMAL(38, 10) (28 whole digits) or DOUBLE. See docs/reliability.md.
MAX_WHOLE_DIGITS = 28
_LARGEST = Decimal(10) ** MAX_WHOLE_DIGITS
# The same bound for the text of a plain number (PLAIN_NUMBER), as the SQL route reads it: at
# most MAX_WHOLE_DIGITS whole digits once leading zeros are dropped, which is a magnitude under
# 10 ** MAX_WHOLE_DIGITS (checked_number). tests/conformance/normalisation holds the two alike.
WITHIN_REACH = rf"0*\d{{0,{MAX_WHOLE_DIGITS}}}(\.\d+)?"


def clean_text(value: Any) -> str | None:
    """Text with surrounding spaces removed; None for a blank value."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def is_placeholder(text: str) -> bool:
    return text.strip().casefold() in PLACEHOLDERS


def parse_date(value: Any, order: DateOrder = DateOrder.MONTH_FIRST) -> date:
    """A calendar date from a date, a datetime (taken as its UTC date) or text."""
    if isinstance(value, datetime):
        return _utc_date(value)
    if isinstance(value, date):
        return value
    return _date_from_text(str(value).strip(), order)


@lru_cache(maxsize=8192)
def _date_from_text(text: str, order: DateOrder) -> date:
    """Exports repeat the same few thousand dates: each text is read once."""
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
        if _ISO_DATE.match(text):
            return _utc_date(datetime.fromisoformat(text.replace("Z", "+00:00")))
        if _SHORT_YEAR_SLASH_DATE.fullmatch(text):
            raise Unreadable(f"date {text!r} has a two-digit year")
        if match := _SLASH_DATE.fullmatch(text):
            first, second, year = (int(part) for part in match.groups())
            month, day = (first, second) if order is DateOrder.MONTH_FIRST else (second, first)
            return date(year, month, day)
        if match := _DOT_DATE.fullmatch(text):
            day, month, year = (int(part) for part in match.groups())
            return date(year, month, day)
        if match := _YMD_SLASH.fullmatch(text):
            year, month, day = (int(part) for part in match.groups())
            return date(year, month, day)
        if _EPOCH_MILLIS.fullmatch(text):  # HubSpot's API and some exports
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC).date()
    except ValueError:
        raise Unreadable(
            f"{_short(text)!r} is not a calendar date (read as {order.value})"
        ) from None
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
    text = str(value).strip()
    negative = text.startswith("-") or (text.startswith("(") and text.endswith(")"))
    digits = text.strip("()").lstrip("-+").strip()
    number = _digits_to_decimal(digits, decimal_mark)
    if number is None:
        raise Unreadable(f"unreadable number {_short(text)!r}")
    return checked_number(-number if negative else number)


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


def _digits_to_decimal(digits: str, decimal_mark: str | None) -> Decimal | None:
    digits = digits.translate(_GROUPING_MARKS)
    if "." in digits and "," in digits:
        mark = "." if digits.rfind(".") > digits.rfind(",") else ","
        other = "," if mark == "." else "."
        digits = digits.replace(other, "").replace(mark, ".")
    elif "," in digits:
        if decimal_mark != "," and _GROUPED_COMMA.fullmatch(digits):
            digits = digits.replace(",", "")
        elif digits.count(",") == 1:
            digits = digits.replace(",", ".")
    elif "." in digits and (
        (decimal_mark == "," or digits.count(".") > 1) and _GROUPED_DOT.fullmatch(digits)
    ):
        digits = digits.replace(".", "")
    if not _PLAIN_NUMBER.fullmatch(digits):
        return None
    try:
        return Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        return None


def parse_money(value: Any, decimal_mark: str | None = None) -> tuple[Decimal, str | None]:
    """An amount and its currency code, from `$12,500.00`, `12.500,00 €`, `EUR 900`, `900`."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return parse_number(value), None
    text = str(value).strip()
    inner = text[1:-1].strip() if text.startswith("(") and text.endswith(")") else text
    currency, rest = _split_currency(inner)
    if inner is not text:
        rest = f"({rest})"  # accounting style: (1,200) is negative, with or without a symbol
    try:
        return parse_number(rest, decimal_mark), currency
    except OutOfReach:
        raise
    except Unreadable:
        raise Unreadable(f"unreadable amount {_short(text)!r}") from None


def _split_currency(text: str) -> tuple[str | None, str]:
    """Take a currency symbol or ISO code off either end of an amount."""
    rest = text
    negative = ""
    if rest.startswith("-"):
        negative, rest = "-", rest[1:].strip()
    for symbol in sorted(CURRENCY_SYMBOLS, key=len, reverse=True):
        if rest.startswith(symbol):
            return CURRENCY_SYMBOLS[symbol], negative + rest[len(symbol) :].strip()
        if rest.endswith(symbol):
            return CURRENCY_SYMBOLS[symbol], negative + rest[: -len(symbol)].strip()
    head, _, tail = rest.partition(" ")
    if _CURRENCY_CODE.fullmatch(head) and tail:
        return head, negative + tail.strip()
    body, _, code = rest.rpartition(" ")
    if _CURRENCY_CODE.fullmatch(code) and body:
        return code, negative + body.strip()
    return None, negative + rest


def parse_percent(value: Any, *, fraction: bool = False) -> Decimal:
    """A percentage 0-100 from `25`, `25%` or, where the CRM stores fractions, `0.25`."""
    text = str(value).strip() if not isinstance(value, int | float | Decimal) else None
    if text is not None and text.endswith("%"):
        number = parse_number(text[:-1])
    else:
        number = parse_number(value)
        if fraction:
            number *= 100
    if not Decimal(0) <= number <= Decimal(100):
        raise Unreadable(f"probability {number} is outside 0-100", DataIssue.OUT_OF_RANGE)
    return Decimal(int(number)) if number == number.to_integral() else number


def parse_bool(value: Any) -> bool:
    """A flag from Yes/No, True/False, 1/0, X (ticked) and their lower-case forms."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    word = str(value).strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise Unreadable(f"unreadable yes/no value {str(value).strip()!r}")


def parse_count(value: Any) -> int:
    """A whole number of times, e.g. how often a close date was pushed."""
    number = parse_number(value)
    if number != number.to_integral() or number < 0:
        raise Unreadable(f"{value!r} is not a whole number of times")
    return int(number)
