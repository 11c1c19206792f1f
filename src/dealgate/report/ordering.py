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
