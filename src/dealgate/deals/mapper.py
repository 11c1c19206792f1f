"""Mapping raw records onto canonical deals, with a data finding for every value not read.

The mapper decides once per file how each column is used (the column plan, shown by
`dealgate deals inspect`), then turns each raw record into a Deal. A bad value becomes a data
finding and the deal is kept with that value missing; only a record without a usable id is
rejected. Nothing is lost silently: every record read is a deal or a rejected row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from pydantic import BaseModel

from dealgate.deals.deal_lists import STAGE_ENTRY_COLUMNS
from dealgate.deals.model import LIST_ITEMS, Contact, Deal, ReadDeal, StageChange, construct
from dealgate.deals.normalise import (
    Unreadable,
    cell_rule,
    checked_number,
    clean_text,
    deal_key,
    parse_bool,
    parse_count,
    parse_date,
    parse_money,
    parse_number,
    parse_percent,
)
from dealgate.deals.profiles import Profile, custom_field_name, header_key
from dealgate.deals.readers import RawRecord, Table, UnreadableValue
from dealgate.deals.readings import CellReading, reading_of, reading_of_kind
from dealgate.errors import InputError, Location, Problem
from dealgate.findings import DataFinding, DataIssue
from dealgate.rules.model import RulePack
from dealgate.rules.types import CANONICAL_FIELDS, FieldType, Kind

OWNER_SIDES = frozenset({"buyer", "seller"})


@dataclass(frozen=True)
class ColumnUse:
    """How one column of the file is read."""

    header: str
    field: str | None  # the deal field it fills; None when ignored
    kind: str  # canonical | custom | stage_history | ignored
    type: str  # the type it is read as
    how: str  # why, in words a user can check


# Between the parts of a deal key made of other columns: "Acme — Big renewal". An em dash with
# spaces, which account and deal names seldom hold, so the key reads as the two names it joins.
KEY_JOINER = " — "


@dataclass(frozen=True)
class IdKey:
    """The deal id of an export without an id column: the texts of other fields, joined.

    One definition for both routes: `of` gives it in Python, and the columnar route writes the
    same rule in SQL (parts present joined in order, none when the `required` part is missing).
    """

    fields: tuple[str, ...]  # the canonical fields joined, in order, e.g. ("account", "name")
    headers: tuple[str, ...]  # the columns they are read from
    required: str = "name"  # without it a row has no key (and is rejected)
    joiner: str = KEY_JOINER

    def of(self, values: Mapping[str, Any]) -> str | None:
        """The key of a deal from its read values; None without the required part."""
        if values.get(self.required) is None:
            return None
        return self.joiner.join(str(values[name]) for name in self.fields if values.get(name))

    @property
    def required_header(self) -> str:
        return self.headers[self.fields.index(self.required)]

    def describe(self) -> str:
        """How deals are keyed, in words: said once by audit and by `deals inspect`."""
        joined = self.joiner.join(self.headers)
        parts = (
            f"'{joined}' (joined with '{self.joiner}'; the deal name alone when the account "
            "is blank)"
            if len(self.headers) > 1
            else f"'{joined}'"
        )
        return (
            f"no id column: deals are keyed by {parts}; a repeated key is a data finding, "
            "a renamed deal gets a new key, and contact roles cannot be joined by it"
        )


@dataclass(frozen=True)
class RejectedRow:
    file: str
    row: int | None
    path: str | None
    reason: str


@dataclass
class Reconciliation:
    """rows read = deals read + rows rejected; deals read = deals audited + deals excluded."""

    rows_read: int = 0
    deals_read: int = 0
    rows_rejected: int = 0

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.deals_read + self.rows_rejected


def stage_id_for(crm_stage: str, profile: Profile, pack: RulePack) -> str | None:
    """The pack stage a CRM stage value means: the profile's map, else the pack's names."""
    mapped = profile.stage_map.get(header_key(crm_stage))
    if mapped is not None:
        return mapped or None
    matched = pack.match_stage(crm_stage)
    return matched.id if matched else None


# (the field it fills or None, canonical | custom | stage_history | ignored, its converter)
_ColumnReader = tuple[str | None, str, Callable[["_RecordContext", str, Any], Any]]


@dataclass
class DealMapper:
    """Reads the records of one table into deals, for one pack and one profile."""

    table: Table
    profile: Profile
    pack: RulePack
    contacts_by_deal: Mapping[str, list[Contact]] | None = None
    # --stage-history: the complete log of stage changes, so it wins over the export's own
    history_by_deal: Mapping[str, list[StageChange]] | None = None
    plan: list[ColumnUse] = field(default_factory=list)
    findings: list[DataFinding] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    reconciliation: Reconciliation = field(default_factory=Reconciliation)
    stage_counts: dict[str, tuple[str | None, int]] = field(default_factory=dict)
    _seen: dict[str, int | None] = field(default_factory=dict)
    _stage_columns: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The pack may keep some placeholders as text or add others (`placeholders:`).
        self.placeholders = self.pack.placeholder_texts
        self.longest_placeholder = max((len(text) for text in self.placeholders), default=0)
        self._converters = self._reading_converters()
        self.plan = self._plan()
        self._item_readers = {name: self._item_field_readers(name) for name in LIST_ITEMS}
        self._amounts: dict[str, tuple[Decimal, str | None]] = {}  # text -> amount, currency
        self._by_header: dict[str, ColumnUse] = {}
        self._readers: dict[str, _ColumnReader] = {}
        # A column that feeds more than one field (a mapping file's list): the first field is
        # read in the record loop, the others after it.
        self._further: list[tuple[str, _ColumnReader]] = []
        for use in self.plan:
            if use.header in self._readers:
                self._further.append((use.header, self._reader(use)))
                continue
            self._by_header[use.header] = use
            self._readers[use.header] = self._reader(use)
        self._stage_columns = {
            use.header: use.field or "" for use in self.plan if use.kind == "stage_history"
        }
        self.id_key = self._id_key()
        self._check_joinable()

    def _item_field_readers(
        self, name: str
    ) -> dict[str, Callable[[_RecordContext, str, Any], Any]]:
        """How each field of a canonical list's items is read. Items repeat texts across
        deals as columns do (an action plan's step names, owners, dates): a scalar field
        reads each distinct text once per file."""
        readers = {}
        for key, item_type in CANONICAL_FIELDS[name].fields.items():
            read = partial(_RecordContext.typed, declared=item_type)
            scalar = item_type.kind not in (Kind.LIST, Kind.RECORD)
            readers[key] = _read_once(read) if scalar else read
        return readers

    def _check_joinable(self) -> None:
        """Side files join deals by opportunity id: a file keyed by names cannot take them."""
        joined = [
            option
            for option, rows in (
                ("contact roles (--contacts)", self.contacts_by_deal),
                ("the stage history (--stage-history)", self.history_by_deal),
            )
            if rows is not None
        ]
        if joined and self.id_key is not None:
            verb = "joins" if joined == ["the stage history (--stage-history)"] else "join"
            raise InputError(
                [
                    Problem(
                        Location(self.table.file, 1),
                        f"{' and '.join(joined)} {verb} deals by opportunity id, and this "
                        "file has no id column (deals are keyed by "
                        f"{self.id_key.joiner.join(self.id_key.headers)})",
                        "add the Opportunity ID column to the report, or map one with "
                        "columns: {HEADER: id} in a mapping file",
                    )
                ]
            )

    def _id_key(self) -> IdKey | None:
        """For a table without an id column, the columns its deals are keyed by: the account
        with the deal name where both are read, else the deal name alone."""
        if self.table.format not in ("csv", "xlsx", "parquet"):
            return None  # a record of JSON or YAML without an id is rejected on its own
        filled = {use.field: use.header for use in self.plan if use.kind == "canonical"}
        if "id" in filled:
            return None
        if "name" not in filled:
            raise InputError(
                [
                    Problem(
                        Location(self.table.file, 1),
                        "no column is read as the deal id, nor as the deal name to key deals "
                        f"by (profile {self.profile.name})",
                        f"name the id column in a mapping file: columns: {{{self._id_like()}: id}}",
                    )
                ]
            )
        fields = ("account", "name") if "account" in filled else ("name",)
        return IdKey(fields, tuple(filled[name] for name in fields))

    def _id_like(self) -> str:
        """The header of this file most likely to hold an id, for the hint."""
        headers = self.table.headers
        for header in headers:
            if re.search(r"(^|[^a-z])id($|[^a-z])", header_key(header).replace("_", " ")):
                return header
        return headers[0] if headers else "HEADER"

    @property
    def notes(self) -> list[str]:
        """What a reader of the output should know about how this file is read, said once."""
        notes = list(self.profile.notes)
        if self.id_key is not None:
            notes.append(self.id_key.describe())
        notes.extend(self.table.notes)  # e.g. deals a side table has no row for
        return notes

    # --- the column plan ---------------------------------------------------------------

    def _plan(self) -> list[ColumnUse]:
        plan: list[ColumnUse] = []
        taken: set[str] = set()
        for header in self.table.headers:
            uses = [self._use(header, taken)]
            if uses[0].kind in ("canonical", "custom"):
                for target in self.profile.further_targets(header):
                    uses.append(self._use(header, taken | {u.field or "" for u in uses}, target))
            for use in uses:
                if use.field is not None and use.kind != "stage_history":
                    taken.add(use.field)
                plan.append(use)
        return plan

    def _use(self, header: str, taken: set[str], target: str | None = None) -> ColumnUse:
        """How a column is read; `target` for a further field a mapping file names for it."""
        profile = self.profile
        if header_key(header) in profile.ignore:
            return ColumnUse(header, None, "ignored", "", "ignored by the mapping file")
        stage = profile.stage_entered_of(header)
        if stage is not None:
            return ColumnUse(
                header, stage, "stage_history", "date", f"date the deal entered stage '{stage}'"
            )
        how = (
            "named in the mapping file"
            if header_key(header) in profile.explicit
            else f"{profile.short} column"
        )
        if profile.further_targets(header):
            how = "named in the mapping file (one column, several fields)"
        if target is None:
            target = profile.target(header)
        if target is None:
            target = custom_field_name(header)
            how = (
                "snake_case of the header is a canonical field"
                if target in CANONICAL_FIELDS
                else "kept as a custom field (snake_case of the header)"
            )
        if target in taken:
            target = custom_field_name(header)
            if target in taken or target in CANONICAL_FIELDS:
                return ColumnUse(
                    header, None, "ignored", "", "another column already fills this field"
                )
            how = "kept as a custom field: another column already fills the canonical field"
        if target in CANONICAL_FIELDS:
            return ColumnUse(header, target, "canonical", str(CANONICAL_FIELDS[target]), how)
        declared = self.pack.fields.get(target)
        if declared is not None:
            return ColumnUse(
                header,
                target,
                "custom",
                str(declared.type),
                f"{how}; read as {declared.type}, as pack '{declared.defined_in}' declares",
            )
        return ColumnUse(header, target, "custom", "as written", how)

    # --- records -----------------------------------------------------------------------

    def deals(self, records: Iterator[RawRecord]) -> Iterator[ReadDeal]:
        """Map each record; counts, findings and rejected rows fill in as deals are read."""
        for record in records:
            self.reconciliation.rows_read += 1
            read = self._deal(record)
            if read is None:
                self.reconciliation.rows_rejected += 1
            else:
                self.reconciliation.deals_read += 1
                yield read

    def _deal(self, record: RawRecord) -> ReadDeal | None:
        context = _RecordContext(self, record)
        if record.note:
            context.finding(None, record.note, DataIssue.WRONG_SHAPE)
        for header, message in record.cell_notes:  # e.g. a cell not UTF-8, too long
            context.finding(header, message, DataIssue.UNREADABLE)
        values: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        history: list[StageChange] = []
        readers = self._readers
        for header, raw in record.values.items():
            if raw is None or raw == "":
                continue  # blank: missing, and nothing to report
            reader = readers.get(header) or self._late_column(header)
            name, target, convert = reader
            if name is None:
                continue
            if type(raw) is UnreadableValue:
                context.finding(header, f"{raw.reason}: read as missing", DataIssue.UNREADABLE)
                continue
            value = convert(context, header, raw)
            if value is None:
                continue
            if target == "canonical":
                values[name] = value
            elif target == "custom":
                custom[name] = value
            else:
                history.append(StageChange(stage=name, entered_on=value))
        for header, (name, target, convert) in self._further:
            raw = record.values.get(header)
            if name is None or raw is None or raw == "":
                continue
            value = convert(context, header, raw)
            if value is not None:
                (values if target == "canonical" else custom)[name] = value
        deal_id = values.pop("id", None) if self.id_key is None else self.id_key.of(values)
        if deal_id is None:
            self._reject(record, context)
            return None
        context.deal_id = deal_id
        context.flush_pending()
        if self._stage_columns and "stage_history" not in values:
            values["stage_history"] = STAGE_ENTRY_COLUMNS.assemble(
                (change.entered_on, None, change) for change in history
            )
        key = deal_key(deal_id)
        self._complete(values, context, key)
        deal = construct(Deal, {"id": deal_id, "custom": custom, **values})
        self._check_duplicate(deal_id, key, record, context)
        stage_id = self._stage_id(deal, record, context)
        location = Location(self.table.file, record.row or 0)
        # Every field is already typed (the deal by construct, the rest by the mapper).
        return construct(
            ReadDeal,
            {"deal": deal, "location": location, "path": record.path or "", "stage_id": stage_id},
        )

    def _late_column(self, header: str) -> _ColumnReader:
        """A key first seen in a later JSON record: planned on first sight."""
        taken = {use.field for use in self.plan if use.field is not None}
        use = self._use(header, taken)
        self.plan.append(use)
        self._by_header[header] = use
        reader = self._readers[header] = self._reader(use)
        return reader

    def _reader(self, use: ColumnUse) -> _ColumnReader:
        """What the record loop needs of a column, in one lookup."""
        convert = self._converter(use)
        if use.field is not None and self._reads_text_alone(use):
            convert = _read_once(convert)
        return (use.field, use.kind, convert)

    def _reads_text_alone(self, use: ColumnUse) -> bool:
        """Whether a column's value is a scalar that depends on its text alone: such a text
        is read once per file. Not the amount (it also gives the currency), nor the id
        (unique), nor lists and records (a deal's own, mutable, values)."""
        name = use.field
        if use.kind == "stage_history":
            return True
        if name in CANONICAL_FIELDS:
            return name not in ("amount", "id") and name not in LIST_ITEMS
        declared = self.pack.fields.get(name or "")
        return declared is None or declared.type.kind not in (Kind.LIST, Kind.RECORD)

    def _converter(self, use: ColumnUse) -> Callable[[_RecordContext, str, Any], Any]:
        """How the values of one column are read, decided once for the file: a value the
        profile maps (`values:` of a mapping file) is replaced before it is read."""
        convert = self._field_converter(use)
        mapping = self.profile.value_maps.get(use.field or "") if use.kind != "ignored" else None
        if mapping:
            return partial(_RecordContext.mapped, convert=convert, mapping=mapping)
        return convert

    def _field_converter(self, use: ColumnUse) -> Callable[[_RecordContext, str, Any], Any]:
        name = use.field
        if name is None:
            return lambda context, header, raw: None
        if use.kind == "stage_history":  # the day the deal entered the column's stage
            return self._converters[CellReading.DATE]
        declared = self.pack.fields.get(name)
        declared_type = declared.type if declared is not None else None
        reading = reading_of(name, declared_type)
        if reading is CellReading.RECORDS:
            return partial(_RecordContext.records, name=name)
        if reading is CellReading.STRUCTURED and declared_type is not None:
            return partial(_RecordContext.structured, declared=declared_type)
        return self._converters[reading]

    def _reading_converters(self) -> dict[CellReading, Callable[[_RecordContext, str, Any], Any]]:
        """The Python side of each reading of `deals/readings.py` (the columnar route's is
        `CanonicalQuery._read`): a parser of normalise as the profile reads it, or a reading
        of the record context."""
        profile = self.profile
        parsers: dict[CellReading, Callable[[Any], Any]] = {
            CellReading.DATE: partial(parse_date, order=profile.date_order),
            CellReading.NUMBER: partial(parse_number, decimal_mark=profile.decimal_mark),
            CellReading.MONEY: lambda value: parse_money(value, profile.decimal_mark)[0],
            CellReading.BOOLEAN: parse_bool,
            CellReading.COUNT: parse_count,
        }
        converters: dict[CellReading, Callable[[_RecordContext, str, Any], Any]] = {
            reading: partial(_RecordContext.parsed, parser=parser)
            for reading, parser in parsers.items()
        }
        converters.update(
            {
                CellReading.TEXT: _RecordContext.text_value,
                CellReading.AMOUNT: _RecordContext.amount,
                CellReading.PERCENT: _RecordContext.probability,
                CellReading.IDENTIFIER: _RecordContext.identifier,
                CellReading.AS_WRITTEN: _RecordContext.as_written,
            }
        )
        return converters

    def _reject(self, record: RawRecord, context: _RecordContext) -> None:
        id_columns = [use.header for use in self.plan if use.field == "id"]
        if self.id_key is not None:
            id_columns = [self.id_key.required_header]
        if not id_columns:
            where = "it has no id field"
        elif record.path is not None:
            where = f"'{id_columns[0]}' is missing or empty"
        else:
            where = f"column '{id_columns[0]}' is empty"
        reason = record.note or context.id_problem or f"no usable deal id ({where})"
        if record.note and not record.values:
            reason = f"{record.note}; no deal could be read"
        self.rejected.append(RejectedRow(self.table.file, record.row, record.path, reason))
        context.deal_id = None
        context.flush_pending()

    def _complete(self, values: dict[str, Any], context: _RecordContext, key: str) -> None:
        """Values one field gives another: currency from the amount, manager from the owner."""
        currency = cell_rule("deal_currency")(
            values.get("currency"),
            context.currency or None,
            self.profile.default_currency or None,
            "amount" in values,
        )
        if currency:
            values["currency"] = currency
        owner = values.get("owner")
        managers = self.profile.managers  # most exports have no --teams: no key per deal then
        teams = managers.get(header_key(owner)) if owner and managers else None
        manager = cell_rule("deal_manager")(values.get("manager"), teams)
        if manager:
            values["manager"] = manager
        if self.contacts_by_deal is not None and "contacts" not in values:
            known = self.contacts_by_deal.get(key, [])
            values["contacts"] = list(known)
        if self.history_by_deal is not None:
            values["stage_history"] = list(self.history_by_deal.get(key, []))

    def _check_duplicate(
        self, deal_id: str, key: str, record: RawRecord, context: _RecordContext
    ) -> None:
        if key in self._seen:
            first = self._seen[key]
            where = f" (first at row {first})" if first else ""
            if self.id_key is None:
                header, what = "id", "deal id"
            else:
                header, what = self.id_key.required_header, "deal key"
            context.finding(
                header,
                f"duplicate {what} '{deal_id}'{where}; both are read",
                DataIssue.DUPLICATE_ID,
            )
        else:
            self._seen[key] = record.row

    def _stage_id(self, deal: Deal, record: RawRecord, context: _RecordContext) -> str | None:
        if deal.stage is None:
            context.finding(
                "stage", "no stage: only the hygiene checks apply", DataIssue.UNKNOWN_STAGE
            )
            return None
        key = header_key(deal.stage)
        known = self.stage_counts.get(key)
        if known is not None:
            self.stage_counts[key] = (known[0], known[1] + 1)
            stage_id = known[0]
        else:
            stage_id = stage_id_for(deal.stage, self.profile, self.pack)
            self.stage_counts[key] = (stage_id, 1)
        if stage_id is None:
            context.finding(
                "stage",
                f"stage '{deal.stage}' is not a stage of pack "
                f"'{self.pack.id}': only the hygiene checks apply",
                DataIssue.UNKNOWN_STAGE,
            )
        return stage_id


_UNSEEN = object()
_READ_ONCE_LIMIT = 8192  # distinct texts remembered per column


def _read_once(
    convert: Callable[[_RecordContext, str, Any], Any],
) -> Callable[[_RecordContext, str, Any], Any]:
    """A column converter that reads each distinct text once: exports repeat the same dates,
    stages, owners and yes/no values on many rows. A text whose reading reported a finding is
    read again each time, so every row with it still reports its own."""
    known: dict[str, Any] = {}

    def convert_once(context: _RecordContext, header: str, raw: Any) -> Any:
        if type(raw) is not str:
            return convert(context, header, raw)
        found = known.get(raw, _UNSEEN)
        if found is not _UNSEEN:
            return found
        reported = context.reported
        found = convert(context, header, raw)
        if context.reported == reported and len(known) < _READ_ONCE_LIMIT:
            known[raw] = found
        return found

    return convert_once


@dataclass
class _RecordContext:
    """Reads the values of one record and collects its findings until the deal id is known."""

    mapper: DealMapper
    record: RawRecord
    deal_id: str | None = None
    currency: str | None = None  # written with the amount, e.g. "$" or "EUR"
    pending: list[tuple[str | None, str, DataIssue]] = field(default_factory=list)
    reported: int = 0  # findings made so far
    id_problem: str | None = None  # why the id value is no id, when it is not

    def finding(self, header: str | None, message: str, issue: DataIssue) -> None:
        self.reported += 1
        if self.deal_id is None:
            self.pending.append((header, message, issue))
        else:
            self._emit(header, message, issue)

    def flush_pending(self) -> None:
        for header, message, issue in self.pending:
            if issue is not DataIssue.WRONG_SHAPE or self.deal_id is not None:
                self._emit(header, message, issue)
        self.pending.clear()

    def _emit(self, header: str | None, message: str, issue: DataIssue) -> None:
        record = self.record
        column = self._column_name(header)
        row = record.value_rows.get(header, record.row) if header else record.row
        path = f"{record.path}.{header}" if record.path and header else record.path
        self.mapper.findings.append(
            DataFinding(self.mapper.table.file, row, column, self.deal_id, message, issue, path)
        )

    def _column_name(self, header: str | None) -> str | None:
        if header is None:
            return None
        use = self.mapper._by_header.get(header)
        if use is None and header in CANONICAL_FIELDS:  # a finding about a field, not a column
            columns = [u.header for u in self.mapper.plan if u.field == header]
            return columns[0] if columns else header
        return header

    def as_written(self, header: str, raw: Any) -> Any:
        """An undeclared custom field: as the file holds it, in the language's kinds.

        Text is cleaned (placeholders read as missing and reported), decimals are exact, a
        datetime is its UTC date; lists and records are read the same way all through.
        """
        if isinstance(raw, str):
            return self.text(header, raw)
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int | float | Decimal):
            try:
                number = checked_number(raw)
            except Unreadable as problem:
                self.finding(header, f"{problem.message}: read as missing", problem.issue)
                return None
            return raw if isinstance(raw, int) else number
        if isinstance(raw, datetime):
            return parse_date(raw)
        if isinstance(raw, list):
            return [self.as_written(header, item) for item in raw]
        if isinstance(raw, dict):
            return {key: self.as_written(header, value) for key, value in raw.items()}
        return raw

    def text_value(self, header: str, raw: Any) -> str | None:
        return self.text(header, raw) if isinstance(raw, str) else str(raw)

    def mapped(
        self,
        header: str,
        raw: Any,
        convert: Callable[[_RecordContext, str, Any], Any],
        mapping: Mapping[str, str],
    ) -> Any:
        """A value the mapping names (by its text, case and spaces ignored) read as the value
        it maps to; a blank or placeholder is missing before any mapping, as in SQL."""
        if isinstance(raw, str):
            text = self.text(header, raw)
            if text is None:
                return None
            raw = mapping.get(header_key(text), text)
        return convert(self, header, raw)

    def amount(self, header: str, raw: Any) -> Decimal | None:
        """An amount, and the currency written with it. Amounts repeat (list prices): a text
        read without a finding is remembered with its currency."""
        known = self.mapper._amounts.get(raw) if type(raw) is str else None
        if known is not None:
            self.currency = known[1]
            return known[0]
        text = self.text(header, raw) if isinstance(raw, str) else raw
        if text is None:
            return None
        try:
            amount, currency = parse_money(text, self.mapper.profile.decimal_mark)
        except Unreadable as problem:
            self.finding(header, f"{problem.message}: read as missing", problem.issue)
            return None
        self.currency = currency
        if type(raw) is str and len(self.mapper._amounts) < _READ_ONCE_LIMIT:
            self.mapper._amounts[raw] = (amount, currency)
        return amount

    def probability(self, header: str, raw: Any) -> Decimal | None:
        fraction = header_key(header) in self.mapper.profile.fraction_probability
        found: Decimal | None = self.parsed(header, raw, partial(parse_percent, fraction=fraction))
        return found

    def identifier(self, header: str, raw: Any) -> str | None:
        """A deal id: text, or a whole number (as Excel and Parquet hold numeric ids). A list,
        record, yes/no, fraction, NaN or huge number is no id: the record is rejected."""
        if isinstance(raw, str):
            return self.text(header, raw)
        if isinstance(raw, bool):
            return self._no_id(header, "a true/false value")
        if isinstance(raw, list | dict):
            return self._no_id(header, "a list" if isinstance(raw, list) else "a record")
        if isinstance(raw, int | float | Decimal):
            try:
                number = checked_number(raw)
            except Unreadable as problem:
                return self._no_id(header, problem.message)
            if number != number.to_integral():
                return self._no_id(header, f"the fraction {number}")
            return str(int(number))
        return self._no_id(header, f"a {type(raw).__name__} value")

    def _no_id(self, header: str, what: str) -> str | None:
        self.id_problem = (
            f"'{header}' is {what}: an id must be text or a whole number; no deal could be read"
        )
        return None

    def text(self, header: str, raw: Any) -> str | None:
        """Text without surrounding spaces; None when blank or a placeholder (reported)."""
        text = raw.strip() if isinstance(raw, str) else clean_text(raw)
        if not text:
            return None
        mapper = self.mapper
        if len(text) <= mapper.longest_placeholder and text.casefold() in mapper.placeholders:
            self.finding(header, f"placeholder {text!r} read as missing", DataIssue.PLACEHOLDER)
            return None
        return text

    def typed(self, header: str, raw: Any, declared: FieldType) -> Any:
        """A value of a list item or record field, read as its declared type."""
        if raw is None:
            return None
        reading = reading_of_kind(declared.kind)
        if reading is CellReading.STRUCTURED:
            return self.structured(header, raw, declared)
        return self.mapper._converters[reading](self, header, raw)

    def parsed(self, header: str, raw: Any, parser: Callable[[Any], Any]) -> Any:
        if isinstance(raw, str):
            text = self.text(header, raw)
            if text is None:
                return None
            raw = text
        if raw is None:
            return None
        try:
            return parser(raw)
        except Unreadable as problem:
            self.finding(header, f"{problem.message}: read as missing", problem.issue)
            return None

    def structured(self, header: str, raw: Any, declared: FieldType) -> Any:
        """A declared list of records, or record: every declared field read as its type."""
        value = self._decode_json(header, raw)
        if value is None:
            return None
        wanted = list if declared.kind is Kind.LIST else dict
        if not isinstance(value, wanted):
            self.finding(
                header,
                f"expected a {'list' if wanted is list else 'record'}; read as missing",
                DataIssue.WRONG_SHAPE,
            )
            return None
        fields = declared.fields
        if isinstance(value, dict):
            return self._typed_record(header, value, fields)
        return [
            self._typed_record(header, item, fields)
            if isinstance(item, dict)
            else self.as_written(header, item)
            for item in value
        ]

    def _typed_record(
        self, header: str, record: dict[str, Any], fields: Mapping[str, FieldType]
    ) -> dict[str, Any]:
        typed: dict[str, Any] = {}
        for key, raw in record.items():
            field_type = fields.get(key)
            found = (
                self.typed(header, raw, field_type)
                if field_type is not None
                else self.as_written(header, raw)
            )
            if found is not None:
                typed[key] = found
        return typed

    def _decode_json(self, header: str, raw: Any) -> Any:
        """Lists and records in a text cell are JSON; a blank or placeholder is missing."""
        if not isinstance(raw, str):
            return raw
        text = self.text(header, raw)
        if text is None:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            self.finding(
                header,
                f"unreadable list (JSON expected: {error.msg}); read as missing",
                DataIssue.UNREADABLE,
            )
            return None
        except (RecursionError, ValueError):  # nested too deep, or an integer too long
            self.finding(
                header,
                "unreadable list (nested too deeply, or a number too long); read as missing",
                DataIssue.UNREADABLE,
            )
            return None

    def records(self, header: str, raw: Any, name: str) -> list[Any] | None:
        """A canonical nested list: contacts, action_plan or stage_history."""
        value = self._decode_json(header, raw)
        if value is None:
            return None
        if not isinstance(value, list):
            self.finding(header, f"'{name}' must be a list; read as missing", DataIssue.WRONG_SHAPE)
            return None
        model = LIST_ITEMS[name]
        items = []
        for index, item in enumerate(value):
            parsed = self._item(header, name, index, item, model)
            if parsed is not None:
                items.append(parsed)
        return items

    def _item(
        self, header: str, name: str, index: int, item: Any, model: type[BaseModel]
    ) -> BaseModel | None:
        if not isinstance(item, dict):
            where = f"{name}[{index}]"
            self.finding(header, f"{where} is not a record; left out", DataIssue.WRONG_SHAPE)
            return None
        readers = self.mapper._item_readers[name]
        fields: dict[str, Any] = {}
        for key, raw in item.items():
            read = readers.get(key)
            if read is None:
                where = f"{name}[{index}]"
                self.finding(
                    header, f"{where} has unknown field '{key}'; ignored", DataIssue.WRONG_SHAPE
                )
                continue
            value = read(self, header, raw)
            if value is not None:
                fields[key] = value
        side = fields.get("owner_side")
        if side is not None and side not in OWNER_SIDES:
            self.finding(
                header,
                f"{name}[{index}].owner_side: Input should be 'buyer' or 'seller'; read as missing",
                DataIssue.UNREADABLE,
            )
            del fields["owner_side"]
        # Every field was read as its declared type above, so the model needs no validation.
        return construct(model, fields)
