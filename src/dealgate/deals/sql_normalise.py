"""The normalisation rules of `dealgate.deals.cell_rules`, as DuckDB macros.

DuckDB reads an export with every column as text; these macros turn that text into typed
values. They are compiled from the same rule trees as the Python readers' functions
(`deals/cell_language.py`), so a file read in SQL and a file read in Python give the same
deals; `tests/conformance/normalisation/cases.yaml` holds both targets to every rule. Each
macro gives NULL where the Python reader raises `Unreadable`; `dg_percent_issue` says which
data issue that is.
"""

from __future__ import annotations

from typing import Any

from dealgate.deals.cell_language import sql_macros
from dealgate.deals.cell_rules import RULES


def macros() -> list[str]:
    """CREATE MACRO statements, in dependency order."""
    return sql_macros(RULES)


def install(connection: Any) -> None:
    """Define the macros on a DuckDB connection (dates are read in UTC)."""
    connection.execute("SET TimeZone = 'UTC'")
    for statement in macros():
        connection.execute(statement)
