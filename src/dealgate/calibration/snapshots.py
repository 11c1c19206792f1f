"""Saved audits as snapshots: what each deal's milestones were, weeks before it closed.

A snapshot is a JSON audit saved with --include-met (report/saved_audit.py, `findings_listed:
"all"`): every open deal with every milestone's status on that day. Calibration joins a closed
deal's last snapshot at least `lead_days` before its close date with the outcome, so what is
compared was recorded before anyone knew how the deal ended (docs/calibration.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dealgate.calibration.measures import MEASURES
from dealgate.calibration.statistics import Observation
from dealgate.deals.normalise import deal_key
from dealgate.errors import InputError, Location, Problem
from dealgate.report.saved_audit import (
    DEALS_LISTED,
    FINDINGS_ALL,
    AuditDocument,
    Deal,
    read_deals_of,
)
from dealgate.rules.model import RulePack

SAVE_HINT = (
    "save weekly snapshots with `dealgate audit … --format json --include-met --output FILE`"
)


@dataclass(frozen=True)
class SnapshotDeal:
    """An open deal as a snapshot saw it: its pack stage, and each milestone's status.

    Only this is kept of a snapshot: a saved audit holds every finding's text and the values
    it read, ~13 kB a deal, and a year of weekly snapshots must fit in memory together."""

    stage_id: str
    statuses: dict[str, str]  # milestone id -> met, missing, unmeasured, waived, not_applicable


@dataclass(frozen=True)
class Snapshot:
    """A saved audit, by its date, with its open deals by deal key."""

    file: str
    as_of: date
    deals: dict[str, SnapshotDeal]


@dataclass(frozen=True)
class ClosedDeal:
    """A deal of the outcomes export that is won or lost, with its close date."""

    deal_id: str
    won: bool
    close_date: date


@dataclass(frozen=True)
class Journey:
    """One closed deal as the snapshots saw it: its open pack stages by date, oldest first."""

    deal_id: str
    won: bool
    close_date: date
    seen: tuple[tuple[date, SnapshotDeal], ...]


def load_snapshots(
    paths: Sequence[Path], pack: RulePack, *, accept_pack_changes: bool = False
) -> list[Snapshot]:
    """The snapshots, oldest first; InputError (exit 2) for a file that is not one, one made
    with a different pack (unless accepted: milestones are then compared by id), or two of the
    same day."""
    problems: list[Problem] = []
    snapshots: list[Snapshot] = []
    for path in paths:
        # deal by deal: of a deal only its open stage and statuses are kept (OpenDeals)
        kept = OpenDeals(pack)
        document = read_deals_of(path, "snapshot", kept.add)
        problem = _unusable(document, str(path), pack, accept_pack_changes)
        if problem is not None:
            problems.append(problem)
            continue
        as_of = date.fromisoformat(document.audit.as_of)
        snapshots.append(Snapshot(str(path), as_of, kept.deals))
        del document  # before the next file is read
    by_day: dict[date, str] = {}
    for snapshot in snapshots:
        if snapshot.as_of in by_day:
            message = f"a second snapshot of {snapshot.as_of} (the first: {by_day[snapshot.as_of]})"
            problems.append(Problem(Location(snapshot.file), message, "give one a day"))
        by_day[snapshot.as_of] = snapshot.file
    if problems:
        raise InputError(problems)
    return sorted(snapshots, key=lambda snapshot: snapshot.as_of)


class OpenDeals:
    """A snapshot's open deals, by deal key, with each milestone's status, kept as its deals
    are read."""

    def __init__(self, pack: RulePack) -> None:
        self.open_ids = {stage.id for stage in pack.open_stages}
        self.names: dict[str, str] = {}  # one string per milestone id and status, shared
        self.deals: dict[str, SnapshotDeal] = {}

    def add(self, deal: Deal) -> None:
        if deal.stage_id not in self.open_ids:
            return
        names = self.names
        statuses = {
            names.setdefault(f.milestone_id, f.milestone_id): names.setdefault(f.status, f.status)
            for f in deal.findings
        }
        self.deals[deal_key(deal.id)] = SnapshotDeal(deal.stage_id, statuses)


def _unusable(
    document: AuditDocument, shown: str, pack: RulePack, accept_pack_changes: bool
) -> Problem | None:
    """Why a saved audit cannot be a snapshot; None when it can."""
    audit = document.audit
    if audit.deals_listed != DEALS_LISTED or audit.findings_listed != FINDINGS_ALL:
        return Problem(
            Location(shown),
            "not a snapshot: it lists only the findings not met, so a met milestone cannot be "
            "told from one that did not apply",
            SAVE_HINT,
        )
    if audit.pack.id != pack.id:
        return Problem(
            Location(shown),
            f"made with pack {audit.pack.id!r}, and calibration judges {pack.id!r}",
            f"pass --rules {audit.pack.id}",
        )
    if audit.pack.hash != pack.content_hash() and not accept_pack_changes:
        was = (audit.pack.hash or "not recorded")[:12]
        return Problem(
            Location(shown),
            f"made with another version of pack {pack.id!r} (content hash {was}, now "
            f"{pack.content_hash()[:12]}): its milestones may have meant something else",
            "pass --accept-pack-changes to compare milestones by id across versions",
        )
    return None


def journeys(snapshots: Sequence[Snapshot], closed: Iterable[ClosedDeal]) -> list[Journey]:
    """Each closed deal with the snapshots that saw it open, before its close date."""
    found = []
    for deal in closed:
        key = deal_key(deal.deal_id)
        seen = tuple(
            (snapshot.as_of, snapshot.deals[key])
            for snapshot in snapshots
            if key in snapshot.deals and snapshot.as_of <= deal.close_date
        )
        found.append(Journey(deal.deal_id, deal.won, deal.close_date, seen))
    return found


def last_before(journey: Journey, lead_days: int) -> tuple[date, SnapshotDeal] | None:
    """The deal's last snapshot at least `lead_days` before it closed; None when none was."""
    latest = journey.close_date - timedelta(days=lead_days)
    earlier = [seen for seen in journey.seen if seen[0] <= latest]
    return earlier[-1] if earlier else None


def observations(journey: Journey, snapshot_deal: SnapshotDeal) -> list[Observation]:
    """Each milestone that applied to the deal in the snapshot, met, missing or unmeasured.

    A milestone of a stage the deal had not reached is not in its findings, and so not
    observed: each milestone is compared among the deals that reached its stage. A waived or
    not applicable one says nothing about the milestone either way.
    """
    return [
        Observation(journey.deal_id, milestone_id, MEASURES[status], journey.won)
        for milestone_id, status in snapshot_deal.statuses.items()
        if status in MEASURES
    ]
