"""How the weekly exports in this folder were made: `python examples/history/make_history.py`.

A seeded simulation of 200 Salesforce opportunities over four months, written as the weekly
opportunity reports a sales-ops team would save (a standard report's columns, US dates), and
the report of 2026-11-27 as the outcomes. Each deal has a hidden quality that makes it both
more likely to win and more likely to meet some milestones (the economic buyer met, a champion
named and tested, the pain confirmed); others are met at random (competitors listed, the
compelling event, the paper process), so calibration has both kinds to find. The verbal
commitment is typed in after the close on most won deals, as reps do in the win review: the
leak that calibrating from closed deals alone falls for (docs/calibration.md).

The files are committed; this script only says how they came about, and writes them again
byte for byte.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).parent
SNAPSHOT_DAYS = [date(2026, 9, 4) + timedelta(weeks=week) for week in range(12)]  # to 11-20
OUTCOMES_DAY = date(2026, 11, 27)
STAGES = ["Prospecting", "Needs Analysis", "Value Proposition", "Proposal/Price Quote",
          "Negotiation/Review"]  # fmt: skip
OWNERS = ["Sophie Müller", "Ben Carter", "Aisha Khan", "Tomás Ruiz", "Mei Lin"]
ACCOUNTS = ["Moorland Outdoor", "Quantum Energy", "Harbour Foods", "Northwind Logistics",
            "Blue Fjord Media", "Cedar Health", "Atlas Metals", "Orchid Retail"]  # fmt: skip

# column, the stage index whose exit it is, and how its chance of being filled in depends on
# the deal's quality q: (base, slope) -> base + slope * q
FIELDS: list[tuple[str, int, float, float]] = [
    ("Pain", 0, 0.85, 0.10),
    ("Pain Confirmed By", 0, 0.45, 0.50),
    ("Discovery Meeting On", 0, 0.80, 0.15),
    ("Metrics", 1, 0.55, 0.30),
    ("Decision Criteria", 1, 0.70, 0.20),
    ("Economic Buyer", 1, 0.50, 0.45),
    ("Champion", 1, 0.25, 0.70),
    ("Competitors", 1, 0.55, 0.00),
    ("Solution Validated On", 2, 0.60, 0.20),
    ("Decision Process", 2, 0.55, 0.25),
    ("Champion Tested On", 2, 0.15, 0.70),
    ("Economic Buyer Met On", 2, 0.10, 0.85),
    ("Business Case Approved On", 3, 0.45, 0.40),
    ("Paper Process", 3, 0.60, 0.00),
    ("Proposal Sent On", 3, 0.90, 0.05),
    ("Vendor Selected On", 3, 0.35, 0.45),
    ("Compelling Event", 3, 0.50, 0.00),
    ("Terms Agreed On", 4, 0.60, 0.20),
]
TEXT = {
    "Pain": "Invoices are keyed by hand and 1 in 5 needs rework",
    "Pain Confirmed By": "Simone Clarke, Controller",
    "Metrics": "Days to close the books down from 9 to 4",
    "Decision Criteria": "ERP integration, audit trail, go-live in 90 days",
    "Economic Buyer": "Omar Reyes, CFO",
    "Champion": "Lucas Lopez, Head of Finance Ops",
    "Competitors": "the in-house spreadsheets; one other vendor",
    "Decision Process": "Steering committee shortlists, CFO decides, procurement issues the PO",
    "Paper Process": "Vendor onboarding, MSA review by legal, CFO signs",
    "Compelling Event": "Audit season starts 1 March",
}
HEADER = ["Opportunity ID", "Opportunity Name", "Account Name", "Opportunity Owner", "Stage",
          "Amount", "Opportunity Currency", "Close Date", "Created Date", "Next Step",
          "Next Step Date", "Last Activity", *(name for name, *_ in FIELDS),
          "Verbal Commit On"]  # fmt: skip


@dataclass
class SimulatedDeal:
    number: int
    quality: float
    created: date
    amount: int
    owner: str
    account: str
    stage_entered: list[date] = field(default_factory=list)  # day each stage was entered
    closed_on: date | None = None
    won: bool = False
    filled: dict[str, date] = field(default_factory=dict)  # column -> day it was filled in

    @property
    def deal_id(self) -> str:
        return f"0065g000004H{self.number:03d}"

    def stage_on(self, day: date) -> str:
        if self.closed_on is not None and self.closed_on <= day:
            return "Closed Won" if self.won else "Closed Lost"
        return STAGES[sum(1 for entered in self.stage_entered if entered <= day) - 1]


def simulate(rng: random.Random, number: int) -> SimulatedDeal:
    created = date(2026, 7, 20) + timedelta(days=rng.randrange(0, 95))
    deal = SimulatedDeal(
        number,
        rng.random(),
        created,
        rng.randrange(8, 120) * 500,
        rng.choice(OWNERS),
        f"{rng.choice(ACCOUNTS)} {number}",
        [created],
    )
    day = created
    while day < OUTCOMES_DAY:
        day += timedelta(days=7)
        stage = len(deal.stage_entered) - 1
        if rng.random() < 0.012 + 0.04 * (1 - deal.quality):
            deal.closed_on, deal.won = day, False
        elif stage == len(STAGES) - 1 and rng.random() < 0.35:
            deal.closed_on, deal.won = day, rng.random() < 0.2 + 0.75 * deal.quality
        elif stage < len(STAGES) - 1 and rng.random() < 0.35:
            deal.stage_entered.append(day)
        if deal.closed_on is not None:
            break
    for column, stage, base, slope in FIELDS:
        if stage < len(deal.stage_entered) and rng.random() < base + slope * deal.quality:
            filled = deal.stage_entered[stage] + timedelta(days=rng.randrange(0, 12))
            deal.filled[column] = min(filled, deal.closed_on or filled)
    if deal.closed_on is not None and deal.won and rng.random() < 0.8:
        deal.filled["Verbal Commit On"] = deal.closed_on + timedelta(days=rng.randrange(1, 5))
    elif len(deal.stage_entered) == len(STAGES) and rng.random() < 0.25:
        deal.filled["Verbal Commit On"] = deal.stage_entered[-1] + timedelta(days=6)
    return deal


def row(deal: SimulatedDeal, day: date) -> list[str]:
    """The deal as the report run on `day` shows it."""
    close = deal.closed_on or (day + timedelta(days=30 + deal.number % 60))
    if deal.closed_on is not None and deal.closed_on > day:
        close = deal.closed_on  # the rep's expected date, which came true
    values = {"Amount": f"{deal.amount:.2f}", "Close Date": _us(close)}
    for column, filled in deal.filled.items():
        if filled <= day:
            values[column] = TEXT.get(column) or _us(filled)
    return [
        deal.deal_id,
        f"{deal.account} - Finance Automation",
        deal.account,
        deal.owner,
        deal.stage_on(day),
        values["Amount"],
        "USD",
        values["Close Date"],
        _us(deal.created),
        "Follow-up call",
        _us(day + timedelta(days=7)),
        _us(day - timedelta(days=deal.number % 9)),
        *(values.get(column, "") for column in HEADER[12:]),
    ]


def _us(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def write(path: Path, deals: list[SimulatedDeal], day: date, closed_too: bool) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\r\n")
        writer.writerow(HEADER)
        for deal in deals:
            if deal.created > day:
                continue
            if not closed_too and deal.closed_on is not None and deal.closed_on <= day:
                continue  # the weekly report lists open deals
            writer.writerow(row(deal, day))


def main() -> None:
    rng = random.Random(20261127)
    deals = [simulate(rng, number) for number in range(1, 201)]
    for day in SNAPSHOT_DAYS:
        write(HERE / f"opportunities-{day.isoformat()}.csv", deals, day, closed_too=False)
    write(HERE / "outcomes-2026-11-27.csv", deals, OUTCOMES_DAY, closed_too=True)


if __name__ == "__main__":
    main()
