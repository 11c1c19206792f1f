"""What the reports for people (the HTML page, the workbook) list of a large audit, and the
texts they carry once per milestone rather than on every finding."""

from __future__ import annotations

import heapq
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
    deals = [deal for deal in deals if deal.get("needs_attention", True)]
    if len(deals) <= limit:
        return deals, left_out_before
    largest = heapq.nlargest(
        limit, range(len(deals)), key=lambda i: listing_order(deals[i].get("amount"), i)
    )
    return [deals[i] for i in sorted(largest)], len(deals) - limit + left_out_before


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
