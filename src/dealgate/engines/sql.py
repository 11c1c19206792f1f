"""The SQL engine: the rule model compiled to one query with sqlglot, run on embedded DuckDB.

SQL's NULL is the rule language's unknown: comparisons, arithmetic and `IN` with a NULL are
NULL, and AND/OR/NOT are three-valued, so most of the language maps onto plain SQL. What does
not map directly is spelled out: `present` is never NULL; division by zero is NULL (NULLIF);
`count`, `any` and `all` over a list distinguish a missing list (NULL) from an empty one and
treat an item whose condition is unknown as unknown, not as false (DuckDB's `list_bool_and([])`
is NULL, so no bare aggregate is used). The query gives, per deal, one status per milestone;
which milestones apply at the deal's stage, and everything after, is shared with every engine.

The tree is compiled with sqlglot's expression builder; what differs between dialects (lists,
dates, safe casts, division, truth tests) is asked of a strategy (`dealgate.engines.dialects`),
so DuckDB, Spark, PostgreSQL, Snowflake and BigQuery are each generated from the tree.
"""

from __future__ import annotations

import itertools
import json
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlglot import exp

from dealgate.engines.base import (
    ApplicableMilestones,
    DealOutcomes,
    DealRequest,
    EngineUnavailable,
    Outcome,
    deal_values,
)
from dealgate.engines.dialects import (
    DuckDB,
    SqlDialect,
    dialect_named,
    func,
    is_null,
    table_name,
)
from dealgate.engines.kinds import FIRST_DAY, LAST_DAY, deal_fields, static_kind
from dealgate.errors import DealgateError
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
from dealgate.rules.model import RulePack
from dealgate.rules.types import NUMERIC, FieldType, Kind

BATCH = 10_000  # deals per query: bounds the memory of the Arrow table and its values
ROW = "_dealgate_row"  # a reader never makes a field name that starts with "_"
_COMPARE = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
_STATUS = {"m": Outcome.MET, "x": Outcome.MISSING, "n": Outcome.NOT_APPLICABLE}
_NULL = exp.Null()


def _cast(value: exp.Expr, to: str) -> exp.Expr:
    return exp.Cast(this=value, to=exp.DataType.build(to))


def _arithmetic_kind(op: str, left: Kind, right: Kind) -> Kind | None:
    """The kind of `left op right` for known kinds (as kinds.static_kind); None if none."""
    if left in NUMERIC and right in NUMERIC:
        return Kind.NUMBER
    if left is Kind.DATE and right is Kind.DATE:
        return Kind.NUMBER if op == "-" else None
    if left is Kind.DATE and right in NUMERIC and op in "+-":
        return Kind.DATE
    if right is Kind.DATE and left in NUMERIC and op == "+":
        return Kind.DATE
    return None


def _comparable(first: Kind, second: Kind) -> bool:
    """Whether values of two known kinds can be compared in SQL."""
    return first is second or (first in NUMERIC and second in NUMERIC)


def column_name(path: FieldPath) -> str:
    """The column a deal field path reads; a record's field is flat (champion_name)."""
    parts = path.parts[1:] if path.parts[0] == "deal" and len(path.parts) > 1 else path.parts
    return "_".join(parts)


class SqlCompiler:
    """Compiles conditions of one pack, for one as-of date, into sqlglot expressions of one
    dialect."""

    def __init__(self, pack: RulePack, as_of: date, dialect: SqlDialect | None = None) -> None:
        self.pack = pack
        self.dialect = dialect or DuckDB()
        self.fields = deal_fields(pack)
        self.today = _cast(exp.Literal.string(as_of.isoformat()), "DATE")
        self.positions = {stage.id: stage.position for stage in pack.stages}
        self._lambdas = itertools.count()

    # -- the kind of a value, for comparisons of undeclared fields ----------------------

    def kind(self, node: Expr, item: FieldType | None) -> Kind:
        return static_kind(node, self.fields, item)

    def read_kind(self, node: Expr, item: FieldType | None) -> Kind:
        """The kind of the value the SQL computes: the static kind, except for `+`/`-`
        reading one undeclared field as a date (docs/rules.md, "Type checking"), which
        gives a date or a day count; ANY when the text is never computed with."""
        kind = self.kind(node, item)
        if kind is not Kind.ANY or not isinstance(node, Arithmetic):
            return kind
        return self._date_reading(node, item) or Kind.ANY

    def _date_reading(self, node: Arithmetic, item: FieldType | None) -> Kind | None:
        """The kind of arithmetic on an undeclared field: `+`/`-` reads one undeclared
        field as a date; None for anything else (two undeclared fields, `*`, `/`)."""
        sides = (node.left, node.right)
        kinds = [self.read_kind(side, item) for side in sides]
        undeclared = [i for i, kind in enumerate(kinds) if kind is Kind.ANY]
        if len(undeclared) > 1:
            return None
        if undeclared:
            if node.op not in "+-" or not isinstance(sides[undeclared[0]], FieldPath):
                return None
            kinds[undeclared[0]] = Kind.DATE
        return _arithmetic_kind(node.op, kinds[0], kinds[1])

    # -- truth ------------------------------------------------------------------------

    def truth(self, node: Expr, item: _Item | None = None) -> exp.Expr:
        """A three-valued condition: TRUE, FALSE or NULL."""
        match node:
            case Logical(op="and", left=left, right=right):
                return exp.and_(self.truth(left, item), self.truth(right, item), copy=False)
            case Logical(op="or", left=left, right=right):
                return exp.or_(self.truth(left, item), self.truth(right, item), copy=False)
            case Not(operand=operand):
                return exp.Not(this=exp.Paren(this=self.truth(operand, item)))
            case Boolean(value=flag):
                return self.dialect.boolean(flag)
            case Compare(op=op, left=left, right=right):
                return self.compare(op, left, right, item)
            case InList(operand=operand, items=items, negated=negated):
                return self.membership(operand, items, negated, item)
            case Call(function="present", args=(FieldPath() as path,)):
                return self.present(path, item)
            case Call(function="any" | "all", args=(FieldPath() as path, condition)):
                return self.list_truth(node.function == "any", path, condition, item)
            case Call(function="contains" | "contains_any", args=(text, *phrases)):
                found = [self._contains(text, phrase, item) for phrase in phrases]
                return exp.Paren(this=exp.or_(*found, copy=False)) if len(found) > 1 else found[0]
            case Call(function="starts_with", args=(text, String(value=phrase))):
                start = exp.Substring(
                    this=self.value(text, item),
                    start=exp.Literal.number(1),
                    length=exp.Literal.number(len(phrase)),
                )
                return exp.EQ(this=start, expression=exp.Literal.string(phrase))
        # A value used as a condition: a boolean is itself, anything else is unknown.
        kind = self.kind(node, item.type if item else None)
        if kind is Kind.BOOLEAN:
            return self.value(node, item)
        return _NULL

    def compare(self, op: str, left: Expr, right: Expr, item: _Item | None) -> exp.Expr:
        item_type = item.type if item else None
        kinds = (self.read_kind(left, item_type), self.read_kind(right, item_type))
        first, second = self.value(left, item), self.value(right, item)
        static = (self.kind(left, item_type), self.kind(right, item_type))
        if kinds != static and Kind.ANY not in kinds and not _comparable(*kinds):
            return _NULL  # an undeclared field's date arithmetic against a number, say
        if Kind.ANY in kinds:
            other = kinds[1] if kinds[0] is Kind.ANY else kinds[0]
            if other is Kind.ANY and op not in ("==", "!="):
                return _NULL  # undeclared text is never ordered
            if other is Kind.BOOLEAN:
                return _NULL  # text is never a yes/no
            first = self._as(first, kinds[0], other)
            second = self._as(second, kinds[1], other)
        return _COMPARE[op](this=first, expression=second)

    def _as(self, value: exp.Expr, kind: Kind, like: Kind) -> exp.Expr:
        """An undeclared field's text read as the kind it is compared with, when it reads."""
        if kind is not Kind.ANY or not isinstance(value, exp.Column | exp.Dot | exp.Cast):
            return value
        if like in NUMERIC:
            return self.dialect.number_from_text(self.dialect.trim(value))
        if like is Kind.DATE:
            return self.dialect.date_from_text(self.dialect.trim(value))
        return value

    def membership(
        self, operand: Expr, items: tuple[Expr, ...], negated: bool, item: _Item | None
    ) -> exp.Expr:
        item_type = item.type if item else None
        kind = self.kind(operand, item_type)
        listed = [self.value(entry, item) for entry in items]
        value = self.value(operand, item)
        if kind is Kind.ANY and self.read_kind(operand, item_type) is not Kind.ANY:
            # date arithmetic on an undeclared field: each item compared on its own, as
            # compare() keeps dates from being compared with numbers or text
            each = exp.Paren(
                this=exp.or_(
                    *(self.compare("==", operand, entry, item) for entry in items), copy=False
                )
            )
            return exp.Not(this=each) if negated else each
        if kind is Kind.ANY:
            kinds = {self.kind(entry, item_type) for entry in items} - {Kind.ANY}
            if Kind.BOOLEAN in kinds:
                return _NULL  # text is never a yes/no
            if len(kinds) == 1:
                value = self._as(value, Kind.ANY, kinds.pop())
            elif len(kinds) > 1:
                # Text against numbers and text: IN would cast the text to one kind, which
                # fails on text that does not read (an error in DuckDB and in Spark's ANSI
                # mode), so each item is compared on its own: x IN (a, b) is x = a OR x = b.
                found: exp.Expr = exp.Paren(
                    this=exp.or_(
                        *(self.compare("==", operand, entry, item) for entry in items), copy=False
                    )
                )
                return exp.Not(this=found) if negated else found
        found = exp.In(this=value, expressions=listed)
        return exp.Not(this=exp.Paren(this=found)) if negated else found

    def _contains(self, text: Expr, phrase: Expr, item: _Item | None) -> exp.Expr:
        """The phrase is in the text: its position, so % and _ are plain characters."""
        position = exp.StrPosition(this=self.value(text, item), substr=self.value(phrase, item))
        return exp.GT(this=position, expression=exp.Literal.number(0))

    def by_stage(
        self,
        stages: tuple[Expr, ...],
        values: tuple[Expr, ...],
        default: Expr | None,
        item: _Item | None,
    ) -> exp.Expr:
        """CASE on the deal's stage position; no listed stage and no default is NULL."""
        choice = exp.Case()
        for stage, value in zip(stages, values, strict=True):
            is_stage = exp.EQ(
                this=self.dialect.deal_column("stage"), expression=self.value(stage, item)
            )
            choice = choice.when(is_stage, self.value(value, item))
        return choice.else_(self.value(default, item) if default is not None else _NULL.copy())

    def present(self, path: FieldPath, item: _Item | None) -> exp.Expr:
        """Never NULL: the value exists and is not blank text or an empty list."""
        target = self.field(path, item)
        kind = self.kind(path, item.type if item else None)
        exists = exp.Not(this=exp.Is(this=target, expression=exp.Null()))
        if kind in (Kind.TEXT, Kind.ANY):
            text = self.dialect.trim(self.dialect.text(target.copy()))
            blank = exp.EQ(this=text, expression=exp.Literal.string(""))
            return exp.and_(exists, exp.Not(this=exp.Paren(this=blank)), copy=False)
        if kind is Kind.LIST:
            length = self.dialect.length(target.copy())
            empty = exp.EQ(this=length, expression=exp.Literal.number(0))
            return exp.and_(exists, exp.Not(this=exp.Paren(this=empty)), copy=False)
        return exists

    def _typed_list(self, path: FieldPath, item: _Item | None) -> bool:
        """Whether a list's items have declared fields the query can read."""
        found = self._list_type(path, item)
        return found is not None and bool(found.fields)

    def _list_type(self, path: FieldPath, item: _Item | None) -> FieldType | None:
        if item is None or (path.parts[0] == "deal" and len(path.parts) > 1):
            found = self.fields.get(column_name(path))
        else:
            found = item.type.fields.get("_".join(path.parts)) if item.type else None
        return found if found is not None and found.kind is Kind.LIST else None

    def list_truth(
        self, is_any: bool, path: FieldPath, condition: Expr, item: _Item | None
    ) -> exp.Expr:
        """any/all, three-valued item by item; a missing list is unknown, an empty one not."""
        if not self._typed_list(path, item):
            return _NULL  # items of undeclared shape: see docs/engines.md
        items = self.field(path, item)
        inner = self._item_scope(path, item)
        test = self.truth(condition, inner)
        decisive = test.copy() if is_any else exp.Not(this=exp.Paren(this=test.copy()))
        unknown = is_null(exp.Paren(this=test))
        some = self.dialect.some
        return (
            exp.Case()
            .when(is_null(items.copy()), _NULL.copy())
            .when(some(items.copy(), inner.name, decisive), self.dialect.boolean(is_any))
            .when(some(items, inner.name, unknown), _NULL.copy())
            .else_(self.dialect.boolean(not is_any))
        )

    # -- values -------------------------------------------------------------------------

    def value(self, node: Expr, item: _Item | None = None) -> exp.Expr:
        match node:
            case Number(value=number):
                return _cast(exp.Literal.number(format(number, "f")), "DOUBLE")
            case String(value=text):
                return exp.Literal.string(text)
            case DateLiteral(value=day):
                return _cast(exp.Literal.string(day.isoformat()), "DATE")
            case Today():
                return self.today.copy()
            case Boolean(value=flag):
                return self.dialect.boolean(flag)
            case StageRef(stage_id=stage_id):
                return exp.Literal.number(self.positions[stage_id])
            case FieldPath():
                return self.field(node, item)
            case Negate(operand=operand):
                if self._computed_from_text(operand, item, Kind.NUMBER):
                    return _NULL
                return exp.Neg(this=exp.Paren(this=self.value(operand, item)))
            case Arithmetic():
                return self.arithmetic(node, item)
            case Call(function="days_since" | "days_until", args=(argument,)) if (
                self._computed_from_text(argument, item, Kind.DATE)
            ):
                return _NULL
            case Call(function="days_since", args=(argument,)):
                return self._days(self.today.copy(), self._as_date(argument, item))
            case Call(function="days_until", args=(argument,)):
                return self._days(self._as_date(argument, item), self.today.copy())
            case Call(function="count", args=(FieldPath() as path,)):
                if self._list_type(path, item) is None:
                    return _NULL
                return _cast(self.dialect.length(self.field(path, item)), "DOUBLE")
            case Call(function="count", args=(FieldPath() as path, condition)):
                if not self._typed_list(path, item):
                    return _NULL
                items = self.field(path, item)
                inner = self._item_scope(path, item)
                test = self.truth(condition, inner)
                return _cast(self.dialect.count_where(items, inner.name, test), "DOUBLE")
            case Call(function="length", args=(text,)):
                return _cast(exp.Length(this=self.value(text, item)), "DOUBLE")
            case Call(function="lower", args=(text,)):
                return exp.Lower(this=self.value(text, item))
            case ByStage(stages=stages, values=values, default=default):
                return self.by_stage(stages, values, default, item)
        return self.truth(node, item)

    def _days(self, later: exp.Expr, earlier: exp.Expr) -> exp.Expr:
        return self.dialect.days_between(later, earlier)

    def _stays_in_calendar(self, day: exp.Expr, days: exp.Expr, subtract: bool) -> exp.Expr:
        """Whether day moved by days stays within years 1 to 9999, as Python's dates do
        (kinds.FIRST_DAY, LAST_DAY); CASE then never computes a date outside it."""
        first = _cast(exp.Literal.string(FIRST_DAY.isoformat()), "DATE")
        last = _cast(exp.Literal.string(LAST_DAY.isoformat()), "DATE")
        moved = exp.Neg(this=exp.Paren(this=days.copy())) if subtract else days.copy()
        return exp.Between(
            this=moved,
            low=exp.Neg(this=exp.Paren(this=self.dialect.days_between(day.copy(), first))),
            high=self.dialect.days_between(last, day.copy()),
        )

    def _computed_from_text(self, node: Expr, item: _Item | None, wanted: Kind) -> bool:
        """Whether a function or operator wanting a date (or a number) is given undeclared
        text it does not read: an undeclared field is read as a date there (`_as_date`),
        never as a number; the result is then unknown, as in the Python evaluator."""
        item_type = item.type if item else None
        kind = self.read_kind(node, item_type)
        if kind is not Kind.ANY:
            return self.kind(node, item_type) is Kind.ANY and kind is not wanted
        return not (wanted is Kind.DATE and isinstance(node, FieldPath))

    def _as_date(self, node: Expr, item: _Item | None) -> exp.Expr:
        """A date operand: an undeclared field's text read as a date when it is an ISO date."""
        value = self.value(node, item)
        if isinstance(node, FieldPath) and self.kind(node, item.type if item else None) is Kind.ANY:
            return self._as(value, Kind.ANY, Kind.DATE)
        return value

    def arithmetic(self, node: Arithmetic, item: _Item | None) -> exp.Expr:
        item_type = item.type if item else None
        kinds = (self.kind(node.left, item_type), self.kind(node.right, item_type))
        if Kind.ANY in kinds:
            if self.read_kind(node, item_type) is Kind.ANY:
                return _NULL  # undeclared text is never computed with as a number
            read = (self.read_kind(node.left, item_type), self.read_kind(node.right, item_type))
            kinds = (
                Kind.DATE if read[0] is Kind.ANY else read[0],
                Kind.DATE if read[1] is Kind.ANY else read[1],
            )
            left, right = self._as_date(node.left, item), self._as_date(node.right, item)
        else:
            left, right = self.value(node.left, item), self.value(node.right, item)
        if Kind.DATE in kinds:
            if node.op == "-" and kinds == (Kind.DATE, Kind.DATE):
                return self._days(left, right)
            days = right if kinds[0] is Kind.DATE else left
            day = left if kinds[0] is Kind.DATE else right
            if node.op == "-" and kinds[0] is not Kind.DATE:
                return _NULL  # days - date means nothing
            integral = exp.EQ(this=days.copy(), expression=func("FLOOR", days.copy()))
            fits = self._stays_in_calendar(day, days, subtract=node.op == "-")
            moved = self.dialect.add_days(day, days, subtract=node.op == "-")
            return exp.Case().when(exp.and_(integral, fits), moved).else_(_NULL)
        operators = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}
        if node.op in operators:
            return exp.Paren(this=operators[node.op](this=left, expression=right))
        return self.dialect.divide(left, right)

    def field(self, path: FieldPath, item: _Item | None) -> exp.Expr:
        """A deal column, or a field of the current list item (`x0.role`)."""
        in_deal = path.parts[0] == "deal" and len(path.parts) > 1
        if item is not None and not in_deal:
            name = "_".join(path.parts)
            item_fields = item.type.fields if item.type else {}
            return self.dialect.item_field(item.name, name, item_fields.get(name))
        parts = path.parts[1:] if in_deal else path.parts
        declared = self.fields.get(parts[0])
        if len(parts) > 1 and declared is not None and declared.kind is Kind.RECORD:
            target = self.dialect.deal_column(parts[0])
            record: FieldType | None = declared
            for part in parts[1:]:  # a declared record is a struct column
                found = record.fields.get(part) if record is not None else None
                target = self.dialect.record_field(target, part, found)
                record = found if found is not None and found.kind is Kind.RECORD else None
            return target
        return self.dialect.deal_column(column_name(path))

    def _item_scope(self, path: FieldPath, outer: _Item | None) -> _Item:
        if outer is None or path.parts[0] == "deal":
            found = self.fields.get(column_name(path))
        else:
            found = outer.type.fields.get("_".join(path.parts)) if outer.type else None
        item_type = found if found is not None and found.kind is Kind.LIST else None
        return _Item(f"x{next(self._lambdas)}", item_type)


class _Item:
    """The variable of a list condition's lambda, and the type of its items."""

    def __init__(self, name: str, list_type: FieldType | None) -> None:
        self.name = name
        self.type = list_type


def status_expression(compiler: SqlCompiler, require: Expr, when: Expr | None) -> exp.Expr:
    """'n' not applicable (when is not TRUE), 'm' met (require is TRUE), else 'x' missing."""
    is_true = compiler.dialect.is_true
    case = exp.Case()
    if when is not None:
        case = case.when(exp.Not(this=is_true(compiler.truth(when))), exp.Literal.string("n"))
    met = is_true(compiler.truth(require))
    return case.when(met, exp.Literal.string("m")).else_(exp.Literal.string("x"))


def compile_query(
    pack: RulePack, as_of: date, table: str = "deals", dialect: str = "duckdb"
) -> exp.Select:
    """One query over a table of canonical deals: a status column per milestone, built for
    one dialect (duckdb, spark, postgres, snowflake, bigquery); write it with
    `.sql(dialect=...)` of the same dialect."""
    strategy = dialect_named(dialect)
    compiler = SqlCompiler(pack, as_of, strategy)
    row = strategy.deal_column(ROW)
    columns: list[exp.Expr] = [row]
    for milestone in pack.milestones():
        when = milestone.when.tree if milestone.when is not None else None
        status = status_expression(compiler, milestone.require.tree, when)
        columns.append(exp.alias_(status, exp.to_identifier(milestone.id, quoted=True)))
    return exp.select(*columns).from_(strategy.table(table)).order_by(row.copy())


def query_sql(pack: RulePack, as_of: date, dialect: str = "duckdb", table: str = "deals") -> str:
    """The audit query as text of one dialect, pretty-printed."""
    tree = compile_query(pack, as_of, table, dialect)
    header = (
        f"-- Audit query of pack {pack.id} as of {as_of.isoformat()} ({dialect}).\n"
        f"-- One row per deal: {ROW}, then a status per milestone: 'm' met, 'x' missing,"
        " 'n' not applicable.\n"
    )
    return header + tree.sql(dialect=dialect, pretty=True) + ";\n"


def schema_sql(pack: RulePack, dialect: str = "duckdb", table: str = "deals") -> str:
    """The DDL of the table of canonical deals the audit query reads: exactly its columns
    (the row number, the stage as its position in the pack, and `columns_read`)."""
    strategy = dialect_named(dialect)
    types: dict[str, str] = {}
    columns = [
        exp.ColumnDef(this=exp.to_identifier(ROW, quoted=True), kind=exp.DataType.build("BIGINT")),
        exp.ColumnDef(this=exp.to_identifier("stage", quoted=True), kind=exp.DataType.build("INT")),
    ]
    for name, field_type in columns_read(pack).items():
        kind = strategy.column_type(field_type, name, types)
        columns.append(exp.ColumnDef(this=exp.to_identifier(name, quoted=True), kind=kind))
    create = exp.Create(this=exp.Schema(this=table_name(table), expressions=columns), kind="TABLE")
    stages = ", ".join(f"{stage.position} {stage.id}" for stage in pack.stages)
    lines = [
        f"-- Deals for the audit query of pack {pack.id}: one row per deal, numbered by",
        f"-- {ROW}; stage is the position of the deal's stage in the pack:",
        *textwrap.wrap(stages, 96, initial_indent="-- ", subsequent_indent="-- "),
        *(f"{definition};" for definition in types.values()),
        create.sql(dialect=dialect, pretty=True) + ";",
    ]
    return "\n".join(lines) + "\n"


# --- the table of deals ---------------------------------------------------------------


def _arrow_type(field_type: FieldType) -> Any:
    import pyarrow as pa

    kind = field_type.kind
    if kind in NUMERIC:
        return pa.float64()
    if kind is Kind.DATE:
        return pa.date32()
    if kind is Kind.BOOLEAN:
        return pa.bool_()
    if kind is Kind.STAGE:
        return pa.int32()
    if kind in (Kind.LIST, Kind.RECORD) and field_type.fields:
        struct = pa.struct([(name, _arrow_type(item)) for name, item in field_type.fields.items()])
        return pa.list_(struct) if kind is Kind.LIST else struct
    if kind is Kind.LIST:
        return pa.list_(pa.string())  # items of undeclared shape: counted, not read
    return pa.string()


def _cell(value: Any, field_type: FieldType) -> Any:
    """A deal's value as its column holds it; None for a value of another kind."""
    if value is None:
        return None
    kind = field_type.kind
    if kind in NUMERIC:
        ok = isinstance(value, int | Decimal | float) and not isinstance(value, bool)
        return float(value) if ok else None
    if kind is Kind.DATE:
        return value if isinstance(value, date) else None
    if kind is Kind.BOOLEAN:
        return value if isinstance(value, bool) else None
    if kind is Kind.STAGE:
        return value if isinstance(value, int) else None
    if kind is Kind.RECORD and field_type.fields:
        if not isinstance(value, Mapping):
            return None
        return {name: _cell(value.get(name), item) for name, item in field_type.fields.items()}
    if kind is Kind.LIST and not field_type.fields:
        return (
            [json.dumps(entry, default=str) for entry in value] if isinstance(value, list) else None
        )
    if kind is Kind.LIST:
        if not isinstance(value, list):
            return None
        return [
            {name: _cell(entry.get(name), item) for name, item in field_type.fields.items()}
            if isinstance(entry, Mapping)
            else None
            for entry in value
        ]
    if isinstance(value, list | dict):
        return None
    return str(value) if not isinstance(value, bool) else str(value).lower()


def columns_read(pack: RulePack) -> dict[str, FieldType]:
    """The columns the compiled query reads, with the type each is given."""
    known = deal_fields(pack)
    columns: dict[str, FieldType] = {}
    for milestone in pack.milestones():
        for path in milestone.reads:
            top = path.split("[]")[0]
            head = top.split(".")[0]
            record = known.get(head)
            name = (
                head
                if record is not None and record.kind is Kind.RECORD
                else (top.replace(".", "_"))
            )
            if name in ("stage", ROW) or name in columns:
                continue
            columns[name] = known.get(name, FieldType(Kind.ANY))
    return columns


def table_row(
    index: int, deal: Mapping[str, Any], columns: Mapping[str, FieldType]
) -> dict[str, Any]:
    """One deal as a row of the table the query reads (lists and records as Python values)."""
    row = {ROW: index, "stage": deal.get("stage")}
    row.update({name: _cell(deal.get(name), field_type) for name, field_type in columns.items()})
    return row


def deal_outcomes(
    request: DealRequest,
    deal: Mapping[str, Any],
    row: Iterable[Any],
    milestones: list[str],
    applicable: ApplicableMilestones,
) -> DealOutcomes:
    """A row of the query's result (row number, then a status per milestone) as outcomes
    for the milestones that apply to the deal."""
    statuses = dict(zip(milestones, list(row)[1:], strict=True))
    outcomes = {
        milestone_id: _STATUS[statuses[milestone_id]] for milestone_id in applicable(request)
    }
    return DealOutcomes(request, outcomes, deal)


class EngineError(DealgateError):
    """The database refused or failed the compiled query; reported, never a traceback."""


def deals_table(values: list[dict[str, Any]], columns: Mapping[str, FieldType]) -> Any:
    """The deals as an Arrow table: the row number, the stage position and each column read."""
    import pyarrow as pa

    arrays = {
        ROW: pa.array(range(len(values)), pa.int64()),
        "stage": pa.array([deal.get("stage") for deal in values], pa.int32()),
    }
    for name, field_type in columns.items():
        arrays[name] = pa.array(
            [_cell(deal.get(name), field_type) for deal in values], _arrow_type(field_type)
        )
    return pa.table(arrays)


def outcomes_from_statuses(
    batch: list[DealRequest],
    values: list[dict[str, Any]],
    rows: Iterable[tuple[Any, ...]],
    milestones: list[str],
    applicable: ApplicableMilestones,
) -> Iterator[DealOutcomes]:
    """Each deal's outcomes from its query row (row number, then one status per milestone)."""
    for index, (request, deal, row) in enumerate(zip(batch, values, rows, strict=True)):
        if row[0] != index:  # a distributed engine must not reorder deals silently
            raise EngineError(f"the query returned deal row {row[0]} where {index} was expected")
        yield deal_outcomes(request, deal, row, milestones, applicable)


class SqlEngine:
    """Evaluates deals in batches with one DuckDB query per batch."""

    name = "sql"

    def __init__(self) -> None:
        try:
            import duckdb
        except ImportError as error:  # pragma: no cover - duckdb is a dependency
            raise EngineUnavailable(f"the sql engine needs duckdb ({error})") from None
        self._duckdb = duckdb

    def evaluate(
        self, pack: RulePack, requests: Iterable[DealRequest], as_of: date
    ) -> Iterator[DealOutcomes]:
        query = compile_query(pack, as_of).sql(dialect="duckdb")
        columns = columns_read(pack)
        milestones = [m.id for m in pack.milestones()]
        applicable = ApplicableMilestones(pack)
        iterator = iter(requests)
        connection = self._duckdb.connect()
        try:
            while batch := list(itertools.islice(iterator, BATCH)):
                values = [deal_values(request.read, pack) for request in batch]
                connection.register("deals", deals_table(values, columns))
                try:
                    rows = connection.execute(query).fetchall()
                except self._duckdb.Error as error:
                    raise EngineError(f"the sql engine failed on pack {pack.id}: {error}") from None
                connection.unregister("deals")
                yield from outcomes_from_statuses(batch, values, rows, milestones, applicable)
        finally:
            connection.close()
