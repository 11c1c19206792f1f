"""A request for a calibration becomes a run: which source, read how (the application layer of
`dealgate calibrate`; the command only parses options and prints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from dealgate.calibration.calibrate import Calibration, from_closed_deals, from_snapshots
from dealgate.calibration.statistics import Thresholds
from dealgate.deals.source import Reading
from dealgate.rules.model import RulePack

if TYPE_CHECKING:
    from dealgate.engines.base import Engine


@dataclass(frozen=True)
class CalibrationRequest:
    """What a calibration was asked for, checked by the command."""

    pack: RulePack
    as_of: date
    thresholds: Thresholds
    outcomes: Path | None = None  # the export whose closed deals are the outcomes
    snapshots: tuple[Path, ...] = ()  # with `outcomes`: saved audits to calibrate from
    closed_deals: Path | None = None  # an export calibrated from its closed deals alone
    reading: Reading = field(default_factory=Reading)
    engine: Engine | None = None  # for closed deals alone: judges them now
    lead_days: int = 14
    accept_pack_changes: bool = False


def run_calibration(request: CalibrationRequest) -> Calibration:
    """The calibration from snapshots and outcomes, or from the closed deals of an export.

    Raises InputError for a file that cannot be used.
    """
    if request.closed_deals is not None:
        return _closed(request, request.closed_deals)
    assert request.outcomes is not None and request.snapshots
    from dealgate.calibration.outcomes import read_outcomes
    from dealgate.calibration.snapshots import load_snapshots

    snapshots = load_snapshots(
        request.snapshots, request.pack, accept_pack_changes=request.accept_pack_changes
    )
    source = request.reading.open(request.outcomes, request.pack)
    outcomes = read_outcomes(source, request.pack)
    rejected = source.mapper.reconciliation.rows_rejected
    if rejected:
        outcomes.not_outcomes["rejected row of the export"] += rejected
    return from_snapshots(request.pack, snapshots, outcomes, request.lead_days, request.thresholds)


def _closed(request: CalibrationRequest, export: Path) -> Calibration:
    from dealgate.application import AuditRequest, run_audit_request
    from dealgate.audit import AuditFilters
    from dealgate.calibration.closed import closed_deals

    assert request.engine is not None
    audit = AuditRequest(
        pipeline=export,
        pack=request.pack,
        as_of=request.as_of,
        engine=request.engine,
        reading=request.reading,
        filters=AuditFilters(include_closed=True),
        include_met=True,
        format="json",
        kept_fields=("stage_history",),  # how far each lost deal went (calibration/closed.py)
    )
    run = run_audit_request(audit)
    assert run.result is not None  # the JSON format takes the Python route
    found = closed_deals(run.result)
    rejected = run.result.reconciliation.rows_rejected
    if rejected:
        found.not_outcomes["rejected row of the export"] += rejected
    return from_closed_deals(
        request.pack, found, f"the closed deals of {export}", request.thresholds
    )
