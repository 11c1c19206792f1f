"""Stage semantics, decided once per pack and read by every route (docs/rules.md).

Everything the audit concludes from a deal's stage depends on the pack and on that stage
alone: which milestones apply, whether a missing one is skipped, to-advance or hygiene,
which gates the evidence stage must pass, which checks make a deal re-date. A stage is one
of a few positions (or None, a stage the pack does not know), so each rule is decided here,
in Python, for every position: `assess` looks the answers up per deal, and the columnar
judge writes the same answers into its SQL as sets of positions. No route decides a stage
rule of its own; only the mechanics of asking ("is the stage in this set?") are per route.

For an open deal at stage S: exit milestones of earlier stages unmet are *skipped*; those
of S are *to-advance*; hygiene checks apply to every open deal. The evidence stage E is the
furthest stage up to S such that every required exit milestone of every stage before E is
met; inflation = position(S) - position(E).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from dealgate.findings import Disposition, FindingKind
from dealgate.rules.model import Milestone, RulePack, Severity, Stage

Position = int | None  # a pack stage's position; None: the pack knows no stage for the deal

# The kinds of a missing finding that fail --fail-on (at their severity): a to-advance
# milestone is the next step of a deal at its stage, not a fault.
FAILING_KINDS = frozenset({FindingKind.SKIPPED, FindingKind.HYGIENE})
# The kinds that make a deal need attention: those, and a waiver that expired.
ATTENTION_KINDS = FAILING_KINDS | {FindingKind.WAIVER}


@dataclass(frozen=True)
class Scope:
    """Which milestones an engine evaluates for a deal (DealRequest carries it)."""

    limit: int  # exit milestones of stages at positions <= limit apply; -1 for none
    hygiene: bool  # hygiene checks apply (open deals and deals of an unknown stage)

    def applies(self, milestone: Milestone, pack: RulePack) -> bool:
        if milestone.stage_id is None:
            return self.hygiene
        return pack.stage(milestone.stage_id).position <= self.limit


@dataclass(frozen=True)
class Gate:
    """The required exits of one stage. A deal claiming a stage past it, with any of them
    missing, has evidence only up to `reached`."""

    position: int
    reached: int
    required: tuple[Milestone, ...]


class StageSemantics:
    """The stage rules of one pack, decided for every position a deal's stage can take."""

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        self.milestones = tuple(pack.milestones())
        self.positions: tuple[Position, ...] = (None, *(s.position for s in pack.stages))
        self.first_open = pack.open_stages[0].position
        # Asked per deal: decided once for each position.
        self._scopes = {position: self._scope(position, None) for position in self.positions}
        self._gates_before = {
            position: tuple(g for g in self.gates if position is not None and g.position < position)
            for position in self.positions
        }

    # -- a deal's stage ----------------------------------------------------------------

    @cached_property
    def order(self) -> dict[str, int]:
        """Each milestone id's place in the pack's order."""
        return {milestone.id: index for index, milestone in enumerate(self.milestones)}

    @cached_property
    def unmeasurable(self) -> tuple[Milestone, ...]:
        """The milestones reading a field the input lacks (judging/coverage.py)."""
        return tuple(m for m in self.milestones if m.unmeasured is not None)

    def stage_at(self, position: Position) -> Stage | None:
        return None if position is None else self.pack.stages[position]

    def is_closed(self, position: Position) -> bool:
        """Won or lost: not audited unless asked for (an unknown stage is audited)."""
        stage = self.stage_at(position)
        return stage is not None and not stage.is_open

    def scope(self, position: Position, to_position: Position = None) -> Scope:
        """What applies at a stage: its exits and earlier ones, and hygiene if open; a
        closed deal's every open exit; a deal of an unknown stage, hygiene only. Checking a
        deal `--to` a later stage adds the exits of the stages it passes on the way."""
        if to_position is None:
            return self._scopes[position]
        return self._scope(position, to_position)

    def _scope(self, position: Position, to_position: Position) -> Scope:
        stage = self.stage_at(position)
        if stage is None:
            return Scope(limit=-1, hygiene=True)
        if not stage.is_open:
            return Scope(limit=self.pack.open_stages[-1].position, hygiene=False)
        limit = stage.position
        if to_position is not None and to_position > stage.position:
            limit = to_position - 1
        return Scope(limit=limit, hygiene=True)

    def applies(self, milestone: Milestone, position: Position) -> bool:
        return self.scope(position).applies(milestone, self.pack)

    # -- a missing finding ---------------------------------------------------------------

    def kind(self, milestone: Milestone, position: Position) -> FindingKind:
        """A check is hygiene; an exit of a stage before the deal's (or of any stage, the
        deal's being unknown) is skipped; one of its own stage (or later, `--to`) is
        to-advance."""
        if milestone.stage_id is None:
            return FindingKind.HYGIENE
        if position is None or self.pack.stage(milestone.stage_id).position < position:
            return FindingKind.SKIPPED
        return FindingKind.TO_ADVANCE

    def kinds_possible(self, milestone: Milestone) -> frozenset[FindingKind]:
        return frozenset(self.kind(milestone, position) for position in self.positions)

    def fails(self, milestone: Milestone, position: Position) -> bool:
        """A missing finding of the milestone fails --fail-on at its severity, and so
        makes the deal need attention."""
        return self.kind(milestone, position) in FAILING_KINDS

    # -- evidence stage, inflation, disposition ------------------------------------------

    @cached_property
    def gates(self) -> tuple[Gate, ...]:
        """The stages with required exits, in process order."""
        gates = []
        for stage in self.pack.stages:
            required = tuple(m for m in stage.exit if m.severity is Severity.REQUIRED)
            if required:
                reached = self.first_open if stage is self.pack.stages[0] else stage.position
                gates.append(Gate(stage.position, reached, required))
        return tuple(gates)

    def gates_before(self, position: Position) -> tuple[Gate, ...]:
        """The gates a deal claiming this stage has passed by its claim."""
        return self._gates_before[position]

    def claimed_evidence(self, position: Position) -> Position:
        """The evidence stage when every gate before the claimed stage is passed."""
        if position is None:
            return None
        return self.first_open if position <= self.pack.stages[0].position else position

    def evidence(self, position: Position, missing: Callable[[Milestone], bool]) -> Position:
        """The furthest stage up to the claimed one whose earlier required exits are met:
        the first failing gate stops the deal there."""
        for gate in self.gates_before(position):
            if any(missing(milestone) for milestone in gate.required):
                return gate.reached
        return self.claimed_evidence(position)

    @staticmethod
    def inflation(position: Position, evidence: Position) -> int:
        if position is None or evidence is None:
            return 0
        return position - evidence

    @cached_property
    def re_dating(self) -> tuple[Milestone, ...]:
        """The checks whose miss means the close date is not believable: required hygiene
        checks reading `close_date`."""
        return tuple(
            m
            for m in self.milestones
            if m.stage_id is None and m.severity is Severity.REQUIRED and "close_date" in m.reads
        )

    def disposition(self, missing: Callable[[Milestone], bool], inflation: int) -> Disposition:
        """What sales ops does with the deal: re-date it before anything else, re-stage it
        when its stage is inflated, or keep it."""
        if any(missing(milestone) for milestone in self.re_dating):
            return Disposition.RE_DATE
        return Disposition.RE_STAGE if inflation > 0 else Disposition.KEEP
