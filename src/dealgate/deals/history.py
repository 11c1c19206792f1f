"""History from snapshots: per-deal fields derived from the saved audits of earlier weeks.

A snapshot is a saved JSON audit (`dealgate audit … --format json --output FILE`), read only
through report/saved_audit.py's `load_audit`. Each one saw every audited deal's stage and close
date on its `as_of`; today's export is the latest sighting, on the audit's as-of. Between
consecutive sightings of a deal this module counts the close date moving later, the stage
changing, and the stage moving back (docs/history.md).

A deal seen too few times to tell has *insufficient history*: the fields stay empty and
coverage (judging/coverage.py) makes the milestones reading them unmeasured on that deal, with
the reason, never met nor not applicable. A snapshot saved before schema version 4 lists only
the deals needing attention, so a deal it does not list is unknown there, not absent: a deal
with such a gap after it was first seen has insufficient history too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from dealgate.deals.model import InsufficientHistory, ReadDeal, StageChange, construct
from dealgate.deals.normalise import deal_key
from dealgate.errors import InputError, Location, Problem, UsageError

if TYPE_CHECKING:
    from dealgate.rules.model import RulePack

PUSH_FIELDS = ("close_date_pushes", "close_date_largest_push_days", "close_date_days_pushed")
STAGE_FIELDS = ("stage_history", "stage_moved_back")
# The fields --history derives, unless the export has a column for one (the export wins).
HISTORY_FIELDS = (*PUSH_FIELDS, *STAGE_FIELDS)
INSUFFICIENT = "insufficient history"


@dataclass(frozen=True)
class HistoryRequest:
    """The snapshots given with --history, and the day today's export was taken (the
    audit's as-of)."""

    files: tuple[Path, ...]
    as_of: date


@dataclass(frozen=True)
class Sighting:
    """A deal as one observation saw it."""

    as_of: date
    stage: str | None  # as the CRM names it
    position: int | None  # its stage's place in the pack; None when unknown
    close_date: date | None


@dataclass(frozen=True)
class Snapshot:
    """One saved audit, as history: the deals it saw, by deal key."""

    file: str
    as_of: date
    complete: bool  # lists every open deal of the export; else a deal it lacks is unknown there
    deals: Mapping[str, Sighting]
    filtered: bool = False  # saved with --owner, --manager or --stage: some deals left out


@dataclass(frozen=True)
class DealHistory:
    """What the sightings of one deal tell: the derived fields known, and for the others why
    not (field -> reason)."""

    values: Mapping[str, Any]
    insufficient: Mapping[str, str]
    stage_since: date | None = None  # same stage in every sighting, the first on this day


@dataclass
class PipelineHistory:
    """The snapshots in date order, applied to each deal read from today's export."""

    snapshots: tuple[Snapshot, ...]
    as_of: date  # today's export
    derived: frozenset[str]  # the history fields the export has no column for
    positions: Mapping[str, int]  # stage id -> its place in the pack
    notes: list[str] = field(default_factory=list)

    @property
    def observations(self) -> int:
        return len(self.snapshots) + 1

    def apply(self, read: ReadDeal) -> ReadDeal:
        """The deal with the history fields the export lacks filled in where its history
        suffices, and why not where it does not (ReadDeal.insufficient_history)."""
        found = self.history_of(read)
        values = {name: found.values[name] for name in self.derived if name in found.values}
        why = {
            name: found.insufficient[name] for name in self.derived if name in found.insufficient
        }
        deal = construct(type(read.deal), {**read.deal.__dict__, **values})
        insufficient = None
        if why:
            since = found.stage_since if "stage_history" in why else None
            insufficient = InsufficientHistory(MappingProxyType(why), since)
        return construct(
            ReadDeal, {**read.__dict__, "deal": deal, "insufficient_history": insufficient}
        )

    def history_of(self, read: ReadDeal) -> DealHistory:
        """Every history field of one deal, from its sightings and today's export."""
        key = deal_key(read.deal.id)
        seen: list[Sighting] = []
        gaps: list[Snapshot] = []
        for snapshot in self.snapshots:
            sighting = snapshot.deals.get(key)
            if sighting is not None:
                seen.append(sighting)
            elif seen and not snapshot.complete:
                gaps.append(snapshot)
        today = read.deal
        position = self.positions.get(read.stage_id) if read.stage_id else None
        seen.append(Sighting(self.as_of, today.stage, position, today.close_date))
        if gaps:
            reason = f"{INSUFFICIENT}: " + "; ".join(_not_listed(gap) for gap in gaps)
            return DealHistory({}, dict.fromkeys(HISTORY_FIELDS, reason))
        values: dict[str, Any] = {}
        insufficient: dict[str, str] = {}
        _pushes(seen, self.observations, values, insufficient)
        _stages(seen, self.observations, values, insufficient)
        since = seen[0].as_of if len(seen) > 1 and "stage_history" in insufficient else None
        return DealHistory(values, insufficient, since)


def _not_listed(snapshot: Snapshot) -> str:
    name = Path(snapshot.file).name
    if snapshot.filtered:
        return f"not listed in {name}, saved with --owner, --manager or --stage filters"
    return (
        f"not listed in {name}, saved before schema version 4, which lists only the deals "
        "needing attention"
    )


def _seen_in(count: int, observations: int, what: str = "seen") -> str:
    return f"{INSUFFICIENT}: {what} in {count} of {observations} observations"


def _pushes(
    seen: Sequence[Sighting], observations: int, values: dict[str, Any], why: dict[str, str]
) -> None:
    """How often, how far at most and how far in all the close date moved later between
    consecutive sightings that show one."""
    dates = [sighting.close_date for sighting in seen if sighting.close_date is not None]
    if len(dates) < 2:
        what = "seen" if len(seen) < 2 else "a close date seen"
        reason = _seen_in(len(seen) if len(seen) < 2 else len(dates), observations, what)
        why.update(dict.fromkeys(PUSH_FIELDS, reason))
        return
    pushes = [(later - earlier).days for earlier, later in pairwise(dates)]
    pushes = [days for days in pushes if days > 0]
    values["close_date_pushes"] = len(pushes)
    values["close_date_largest_push_days"] = max(pushes, default=0)
    values["close_date_days_pushed"] = sum(pushes)


def _stages(
    seen: Sequence[Sighting], observations: int, values: dict[str, Any], why: dict[str, str]
) -> None:
    """The stage changes seen (each entered on the first sighting showing it), and whether a
    later sighting was at an earlier stage of the pack."""
    if len(seen) < 2:
        why.update(dict.fromkeys(STAGE_FIELDS, _seen_in(len(seen), observations)))
        return
    placed = [sighting.position for sighting in seen if sighting.position is not None]
    if len(placed) >= 2:
        values["stage_moved_back"] = any(later < earlier for earlier, later in pairwise(placed))
    else:
        why["stage_moved_back"] = _seen_in(len(placed), observations, "a known stage seen")
    changes = [
        construct(StageChange, {"stage": later.stage, "entered_on": later.as_of})
        for earlier, later in pairwise(seen)
        if _changed(earlier, later)
    ]
    if changes:
        values["stage_history"] = changes
    else:
        first = seen[0].as_of.isoformat()
        why["stage_history"] = (
            f"{INSUFFICIENT}: at the same stage in all {len(seen)} observations since {first}, "
            "so when it entered that stage is unknown"
        )


def _changed(earlier: Sighting, later: Sighting) -> bool:
    if earlier.position is not None and later.position is not None:
        return earlier.position != later.position
    return (earlier.stage or "").strip().casefold() != (later.stage or "").strip().casefold()


def load_history(
    request: HistoryRequest, pack: RulePack, supplied: frozenset[str]
) -> PipelineHistory:
    """The snapshots of --history, in date order; InputError (exit 2) naming a file that is
    not a saved audit, UsageError for two snapshots of one day or one not before the audit."""
    positions = MappingProxyType({stage.id: stage.position for stage in pack.stages})
    snapshots = [_snapshot(path, positions) for path in request.files]
    snapshots.sort(key=lambda snapshot: snapshot.as_of)
    for earlier, later in pairwise(snapshots):
        if earlier.as_of == later.as_of:
            raise UsageError(
                f"--history: {earlier.file} and {later.file} are both as of "
                f"{later.as_of.isoformat()}; give one snapshot per day"
            )
    for snapshot in snapshots:
        if snapshot.as_of >= request.as_of:
            raise UsageError(
                f"--history: {snapshot.file} is as of {snapshot.as_of.isoformat()}, not before "
                f"the audit's as-of {request.as_of.isoformat()}; the export is the latest "
                "observation (give --as-of the day it was taken)"
            )
    derived = frozenset(name for name in HISTORY_FIELDS if name not in supplied)
    days = ", ".join(snapshot.as_of.isoformat() for snapshot in snapshots)
    notes = [
        f"{len(snapshots)} snapshot(s) as of {days}, and the export as of "
        f"{request.as_of.isoformat()}; derived: {', '.join(sorted(derived)) or 'nothing'}"
    ]
    notes += [
        f"{name}: from the export's column, not from --history (the export wins)"
        for name in HISTORY_FIELDS
        if name in supplied
    ]
    return PipelineHistory(tuple(snapshots), request.as_of, derived, positions, notes)


def _snapshot(path: Path, positions: Mapping[str, int]) -> Snapshot:
    """What a saved audit saw of each deal, read deal by deal: its sighting, not the deal."""
    from dealgate.report.saved_audit import NEEDING_ATTENTION, Deal, read_deals_of

    file = str(path)
    saved: list[tuple[str, str | None, str | None, str | None]] = []

    def sighted(deal: Deal) -> None:
        saved.append((deal.id, deal.stage, deal.stage_id, deal.close_date))

    document = read_deals_of(path, "snapshot", sighted)
    audit = document.audit
    as_of = _date(audit.as_of, file, "as_of")
    deals = {}
    for number, (deal_id, stage, stage_id, close) in enumerate(saved):
        deals[deal_key(deal_id)] = Sighting(
            as_of,
            stage,
            positions.get(stage_id) if stage_id else None,
            _date(close, file, f"deals[{number}].close_date") if close else None,
        )
    # A deal it does not list was not open that day, unless the audit listed only the deals
    # needing attention (before schema 4) or left some out by --owner, --manager or --stage.
    counts = document.data.get("reconciliation")
    filtered = isinstance(counts, dict) and bool(counts.get("excluded_filtered"))
    complete = audit.deals_listed != NEEDING_ATTENTION and not filtered
    return Snapshot(file, as_of, complete, MappingProxyType(deals), filtered)


def _date(text: str, file: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        message = f"not an audit: {where}: {text!r} is not a date (YYYY-MM-DD)"
        raise InputError([Problem(Location(file), message)]) from None
