"""The order of the exception list in the terminal: what matters first.

Amounts are compared only within a currency (they are never added or converted), so the list
runs currency by currency, alphabetically, each from the largest amount down. JSON, CSV and
the other data formats keep the export's order, so that a diff of two runs lines up.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dealgate.money import NO_CURRENCY

if TYPE_CHECKING:
    from dealgate.judging.assess import DealAssessment


class ExceptionOrder(StrEnum):
    """How the exception list in the terminal is ordered (JSON and CSV keep file order)."""

    AMOUNT = "amount"  # currencies alphabetically, then the largest amount first
    INFLATION = "inflation"  # most stages claimed beyond the evidence first
    OWNER = "owner"  # by owner, then by amount within each currency
    FILE = "file"  # as the deals appear in the export


def ordered(rows: list[DealAssessment], order: ExceptionOrder) -> list[DealAssessment]:
    """The exception rows in the order asked for; ties keep file order (the sort is stable)."""
    key = order_key(order)
    return list(rows) if key is None else sorted(rows, key=key)


def order_key(order: ExceptionOrder) -> Callable[[DealAssessment], tuple[Any, ...]] | None:
    """What the exception rows are sorted by (None: the file's order)."""

    def by_amount(assessment: DealAssessment) -> tuple[bool, str, bool, Decimal]:
        deal = assessment.read.deal
        currency = "" if deal.currency in (None, NO_CURRENCY) else str(deal.currency)
        # Amounts compare only within a currency: no currency sorts last, no amount last.
        return (not currency, currency, deal.amount is None, -(deal.amount or Decimal(0)))

    if order is ExceptionOrder.FILE:
        return None
    if order is ExceptionOrder.INFLATION:
        return lambda a: (-a.inflation, *by_amount(a))
    if order is ExceptionOrder.OWNER:
        return lambda a: ((a.read.deal.owner or "").casefold() or "\uffff", *by_amount(a))
    return lambda a: (*by_amount(a), -a.inflation)


class FirstRows:
    """The first `limit` exception rows in an order (ties in the order given), chosen as they
    come, and how many were given: the terminal table's rows (report/audit_table.py
    `FirstExceptions`) and a headline's first deals (report/headline.py). `limit` 0 keeps
    every row."""

    def __init__(self, limit: int, order: ExceptionOrder) -> None:
        self.limit = limit
        self.key = order_key(order)
        self.rows: list[tuple[tuple[Any, ...], int, DealAssessment]] = []
        self.seen = 0

    def add(self, assessment: DealAssessment) -> None:
        key = self.key(assessment) if self.key is not None else ()
        self.rows.append((key, self.seen, assessment))
        self.seen += 1
        if self.limit and len(self.rows) >= 2 * self.limit:  # sorted now and then, not per row
            self.rows = self._first()

    def _first(self) -> list[tuple[tuple[Any, ...], int, DealAssessment]]:
        first = sorted(self.rows, key=lambda row: (row[0], row[1]))
        return first[: self.limit] if self.limit else first

    def first(self) -> list[DealAssessment]:
        return [assessment for _, _, assessment in self._first()]
