"""Three-valued evaluation of expression trees over one deal, in Python.

Engines use it for what their target cannot express: the durable engine prepares arithmetic,
day counts, list functions and comparisons of undeclared fields with it before a fact is
asserted. `None` is unknown. The semantics are those of docs/rules.md: a comparison,
arithmetic or `in` touching an unknown is unknown; `and`/`or` are three-valued; `present` is
never unknown; a missing list makes count/any/all unknown; division by zero is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from dealgate.rules.expr import (
    Arithmetic,
    Boolean,
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


@dataclass(frozen=True)
class Scope:
    """What names mean while evaluating: the deal, and inside a list condition, the item."""

    deal: Mapping[str, Any]  # canonical and custom fields by name; stage as its position
    as_of: date
    stage_positions: Mapping[str, int]
    item: Mapping[str, Any] | None = None


def truth(node: Expr, scope: Scope) -> Truth:
    """The truth of a condition: True, False or None (unknown)."""
    match node:
        case Logical(op="and", left=left, right=right):
            first = truth(left, scope)
            if first is False:
                return False
            second = truth(right, scope)
            if second is False:
                return False
            return True if first is True and second is True else None
        case Logical(op="or", left=left, right=right):
            first = truth(left, scope)
            if first is True:
                return True
            second = truth(right, scope)
            if second is True:
                return True
            return False if first is False and second is False else None
        case Not(operand=operand):
            inner = truth(operand, scope)
            return None if inner is None else not inner
        case Compare(op=op, left=left, right=right):
            return compare(op, value(left, scope), value(right, scope))
        case InList(operand=operand, items=items, negated=negated):
            found = member(value(operand, scope), [value(item, scope) for item in items])
            return None if found is None else found != negated
        case Call(function="present", args=(FieldPath() as path,)):
            return present(lookup(path, scope))
        case Call(function="any" | "all"):
            return list_truth(node, scope)
    result = value(node, scope)
    return result if isinstance(result, bool) else None


def value(node: Expr, scope: Scope) -> Any:
    """The value of an expression; None when unknown."""
    match node:
        case Number(value=number):
            return number
        case String(value=text):
            return text
        case DateLiteral(value=day):
            return day
        case Boolean(value=flag):
            return flag
        case Today():
            return scope.as_of
        case StageRef(stage_id=stage_id):
            return scope.stage_positions[stage_id]
        case FieldPath():
            found = lookup(node, scope)
            return None if found in ("", []) else found
        case Negate(operand=operand):
            inner = value(operand, scope)
            return -inner if isinstance(inner, Decimal | int) else None
        case Arithmetic(op=op, left=left, right=right):
            return arithmetic(op, value(left, scope), value(right, scope))
        case Call(function="days_since", args=(argument,)):
            day = value(argument, scope)
            return Decimal((scope.as_of - day).days) if isinstance(day, date) else None
        case Call(function="days_until", args=(argument,)):
            day = value(argument, scope)
            return Decimal((day - scope.as_of).days) if isinstance(day, date) else None
        case Call(function="count"):
            return count(node, scope)
    return truth(node, scope)


def lookup(path: FieldPath, scope: Scope) -> Any:
    """A field path's value: deal fields, or the current list item's, nested records walked."""
    parts = path.parts
    if parts[0] == "deal" and len(parts) > 1:
        current: Any = scope.deal
        parts = parts[1:]
    elif scope.item is not None:
        current = scope.item
    else:
        current = scope.deal
    for part in parts:
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


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
    numeric = (int, Decimal)
    if isinstance(left, bool) or isinstance(right, bool):
        return (left, right) if isinstance(left, bool) and isinstance(right, bool) else None
    if isinstance(left, numeric) and isinstance(right, numeric):
        return Decimal(left), Decimal(right)
    if isinstance(left, date) and isinstance(right, date):
        return left, right
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    # An undeclared custom field read from text: compare as the other side's kind when it reads.
    if isinstance(left, str) != isinstance(right, str):
        text, other = (left, right) if isinstance(left, str) else (right, left)
        converted = _coerce(text, other)
        if converted is None:
            return None
        return (converted, other) if isinstance(left, str) else (other, converted)
    return None


def _coerce(text: str, like: Any) -> Any:
    try:
        if isinstance(like, date):
            return date.fromisoformat(text.strip())
        if isinstance(like, int | Decimal):
            return Decimal(text.strip())
    except (ValueError, InvalidOperation):
        return None
    return None


def compare(op: str, left: Any, right: Any) -> Truth:
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
    return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])


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
    if op == "+":
        return day + timedelta(days=int(days))
    if op == "-" and isinstance(left, date):
        return day - timedelta(days=int(days))
    return None


def _items(node: Call, scope: Scope) -> list[Any] | None:
    target = node.args[0]
    assert isinstance(target, FieldPath)
    found = lookup(target, scope)
    return found if isinstance(found, list) else None


def count(node: Call, scope: Scope) -> Decimal | None:
    items = _items(node, scope)
    if items is None:
        return None
    if len(node.args) == 1:
        return Decimal(len(items))
    condition = node.args[1]
    return Decimal(sum(1 for item in items if truth(condition, _item_scope(scope, item))))


def list_truth(node: Call, scope: Scope) -> Truth:
    items = _items(node, scope)
    if items is None:
        return None
    results = [truth(node.args[1], _item_scope(scope, item)) for item in items]
    if node.function == "any":
        if True in results:
            return True
        return None if None in results else False
    if False in results:
        return False
    return None if None in results else True


def _item_scope(scope: Scope, item: Any) -> Scope:
    return Scope(
        scope.deal, scope.as_of, scope.stage_positions, item if isinstance(item, Mapping) else {}
    )
