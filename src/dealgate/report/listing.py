"""What the reports for people (the HTML page, the workbook) list of a large audit, and the
texts they carry once per milestone rather than on every finding."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any


def largest_deals(
    deals: list[dict[str, Any]], limit: int, left_out_before: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Of the deals needing attention, at most `limit`, in the audit's order: those with the
    largest amounts (the amount being what the forecast call weighs), ties by order; and how
    many are left out (with `left_out_before`, those a document built by `LargestDeals`
    already left out).

    The document lists every audited deal since schema version 4; the reports for people list
    the exceptions, so they do not grow with the deals that need nothing. A deal without the
    flag (a document built by hand) is listed."""
    largest = LargestList(limit)
    for deal in deals:
        largest.offer_deal(deal)
    listed, left_out = largest.shown()
    return listed, left_out + left_out_before


class LargestList:
    """The deals needing attention a capped list holds, chosen as they come: at most `limit`,
    the largest amounts, ties by the order offered, listed in that order; and how many others
    were offered. `largest_deals` chooses from a document's deals, report/audit_json.py's
    `LargestDeals` from an audit's as it judges them, and report/saved_reports.py from a saved
    audit's as it reads them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept: list[tuple[tuple[float, int], Any]] = []  # a heap, smallest first
        self.offered = 0

    def offer(self, amount: Any, item: Callable[[], Any]) -> None:
        """A deal needing attention, of this amount; `item` makes what is kept of it, and
        is called only for a deal that ranks among the largest so far."""
        rank = listing_order(amount, self.offered)
        self.offered += 1
        if len(self.kept) < self.limit:
            heapq.heappush(self.kept, (rank, item()))
        elif self.kept and rank > self.kept[0][0]:
            heapq.heapreplace(self.kept, (rank, item()))

    def offer_deal(self, deal: dict[str, Any]) -> None:
        """A deal of a document, offered when it needs attention; a deal without the flag
        (a document built by hand) does."""
        if deal.get("needs_attention", True):
            self.offer(deal.get("amount"), lambda: deal)

    def shown(self) -> tuple[list[Any], int]:
        """The deals kept, in the order offered, and how many others there were."""
        listed = [item for _, item in sorted(self.kept, key=lambda kept: -kept[0][1])]
        return listed, self.offered - len(listed)


def listing_order(amount: Any, index: int) -> tuple[float, int]:
    """How a deal needing attention ranks for a place in a capped list: by amount, then the
    earlier in the audit."""
    return (float(amount or 0), -index)


def left_out_text(listed: int, left_out: int) -> str:
    """What a capped list says of itself, and where the whole list is."""
    return (
        f"The list holds the {listed:,} deals with the largest amounts of the "
        f"{listed + left_out:,} that need attention; {left_out:,} are left out of it. "
        "The figures count every deal. The whole list: --format csv (a row per deal) or "
        "--format parquet."
    )


def named_milestones(deals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each milestone the deals' findings name, once, in the order first met: its name, the
    stage it exits, severity, evidence and guidance."""
    seen: dict[str, dict[str, Any]] = {}
    for deal in deals:
        name_milestones(seen, deal)
    return list(seen.values())


def name_milestones(seen: dict[str, dict[str, Any]], deal: dict[str, Any]) -> None:
    """Adds the milestones a deal's findings name that `seen` does not hold yet."""
    for finding in deal.get("findings") or []:
        seen.setdefault(
            finding["milestone_id"],
            {
                "milestone_id": finding["milestone_id"],
                "milestone": finding.get("milestone"),
                "stage_id": finding.get("stage_id"),
                "severity": finding.get("severity"),
                "evidence": finding.get("evidence"),
                "guidance": finding.get("guidance"),
            },
        )
