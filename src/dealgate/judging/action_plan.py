"""Overdue steps of a deal's mutual action plan: what the forecast report charts per owner.

A fact about the deal on the audit date, not a rule: a step is overdue when its due date has
passed and it has no done date. Packs judge the plan through their own milestones (for example
buyer-journey's HYG-MAP-ON-TRACK); this only lists the late steps so a manager can ask about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dealgate.deals.model import Deal

UNASSIGNED = "unassigned"  # a step whose side (buyer or seller) is not recorded


@dataclass(frozen=True)
class OverdueStep:
    milestone: str | None
    side: str  # buyer, seller or unassigned
    owner: str | None
    due: date
    days_overdue: int

    def as_json(self) -> dict[str, object]:
        return {
            "milestone": self.milestone,
            "side": self.side,
            "owner": self.owner,
            "due": self.due.isoformat(),
            "days_overdue": self.days_overdue,
        }


def overdue_steps(deal: Deal, as_of: date) -> tuple[OverdueStep, ...]:
    """The open steps of the plan whose due date is before the audit date, latest first."""
    late = [
        OverdueStep(
            step.milestone,
            step.owner_side or UNASSIGNED,
            step.owner,
            step.due,
            (as_of - step.due).days,
        )
        for step in deal.action_plan or ()
        if step.due is not None and step.done_on is None and step.due < as_of
    ]
    return tuple(sorted(late, key=lambda step: -step.days_overdue))
