"""A deal's list assembled from entries (deals/deal_lists.py): one definition, three
compilations (Python, SQL over a side file's rows, SQL over the cells of one row), held to each
other on random entries with tied dates, missing dates and repeated stages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dealgate.deals.deal_lists import (
    CONTACT_ROLES,
    STAGE_CHANGES,
    STAGE_ENTRY_COLUMNS,
    DealList,
)

EVERY_LIST = [
    pytest.param(CONTACT_ROLES, id="contact-roles"),
    pytest.param(STAGE_CHANGES, id="stage-changes"),
    pytest.param(STAGE_ENTRY_COLUMNS, id="stage-entry-columns"),
    pytest.param(DealList(by_date=False, first_of_runs=True), id="runs-as-read"),
]
DAY = date(2026, 11, 1)
entry = st.tuples(
    st.sampled_from(["D1", "D2", "D3"]),  # the deal
    st.one_of(st.none(), st.integers(0, 3).map(lambda days: DAY + timedelta(days))),  # ties
    st.one_of(st.none(), st.sampled_from(["qualify", "discover", "propose"])),  # run key
)
entries = st.lists(entry, max_size=25)


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return f"'{value}'"


def _in_python(deal_list: DealList, rows: list[tuple[str, Any, Any]]) -> dict[str, list[int]]:
    by_deal: dict[str, list[tuple[Any, Any, int]]] = {}
    for position, (deal, on, run) in enumerate(rows):
        by_deal.setdefault(deal, []).append((on, run, position))
    return {deal: deal_list.assemble(found) for deal, found in by_deal.items()}


def _in_sql_rows(
    connection: duckdb.DuckDBPyConnection, deal_list: DealList, rows: list[tuple[str, Any, Any]]
) -> dict[str, list[int]]:
    connection.execute("CREATE OR REPLACE TABLE entries (deal VARCHAR, p INT, d DATE, r VARCHAR)")
    if rows:
        connection.executemany(
            "INSERT INTO entries VALUES (?, ?, ?, ?)",
            [(deal, position, on, run) for position, (deal, on, run) in enumerate(rows)],
        )
    starts = deal_list.sql_run_starts("deal", "d", "p", "r")
    aggregate = deal_list.sql_aggregate("p", "d", "p", "s" if deal_list.first_of_runs else None)
    found = connection.execute(
        f"SELECT deal, coalesce({aggregate}, []) FROM (SELECT *, {starts} AS s FROM entries) "
        "GROUP BY deal"
    ).fetchall()
    return {deal: list(items) for deal, items in found}


def _in_sql_row(
    connection: duckdb.DuckDBPyConnection, deal_list: DealList, rows: list[tuple[str, Any, Any]]
) -> dict[str, list[int]]:
    by_deal: dict[str, list[tuple[str, str, str]]] = {}
    for position, (deal, on, run) in enumerate(rows):
        by_deal.setdefault(deal, []).append((_literal(on), _literal(run), str(position)))
    return {
        deal: list(connection.execute(f"SELECT {deal_list.sql_in_row(cells)}").fetchone()[0])
        for deal, cells in by_deal.items()
    }


@pytest.mark.parametrize("deal_list", EVERY_LIST)
@settings(max_examples=60, deadline=None)
@given(rows=entries)
def test_each_compilation_assembles_the_same_list(
    deal_list: DealList, rows: list[tuple[str, Any, Any]]
) -> None:
    connection = duckdb.connect()
    in_python = _in_python(deal_list, rows)
    assert _in_sql_rows(connection, deal_list, rows) == in_python
    assert _in_sql_row(connection, deal_list, rows) == in_python


def test_stage_changes_keep_the_day_each_stage_was_entered() -> None:
    saves = [
        (date(2026, 11, 3), "discover", "b"),
        (date(2026, 11, 1), "qualify", "a"),
        (date(2026, 11, 3), "discover", "c"),  # saved again the same day: no change
        (date(2026, 11, 2), "qualify", "d"),  # a second save in the same stage: no change
        (None, "propose", "e"),  # no date: no change
        (date(2026, 11, 5), "qualify", "f"),  # moved back: a change
    ]
    assert STAGE_CHANGES.assemble(saves) == ["a", "b", "f"]
    assert STAGE_ENTRY_COLUMNS.assemble(saves) == ["a", "d", "b", "c", "f"]
    assert CONTACT_ROLES.assemble(saves) == ["b", "a", "c", "d", "e", "f"]
