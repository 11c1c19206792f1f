"""How the CSV report writes a cell, written once and compiled to both routes.

The rules of this module are trees of the cell language (deals/cell_language.py), as the
rules that read a cell are (deals/cell_rules.py). The Python route's writer
(report/audit_csv.py) calls them as compiled Python functions; the columnar route
(columnar/audit.py) calls the same trees as DuckDB macros inside its COPY. What each route
gets right is thus the same by construction; `tests/test_cell_rules.py` runs both targets of
every rule on random values, and the CSV tests compare the two reports byte for byte.

- `safe_text`: text a spreadsheet would run as a formula gets a leading apostrophe, and a
  blank text is an empty cell (report/csv_layout.py says why).
- `date_text`: a date as ISO text.
- `amount_text`: an amount as the plain decimal it was read as (`12.50`, never `1E-7`). The
  columnar route keeps the digits the money cell read; the Python route gives
  `format(amount, "f")` of its Decimal, the same digits.
- `read_rules`: the values a finding read as one JSON text, as Python's `json.dumps` writes
  them (ASCII only; a whole number without a point, others as the shortest float; dates as
  ISO text), from the milestone's read plan and the pack's field types.

What is left to each route is the CSV format itself (quoting a cell with a comma, a quote or a
line break), which Python's `csv` module and DuckDB's COPY each write to RFC 4180.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from dealgate.deals.cell_language import (
    Expr,
    Pattern,
    PythonRules,
    Rule,
    RuleRef,
    Use,
    Var,
    case,
    expr,
    let,
    op,
    rule_macros,
)
from dealgate.report.csv_layout import FORMULA_STARTS
from dealgate.rules.model import Milestone, RulePack
from dealgate.rules.types import CANONICAL_FIELDS, NUMERIC, FieldType, Kind

_s, _c, _x, _d, _b, _n = (Var(name) for name in ("s", "c", "x", "d", "b", "n"))


def _concat(*parts: Expr | str) -> Expr:
    """Texts joined, left to right."""
    first, *rest = parts
    joined = expr(first)
    for part in rest:
        joined = op("concat", joined, part)
    return joined


def _plain_decimal(digits: Var) -> Expr:
    """A plain decimal text (the digits a money cell read) without leading zeros, and with a
    0 before a leading point: `-007.50` is `-7.50`, `.5` is `0.5`."""
    negative = op("starts", digits, "-")

    def whole(body: Var) -> Expr:
        bare = op("eq", body, "") | op("starts", body, ".")
        return case((bare, op("concat", "0", body)), otherwise=body)

    unsigned = case((negative, op("without_first", digits, 1)), otherwise=digits)
    number = let("dg_body", op("lstrip_chars", unsigned, "0"), whole)
    return case((negative, op("concat", "-", number)), otherwise=number)


def _escape(code: Expr) -> Expr:
    return _concat("\\u", op("hex4", code))


def _json_char_body(c: Var) -> Expr:
    """One character of a JSON string, as json.dumps(ensure_ascii=True) writes it."""
    named = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    named |= {"\b": "\\b", "\f": "\\f"}

    def by_code(code: Var) -> Expr:
        astral = let(
            "dg_above",
            op("sub", code, 65536),
            lambda above: _concat(
                _escape(op("add", op("div", above, 1024), 55296)),
                _escape(op("add", op("mod", above, 1024), 56320)),
            ),
        )
        return case(
            (op("lt", code, 32), _escape(code)),
            (op("lt", code, 127), c),  # DEL (127) is escaped too
            (op("lt", code, 65536), _escape(code)),
            otherwise=astral,
        )

    arms = [(op("eq", c, char), text) for char, text in named.items()]
    return case(*arms, otherwise=let("dg_code", op("codepoint", c), by_code))


# A character json.dumps escapes; a text without one is written as it is (most texts).
_ESCAPED = Pattern(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")

RULES: list[Rule] = [
    Rule(
        "safe_text",
        ("s",),
        case(
            (op("is_null", _s), None),
            (op("eq", _s, ""), None),
            # not `IN (...)`: DuckDB plans an IN list of five or more values outside a WHERE
            # as a join, which does not keep the file's order (columnar/audit.py)
            (op("contains", "".join(FORMULA_STARTS), op("left", _s, 1)), _concat("'", _s)),
            otherwise=_s,
        ),
    ),
    Rule("date_text", ("d",), case((op("is_null", _d), None), otherwise=op("date_text", _d))),
    Rule("amount_text", ("n",), case((op("is_null", _n), None), otherwise=_plain_decimal(_n))),
    Rule("json_char", ("c",), _json_char_body(_c)),
    Rule(
        "json_text",
        ("s",),
        case(
            (op("is_null", _s), "null"),
            # SQL reads texts only; a YAML or JSON deal's undeclared field may hold any value
            (op("not", op("is_text", _s)), op("json_other", _s)),
            (
                op("search", _s, _ESCAPED),
                _concat('"', op("map_chars", _s, RuleRef("json_char")), '"'),
            ),
            otherwise=_concat('"', _s, '"'),
        ),
    ),
    Rule(
        "json_number",
        ("x",),
        case(
            (op("is_null", _x), "null"),
            (op("is_integral", _x), op("integer_text", _x)),
            otherwise=op("float_text", _x),
        ),
    ),
    Rule(
        "json_date",
        ("d",),
        case((op("is_null", _d), "null"), otherwise=_concat('"', op("date_text", _d), '"')),
    ),
    Rule("json_bool", ("b",), case((op("is_null", _b), "null"), (_b, "true"), otherwise="false")),
]


def _json_rule(kind: Kind) -> str:
    if kind is Kind.DATE:
        return "json_date"
    if kind in NUMERIC:
        return "json_number"
    if kind is Kind.BOOLEAN:
        return "json_bool"
    return "json_text"  # text, or a value of a field nobody declared


def _object(members: list[tuple[str, Expr]]) -> Expr:
    """`{"name": value, ...}` as json.dumps spaces it."""
    parts: list[Expr | str] = []
    text = "{"  # the constant text before the next value
    for index, (name, value) in enumerate(members):
        text += (", " if index else "") + json.dumps(name) + ": "
        parts += [text, value]
        text = ""
    return _concat(*parts, text + "}")


class ReadPlanField:
    """A field a milestone read, and how its value is written: the rule of a scalar, the
    item rule of a list with item fields, or `count` for a list shown by its length."""

    __slots__ = ("item_rule", "path", "shown_as")

    def __init__(self, path: str, shown_as: str, item_rule: str | None = None) -> None:
        self.path = path
        self.shown_as = shown_as
        self.item_rule = item_rule


def field_type(pack: RulePack, path: str) -> FieldType | None:
    """The declared type of a field a milestone reads (none for an undeclared field)."""
    declared = pack.fields.get(path)
    return declared.type if declared is not None else CANONICAL_FIELDS.get(path)


def read_rules(
    pack: RulePack, milestone: Milestone, name: str
) -> tuple[list[Rule], list[ReadPlanField]]:
    """The rule `name` writing what `milestone` read as JSON, with the rules it needs for list
    items; and, for each parameter in order, the field it takes."""
    rules: list[Rule] = []
    fields: list[ReadPlanField] = []
    members: list[tuple[str, Expr]] = []
    for index, (path, item_fields) in enumerate(milestone.read_plan):
        value = Var(f"p{index}")
        declared = None if path == "stage" or "." in path else field_type(pack, path)
        if declared is None or declared.kind is not Kind.LIST:
            kind = declared.kind if declared is not None else Kind.ANY
            fields.append(ReadPlanField(path, _json_rule(kind)))
            members.append((path, Use(_json_rule(kind), (value,))))
        elif not item_fields:  # a list shown by its length
            fields.append(ReadPlanField(path, "count"))
            members.append((path, Use("json_number", (value,))))
        else:
            item = Var("i")
            item_rule = f"{name}_{index}"
            item_members: list[tuple[str, Expr]] = []
            for field in item_fields:
                part = declared.fields.get(field)
                rule = _json_rule(part.kind if part is not None else Kind.ANY)
                item_members.append((field, Use(rule, (op("item", item, field),))))
            rules.append(Rule(item_rule, ("i",), _object(item_members)))
            fields.append(ReadPlanField(path, "items", item_rule))
            listed = _concat("[", op("join_each", value, RuleRef(item_rule), ", "), "]")
            members.append((path, case((op("is_null", value), "null"), otherwise=listed)))
    params = tuple(f"p{index}" for index in range(len(fields)))
    rules.append(Rule(name, params, _object(members)))
    return rules, fields


# -- Python ----------------------------------------------------------------------------------


@cache
def _python_rules() -> PythonRules:
    return PythonRules(RULES)


def writer(name: str) -> Callable[..., Any]:
    """A rule of this module as a Python function."""
    return _python_rules().function(name)


class PythonReadWriter:
    """What each milestone of a pack read, as JSON text, by Python functions compiled from
    `read_rules` (on first use of each milestone)."""

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        self.compiled = PythonRules(RULES)
        self.functions: dict[str, tuple[Callable[..., Any], list[ReadPlanField]]] = {}

    def text(self, milestone_id: str, read: tuple[tuple[str, object], ...]) -> str:
        if milestone_id not in self.functions:
            name = f"read_{len(self.functions)}"
            rules, fields = read_rules(self.pack, self.pack.milestone(milestone_id), name)
            self.compiled.rules.update((rule.name, rule) for rule in rules)
            self.functions[milestone_id] = (self.compiled.function(name), fields)
        function, fields = self.functions[milestone_id]
        values = dict(read)
        return str(function(*(values.get(field.path) for field in fields)))


# -- DuckDB ----------------------------------------------------------------------------------


def sql_macros() -> list[str]:
    """This module's rules as DuckDB macros (`dg_safe_text`, `dg_json_text`, ...)."""
    return rule_macros(RULES)


def sql_read_macros(rules: list[Rule]) -> list[str]:
    """A pack's read rules (`read_rules`) as DuckDB macros, after `sql_macros`."""
    return rule_macros(rules, known=RULES)
