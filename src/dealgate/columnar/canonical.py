"""An export read by DuckDB into a table of canonical deals, by the Python readers' rules.

A CSV file, or a Parquet file of text columns. Every column is read as text; each field is
typed by the same plan as `DealMapper` (which column fills which field, and as what) and the
DuckDB macros of `deals.sql_normalise`. The result holds one row per deal with an id, in file
order (numbered as `ROW` only when joined with contact roles): the columns the compiled rule
query reads (named as `engines.sql` names them) and the deal fields the CSV report shows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlglot import exp

from dealgate.deals.cell_language import sql_let
from dealgate.deals.deal_lists import (
    CONTACT_ROLES,
    ENTRY_DATE,
    ENTRY_VALUE,
    STAGE_CHANGES,
    STAGE_ENTRY_COLUMNS,
)
from dealgate.deals.mapper import ColumnUse, DealMapper, IdKey
from dealgate.deals.normalise import DateOrder
from dealgate.deals.opportunity_history import history_columns
from dealgate.deals.profiles import Profile, header_key
from dealgate.deals.readers import FIELD_LIMIT, Table
from dealgate.deals.readings import CellReading, reading_of, reading_of_kind
from dealgate.deals.source import ROLE_COLUMNS, _column
from dealgate.engines.dialects import DIALECTS, func
from dealgate.engines.sql import ROW, columns_read
from dealgate.rules.model import RulePack
from dealgate.rules.types import CANONICAL_FIELDS, FieldType


class Unsupported(Exception):
    """Something the columnar path does not read; the audit runs on the Python path."""


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def looked_up(keys: Sequence[exp.Expr], values: Sequence[exp.Expr], key: exp.Expr) -> exp.Expr:
    """The value of `key` in a map of a few texts (NULL for a text not in it), written as a
    constant of the query rather than a join: nothing is built or probed per deal, and the
    file's order is kept. Not a CASE with an arm per text: DuckDB repeats a CASE's subject in
    every arm, and where it pushes a filter below the projection that reads the text, the
    reading with it (the stage's cleaning was 1.0 of 3.9 s at 1M deals on one thread)."""
    mapped = exp.VarMap(
        keys=exp.Array(expressions=list(keys)), values=exp.Array(expressions=list(values))
    )
    return func("map_extract_value", mapped, key)


# header_key is Python's, computed by CanonicalQuery.read_keys for the distinct texts the
# export holds where texts are compared by key (owners, managers, value-mapped fields). The
# SQL compares texts as written: the maps of the manager and the value maps, and the IN
# lists of the --owner and --manager filters, hold every spelling with the key asked for.
# Constants, not a lookup per row: a correlated lookup made DuckDB hold the whole table
# (6 GB at 300k deals), a filter by subquery was not pushed down (twice as slow).

# Fields the CSV report shows besides what the rules read.
REPORTED = ("id", "name", "owner", "manager", "amount", "currency", "close_date")


@dataclass(frozen=True)
class Export:
    """A CSV file as the Python reader opened it (its headers and delimiter), or a Parquet
    file whose columns all hold text."""

    path: Path
    headers: list[str]
    delimiter: str = ","
    format: str = "csv"


@dataclass
class CanonicalQuery:
    """The SQL that reads the export into canonical deals, and the stage texts to map."""

    pack: RulePack
    profile: Profile
    export: Export
    roles: Export | None
    history_file: Export | None = None  # --stage-history: OpportunityHistory rows

    def __post_init__(self) -> None:
        if self.profile.joins:
            # A join in DuckDB may reorder rows (see run_columnar_audit); the Python route
            # joins record by record, in the file's order.
            raise Unsupported("side tables joined by the mapping file (joins:)")
        table = Table(str(self.export.path), "csv", self.export.headers, iter(()))
        mapper = DealMapper(table, self.profile, self.pack)  # raises without an id or a name
        self.plan = mapper.plan
        self.id_key = mapper.id_key
        self.notes = tuple(mapper.notes)
        if self.id_key is not None and self.roles is not None:
            raise Unsupported("contact roles for a file without an id column")
        if self.id_key is not None and self.history_file is not None:
            raise Unsupported("a stage history file for a file without an id column")
        # the history file's columns; InputError (the Python reader says what is wrong)
        self.history_columns = (
            history_columns(self.history_file.path, self.history_file.headers)
            if self.history_file is not None
            else {}
        )
        if "amount" in self.profile.value_maps:  # the currency is read from the mapped text
            raise Unsupported("a value map on the amount")
        if self.pack.placeholders is not None:  # the SQL macros hold dealgate's list
            raise Unsupported("a pack that changes which texts are placeholders")
        self.month_first = "true" if self.profile.date_order is DateOrder.MONTH_FIRST else "false"
        self.comma = "true" if self.profile.decimal_mark == "," else "false"
        self.filled = {
            use.field: use
            for use in self.plan
            if use.field is not None and use.kind != "stage_history"
        }
        self.history = [use for use in self.plan if use.kind == "stage_history"]
        # contact roles and stage history are joined by deal key (`_contacts`, `_history`)
        self.numbered = (
            self.roles is not None and "contacts" not in self.filled
        ) or self.history_file is not None
        self.keys: dict[str, str] | None = None  # text -> header_key, from read_keys
        self.stage_cells: list[str] = []  # the stage column's distinct cells, from read_keys
        # header_key of each stage the history file holds, from read_keys
        self.history_stages: dict[str, str] = {}

    # -- reading -------------------------------------------------------------------------

    def source(self, export: Export) -> str:
        """Every column as text, under the header names the Python reader gives them.

        A line longer than csv's field limit is an error for DuckDB (`max_line_size`), so a
        file with a cell the Python reader drops as too long is read the Python way."""
        if export.format == "parquet":
            return f"read_parquet({literal(str(export.path))})"
        columns = ", ".join(f"{literal(header)}: 'VARCHAR'" for header in export.headers)
        return (
            f"read_csv({literal(str(export.path))}, header = true, auto_detect = false, "
            f"delim = {literal(export.delimiter)}, quote = '\"', escape = '\"', "
            f"max_line_size = {FIELD_LIMIT}, columns = {{{columns}}})"
        )

    def typed_field(self, use: ColumnUse, text: str) -> str:
        """The field a column fills, from its cell as text (`dg_text`); a blank cell is
        missing (and skips every rule, which is most of the cells of an export). A text the
        profile's value map names is read as the value it maps to, as DealMapper reads it."""
        mapping = self.profile.value_maps.get(use.field or "")
        mapped = self._looked_up(text, mapping) if mapping else None
        if mapped is not None:  # the values a map gives are texts, never NULL
            text = f"coalesce({mapped}, {text})"
        return f"CASE WHEN {text} IS NULL THEN NULL ELSE {self._field(use, text)} END"

    def _field(self, use: ColumnUse, text: str) -> str:
        return self._read(self._reading(use), text, use.field or "")

    def _reading(self, use: ColumnUse) -> CellReading:
        name = use.field or ""
        declared = self.pack.fields.get(name)
        return reading_of(name, declared.type if declared else None)

    def _read(self, reading: CellReading, text: str, name: str) -> str:
        """The SQL side of each reading of `deals/readings.py` (DealMapper's is
        `_reading_converters`), over a cell's text."""
        match reading:
            case CellReading.TEXT | CellReading.IDENTIFIER | CellReading.AS_WRITTEN:
                return text  # an undeclared field is kept as written, as text
            case CellReading.DATE:
                return f"dg_date({text}, {self.month_first})"
            case CellReading.NUMBER:
                return f"dg_number({text}, {self.comma})"
            case CellReading.MONEY:
                return f"CAST(dg_money_text({text}, {self.comma}) AS DOUBLE)"
            case CellReading.AMOUNT:
                return f"dg_money_text({text}, {self.comma})"
            case CellReading.BOOLEAN:
                return f"dg_bool({text})"
            case CellReading.PERCENT:
                fraction = any(
                    header_key(use.header) in self.profile.fraction_probability
                    for use in self.plan
                    if use.field == "probability"
                )
                return f"dg_percent({text}, {'true' if fraction else 'false'})"
            case CellReading.COUNT:
                return f"CAST(dg_count({text}) AS DOUBLE)"
            case CellReading.RECORDS:
                return self._json_records(name, text)
        raise Unsupported(f"field '{name}' of type {reading.value} in a CSV cell")

    def _json_records(self, name: str, text: str) -> str:
        """A JSON list of records in a cell: each item field read as its type. Items that
        are not records are left out, as the Python reader leaves them out; every item is
        read with one from_json, then its fields typed by the usual macros."""
        item_types = CANONICAL_FIELDS[name].fields
        schema = json.dumps([{key: "VARCHAR" for key in item_types}])
        fields = []
        for key, item_type in item_types.items():
            item_text = f"dg_text(item.{ident(key)})"
            typed = self._read(reading_of_kind(item_type.kind), item_text, f"{name}.{key}")
            if name == "action_plan" and key == "owner_side":
                typed = f"CASE WHEN {typed} IN ('buyer', 'seller') THEN {typed} END"
            fields.append(f"{literal(key)}: {typed}")
        struct = "{" + ", ".join(fields) + "}"
        records = (
            f"list_transform([json_type(dg_j, '$[*]')], lambda dg_types: list_filter("
            f"from_json(dg_j, {literal(schema)}), lambda x, i: dg_types[i] = 'OBJECT'))[1]"
        )
        return sql_let(
            text,
            "dg_j",
            f"CASE WHEN dg_j IS NULL OR NOT json_valid(dg_j) OR json_type(dg_j) <> 'ARRAY' "
            f"THEN NULL ELSE list_transform({records}, lambda item: {struct}) END",
        )

    # -- the canonical table -------------------------------------------------------------

    def sql(self, checked: bool = False) -> str:
        """The CTEs `dg_raw`, `dg_typed`, `dg_roles` and `dg_deals`, ready for a SELECT.
        Checked, `dg_typed` also says of each row whether the Python readers may report it
        (`dg_doubtful`, see `data_check_sql`)."""
        # Rows are numbered only for a join, the one step that does not keep the file's
        # order: numbering is a serial step in DuckDB.
        numbered = [f"row_number() OVER () AS {ident(ROW)}"] if self.numbered else []
        # Each cell is made text once (`dg_text`), in its own step: a macro pastes its
        # argument wherever it is used, so typing `dg_text(...)` would repeat it.
        texts = [*numbered]
        for index, use in enumerate([*self.filled.values(), *self.history]):
            texts.append(f"dg_text({ident(use.header)}) AS {ident(_text_column(index))}")
            if checked:  # a cell with text (or spaces, rare) read as missing is a data finding
                texts.append(f"{ident(use.header)} IS NOT NULL AS {_written(index)}")
        typed = [ident(ROW)] if self.numbered else []
        doubts = []
        for index, (name, use) in enumerate(self.filled.items()):
            field = self.typed_field(use, ident(_text_column(index)))
            # A written cell read as missing (a placeholder, a value that does not read), or a
            # list of records (an item may be left out): the Python readers may report it.
            if self._reading(use) is CellReading.RECORDS:
                doubts.append(_written(index))
            else:
                doubts.append(f"({_written(index)} AND {field} IS NULL)")
            if name == "amount":  # a number for the rules, its digits for the report
                texts.append(f"dg_money_currency({ident(use.header)}) AS dg_money_currency")
                typed.append(f"CAST({field} AS DOUBLE) AS amount")
                typed.append(f"{field} AS dg_amount_text")
                typed.append("dg_money_currency")
                continue
            typed.append(f"{field} AS {ident(name)}")
        for index in range(len(self.filled), len(self.filled) + len(self.history)):
            entered = f"dg_date({ident(_text_column(index))}, {self.month_first})"
            doubts.append(f"({_written(index)} AND {entered} IS NULL)")
        if self.history and "stage_history" not in self.filled:
            typed.append(f"{self._stage_history(len(self.filled))} AS stage_history")
        if checked:
            typed.append(f"({' OR '.join(doubts) or 'false'}) AS dg_doubtful")
        ctes = [
            f"dg_raw AS (SELECT {', '.join(texts) or 'NULL AS dg_nothing'} "
            f"FROM {self.source(self.export)})",
            f"dg_typed AS (SELECT {', '.join(typed)} FROM dg_raw)",
        ]
        if self.roles is not None:
            ctes.append(f"dg_roles AS ({self._roles_sql(self.roles)})")
        if self.history_file is not None:
            ctes.append(f"dg_history AS ({self._history_sql()})")
        ctes.append(f"dg_deals AS ({self._deals_sql()})")
        return "WITH " + ",\n".join(ctes)

    def _stage_history(self, first_text: int) -> str:
        """The dates a deal entered each stage (HubSpot's columns), assembled as DealMapper
        assembles them (`deal_lists.STAGE_ENTRY_COLUMNS`)."""
        entries = [
            (
                f"dg_date({ident(_text_column(first_text + index))}, {self.month_first})",
                "NULL",
                literal(use.field or ""),
            )
            for index, use in enumerate(self.history)
        ]
        item = f"{{'stage': {ENTRY_VALUE}, 'entered_on': {ENTRY_DATE}}}"
        return STAGE_ENTRY_COLUMNS.sql_in_row(entries, item)

    def _deals_sql(self) -> str:
        selected = [ident(ROW)] if self.numbered else []
        wanted = {**{name: None for name in REPORTED}, **columns_read(self.pack)}
        for name in wanted:
            if name in ("manager", "currency", "contacts", "stage"):
                continue
            selected.append(self._value(name, wanted[name]))
        selected += [self._currency(), self._manager(), self._contacts()]
        amount_text = "t.dg_amount_text" if "amount" in self.filled else "CAST(NULL AS VARCHAR)"
        selected.append(f"{amount_text} AS dg_amount_text")
        selected.append(f"{self._value_or_null('stage')} AS dg_crm_stage")
        join = ""
        if self.roles is not None and "contacts" not in self.filled:
            join = "LEFT JOIN dg_roles ON dg_roles.dg_key = dg_deal_key(t.id)"
        if self.history_file is not None:
            join += " LEFT JOIN dg_history ON dg_history.dg_key = dg_deal_key(t.id)"
        deal_id = "t.id" if self.id_key is None else _key_sql(self.id_key)
        return f"SELECT {', '.join(selected)} FROM dg_typed AS t {join} WHERE {deal_id} IS NOT NULL"

    def _value_or_null(self, name: str) -> str:
        return f"t.{ident(name)}" if name in self.filled else "NULL"

    def _has(self, name: str) -> bool:
        return name in self.filled or (name == "stage_history" and bool(self.history))

    def _value(self, name: str, field_type: FieldType | None) -> str:
        if name == "id" and self.id_key is not None:
            return f"{_key_sql(self.id_key)} AS id"
        if name == "stage_history" and self.history_file is not None:
            # the file is the complete log: it wins over the export's own stage history
            empty = f"CAST([] AS {_sql_type(CANONICAL_FIELDS['stage_history'])})"
            return f"coalesce(dg_history.stage_history, {empty}) AS stage_history"
        if self._has(name):
            return f"t.{ident(name)} AS {ident(name)}"
        sql_type = _sql_type(field_type) if field_type is not None else "VARCHAR"
        if name in CANONICAL_FIELDS and field_type is None:
            sql_type = _sql_type(CANONICAL_FIELDS[name])
        return f"CAST(NULL AS {sql_type}) AS {ident(name)}"

    def _currency(self) -> str:
        """The currency as DealMapper completes it (cell_rules' `deal_currency`)."""
        default = self.profile.default_currency
        arguments = [
            self._value_or_null("currency"),
            "t.dg_money_currency" if "amount" in self.filled else "NULL",
            literal(default) if default else "NULL",
            f"{self._value_or_null('amount')} IS NOT NULL",
        ]
        typed = ", ".join(f"CAST({argument} AS VARCHAR)" for argument in arguments[:3])
        return f"dg_deal_currency({typed}, {arguments[3]}) AS currency"

    def _manager(self) -> str:
        """The manager as DealMapper completes it (cell_rules' `deal_manager`), the owner's
        from --teams looked up by key."""
        managers = self.profile.managers
        owner = self._value_or_null("owner")
        teams = (self._looked_up(owner, managers) if managers else None) or "NULL"
        manager = self._value_or_null("manager")
        return f"dg_deal_manager(CAST({manager} AS VARCHAR), CAST({teams} AS VARCHAR)) AS manager"

    def _contacts(self) -> str:
        if "contacts" in self.filled:
            if self.roles is not None:
                raise Unsupported("contacts both in a column and in a contact roles file")
            return "t.contacts AS contacts"
        if self.roles is None:
            return f"CAST(NULL AS {_sql_type(CANONICAL_FIELDS['contacts'])}) AS contacts"
        empty = f"CAST([] AS {_sql_type(CANONICAL_FIELDS['contacts'])})"
        return f"coalesce(dg_roles.contacts, {empty}) AS contacts"

    def _roles_sql(self, roles: Export) -> str:
        """Contact roles by deal key, in file order, as `read_contact_roles` reads them."""
        columns = {name: _column(roles.headers, aliases) for name, aliases in ROLE_COLUMNS.items()}
        deal = columns["deal"]
        if deal is None:
            raise Unsupported("a contact roles file without an opportunity id column")

        def text(name: str) -> str:
            column = columns[name]
            return f"dg_clean({ident(column)})" if column else "NULL"

        struct = (
            f"{{'name': {text('name')}, 'title': {text('title')}, 'role': {text('role')}, "
            f"'is_primary': dg_bool({text('is_primary')}), "
            f"'engaged_on': dg_date({text('engaged_on')}, {self.month_first})}}"
        )
        return (
            f"SELECT dg_deal_key(dg_clean({ident(deal)})) AS dg_key, "
            f"{CONTACT_ROLES.sql_aggregate(struct, 'NULL', 'dg_row')} AS contacts FROM ("
            f"SELECT row_number() OVER () AS dg_row, * FROM {self.source(roles)}) "
            f"WHERE dg_clean({ident(deal)}) IS NOT NULL GROUP BY 1"
        )

    def history_rows_sql(self) -> str:
        """Each usable row of the stage history file (an id, a stage and a date that reads),
        with its deal key, its number in the file and whether it starts a stage: its stage
        differs from the row before it, by date and then file order (`_changes`)."""
        if self.history_file is None:
            raise RuntimeError("no stage history file")
        columns = {name: ident(header) for name, header in self.history_columns.items()}
        arms = " ".join(
            f"WHEN {literal(text)} THEN {literal(key)}" for text, key in self.history_stages.items()
        )
        stage_key = f"CASE dg_s {arms} END" if arms else "NULL"
        month_first = self.month_first
        rows = (
            f"SELECT row_number() OVER () AS dg_row, dg_clean({columns['deal']}) AS dg_id, "
            f"dg_clean({columns['stage']}) AS dg_s, "
            f"dg_date(dg_clean({columns['entered_on']}), {month_first}) AS dg_d "
            f"FROM {self.source(self.history_file)}"
        )
        # deal_key once per id, not per row: it is the dearest step (~9 µs an id), and a deal
        # has several rows
        usable = (
            f"WITH dg_rows AS (SELECT * FROM ({rows}) WHERE dg_id IS NOT NULL AND dg_s IS NOT "
            "NULL AND dg_d IS NOT NULL), dg_keys AS (SELECT dg_id, dg_deal_key(dg_id) AS dg_key "
            "FROM (SELECT DISTINCT dg_id FROM dg_rows)) "
            f"SELECT dg_key, dg_row, dg_s, dg_d, {stage_key} AS dg_sk "
            "FROM dg_rows JOIN dg_keys USING (dg_id)"
        )
        starts = STAGE_CHANGES.sql_run_starts("dg_key", "dg_d", "dg_row", "dg_sk")
        return f"SELECT *, {starts} AS dg_starts FROM ({usable})"

    def data_check_sql(self) -> str:
        """Whether the Python readers may report a rejected row or a data finding of the
        export, from one scan: (rows that may be, deals that may share a key).

        A superset of what DealMapper reports, never less: a row without an id or a stage, a
        written cell read as missing, a list of records, and ids equal once an 18-character
        id is cut to 15 (deal_key cuts only those whose checksum holds). The stage texts no
        pack stage means are known without it (`stage_cells`)."""
        deal_id = "t.id" if self.id_key is None else _key_sql(self.id_key)
        doubtful = ["t.dg_doubtful", f"{deal_id} IS NULL"]
        doubtful.append("t.stage IS NULL" if "stage" in self.filled else "true")
        coarse = f"CASE WHEN length({deal_id}) = 18 THEN left({deal_id}, 15) ELSE {deal_id} END"
        return (
            f"{self.sql(checked=True)} SELECT count(*) FILTER (WHERE {' OR '.join(doubtful)}), "
            f"count({coarse}) - count(DISTINCT {coarse}) FROM dg_typed AS t"
        )

    def deal_keys_sql(self) -> str:
        """The deal key of every deal of the export: its id typed as `dg_typed` types it, from
        the id column alone (the whole table of deals costs 10 times more to read)."""
        use = self.filled.get("id")
        if use is None:
            raise RuntimeError("deal keys of a file without an id column")
        deal_id = self.typed_field(use, f"dg_text({ident(use.header)})")
        return (
            f"SELECT DISTINCT dg_deal_key(dg_id) AS dg_key FROM "
            f"(SELECT {deal_id} AS dg_id FROM {self.source(self.export)}) WHERE dg_id IS NOT NULL"
        )

    def _history_sql(self) -> str:
        """Stage changes by deal key, as `read_stage_history` reads them
        (`deal_lists.STAGE_CHANGES`)."""
        changes = STAGE_CHANGES.sql_aggregate(
            "{'stage': dg_s, 'entered_on': dg_d}", "dg_d", "dg_row", "dg_starts"
        )
        return (
            f"SELECT dg_key, {changes} AS stage_history "
            f"FROM ({self.history_rows_sql()}) GROUP BY dg_key"
        )

    # -- keys: Python's header_key and deal_key, for the distinct values only ------------

    def read_keys(self, connection: Any) -> dict[str, str]:
        """The header_key of every text compared by key, and the distinct stage cells
        (`stage_cells`), from one scan of the export; before sql(), which is written
        from them."""
        texts, cells = self._distinct_texts(connection)
        if self.history_file is not None:
            stage = ident(self.history_columns["stage"])
            self.history_stages = {
                text: header_key(text)
                for (text,) in connection.execute(
                    f"SELECT DISTINCT dg_clean({stage}) FROM {self.source(self.history_file)} "
                    f"WHERE dg_clean({stage}) IS NOT NULL"
                ).fetchall()
            }
        # The stage a deal claims is its cell as the value map reads it (`typed_field`).
        mapped = self.profile.value_maps.get("stage", {})
        self.stage_cells = [mapped.get(header_key(cell), cell) for cell in cells]
        self.keys = {text: header_key(text) for text in sorted(texts)}
        return self.keys

    def _looked_up(self, text: str, mapping: Mapping[str, str]) -> str | None:
        """The value the header_key of a text has in the mapping, looked up (`looked_up`)
        among every spelling the export holds; None when the export holds none."""
        if self.keys is None:
            raise RuntimeError("CanonicalQuery.read_keys runs before the SQL is written")
        spellings = [(t, mapping[key]) for t, key in self.keys.items() if key in mapping]
        if not spellings:
            return None
        keys = [exp.Literal.string(spelling) for spelling, _ in spellings]
        values = [exp.Literal.string(value) for _, value in spellings]
        return looked_up(keys, values, exp.maybe_parse(text, dialect="duckdb")).sql("duckdb")

    def _distinct_texts(self, connection: Any) -> tuple[set[str], list[str]]:
        """Every text an owner, a manager or a value-mapped field can hold (the distinct
        cells of their columns, the managers of the teams file and the mapped values), and
        the distinct cells of the stage column as written: a few texts each, read by
        Python's own rules, in one pass over the export."""
        fields = {"owner", "manager", *self.profile.value_maps}
        texts = {"", *self.profile.managers.values()}
        for name in fields:
            texts.update(self.profile.value_maps.get(name, {}).values())
        columns = [
            f"dg_text({ident(use.header)})" for name, use in self.filled.items() if name in fields
        ]
        stage = self.filled.get("stage")
        if not columns and stage is None:
            return texts, []
        keyed = f"unnest([{', '.join(columns)}])" if columns else "NULL"
        cell = ident(stage.header) if stage is not None else "NULL"
        rows = connection.execute(
            f"SELECT grouping(dg_cell), dg_cell, dg_text FROM "
            f"(SELECT {cell} AS dg_cell, {keyed} AS dg_text FROM {self.source(self.export)}) "
            f"GROUP BY GROUPING SETS ((dg_cell), (dg_text))"
        ).fetchall()
        stage_cells = sorted(cell for grouped, cell, _ in rows if not grouped and cell is not None)
        texts.update(text for grouped, _, text in rows if grouped and text is not None)
        return texts, stage_cells


def texts_with_keys(names: tuple[str, ...], keys: Mapping[str, str]) -> list[str]:
    """The spellings (of read_keys) whose header_key is one of these names' (--owner)."""
    asked = {header_key(name) for name in names}
    return [text for text, key in keys.items() if key in asked]


def _key_sql(key: IdKey) -> str:
    """IdKey.of in SQL: the parts present joined (concat_ws skips NULLs), NULL without the
    required part."""
    parts = ", ".join(f"t.{ident(name)}" for name in key.fields)
    return (
        f"CASE WHEN t.{ident(key.required)} IS NULL THEN NULL "
        f"ELSE concat_ws({literal(key.joiner)}, {parts}) END"
    )


def _written(index: int) -> str:
    """Whether the cell of the plan's column number `index` is not blank (`sql(checked)`)."""
    return ident(f"dg_w {index}")


def _text_column(index: int) -> str:
    """The column holding the text of the plan's column number `index` (`dg_text`)."""
    return f"dg_t {index}"


def _sql_type(field_type: FieldType) -> str:
    """The DuckDB type of a column of canonical deals, as `dealgate sql --schema` gives it."""
    return DIALECTS["duckdb"].column_type(field_type, "", {}).sql(dialect="duckdb")


def install(connection: Any) -> None:
    from dealgate.deals import sql_normalise

    sql_normalise.install(connection)
