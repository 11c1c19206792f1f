"""Coverage: which fields an input supplies, and the milestones it cannot measure.

A pack reads fields; an export supplies some of them (a column, a key in its records, a side
file). A milestone whose result depends on a field nothing supplies is *unmeasured* for that
input: it is neither met nor missing, whatever the deal. Calling it missing would put pipeline
at risk on every deal of a plain export for want of a column (docs/check-and-audit.md).

Decided once, on the condition trees, for every engine: each atom of a condition (a
comparison, `present(x)`, a list function: anything below `and`, `or` and `not`) that reads an
unsupplied field is replaced by a constant, giving two bounds of the condition:

- `low`: every such atom false where it helps the condition hold (true under `not`); when
  `low` holds, the condition holds whatever the missing fields would say;
- `high`: every such atom true where it helps; when `high` does not hold, the condition fails
  whatever they would say.

Three-valued logic is kept: `present(a) or present(b)` with only `a` supplied is met on a deal
with `a` and unmeasured on the others. The pack the engines judge (`Coverage.judged_pack`)
requires `high` and applies when `low` holds, so a milestone is missing only when it certainly
is; `assess` tells met from unmeasured with `low` (`unmeasured_status`).

A field may be supplied on some deals only (`Supply.by_deal`): the fields --history derives
from snapshots (deals/history.py), empty on a deal seen too few times to tell. An atom reading
one is guarded rather than replaced: `present(f) and atom` (low), `not present(f) or atom`
(high), so such a deal is unmeasured ("insufficient history") and the others are judged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache, cached_property
from typing import Any

from dealgate.findings import Status
from dealgate.rules.checker import CheckedCondition
from dealgate.rules.expr import (
    Arithmetic,
    Boolean,
    ByStage,
    Call,
    Compare,
    Expr,
    FieldPath,
    InList,
    Logical,
    Negate,
    Not,
)
from dealgate.rules.model import Milestone, RulePack, Stage, Unmeasured

# Fields every read deal has: a deal without an id is rejected, one without a stage is judged
# as of an unknown stage.
ALWAYS_SUPPLIED = frozenset({"id", "stage"})
_LIST_FUNCTIONS = frozenset({"count", "any", "all"})

# How a team supplies a field: a column, or for these, a side file or other columns.
COLUMN_HINT = "add a column for it (or map one in a mapping file: columns: {Your header: field})"
SUPPLY_HINTS: Mapping[str, str] = {
    "contacts": "give the contact roles report with --contacts FILE",
    "manager": "give a teams file with --teams FILE, or a manager column",
    "stage_history": "add 'date entered <stage>' columns to the export (HubSpot), or give "
    "Salesforce's OpportunityHistory export with --stage-history FILE",
    "currency": "add an amount column (its currency comes with it), or a currency column",
}


@dataclass(frozen=True)
class Supply:
    """The fields an input supplies, and where they come from in words."""

    fields: frozenset[str]
    source: str  # e.g. "the columns of pipeline.csv and --contacts"
    everything: bool = False  # one hand-written deal: a key the rep left out is missing
    keyed_by_names: bool = False  # no id column: deals are keyed by account and deal name
    # Supplied on some deals only: empty where a deal's history is insufficient (--history).
    by_deal: frozenset[str] = frozenset()
    # Fields a live source could not read from its CRM, and why (deals/source.py `unread`).
    unread: tuple[tuple[str, str], ...] = ()

    @classmethod
    def complete(cls, source: str) -> Supply:
        return cls(frozenset(), source, everything=True)

    def has(self, parts: tuple[str, ...], pack: RulePack) -> bool:
        """Whether the field at a path (`amount`, `champion.name`) has a source."""
        name = parts[0]
        if self.everything or name in ALWAYS_SUPPLIED or name in self.fields:
            return True
        if "_".join(parts) in self.fields:  # readers keep a record's parts flat
            return True
        if name in pack.record_fields:
            return any(supplied.startswith(f"{name}_") for supplied in self.fields)
        return False


@dataclass(frozen=True)
class UnmeasuredMilestone:
    """A milestone this input cannot (or, when `partly`, cannot always) decide."""

    milestone: Milestone  # as the pack writes it
    lacks: tuple[str, ...]  # the deal fields nothing supplies
    partly: bool  # some deals are still decided by the fields that are supplied

    def as_json(self) -> dict[str, Any]:
        return {
            "milestone_id": self.milestone.id,
            "milestone": self.milestone.milestone,
            "stage_id": self.milestone.stage_id,
            "severity": self.milestone.severity.value,
            "lacks": list(self.lacks),
            "partly": self.partly,
        }


@dataclass(frozen=True)
class Coverage:
    """What a pack can and cannot measure on one input."""

    pack: RulePack  # as written
    supply: Supply
    unmeasured: tuple[UnmeasuredMilestone, ...]
    as_missing: bool = False  # --unmeasured missing: the strict reading, as before coverage
    _bounds: Mapping[str, Unmeasured] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def judged_pack(self) -> RulePack:
        """The pack the engines judge: as written when everything is measured or unmeasured
        milestones count as missing; else each unmeasured condition replaced by its bounds."""
        if self.as_missing or not self._bounds:
            return self.pack
        return _with_bounds(self.pack, self._bounds)

    @property
    def lacking(self) -> dict[str, list[str]]:
        """Each field nothing supplies, with the ids of the milestones that read it."""
        fields: dict[str, list[str]] = {}
        for entry in self.unmeasured:
            for name in entry.lacks:
                fields.setdefault(name, []).append(entry.milestone.id)
        return dict(sorted(fields.items()))

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.supply.source,
            "milestones": sum(1 for _ in self.pack.milestones()),
            "unmeasured_counted_as": "missing" if self.as_missing else "unmeasured",
            "unmeasured": [entry.as_json() for entry in self.unmeasured],
            "lacking_fields": [
                {"field": name, "milestones": ids, "how": how_to_supply(name, self.supply)}
                for name, ids in self.lacking.items()
            ],
        }


HISTORY_HINT = (
    "insufficient history on some deals: --history derives it where a deal was seen in "
    "enough snapshots, and each unmeasured finding's note says why not; keep saving a "
    "snapshot a week (docs/history.md), or add a column for it"
)


# Without --history, a field it derives is also supplied by saving an audit a week.
FROM_SNAPSHOTS = "derive it from last weeks' saved audits with --history SNAPSHOT (docs/history.md)"


def how_to_supply(name: str, supply: Supply | None = None) -> str:
    """How a team supplies a field nothing supplies, in words."""
    from dealgate.deals.history import HISTORY_FIELDS

    if supply is not None and name in supply.by_deal:
        return HISTORY_HINT
    why = dict(supply.unread).get(name) if supply is not None else None
    if why is not None:  # a live source: the CRM's reason, not a file's column
        return f"the CRM did not give it: {why}"
    if name in HISTORY_FIELDS:
        return f"{FROM_SNAPSHOTS}, or {SUPPLY_HINTS.get(name, COLUMN_HINT)}"
    if name == "contacts" and supply is not None and supply.keyed_by_names:
        return (
            "add the opportunity id column to the export (contact roles join by it), then "
            + (SUPPLY_HINTS[name])
        )
    return SUPPLY_HINTS.get(name, COLUMN_HINT)


def measure(pack: RulePack, supply: Supply, *, as_missing: bool = False) -> Coverage:
    """The coverage of a pack on an input that supplies these fields."""

    def by_deal(parts: tuple[str, ...]) -> bool:
        return parts[0] in supply.by_deal

    def lacking(parts: tuple[str, ...]) -> bool:
        return not by_deal(parts) and not supply.has(parts, pack)

    unmeasured = []
    bounds: dict[str, Unmeasured] = {}
    for milestone in pack.milestones():
        found = _milestone_bounds(milestone, lacking, by_deal)
        if found is None:
            continue
        bounds[milestone.id] = found
        unmeasured.append(UnmeasuredMilestone(milestone, found.lacks, found.partly))
    return Coverage(pack, supply, tuple(unmeasured), as_missing, bounds)


def _milestone_bounds(
    milestone: Milestone,
    lacking: Callable[[tuple[str, ...]], bool],
    by_deal: Callable[[tuple[str, ...]], bool],
) -> Unmeasured | None:
    require_low, require_high, lacks = bounds(milestone.require.tree, lacking, by_deal)
    when_low = when_high = milestone.when.tree if milestone.when is not None else None
    if milestone.when is not None:
        when_low, when_high, when_lacks = bounds(milestone.when.tree, lacking, by_deal)
        lacks = lacks | when_lacks
    if not lacks:
        return None
    decided = (
        require_low != Boolean(False)
        or require_high != Boolean(True)
        or (when_high is not None and when_high != Boolean(True))
    )
    return Unmeasured(
        lacks=tuple(sorted(lacks)),
        partly=decided,
        require_low=require_low,
        require_high=require_high,
        when_low=when_low,
        when_high=when_high,
    )


def _with_bounds(pack: RulePack, found: Mapping[str, Unmeasured]) -> RulePack:
    def judged(milestone: Milestone) -> Milestone:
        measured = found.get(milestone.id)
        if measured is None:
            return milestone
        when = milestone.when
        return replace(
            milestone,
            require=_condition(milestone.require, measured.require_high),
            when=_condition(when, measured.when_low) if when is not None else None,
            unmeasured=measured,
        )

    def stage(written: Stage) -> Stage:
        return replace(written, exit=tuple(judged(m) for m in written.exit))

    return replace(
        pack,
        stages=tuple(stage(s) for s in pack.stages),
        checks=tuple(judged(m) for m in pack.checks),
        written=pack.written or pack,
    )


def _condition(written: CheckedCondition, tree: Expr | None) -> CheckedCondition:
    # The text and reads stay the pack's: reports quote the rule as the team wrote it.
    return replace(written, tree=tree if tree is not None else written.tree)


# -- the bounds of a condition ---------------------------------------------------------


def bounds(
    node: Expr,
    lacking: Callable[[tuple[str, ...]], bool],
    by_deal: Callable[[tuple[str, ...]], bool] = lambda parts: False,
) -> tuple[Expr, Expr, frozenset[str]]:
    """(low, high, the lacking fields read): the condition with each atom that reads a
    lacking field replaced by the constant that makes the whole false (low) or true (high),
    and each atom that reads a field supplied on some deals only guarded by its presence."""
    match node:
        case Logical(op=op, left=left, right=right):
            left_low, left_high, left_lacks = bounds(left, lacking, by_deal)
            right_low, right_high, right_lacks = bounds(right, lacking, by_deal)
            return (
                _logical(op, left_low, right_low),
                _logical(op, left_high, right_high),
                left_lacks | right_lacks,
            )
        case Not(operand=operand):
            low, high, lacks = bounds(operand, lacking, by_deal)
            return _not(high), _not(low), lacks
    read = list(deal_fields(node))
    lacks = frozenset(parts[0] for parts in read if lacking(parts))
    if lacks:
        return Boolean(False), Boolean(True), lacks
    sometimes = sorted({parts[0] for parts in read if by_deal(parts)})
    if sometimes:
        known: Expr = Call("present", (FieldPath((sometimes[0],)),))
        for name in sometimes[1:]:
            known = Logical("and", known, Call("present", (FieldPath((name,)),)))
        return Logical("and", known, node), Logical("or", Not(known), node), frozenset(sometimes)
    return node, node, lacks


def _logical(op: str, left: Expr, right: Expr) -> Expr:
    """`and`/`or` with a constant side folded away (three-valued: `false and x` is false)."""
    absorbing, neutral = (
        (Boolean(False), Boolean(True))
        if op == "and"
        else (
            Boolean(True),
            Boolean(False),
        )
    )
    if absorbing in (left, right):
        return absorbing
    if left == neutral:
        return right
    if right == neutral:
        return left
    return Logical(op, left, right)


def _not(operand: Expr) -> Expr:
    if isinstance(operand, Boolean):
        return Boolean(not operand.value)
    return Not(operand)


def deal_fields(node: Expr, in_item: bool = False) -> Iterator[tuple[str, ...]]:
    """The deal field paths a subtree reads (inside a list function's condition, a name is
    the item's, and only `deal.x` is the deal's)."""
    match node:
        case FieldPath(parts=parts):
            if parts[0] == "deal" and len(parts) > 1:
                yield parts[1:]
            elif not in_item:
                yield parts
        case Call(function=function, args=args) if function in _LIST_FUNCTIONS:
            yield from deal_fields(args[0], in_item)
            for arg in args[1:]:
                yield from deal_fields(arg, True)
        case Call(args=args):
            for arg in args:
                yield from deal_fields(arg, in_item)
        case ByStage(values=values, default=default):
            yield ("stage",)
            for value in (*values, *(() if default is None else (default,))):
                yield from deal_fields(value, in_item)
        case Not(operand=operand) | Negate(operand=operand):
            yield from deal_fields(operand, in_item)
        case (
            Logical(left=left, right=right)
            | Compare(left=left, right=right)
            | Arithmetic(left=left, right=right)
        ):
            yield from deal_fields(left, in_item)
            yield from deal_fields(right, in_item)
        case InList(operand=operand, items=items):
            yield from deal_fields(operand, in_item)
            for item in items:
                yield from deal_fields(item, in_item)


# -- a deal's status -------------------------------------------------------------------


def unmeasured_status(
    measured: Unmeasured,
    judged: Status,
    values: Mapping[str, Any],
    as_of: date,
    stage_positions: Mapping[str, int],
) -> Status:
    """The status of an unmeasured milestone on one deal, from what the judged pack found
    (`high` required where `low` applies): missing is certain; met and not applicable are
    certain only where the other bound agrees."""
    if judged is Status.MISSING:
        return judged

    def holds(tree: Expr | None) -> bool:
        return tree is not None and _holds(tree, values, as_of, stage_positions)

    if judged is Status.NOT_APPLICABLE and not holds(measured.when_high):
        return judged
    if holds(measured.require_low):
        return Status.MET
    return Status.UNMEASURED


def status_within(
    measured: Unmeasured,
    values: Mapping[str, Any],
    as_of: date,
    stage_positions: Mapping[str, int],
    name: str,
    ends: tuple[Any, Any],
) -> Status:
    """The status of an unmeasured milestone on a deal whose field `name` is known only to
    lie between two ends (the day a deal entered its stage, from snapshots): certain when
    both ends give the same certain status, else unmeasured. Exact for the conditions
    packs write on a date, which move one way as the date moves (`days_since(d) <= 90`)."""
    found = {_certain(measured, {**values, name: end}, as_of, stage_positions) for end in ends}
    return found.pop() if len(found) == 1 else Status.UNMEASURED


def _certain(
    measured: Unmeasured, values: Mapping[str, Any], as_of: date, positions: Mapping[str, int]
) -> Status:
    def holds(tree: Expr | None) -> bool:
        return tree is not None and _holds(tree, values, as_of, positions)

    if measured.when_high is not None and not holds(measured.when_high):
        return Status.NOT_APPLICABLE
    if measured.when_low is None or holds(measured.when_low):
        if not holds(measured.require_high):
            return Status.MISSING
        if holds(measured.require_low):
            return Status.MET
    return Status.UNMEASURED


def _holds(
    tree: Expr, values: Mapping[str, Any], as_of: date, positions: Mapping[str, int]
) -> bool:
    if isinstance(tree, Boolean):
        return tree.value
    return _compiled(tree, as_of, tuple(positions.items()))(values, None) is True


@cache
def _compiled(tree: Expr, as_of: date, positions: tuple[tuple[str, int], ...]) -> Any:
    from dealgate.engines.values import Evaluators

    return Evaluators(as_of, dict(positions)).truth(tree)
