"""What differs between SQL dialects, behind one small strategy object per dialect.

The SQL compiler builds one sqlglot tree per pack; where dialects need different constructs
(lists, dates, safe casts, division, truth tests, field access) it asks the dialect's strategy
for the node, so every dialect is generated from the tree, never by transpiling another
dialect's text. Each strategy keeps the language's semantics: a missing list is unknown, an
empty list gives count 0, any false and all true, an item whose condition is unknown is not
counted, a text that does not read as a number or a date is unknown, and nothing raises.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlglot import exp

from dealgate.engines.kinds import NUMBER_TEXT
from dealgate.errors import UsageError
from dealgate.rules.types import NUMERIC, FieldType, Kind

DEAL = "d"  # the alias of the deals table where list subqueries could shadow a deal column
_NULL = exp.Null()
# an ISO date of a year from 1 (no lookahead: RE2 and Snowflake's regexes have none)
_YEAR = "([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_DATE_TEXT = f"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def func(name: str, *args: exp.Expr) -> exp.Expr:
    """A function call written as named, in every dialect."""
    return exp.Anonymous(this=name, expressions=list(args))


def cast(value: exp.Expr, to: str | exp.DataType) -> exp.Expr:
    target = to if isinstance(to, exp.DataType) else exp.DataType.build(to)
    return exp.Cast(this=value, to=target)


def is_null(value: exp.Expr) -> exp.Expr:
    return exp.Is(this=value, expression=exp.Null())


def unless_null(items: exp.Expr, value: exp.Expr) -> exp.Expr:
    """NULL for a missing list, else the value (for functions that do not keep NULL)."""
    return exp.Case().when(is_null(items.copy()), _NULL.copy()).else_(value)


def lambda_(variable: str, body: exp.Expr) -> exp.Expr:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(variable)])


def array_of(item: exp.DataType) -> exp.DataType:
    return exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[item], nested=True)


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TABLE_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def table_name(name: str) -> exp.Table:
    """A table name as given: `deals`, `sales.deals` or `project.dataset.deals`."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 3 or not all(_TABLE_PART.fullmatch(part) for part in parts):
        raise UsageError(
            f"table name {name!r}: use NAME, SCHEMA.NAME or CATALOG.SCHEMA.NAME "
            "(letters, digits, _ and -)"
        )
    names: list[exp.Identifier | None] = [None] * (3 - len(parts))
    names += [exp.to_identifier(part, quoted=not _PLAIN_NAME.fullmatch(part)) for part in parts]
    return exp.Table(this=names[2], db=names[1], catalog=names[0])


def when_matches(text: exp.Expr, pattern: str, value: exp.Expr) -> exp.Expr:
    """The value when the text matches the pattern, else NULL (CASE keeps the order)."""
    matches = exp.RegexpLike(this=text, expression=exp.Literal.string(pattern))
    return exp.Case().when(matches, value).else_(_NULL.copy())


class SqlDialect:
    """The constructs of one SQL dialect; the defaults are standard SQL."""

    name = "ansi"
    qualified = False  # deal columns read as d."column" (list subqueries open a scope)

    # -- tables and fields ---------------------------------------------------------------

    def table(self, name: str) -> exp.Expr:
        table = table_name(name)
        return exp.alias_(table, DEAL, table=True) if self.qualified else table

    def column_type(self, field_type: FieldType, name: str, types: dict[str, str]) -> exp.DataType:
        """The type of a column (or a field of one) holding values of a field type; types
        collects the definitions (CREATE TYPE) a dialect needs first."""
        kind = field_type.kind
        if kind in (Kind.LIST, Kind.RECORD) and field_type.fields:
            struct = exp.DataType(
                this=exp.DataType.Type.STRUCT,
                expressions=[
                    exp.ColumnDef(
                        this=exp.to_identifier(field, quoted=True),
                        kind=self.column_type(item, f"{name}_{field}", types),
                    )
                    for field, item in field_type.fields.items()
                ],
                nested=True,
            )
            return array_of(struct) if kind is Kind.LIST else struct
        if kind is Kind.LIST:
            return array_of(exp.DataType.build("VARCHAR"))  # items of undeclared shape
        return exp.DataType.build(scalar_type(field_type))

    def deal_column(self, name: str) -> exp.Expr:
        table = exp.to_identifier(DEAL) if self.qualified else None
        return exp.column(exp.to_identifier(name, quoted=True), table=table)

    def record_field(self, record: exp.Expr, name: str, field_type: FieldType | None) -> exp.Expr:
        """A field of a record (struct) value."""
        return exp.Dot(this=record, expression=exp.to_identifier(name, quoted=True))

    def item_field(self, variable: str, name: str, field_type: FieldType | None) -> exp.Expr:
        """A field of the current list item."""
        return exp.Dot(this=exp.column(variable), expression=exp.to_identifier(name, quoted=True))

    # -- lists ---------------------------------------------------------------------------

    def length(self, items: exp.Expr) -> exp.Expr:
        """The number of items; NULL for a missing list."""
        return func("CARDINALITY", items)

    def count_where(self, items: exp.Expr, variable: str, test: exp.Expr) -> exp.Expr:
        """The number of items whose test is TRUE (unknown is not counted); NULL for a
        missing list."""
        counted = exp.select(exp.Count(this=exp.Star())).from_(self._unnest(items, variable))
        return unless_null(items, exp.Subquery(this=counted.where(test)))

    def some(self, items: exp.Expr, variable: str, test: exp.Expr) -> exp.Expr:
        """TRUE when the test of some item is TRUE, else FALSE (never NULL for a list)."""
        found = exp.select(exp.Literal.number(1)).from_(self._unnest(items, variable))
        return exp.Exists(this=found.where(test))

    def _unnest(self, items: exp.Expr, variable: str) -> exp.Expr:
        return exp.Unnest(
            expressions=[items], alias=exp.TableAlias(this=exp.to_identifier(variable))
        )

    # -- dates ---------------------------------------------------------------------------

    def days_between(self, later: exp.Expr, earlier: exp.Expr) -> exp.Expr:
        """Whole days from earlier to later, as a number."""
        return cast(exp.Sub(this=later, expression=earlier), "DOUBLE")

    def add_days(self, day: exp.Expr, days: exp.Expr, subtract: bool) -> exp.Expr:
        """The day moved by a whole number of days (days is integral, not NULL-checked)."""
        whole = self.safe_integer(days)
        return (exp.Sub if subtract else exp.Add)(this=day, expression=whole)

    def safe_integer(self, number: exp.Expr) -> exp.Expr:
        return exp.TryCast(this=number, to=exp.DataType.build("INT"), safe=True)

    # -- text read as a number or a date ---------------------------------------------------

    def number_from_text(self, text: exp.Expr) -> exp.Expr:
        """The text as a number when it is one in plain decimal notation (NUMBER_TEXT), else
        NULL; never an error."""
        read = exp.TryCast(this=text.copy(), to=exp.DataType.build("DOUBLE"), safe=True)
        return when_matches(text, NUMBER_TEXT, read)

    def date_from_text(self, text: exp.Expr) -> exp.Expr:
        """The text as a date when it is an ISO date (YYYY-MM-DD), else NULL; never an
        error. Safe casts elsewhere also read '2026' or '2026-01' as a date."""
        read = exp.TryCast(this=text.copy(), to=exp.DataType.build("DATE"), safe=True)
        return when_matches(text, _DATE_TEXT, read)

    def trim(self, text: exp.Expr) -> exp.Expr:
        return func("TRIM", text)

    def join_texts(self, separator: str, texts: Sequence[exp.Expr]) -> exp.Expr:
        """The texts that are not NULL joined by the separator; '' when every one is NULL."""
        # safe and coalesce: sqlglot's CONCAT_WS that leaves out NULL items
        items = [exp.Literal.string(separator), *texts]
        return exp.ConcatWs(expressions=items, safe=True, coalesce=True)

    def text(self, value: exp.Expr) -> exp.Expr:
        return cast(value, "VARCHAR")

    # -- numbers and truth -----------------------------------------------------------------

    def divide(self, dividend: exp.Expr, divisor: exp.Expr) -> exp.Expr:
        """Division by zero is NULL, never an error."""
        zero = cast(exp.Literal.number(0), "DOUBLE")
        return exp.Paren(this=exp.Div(this=dividend, expression=func("NULLIF", divisor, zero)))

    def boolean(self, flag: bool) -> exp.Expr:
        return exp.Boolean(this=flag)

    def is_true(self, condition: exp.Expr) -> exp.Expr:
        """TRUE when the condition is TRUE, FALSE when it is FALSE or NULL."""
        return func("COALESCE", exp.Paren(this=condition), self.boolean(False))


class DuckDB(SqlDialect):
    """DuckDB: list lambdas, LEN, TRY_CAST, date - date."""

    name = "duckdb"

    def length(self, items: exp.Expr) -> exp.Expr:
        return func("LEN", items)

    def count_where(self, items: exp.Expr, variable: str, test: exp.Expr) -> exp.Expr:
        return func("LEN", func("LIST_FILTER", items, lambda_(variable, test)))

    def some(self, items: exp.Expr, variable: str, test: exp.Expr) -> exp.Expr:
        return exp.GT(
            this=self.count_where(items, variable, test), expression=exp.Literal.number(0)
        )

    def add_days(self, day: exp.Expr, days: exp.Expr, subtract: bool) -> exp.Expr:
        whole = exp.TryCast(this=days, to=exp.DataType.build("INTEGER"))
        return (exp.Sub if subtract else exp.Add)(this=day, expression=whole)

    def number_from_text(self, text: exp.Expr) -> exp.Expr:
        read = exp.TryCast(this=text.copy(), to=exp.DataType.build("DOUBLE"))
        return when_matches(text, NUMBER_TEXT, read)

    def date_from_text(self, text: exp.Expr) -> exp.Expr:
        return exp.TryCast(this=text, to=exp.DataType.build("DATE"))

    def is_true(self, condition: exp.Expr) -> exp.Expr:
        return exp.Is(this=exp.Paren(this=condition), expression=exp.Boolean(this=True))


class Spark(SqlDialect):
    """Spark SQL 3.5 and 4 (ANSI mode on or off): filter/exists lambdas, size, try_cast,
    datediff, date_add. Nothing relies on settings: size(NULL) is -1 with the legacy
    setting, so a missing list is tested first; exists over items whose condition is NULL
    depends on spark.sql.legacy.followThreeValuedLogicInArrayExists, so each item's
    condition is made TRUE or FALSE before exists sees it."""

    name = "spark"

    def length(self, items: exp.Expr) -> exp.Expr:
        return unless_null(items, func("SIZE", items.copy()))

    def count_where(self, items: exp.Expr, variable: str, test: exp.Expr) -> exp.Expr:
        kept = func("FILTER", items.copy(), lambda_(variable, self.is_true(test)))
        return unless_null(items, func("SIZE", kept))

    def some(self, items: exp.Expr, variable: str, test: exp.Expr) -> exp.Expr:
        return func("EXISTS", items, lambda_(variable, self.is_true(test)))

    def number_from_text(self, text: exp.Expr) -> exp.Expr:
        # Spark's cast also reads '1.5d' and 'Infinity'; keep to plain decimal numbers
        read = exp.TryCast(this=text.copy(), to=exp.DataType.build("DOUBLE"), safe=True)
        return when_matches(text, NUMBER_TEXT, read)

    def days_between(self, later: exp.Expr, earlier: exp.Expr) -> exp.Expr:
        return cast(func("DATEDIFF", later, earlier), "DOUBLE")

    def add_days(self, day: exp.Expr, days: exp.Expr, subtract: bool) -> exp.Expr:
        return func("DATE_SUB" if subtract else "DATE_ADD", day, self.safe_integer(days))


class Postgres(SqlDialect):
    """PostgreSQL: arrays of composite types read with UNNEST subqueries; casts guarded
    by a pattern, as PostgreSQL has no safe cast."""

    name = "postgres"
    qualified = True

    def column_type(self, field_type: FieldType, name: str, types: dict[str, str]) -> exp.DataType:
        kind = field_type.kind
        if kind not in (Kind.LIST, Kind.RECORD) or not field_type.fields:
            return super().column_type(field_type, name, types)
        # a list of records is an array of a composite type, a record a composite value
        type_name = re.sub(r"[^a-z0-9_]", "_", f"dealgate_{name}".lower())
        type_name += "_item" if kind is Kind.LIST else "_record"
        fields = ", ".join(
            exp.ColumnDef(
                this=exp.to_identifier(field, quoted=True),
                kind=self.column_type(item, f"{name}_{field}", types),
            ).sql(dialect="postgres")
            for field, item in field_type.fields.items()
        )
        types[type_name] = f"CREATE TYPE {type_name} AS ({fields})"
        composite = exp.DataType.build(type_name, udt=True)
        return array_of(composite) if kind is Kind.LIST else composite

    def record_field(self, record: exp.Expr, name: str, field_type: FieldType | None) -> exp.Expr:
        # (d."champion")."name": without the parentheses the record reads as a table
        return exp.Dot(this=exp.Paren(this=record), expression=exp.to_identifier(name, quoted=True))

    def days_between(self, later: exp.Expr, earlier: exp.Expr) -> exp.Expr:
        return cast(exp.Paren(this=exp.Sub(this=later, expression=earlier)), "DOUBLE")

    def safe_integer(self, number: exp.Expr) -> exp.Expr:
        # integral days beyond an INTEGER are no day PostgreSQL can hold either
        fits = exp.Between(
            this=number.copy(),
            low=exp.Literal.number(-2_000_000_000),
            high=exp.Literal.number(2_000_000_000),
        )
        return exp.Case().when(fits, cast(number, "INT")).else_(_NULL.copy())

    def number_from_text(self, text: exp.Expr) -> exp.Expr:
        return when_matches(text.copy(), NUMBER_TEXT, cast(text, "DOUBLE"))

    def date_from_text(self, text: exp.Expr) -> exp.Expr:
        # the pattern leaves out days past the 31st; the month's own last day is checked
        # after it (CASE keeps the order, so no cast ever sees an impossible date)
        first = cast(
            exp.DPipe(
                this=func("SUBSTR", text.copy(), exp.Literal.number(1), exp.Literal.number(8)),
                expression=exp.Literal.string("01"),
            ),
            "DATE",
        )
        last = exp.Sub(
            this=exp.Add(this=first, expression=exp.Interval(this=exp.Literal.string("1 month"))),
            expression=exp.Interval(this=exp.Literal.string("1 day")),
        )
        day = cast(func("SUBSTR", text.copy(), exp.Literal.number(9)), "INT")
        in_month = exp.LTE(this=day, expression=exp.Extract(this=exp.var("DAY"), expression=last))
        valid = exp.Case().when(in_month, cast(text.copy(), "DATE")).else_(_NULL.copy())
        return when_matches(text, _DATE_TEXT, valid)

    def is_true(self, condition: exp.Expr) -> exp.Expr:
        return exp.Is(this=exp.Paren(this=condition), expression=exp.Boolean(this=True))


class BigQuery(SqlDialect):
    """BigQuery: ARRAY<STRUCT> read with UNNEST subqueries, SAFE_CAST, DATE_DIFF, DATE_ADD,
    SAFE_DIVIDE."""

    name = "bigquery"
    qualified = True

    def length(self, items: exp.Expr) -> exp.Expr:
        return func("ARRAY_LENGTH", items)

    def _unnest(self, items: exp.Expr, variable: str) -> exp.Expr:
        # in BigQuery the alias of UNNEST names the item, not a table
        return exp.Unnest(
            expressions=[items], alias=exp.TableAlias(columns=[exp.to_identifier(variable)])
        )

    def days_between(self, later: exp.Expr, earlier: exp.Expr) -> exp.Expr:
        return cast(func("DATE_DIFF", later, earlier, exp.var("DAY")), "DOUBLE")

    def add_days(self, day: exp.Expr, days: exp.Expr, subtract: bool) -> exp.Expr:
        interval = exp.Interval(this=self.safe_integer(days), unit=exp.var("DAY"))
        return func("DATE_SUB" if subtract else "DATE_ADD", day, interval)

    def safe_integer(self, number: exp.Expr) -> exp.Expr:
        return exp.TryCast(this=number, to=exp.DataType.build("BIGINT"), safe=True)

    def divide(self, dividend: exp.Expr, divisor: exp.Expr) -> exp.Expr:
        return func("SAFE_DIVIDE", dividend, divisor)

    def join_texts(self, separator: str, texts: Sequence[exp.Expr]) -> exp.Expr:
        # no CONCAT_WS; ARRAY_TO_STRING leaves out NULL items
        return func(
            "ARRAY_TO_STRING", exp.Array(expressions=list(texts)), exp.Literal.string(separator)
        )

    def is_true(self, condition: exp.Expr) -> exp.Expr:
        return exp.Is(this=exp.Paren(this=condition), expression=exp.Boolean(this=True))


class Snowflake(SqlDialect):
    """Snowflake: lists are ARRAYs of OBJECTs and records OBJECTs, so fields are read as
    VARIANT and cast; FILTER and ARRAY_SIZE with lambdas; TRY_CAST from text; DATEDIFF."""

    name = "snowflake"

    def column_type(self, field_type: FieldType, name: str, types: dict[str, str]) -> exp.DataType:
        return snowflake_type(field_type)

    def record_field(self, record: exp.Expr, name: str, field_type: FieldType | None) -> exp.Expr:
        return self._variant_field(record, name, field_type)

    def item_field(self, variable: str, name: str, field_type: FieldType | None) -> exp.Expr:
        return self._variant_field(exp.column(variable), name, field_type)

    def _variant_field(self, holder: exp.Expr, name: str, field_type: FieldType | None) -> exp.Expr:
        path = exp.JSONPath(expressions=[exp.JSONPathRoot(), exp.JSONPathKey(this=name)])
        value = exp.JSONExtract(
            this=holder, expression=path, variant_extract=True, requires_json=True
        )
        return cast(value, snowflake_type(field_type or FieldType(Kind.ANY)))

    def length(self, items: exp.Expr) -> exp.Expr:
        return func("ARRAY_SIZE", items)

    def count_where(self, items: exp.Expr, variable: str, test: exp.Expr) -> exp.Expr:
        return func("ARRAY_SIZE", func("FILTER", items, lambda_(variable, self.is_true(test))))

    def some(self, items: exp.Expr, variable: str, test: exp.Expr) -> exp.Expr:
        return exp.GT(
            this=self.count_where(items, variable, test), expression=exp.Literal.number(0)
        )

    def days_between(self, later: exp.Expr, earlier: exp.Expr) -> exp.Expr:
        return cast(func("DATEDIFF", exp.var("DAY"), earlier, later), "DOUBLE")

    def add_days(self, day: exp.Expr, days: exp.Expr, subtract: bool) -> exp.Expr:
        whole = self.safe_integer(days)
        moved = exp.Neg(this=exp.Paren(this=whole)) if subtract else whole
        return func("DATEADD", exp.var("DAY"), moved, day)

    def safe_integer(self, number: exp.Expr) -> exp.Expr:
        # TRY_CAST takes text only in Snowflake; a whole DOUBLE casts exactly
        return cast(number, "BIGINT")

    def number_from_text(self, text: exp.Expr) -> exp.Expr:
        read = exp.TryCast(this=text.copy(), to=exp.DataType.build("DOUBLE"), requires_string=True)
        return when_matches(text, NUMBER_TEXT, read)

    def join_texts(self, separator: str, texts: Sequence[exp.Expr]) -> exp.Expr:
        # Snowflake's CONCAT_WS is NULL when any text is; ARRAY_CONSTRUCT_COMPACT drops them
        compact = func("ARRAY_CONSTRUCT_COMPACT", *texts)
        return func("ARRAY_TO_STRING", compact, exp.Literal.string(separator))

    def date_from_text(self, text: exp.Expr) -> exp.Expr:
        # TRY_CAST to DATE also reads other formats (and numbers as epochs): keep ISO dates
        read = exp.TryCast(this=text.copy(), to=exp.DataType.build("DATE"), requires_string=True)
        return when_matches(text, _DATE_TEXT, read)


def snowflake_type(field_type: FieldType) -> exp.DataType:
    """How Snowflake holds a value: lists as ARRAY, records as OBJECT."""
    return exp.DataType.build(
        "ARRAY"
        if field_type.kind is Kind.LIST
        else "OBJECT"
        if field_type.kind is Kind.RECORD and field_type.fields
        else scalar_type(field_type)
    )


def scalar_type(field_type: FieldType) -> str:
    """The column type of a value that is not a list or a record."""
    kind = field_type.kind
    if kind in NUMERIC:
        return "DOUBLE"
    if kind is Kind.DATE:
        return "DATE"
    if kind is Kind.BOOLEAN:
        return "BOOLEAN"
    if kind is Kind.STAGE:
        return "INT"
    return "VARCHAR"


DIALECTS: dict[str, SqlDialect] = {
    dialect.name: dialect for dialect in (DuckDB(), Spark(), Postgres(), Snowflake(), BigQuery())
}


class UnknownDialect(UsageError):
    """A dialect name dealgate does not generate."""


def dialect_named(name: str) -> SqlDialect:
    """The strategy for a dialect name (duckdb, spark, postgres, snowflake, bigquery)."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise UnknownDialect(
            f"unknown SQL dialect '{name}' (dialects: {', '.join(DIALECTS)})"
        ) from None
