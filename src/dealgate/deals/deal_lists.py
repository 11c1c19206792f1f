"""How a deal's list is put together from entries read apart: written once, for both routes.

Three lists of a deal are not read from one cell but assembled from entries:
- `CONTACT_ROLES`: the rows of a contact roles file that carry the deal's id, in file order;
- `STAGE_CHANGES`: the rows of an OpportunityHistory file (`--stage-history`, or the live
  API's), by date, ties in file order; a row starts a change only when its stage differs from
  the row before it (the first save of a run is the day the deal entered that stage);
- `STAGE_ENTRY_COLUMNS`: HubSpot's "date entered STAGE" cells of the deal's own row, by
  date, ties in column order.

Each is one `DealList`: whether its entries are sorted by their date (a stable sort, so ties
keep the order they were read in) and whether only the first entry of each run of equal
stages is kept. The Python readers call `assemble`; the columnar route's SQL is written by the
`sql_*` methods from the same two answers. `tests/test_deal_lists.py` holds the compilations
to each other on random entries.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

Item = TypeVar("Item")
_NO_RUN = object()  # the run before the first entry: equal to no entry's key
# An entry's date and value, in the item expression of `sql_in_row`.
ENTRY_DATE = "e.o"
ENTRY_VALUE = "e.v"


@dataclass(frozen=True)
class DealList:
    """The order of a deal's list, and which entries it keeps."""

    by_date: bool  # sorted by each entry's date, ties in the order read; else as read
    first_of_runs: bool  # keep an entry only when its run key differs from the one before

    # -- Python: entries as read, one deal's --------------------------------------------

    def assemble(self, entries: Iterable[tuple[Any, Hashable, Item]]) -> list[Item]:
        """The deal's list from its entries in the order read: (date, run key, item). An
        entry without a date is no entry of a list sorted by date."""
        if self.by_date:
            dated = [entry for entry in entries if entry[0] is not None]
            entries = sorted(dated, key=lambda entry: entry[0])  # stable: ties as read
        if not self.first_of_runs:
            return [item for _, _, item in entries]
        kept: list[Item] = []
        last: object = _NO_RUN
        for _, run, item in entries:
            if run != last:
                kept.append(item)
                last = run
        return kept

    # -- SQL: entries as rows of a side file, grouped by deal key -------------------------

    def sql_order(self, on: str, position: str) -> str:
        """The ORDER BY of a deal's rows: `on` is the entry's date, `position` its place in
        the file."""
        return f"{on}, {position}" if self.by_date else position

    def sql_run_starts(self, deal: str, on: str, position: str, run: str) -> str:
        """Whether a row starts a run (a boolean column, `first_of_runs` only): it is the
        deal's first row, or its run key differs from the row before it in the deal's order."""
        window = f"OVER (PARTITION BY {deal} ORDER BY {self.sql_order(on, position)})"
        return (
            f"((lag({position}) {window}) IS NULL OR (lag({run}) {window}) IS DISTINCT FROM {run})"
        )

    def sql_aggregate(self, item: str, on: str, position: str, starts: str | None = None) -> str:
        """The deal's list, an aggregate over its rows (GROUP BY the deal key). `starts`: the
        column `sql_run_starts` wrote, when the list keeps the first entry of each run."""
        kept = []
        if self.first_of_runs:
            if starts is None:
                raise ValueError("a list of the first entries of runs needs its run starts")
            kept.append(starts)
        if self.by_date:
            kept.append(f"{on} IS NOT NULL")
        where = f" FILTER (WHERE {' AND '.join(kept)})" if kept else ""
        return f"list({item} ORDER BY {self.sql_order(on, position)}){where}"

    # -- SQL: entries as cells of the deal's own row -----------------------------------

    def sql_in_row(self, entries: list[tuple[str, str, str]], item: str = ENTRY_VALUE) -> str:
        """The deal's list from entries of its own row, in column order: (date, run key,
        value) as SQL expressions; a list expression. Each item is `item`, which names an
        entry's date and value as `ENTRY_DATE` and `ENTRY_VALUE`."""
        if not entries:
            return "[]"
        structs = ", ".join(
            f"{{'o': {on}, 'p': {index}, 'r': {run}, 'v': {value}}}"
            for index, (on, run, value) in enumerate(entries)
        )
        listed = f"[{structs}]"
        if self.by_date:  # structs sort by their fields in order: the date, then the column
            listed = f"list_sort(list_filter({listed}, lambda e: e.o IS NOT NULL))"
        if self.first_of_runs:
            listed = (
                f"list_transform([{listed}], lambda l: list_filter(l, lambda e, i: i = 1 "
                f"OR l[i - 1].r IS DISTINCT FROM e.r))[1]"
            )
        return f"list_transform({listed}, lambda e: {item})"


CONTACT_ROLES = DealList(by_date=False, first_of_runs=False)
STAGE_CHANGES = DealList(by_date=True, first_of_runs=True)
STAGE_ENTRY_COLUMNS = DealList(by_date=True, first_of_runs=False)
