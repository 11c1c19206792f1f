"""Which reading each field's cell gets: decided once, for every route that reads raw files.

A field is read by its canonical name where the name carries more than its type (the amount
keeps its currency and digits, the probability may be a fraction, an id may be a number),
else by its declared type. DealMapper (`deals/mapper.py`) and the columnar reader
(`columnar/canonical.py`) both ask `reading_of`; each then runs the reading's cell rules of
`deals/cell_rules.py`, compiled to Python or to DuckDB macros. So the choice of rule cannot
differ between the routes, and neither can the rule.
"""

from __future__ import annotations

from enum import StrEnum

from dealgate.rules.types import CANONICAL_FIELDS, FieldType, Kind


class CellReading(StrEnum):
    """How a cell becomes a field's value (the cell rule each reading runs, in brackets)."""

    TEXT = "text"  # cleaned text; a placeholder is missing (clean, placeholder)
    DATE = "date"  # a calendar date, in the profile's date order (date)
    NUMBER = "number"  # a number, in the profile's decimal mark (number_text)
    MONEY = "money"  # the number of an amount, its currency dropped (money_text)
    BOOLEAN = "boolean"  # yes/no words (bool)
    AMOUNT = "amount"  # the deal's amount: the number, its currency and its digits
    PERCENT = "percent"  # 0-100, or a fraction where the profile says so (percent_raw)
    COUNT = "count"  # a whole number of times (count)
    IDENTIFIER = "identifier"  # a deal id: text, or a whole number in typed files
    RECORDS = "records"  # a canonical list (contacts, action plan, stage history) in JSON
    STRUCTURED = "structured"  # a declared list of records or record, in JSON
    AS_WRITTEN = "as_written"  # an undeclared field: as the file holds it


_BY_NAME = {
    "amount": CellReading.AMOUNT,
    "probability": CellReading.PERCENT,
    "close_date_pushes": CellReading.COUNT,
    "id": CellReading.IDENTIFIER,
    **{name: CellReading.RECORDS for name in ("contacts", "action_plan", "stage_history")},
}
_BY_KIND = {
    Kind.TEXT: CellReading.TEXT,
    Kind.STAGE: CellReading.TEXT,
    Kind.DATE: CellReading.DATE,
    Kind.NUMBER: CellReading.NUMBER,
    Kind.MONEY: CellReading.MONEY,
    Kind.BOOLEAN: CellReading.BOOLEAN,
    Kind.LIST: CellReading.STRUCTURED,
    Kind.RECORD: CellReading.STRUCTURED,
    Kind.ANY: CellReading.AS_WRITTEN,
}


def reading_of(name: str, declared: FieldType | None) -> CellReading:
    """How a cell of field `name` is read. A canonical field is read by its name's reading
    or its canonical type; any other by the type the pack declares (`declared`), and as
    written when the pack declares none."""
    if name in CANONICAL_FIELDS:
        return _BY_NAME.get(name) or _BY_KIND[CANONICAL_FIELDS[name].kind]
    if declared is None:
        return CellReading.AS_WRITTEN
    return _BY_KIND[declared.kind]


def reading_of_kind(kind: Kind) -> CellReading:
    """How a value of a declared type is read: a list item's field, a stage-entry date."""
    return _BY_KIND[kind]
