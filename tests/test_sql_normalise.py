"""The normalisation rules hold in both readers: Python's and DuckDB's macros.

Each case of tests/conformance/normalisation/cases.yaml is written to a real CSV file, which
DuckDB reads with every column as text; the same text goes through the Python rules.
`header_key` (the `key` cases) has no macro: the columnar route reads an owner's cell in
DuckDB and takes the key Python gave each distinct text. `deal_key` is the dg_deal_key
macro the columnar route joins contact roles with.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from dealgate.columnar.canonical import CanonicalQuery, Export, install
from dealgate.deals.normalise import (
    DateOrder,
    Unreadable,
    clean_text,
    deal_key,
    is_placeholder,
    parse_bool,
    parse_count,
    parse_date,
    parse_money,
    parse_number,
    parse_percent,
)
from dealgate.deals.profiles import CANONICAL, header_key
from dealgate.rules.loader import load_pack

CASES = Path(__file__).parent / "conformance" / "normalisation" / "cases.yaml"
ISSUES = {"unreadable", "placeholder", "out_of_range"}


def _text(text: str) -> Any:
    if is_placeholder(text):
        return "placeholder"
    return clean_text(text)


PYTHON: dict[str, Callable[[str], Any]] = {
    "text": _text,
    "date_month_first": lambda text: parse_date(text, DateOrder.MONTH_FIRST),
    "date_day_first": lambda text: parse_date(text, DateOrder.DAY_FIRST),
    "number": parse_number,
    "number_comma_decimal": lambda text: parse_number(text, ","),
    "money": lambda text: list(parse_money(text)),
    "money_comma_decimal": lambda text: list(parse_money(text, ",")),
    "percent": parse_percent,
    "percent_fraction": lambda text: parse_percent(text, fraction=True),
    "yes_no": parse_bool,
    "count": parse_count,
    "key": lambda text: header_key(clean_text(text) or ""),
    "deal_key": lambda text: deal_key(clean_text(text) or ""),
}
KEYS = ("key",)  # read by the columnar route (sql_keys), not by a macro

# value, and the issue when the value is NULL
SQL: dict[str, tuple[str, str]] = {
    "text": ("CASE WHEN dg_placeholder(t) THEN 'placeholder' ELSE dg_clean(t) END", "NULL"),
    "date_month_first": ("dg_date(t, true)", "'unreadable'"),
    "date_day_first": ("dg_date(t, false)", "'unreadable'"),
    "number": ("dg_number_text(t, false)", "'unreadable'"),
    "number_comma_decimal": ("dg_number_text(t, true)", "'unreadable'"),
    "money": (
        "CASE WHEN dg_money_text(t, false) IS NOT NULL "
        "THEN [dg_money_text(t, false), dg_money_currency(t)] END",
        "'unreadable'",
    ),
    "money_comma_decimal": (
        "CASE WHEN dg_money_text(t, true) IS NOT NULL "
        "THEN [dg_money_text(t, true), dg_money_currency(t)] END",
        "'unreadable'",
    ),
    "percent": ("dg_percent(t, false)", "dg_percent_issue(t, false)"),
    "percent_fraction": ("dg_percent(t, true)", "dg_percent_issue(t, true)"),
    "yes_no": ("dg_bool(t)", "'unreadable'"),
    "count": ("dg_count(t)", "'unreadable'"),
    "deal_key": ("dg_deal_key(dg_clean(t))", "NULL"),
}


def _cases() -> list[Any]:
    document = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    return [
        pytest.param(rule, text, expected, id=f"{rule}-{index}")
        for rule, cases in document.items()
        for index, (text, expected) in enumerate(cases)
    ]


def _same(found: Any, expected: Any) -> bool:
    """Numbers compare by value (Decimal in Python, text or DOUBLE in SQL)."""
    if isinstance(expected, list):
        return isinstance(found, list | tuple) and all(
            _same(a, b) for a, b in zip(found, expected, strict=True)
        )
    if isinstance(expected, str) and expected not in ISSUES and _is_number(expected):
        return (
            found is not None
            and not isinstance(found, bool)
            and (Decimal(str(found)) == Decimal(expected))
        )
    if isinstance(expected, bool) or isinstance(found, bool):
        return found is expected
    return bool(found == expected)


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _python(rule: str, text: str) -> Any:
    try:
        return PYTHON[rule](text)
    except Unreadable as problem:
        return problem.issue.value


@pytest.fixture(scope="module")
def sql_results(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], Any]:
    """Every case read by DuckDB from one CSV file, every column as text."""
    document = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    path = tmp_path_factory.mktemp("normalisation") / "cases.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, quoting=csv.QUOTE_ALL)
        writer.writerow(["rule", "case", "t"])
        for rule, cases in document.items():
            if rule in KEYS:
                continue
            for index, (text, _) in enumerate(cases):
                writer.writerow([rule, index, text])
    connection = duckdb.connect()
    install(connection)
    arms = " ".join(
        f"WHEN rule = '{rule}' THEN to_json(coalesce(to_json({value}), to_json({issue})))"
        for rule, (value, issue) in SQL.items()
    )
    rows = connection.execute(
        f'SELECT rule, CAST("case" AS INTEGER), CAST(CASE {arms} END AS VARCHAR) '
        f"FROM read_csv('{path}', all_varchar = true, header = true)"
    ).fetchall()
    return {(rule, index): json.loads(found) if found else None for rule, index, found in rows}


def _export(path: Path, rows: list[list[str]]) -> Export:
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream, quoting=csv.QUOTE_ALL).writerows(rows)
    return Export(path, rows[0])


@pytest.fixture(scope="module")
def sql_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], Any]:
    """Every `key` case read as the columnar route reads it: as the owner of a deal of a
    canonical export."""
    document = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    folder = tmp_path_factory.mktemp("keys")
    owners = [[f"K{index}", text] for index, (text, _) in enumerate(document["key"])]
    export = _export(folder / "deals.csv", [["id", "owner"], *owners])
    query = CanonicalQuery(load_pack("buyer-journey"), CANONICAL, export, None)
    connection = duckdb.connect()
    install(connection)
    keys = query.read_keys(connection)
    rows = connection.execute(f"{query.sql()} SELECT id, owner FROM dg_deals").fetchall()
    return {("key", int(deal[1:])): keys[owner] for deal, owner in rows}


@pytest.mark.parametrize(("rule", "text", "expected"), _cases())
def test_python_rule(rule: str, text: str, expected: Any) -> None:
    found = _python(rule, text)
    if isinstance(found, date):
        assert found == expected
    else:
        assert _same(found, expected), f"{rule}({text!r}) read {found!r}, expected {expected!r}"


@pytest.mark.parametrize(("rule", "text", "expected"), _cases())
def test_duckdb_rule(
    rule: str,
    text: str,
    expected: Any,
    sql_results: dict[tuple[str, int], Any],
    sql_keys: dict[tuple[str, int], Any],
    request: Any,
) -> None:
    index = int(request.node.callspec.id.rsplit("-", 1)[1])
    found = (sql_keys if rule in KEYS else sql_results)[(rule, index)]
    if isinstance(expected, date):
        assert found == expected.isoformat(), f"{rule}({text!r}) read {found!r} in SQL"
    else:
        assert _same(found, expected), f"{rule}({text!r}) read {found!r} in SQL"
