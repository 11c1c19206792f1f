"""Owners and managers are compared by one key (`header_key`: spaces collapsed, casefold) on
every engine and route: "Sam Weiß" in the export and "SAM WEISS" in the teams file are one rep,
who gets their manager, and whom `--owner "sam weiss"` finds.

The routes: the durable engine, the SQL engine on the Python readers (`--format json`), and the
columnar route (`--engine sql --format csv`: DuckDB reads and judges the CSV export).

Deal ids are keyed by `deal_key` in Python and by the `dg_deal_key` macro on the columnar
route (too many distinct ids to key in Python): property tests hold the macro, and the join of
contact roles to deals, to deal_key over 15- and 18-character ids, checksums valid and not.
"""

from __future__ import annotations

import csv
import json
import string
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from command import dealgate
from dealgate.columnar.canonical import CanonicalQuery, Export, install
from dealgate.deals.normalise import deal_key
from dealgate.deals.profiles import CANONICAL
from dealgate.engines.sql import ROW
from dealgate.rules.loader import load_pack

# Salesforce report labels, as examples/salesforce-opportunities.csv has them
HEADERS = [
    "Opportunity ID",
    "Opportunity Name",
    "Opportunity Owner",
    "Stage",
    "Amount",
    "Close Date",
]
# Every deal needs attention (Needs Analysis skips qualify's milestones), so each is reported.
ROUTES = {
    "durable": ("--engine", "durable", "--format", "csv"),
    "sql": ("--engine", "sql", "--format", "json"),
    "columnar": ("--engine", "sql", "--format", "csv"),
}
# (the owner as the export writes it, as the teams file writes it, as --owner asks for it)
SPELLINGS = [
    ("Sam Weiß", "SAM WEISS", "sam weiss"),
    ("SAM WEISS", "Sam Weiß", "Sam Weiß"),
    ("Sam\u00a0Weiß", "  sam   weiß ", "SAM WEIß"),
]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(rows)
    return path


def _files(folder: Path, export_owner: str, teams_owner: str) -> tuple[Path, Path]:
    deal = ["Needs Analysis", "100", "1/15/2027"]
    export = _write(
        folder / "opportunities.csv",
        [
            HEADERS,
            ["006W1", "Weiss one", export_owner, *deal],
            ["006C1", "Carter one", "Ben Carter", *deal],
            ["006W2", "Weiss two", export_owner, *deal],
        ],
    )
    teams = _write(
        folder / "teams.csv",
        [["Owner", "Manager"], [teams_owner, "Dana Whitfield"], ["Ben Carter", "Jürgen Groß"]],
    )
    return export, teams


def _managers(route: str, folder: Path, *args: str) -> dict[str, str | None]:
    """The manager of each deal the audit reports, by deal id."""
    export, teams = folder / "opportunities.csv", folder / "teams.csv"
    # the few columns of the export leave most milestones unmeasured: counted as missing,
    # every deal needs attention and is reported with its manager
    ran = dealgate(
        "audit", str(export), "--teams", str(teams), "--as-of", "2026-11-27", "-v",
        "--unmeasured-as-missing", *ROUTES[route], *args, cwd=folder,
    )  # fmt: skip
    assert ran.returncode in (0, 1), ran.stderr
    taken = "reading: columnar" in ran.stderr
    assert taken == (route == "columnar"), ran.stderr  # the route asked for is the one run
    if route == "sql":
        return {deal["id"]: deal["manager"] for deal in json.loads(ran.stdout)["deals"]}
    return {
        row["deal_id"]: row["manager"] or None for row in csv.DictReader(ran.stdout.splitlines())
    }


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize(("export_owner", "teams_owner", "asked"), SPELLINGS)
def test_an_owner_is_one_rep_in_every_spelling(
    route: str, export_owner: str, teams_owner: str, asked: str, tmp_path: Path
) -> None:
    _files(tmp_path, export_owner, teams_owner)
    assert _managers(route, tmp_path) == {
        "006W1": "Dana Whitfield",
        "006C1": "Jürgen Groß",
        "006W2": "Dana Whitfield",
    }
    assert _managers(route, tmp_path, "--owner", asked) == {
        "006W1": "Dana Whitfield",
        "006W2": "Dana Whitfield",
    }
    assert _managers(route, tmp_path, "--manager", "JÜRGEN GROSS") == {"006C1": "Jürgen Groß"}


# -- deal ids: dg_deal_key is deal_key; contact roles join the deals deal_key names ------

ALPHANUMERIC = string.ascii_letters + string.digits
SHORT_IDS = st.text(ALPHANUMERIC, min_size=15, max_size=15)
PACK = load_pack("buyer-journey")


def _checksum(short: str) -> str:
    """Salesforce's three suffix characters, written here apart from deal_key: a chunk of
    five characters sets bit i when its character i is an upper-case letter."""
    alphabet = string.ascii_uppercase + "012345"
    return "".join(
        alphabet[sum(1 << i for i, char in enumerate(short[start : start + 5]) if char.isupper())]
        for start in (0, 5, 10)
    )


def _forms(short: str) -> list[str]:
    """Ids an export may carry: the 15-character id, its 18-character form, and look-alikes
    whose checksum does not hold (lower-case suffix, other case, other suffix)."""
    checksum = _checksum(short)
    return [
        short,
        short + checksum,
        short + checksum.lower(),
        short.swapcase() + checksum,
        short + "ZZ9",
    ]


def _write_rows(path: Path, rows: list[list[str]]) -> Export:
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(rows)
    return Export(path, rows[0])


@pytest.fixture(scope="module")
def reading() -> duckdb.DuckDBPyConnection:
    """One database with the reading macros: installing them takes a third of a second."""
    connection = duckdb.connect()
    install(connection)
    return connection


@settings(max_examples=50, deadline=None)
@given(
    shorts=st.lists(SHORT_IDS, min_size=1, max_size=40),
    others=st.lists(st.text(max_size=20), max_size=10),
)
def test_the_deal_key_macro_is_deal_key(
    shorts: list[str], others: list[str], reading: duckdb.DuckDBPyConnection
) -> None:
    ids = [form for short in shorts for form in _forms(short)] + others
    with reading.cursor() as connection:
        keyed = connection.execute(
            "SELECT list_transform(?::VARCHAR[], lambda i: dg_deal_key(i))", [ids]
        ).fetchone()
    assert keyed is not None
    assert keyed[0] == [deal_key(deal_id) for deal_id in ids]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_contact_roles_join_the_deals_deal_key_names(
    data: st.DataObject, tmp_path: Path, reading: duckdb.DuckDBPyConnection
) -> None:
    shorts = data.draw(st.lists(SHORT_IDS, min_size=1, max_size=3))
    for short in shorts:
        assert deal_key(short + _checksum(short)) == short
    ids = [form for short in shorts for form in _forms(short)]
    deals = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=6))
    roles = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=6))
    export = _write_rows(tmp_path / "deals.csv", [["id"], *([deal] for deal in deals)])
    contact_roles = _write_rows(
        tmp_path / "roles.csv",
        [["Opportunity ID", "Contact Name"], *([role, f"C{i}"] for i, role in enumerate(roles))],
    )
    query = CanonicalQuery(PACK, CANONICAL, export, contact_roles)
    with reading.cursor() as connection:  # the database's macros, temporary tables of its own
        query.read_keys(connection)
        joined = connection.execute(
            f"{query.sql()} SELECT id, list_transform(contacts, lambda c: c.name) "
            f"FROM dg_deals ORDER BY {ROW}"
        ).fetchall()
    expected = [
        (deal, [f"C{i}" for i, role in enumerate(roles) if deal_key(role) == deal_key(deal)])
        for deal in deals
    ]
    assert joined == expected
