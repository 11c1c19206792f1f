"""The kind of value an expression node gives, as far as the pack's declarations tell."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from dealgate.rules.expr import (
    Arithmetic,
    Boolean,
    ByStage,
    Call,
    DateLiteral,
    Expr,
    FieldPath,
    Negate,
    Number,
    StageRef,
    String,
    Today,
)
from dealgate.rules.model import RulePack
from dealgate.rules.types import CANONICAL_FIELDS, NUMERIC, FieldType, Kind

# Text that reads as a number when an undeclared field is compared with one: plain decimal
# notation only, the same in every engine (no NaN, Infinity, '1_000' or Spark's '1.5d').
NUMBER_TEXT = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
# Dates run from year 1 to 9999 in every engine (Python's range); date arithmetic that leaves
# it is unknown, as in the Python evaluator.
FIRST_DAY = date(1, 1, 1)
LAST_DAY = date(9999, 12, 31)


def deal_fields(pack: RulePack) -> dict[str, FieldType]:
    """Every field a pack's conditions may read with a known type: canonical and declared."""
    fields = dict(CANONICAL_FIELDS)
    fields.update({name: declared.type for name, declared in pack.fields.items()})
    return fields


def static_kind(node: Expr, fields: Mapping[str, FieldType], item: FieldType | None = None) -> Kind:
    """The kind of a value node; ANY when only the data can tell (an undeclared field)."""
    match node:
        case Number():
            return Kind.NUMBER
        case String():
            return Kind.TEXT
        case DateLiteral() | Today():
            return Kind.DATE
        case Boolean():
            return Kind.BOOLEAN
        case StageRef():
            return Kind.STAGE
        case FieldPath(parts=parts):
            if parts[0] == "deal" and len(parts) > 1:
                parts, scope = parts[1:], fields
            else:
                scope = item.fields if item is not None else fields
            found = scope.get(parts[0])
            for part in parts[1:]:  # into a declared record
                found = found.fields.get(part) if found and found.kind is Kind.RECORD else None
            return found.kind if found is not None else Kind.ANY
        case Call(function="days_since" | "days_until" | "count" | "length"):
            return Kind.NUMBER
        case Call(function="lower"):
            return Kind.TEXT
        case Call(function="contains" | "starts_with" | "contains_any"):
            return Kind.BOOLEAN
        case ByStage(values=values, default=default):
            choices = (*values, *(() if default is None else (default,)))
            kinds = {static_kind(choice, fields, item) for choice in choices}
            if kinds <= NUMERIC:
                return Kind.MONEY if kinds == {Kind.MONEY} else Kind.NUMBER
            return kinds.pop() if len(kinds) == 1 else Kind.ANY
        case Negate(operand=operand):
            inner = static_kind(operand, fields, item)
            return inner if inner in NUMERIC else Kind.ANY
        case Arithmetic(op=op, left=left, right=right):
            kinds = {static_kind(left, fields, item), static_kind(right, fields, item)}
            if kinds <= NUMERIC:
                return Kind.NUMBER
            if kinds == {Kind.DATE}:
                return Kind.NUMBER if op == "-" else Kind.ANY
            if kinds == {Kind.DATE, Kind.NUMBER} and op in "+-":
                return Kind.DATE
    return Kind.ANY
