"""Owners and managers are compared by one key (`header_key`: spaces collapsed, casefold) on
every engine and route: "Sam Weiß" in the export and "SAM WEISS" in the teams file are one rep,
who gets their manager, and whom `--owner "sam weiss"` finds.

The routes: the durable engine, the SQL engine on the Python readers (`--format json`), and the
columnar route (`--engine sql --format csv`: DuckDB reads and judges the CSV export).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from command import dealgate

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
    ran = dealgate(
        "audit", str(export), "--teams", str(teams), "--as-of", "2026-11-27", "-v",
        *ROUTES[route], *args, cwd=folder,
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
