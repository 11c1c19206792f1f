"""Side tables: lookup files a mapping file joins to each deal by a key column.

Maven's CRM sample keeps the sector and revenue of an account in accounts.csv and the series
of a product in products.csv; the pipeline only names the account and the product. A side
table's columns are added to each record of the export before the mapper reads it, under a
header that says where they came from (`accounts.csv:sector`), so they are read by the same
column plan, converters, findings and coverage as the export's own columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dealgate.deals.normalise import clean_text
from dealgate.deals.profiles import header_key
from dealgate.deals.readers import RawRecord, Table, open_table
from dealgate.errors import InputError, Location, Problem


@dataclass(frozen=True)
class SideTable:
    """A lookup file joined to each deal: `on` export column = `key` column of the file."""

    file: Path
    on: str  # the export's column holding the key
    key: str  # the side table's column holding the key
    columns: tuple[tuple[str, str], ...]  # (side table header, deal field) in mapping order

    def header(self, column: str) -> str:
        """The header a side column is read under: the file's name, a colon, its header."""
        return f"{self.file.name}:{column}"

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(self.header(column) for column, _ in self.columns)


@dataclass
class SideRows:
    """The rows of a side table by key (header_key of the key cell)."""

    side: SideTable
    by_key: dict[str, dict[str, Any]]
    unmatched: int = 0  # deals whose key matches no row
    # by key, the cells of that row its reader could not take as written (RawRecord.cell_notes)
    cell_notes: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)


def read_side_table(side: SideTable) -> SideRows:
    """The rows of a side table by key. A key on two rows is an error: a deal could take its
    values from either, and which one would be an accident of the file's order."""
    table = open_table(side.file)
    by_key: dict[str, dict[str, Any]] = {}
    notes: dict[str, tuple[tuple[str, str], ...]] = {}
    lines: dict[str, int | None] = {}
    problems: list[Problem] = []
    for record in table.records:
        text = clean_text(record.values.get(side.key))
        if text is None:
            continue  # a row without a key matches no deal
        key = header_key(text)
        if key in by_key:
            problems.append(
                Problem(
                    Location(str(side.file), record.row or 0),
                    f"'{text}' in column '{side.key}' is also on line {lines[key]}: a side "
                    "table needs one row per key",
                    "remove the repeated row, or join by a column whose values are unique",
                )
            )
            continue
        lines[key] = record.row
        by_key[key] = {side.header(column): record.values.get(column) for column, _ in side.columns}
        if record.cell_notes:
            notes[key] = _joined_notes(side, record)
    if problems:
        raise InputError(problems)
    return SideRows(side, by_key, cell_notes=notes)


def _joined_notes(side: SideTable, record: RawRecord) -> tuple[tuple[str, str], ...]:
    """The notes on a side row's joined cells, under the headers they are joined as, saying
    which line of the side file they come from: the deal that joins the row reports them."""
    joined = dict(side.columns)
    return tuple(
        (side.header(column), f"{side.file.name} line {record.row}: {message}")
        for column, message in record.cell_notes
        if column in joined
    )


@dataclass
class JoinedRecords:
    """The export's records with the columns of each side table its key matches."""

    sides: list[SideRows]
    value_maps: Mapping[str, Mapping[str, str] | None]  # export column -> its `values:` map
    notes: list[str] = field(default_factory=list)

    def join(self, records: Iterator[RawRecord]) -> Iterator[RawRecord]:
        for record in records:
            for rows in self.sides:
                side = rows.side
                text = clean_text(record.values.get(side.on))
                if text is None:
                    continue  # no key: nothing to join, and the key's own field is missing
                mapping = self.value_maps.get(side.on)
                key = header_key(text)
                if mapping:
                    key = header_key(mapping.get(key, text))
                found = rows.by_key.get(key)
                if found is None:
                    rows.unmatched += 1
                    continue
                record.values.update(found)
                notes = rows.cell_notes.get(key)
                if notes:  # reported by the mapper, as the export's own cells are
                    record = replace(record, cell_notes=record.cell_notes + notes)
            yield record
        for rows in self.sides:
            if rows.unmatched:
                side = rows.side
                self.notes.append(
                    f"{rows.unmatched} deal(s) whose '{side.on}' matches no '{side.key}' of "
                    f"{side.file.name} get no values from it"
                )


def join_side_tables(
    table: Table, sides: tuple[SideTable, ...], value_maps: Mapping[str, Mapping[str, str] | None]
) -> Table:
    """The export with its side tables' columns added to every record they match."""
    if not sides:
        return table
    joined = JoinedRecords([read_side_table(side) for side in sides], value_maps, table.notes)
    headers = [*table.headers, *(header for side in sides for header in side.headers)]
    return replace(table, headers=headers, records=joined.join(table.records))
