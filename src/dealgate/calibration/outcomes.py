"""Outcomes: which deals of a current export were won or lost, and when they closed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from dealgate.calibration.snapshots import ClosedDeal
from dealgate.deals.source import DealSource
from dealgate.rules.model import RulePack


@dataclass
class Outcomes:
    """The closed deals of an export, and every other deal read, counted by why it is not one."""

    file: str
    closed: list[ClosedDeal] = field(default_factory=list)
    # why a deal read is not an outcome: still open, an unknown stage, no close date
    not_outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def deals_read(self) -> int:
        return len(self.closed) + sum(self.not_outcomes.values())


def read_outcomes(source: DealSource, pack: RulePack) -> Outcomes:
    """Each deal of the export at a won or lost stage of the pack, with its close date."""
    outcomes = Outcomes(source.table.file)
    for read in source:
        stage = pack.stage(read.stage_id) if read.stage_id else None
        close_date = read.deal.close_date
        if stage is None:
            outcomes.not_outcomes["stage the pack does not know"] += 1
        elif stage.is_open:
            outcomes.not_outcomes["still open"] += 1
        elif not isinstance(close_date, date):
            outcomes.not_outcomes["closed without a close date"] += 1
        else:
            won = stage.terminal == "won"
            outcomes.closed.append(ClosedDeal(read.deal.id, won, close_date))
    return outcomes
