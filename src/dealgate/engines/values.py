"""Three-valued evaluation of expression trees over one deal, compiled to Python closures.

Engines use it for what their target cannot express: the durable engine prepares arithmetic,
day counts, list functions and comparisons of undeclared fields with it before a fact is
asserted. `None` is unknown. The semantics are those of docs/rules.md: a comparison,
arithmetic or `in` touching an unknown is unknown; `and`/`or` are three-valued; `present` is
never unknown; a missing list makes count/any/all unknown; division by zero is unknown.

Each tree is compiled once into nested closures (one per node), so evaluating it for a deal
is a few function calls rather than a walk that inspects every node again.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from dealgate.engines.kinds import NUMBER_TEXT
from dealgate.rules.expr import (
    Arithmetic,
    Boolean,
    ByStage,
    Call,
    Compare,
    DateLiteral,
    Expr,
    FieldPath,
    InList,
    Logical,
    Negate,
    Not,
    Number,
    StageRef,
    String,
    Today,
)

Truth = bool | None
Record = Mapping[str, Any]
# A compiled node: (the deal's values, the current list item or None) -> value or truth.
Evaluator = Callable[[Record, Record | None], Any]


class Evaluators:
    """Compiles trees for one as-of date and one pack's stage positions."""

    def __init__(self, as_of: date, stage_positions: Mapping[str, int]) -> None:
        self.as_of = as_of
        self.stage_positions = stage_positions

    def truth(self, node: Expr) -> Evaluator:
        """A condition: True, False or None (unknown)."""
        match node:
            case Logical(op=op, left=left, right=right):
                return _logical(op == "and", self.truth(left), self.truth(right))
            case Not(operand=operand):
                inner = self.truth(operand)

                def negated(deal: Record, item: Record | None) -> Truth:
                    result = inner(deal, item)
                    return None if result is None else not result

                return negated
            case Compare(op=op, left=left, right=right):
                first, second = self.value(left), self.value(right)
                return lambda deal, item: compare(op, first(deal, item), second(deal, item))
            case InList(operand=operand, items=items, negated=is_negated) if all(
                isinstance(entry, String) for entry in items
            ):
                texts = [entry.value for entry in items if isinstance(entry, String)]
                return _text_membership(self.value(operand), texts, is_negated)
            case InList(operand=operand, items=items, negated=is_negated):
                found = self.value(operand)
                listed = [self.value(entry) for entry in items]

                def membership(deal: Record, item: Record | None) -> Truth:
                    result = member(found(deal, item), [e(deal, item) for e in listed])
                    return None if result is None else result != is_negated

                return membership
            case Call(function="present", args=(FieldPath() as path,)):
                get = _lookup(path)

                def is_present(deal: Record, item: Record | None) -> bool:
                    found = get(deal, item)
                    return found is not None and present(found)

                return is_present
            case Call(function="any" | "all", args=(FieldPath() as path, condition)):
                return _list_truth(node.function == "any", _lookup(path), self.truth(condition))
            case Call(function="contains" | "starts_with" | "contains_any", args=(text, *phrases)):
                words = tuple(phrase.value for phrase in phrases if isinstance(phrase, String))
                return _text_match(node.function == "starts_with", self.value(text), words)
        as_value = self.value(node)

        def boolean(deal: Record, item: Record | None) -> Truth:
            result = as_value(deal, item)
            return result if isinstance(result, bool) else None

        return boolean

    def value(self, node: Expr) -> Evaluator:
        """A value; None when unknown."""
        match node:
            case Number(value=number):
                return lambda deal, item: number
            case String(value=text):
                return lambda deal, item: text
            case DateLiteral(value=day):
                return lambda deal, item: day
            case Boolean(value=flag):
                return lambda deal, item: flag
            case Today():
                as_of = self.as_of
                return lambda deal, item: as_of
            case StageRef(stage_id=stage_id):
                position = self.stage_positions[stage_id]
                return lambda deal, item: position
            case FieldPath():
                get = _lookup(node)

                def field(deal: Record, item: Record | None) -> Any:
                    found = get(deal, item)
                    return None if found == "" or found == [] else found

                return field
            case Negate(operand=operand):
                inner = self.value(operand)

                def negative(deal: Record, item: Record | None) -> Any:
                    found = inner(deal, item)
                    return -found if isinstance(found, Decimal | int) else None

                return negative
            case Arithmetic(op=op, left=left, right=right):
                first, second = self.value(left), self.value(right)
                return lambda deal, item: arithmetic(op, first(deal, item), second(deal, item))
            case Call(function="days_since" | "days_until", args=(argument,)):
                return self._days(node.function == "days_since", self.value(argument))
            case Call(function="count", args=(FieldPath() as path,)):
                get = _lookup(path)

                def length(deal: Record, item: Record | None) -> Decimal | None:
                    found = get(deal, item)
                    return Decimal(len(found)) if isinstance(found, list) else None

                return length
            case Call(function="count", args=(FieldPath() as path, condition)):
                return _count_where(_lookup(path), self.truth(condition))
            case Call(function="length" | "lower", args=(text,)):
                return _text_value(node.function == "length", self.value(text))
            case ByStage(stages=stages, values=values, default=default):
                return self._by_stage(stages, values, default)
        return self.truth(node)

    def _by_stage(
        self, stages: tuple[Expr, ...], values: tuple[Expr, ...], default: Expr | None
    ) -> Evaluator:
        chosen = {
            self.stage_positions[stage.stage_id]: self.value(value)
            for stage, value in zip(stages, values, strict=True)
            if isinstance(stage, StageRef)
        }
        otherwise = self.value(default) if default is not None else None

        def by_stage(deal: Record, item: Record | None) -> Any:
            found = chosen.get(deal.get("stage"), otherwise)  # type: ignore[arg-type]
            return None if found is None else found(deal, item)

        return by_stage

    def _days(self, since: bool, argument: Evaluator) -> Evaluator:
        as_of = self.as_of

        def days(deal: Record, item: Record | None) -> Decimal | None:
            day = argument(deal, item)
            if isinstance(day, str):
                day = text_date(day)  # an undeclared field: a date when it is an ISO date
            if not isinstance(day, date):
                return None
            return Decimal((as_of - day).days if since else (day - as_of).days)

        return days


def _as_text(found: Any) -> str | None:
    """A value as text functions see it: an undeclared field that a YAML or JSON deal gives
    as a number, date or yes/no is its text, as the SQL engines' text column holds it."""
    if found is None or isinstance(found, list | dict):
        return None
    if isinstance(found, bool):
        return "true" if found else "false"
    return found if isinstance(found, str) else str(found)


def _text_value(length: bool, text: Evaluator) -> Evaluator:
    """length(text) in characters, or lower(text); unknown when the text is missing."""

    def evaluate(deal: Record, item: Record | None) -> Any:
        found = _as_text(text(deal, item))
        if found is None:
            return None
        return Decimal(len(found)) if length else found.lower()

    return evaluate


def _text_match(at_start: bool, text: Evaluator, phrases: tuple[str, ...]) -> Evaluator:
    """contains/contains_any (some phrase is in the text) or starts_with; exact, case
    included (lower() is how a rule ignores case); unknown when the text is missing."""

    def evaluate(deal: Record, item: Record | None) -> Truth:
        found = _as_text(text(deal, item))
        if found is None:
            return None
        if at_start:
            return found.startswith(phrases)
        return any(phrase in found for phrase in phrases)

    return evaluate


def _text_membership(found: Evaluator, texts: list[str], negated: bool) -> Evaluator:
    """`x in ['a', 'b']` with constant texts: a text value is a member or not (text compared
    with text is never unknown); any other value goes through `member`."""
    listed = frozenset(texts)

    def membership(deal: Record, item: Record | None) -> Truth:
        value = found(deal, item)
        if type(value) is str:
            return (value in listed) != negated
        result = member(value, list(texts))
        return None if result is None else result != negated

    return membership


def _logical(conjunction: bool, first: Evaluator, second: Evaluator) -> Evaluator:
    if conjunction:

        def both(deal: Record, item: Record | None) -> Truth:
            left = first(deal, item)
            if left is False:
                return False
            right = second(deal, item)
            if right is False:
                return False
            return True if left is True and right is True else None

        return both

    def either(deal: Record, item: Record | None) -> Truth:
        left = first(deal, item)
        if left is True:
            return True
        right = second(deal, item)
        if right is True:
            return True
        return False if left is False and right is False else None

    return either


def _lookup(path: FieldPath) -> Evaluator:
    """A field path: the deal's fields, or the current list item's; nested records walked."""
    parts = path.parts
    from_deal = parts[0] == "deal" and len(parts) > 1
    if from_deal:
        parts = parts[1:]
    if len(parts) == 1:
        name = parts[0]
        if from_deal:
            return lambda deal, item: deal.get(name)
        return lambda deal, item: (item if item is not None else deal).get(name)

    flattened = "_".join(parts)

    def walk(deal: Record, item: Record | None) -> Any:
        start: Record = deal if from_deal or item is None else item
        current: Any = start
        for part in parts:
            if not isinstance(current, Mapping):
                current = None
                break
            current = current.get(part)
        # Readers keep a nested record's fields flat (champion.name -> champion_name).
        return current if current is not None else start.get(flattened)

    return walk


def _list_truth(is_any: bool, items: Evaluator, condition: Evaluator) -> Evaluator:
    def evaluate(deal: Record, item: Record | None) -> Truth:
        found = items(deal, item)
        if not isinstance(found, list):
            return None
        unknown = False
        for entry in found:
            result: Truth = condition(deal, entry if isinstance(entry, Mapping) else {})
            if result is None:
                unknown = True
            elif result is is_any:
                return is_any
        return None if unknown else not is_any

    return evaluate


def _count_where(items: Evaluator, condition: Evaluator) -> Evaluator:
    def evaluate(deal: Record, item: Record | None) -> Decimal | None:
        found = items(deal, item)
        if not isinstance(found, list):
            return None
        return Decimal(
            sum(
                1
                for entry in found
                if condition(deal, entry if isinstance(entry, Mapping) else {}) is True
            )
        )

    return evaluate


def present(found: Any) -> bool:
    if found is None:
        return False
    if isinstance(found, str):
        return bool(found.strip())
    if isinstance(found, list | dict):
        return bool(found)
    return True


def _comparable(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Both sides as values of one kind, or None when they cannot be compared."""
    if left is None or right is None:
        return None
    if isinstance(left, bool) or isinstance(right, bool):
        return (left, right) if isinstance(left, bool) and isinstance(right, bool) else None
    numeric = (int, Decimal)
    if isinstance(left, numeric) and isinstance(right, numeric):
        return Decimal(left), Decimal(right)
    if isinstance(left, date) and isinstance(right, date):
        return left, right
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    # An undeclared custom field read from text: compared as the other side's kind if it reads.
    if isinstance(left, str) != isinstance(right, str):
        text, other = (left, right) if isinstance(left, str) else (right, left)
        converted = _coerce(text, other)
        if converted is None:
            return None
        return (converted, other) if isinstance(left, str) else (other, converted)
    return None


# An ISO date (YYYY-MM-DD) as the SQL dialects read one; date.fromisoformat alone also takes
# '20261127' and '2026-W48-5', which no SQL engine reads as a date.
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def text_date(text: str) -> date | None:
    """An undeclared field's text as a date when it is an ISO date, else None."""
    plain = text.strip()
    if not _DATE_TEXT.fullmatch(plain):
        return None
    try:
        return date.fromisoformat(plain)
    except ValueError:
        return None


def _coerce(text: str, like: Any) -> Any:
    try:
        if isinstance(like, date):
            return text_date(text)
        if isinstance(like, int | Decimal):
            plain = text.strip()
            return Decimal(plain) if re.match(NUMBER_TEXT, plain) else None
    except (ValueError, InvalidOperation):
        return None
    return None


_ORDERED = (date, Decimal, int)  # exact types that compare as they are
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def compare(op: str, left: Any, right: Any) -> Truth:
    kind = type(left)
    if kind is type(right) and kind in _ORDERED:  # two dates, two decimals, two integers
        return bool(_OPERATORS[op](left, right))
    pair = _comparable(left, right)
    if pair is None:
        return None
    a, b = pair
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if isinstance(a, bool | str):
        return None  # the checker refuses ordering these; undeclared values may still arrive
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def member(found: Any, items: list[Any]) -> Truth:
    """SQL `IN`: true on a match, unknown when the value or any unmatched item is unknown."""
    if found is None:
        return None
    unknown = False
    for item in items:
        result = compare("==", found, item)
        if result is True:
            return True
        if result is None:
            unknown = True
    return None if unknown else False


def arithmetic(op: str, left: Any, right: Any) -> Any:
    if left is None or right is None or isinstance(left, bool) or isinstance(right, bool):
        return None
    if isinstance(left, str) != isinstance(right, str) and op in "+-":
        # An undeclared field in `+`/`-` with a date or a number is read as a date when it
        # is an ISO date (docs/rules.md, "Type checking"); it is never computed with as a
        # number. The SQL compiler reads it the same way (SqlCompiler.read_kind).
        if isinstance(left, str):
            left = text_date(left)
        else:
            right = text_date(right)
        if left is None or right is None:
            return None
    if isinstance(left, date) or isinstance(right, date):
        return _date_arithmetic(op, left, right)
    if not (isinstance(left, int | Decimal) and isinstance(right, int | Decimal)):
        return None
    a, b = Decimal(left), Decimal(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return None  # division by zero is unknown
    return a / b


def _date_arithmetic(op: str, left: Any, right: Any) -> Any:
    if op == "-" and isinstance(left, date) and isinstance(right, date):
        return Decimal((left - right).days)
    days = right if isinstance(left, date) else left
    day = left if isinstance(left, date) else right
    if not isinstance(days, int | Decimal) or days != int(days):
        return None
    try:
        if op == "+":
            return day + timedelta(days=int(days))
        if op == "-" and isinstance(left, date):
            return day - timedelta(days=int(days))
    except OverflowError:
        return None  # before year 1 or after 9999: no date (kinds.FIRST_DAY, LAST_DAY)
    return None
