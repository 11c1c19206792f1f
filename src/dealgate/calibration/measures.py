"""How a finding's status counts in a calibration, for closed deals and snapshots alike."""

from __future__ import annotations

from collections.abc import Mapping

from dealgate.calibration.statistics import Measure
from dealgate.findings import Status
from dealgate.rules.model import Severity, Stage

# A waived or not applicable milestone says nothing about the milestone either way: absent.
# Keyed by Status, a StrEnum: a snapshot's status text finds its entry too.
MEASURES: Mapping[str, Measure] = {
    Status.MET: Measure.MET,
    Status.MISSING: Measure.MISSING,
    Status.UNMEASURED: Measure.UNKNOWN,
}


def exits_met(stage: Stage, statuses: Mapping[str, str]) -> bool | None:
    """Whether every required exit of the stage that was measured is met (statuses by
    milestone id); None when none was (an exit the input cannot show is left out, not
    failed)."""
    measured = [
        statuses[milestone.id] == Status.MET
        for milestone in stage.exit
        if milestone.severity is Severity.REQUIRED
        and statuses.get(milestone.id) in (Status.MET, Status.MISSING)
    ]
    return all(measured) if measured else None
