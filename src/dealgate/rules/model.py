"""The resolved rule pack: the one typed model every engine and report reads."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING

from dealgate.deals.cell_rules import PLACEHOLDERS
from dealgate.errors import Location
from dealgate.rules.checker import CheckedCondition
from dealgate.rules.expr import Expr
from dealgate.rules.fingerprint import fingerprint
from dealgate.rules.types import FieldType, Kind

if TYPE_CHECKING:
    from dealgate.judging.semantics import StageSemantics


class Severity(StrEnum):
    REQUIRED = "required"
    RECOMMENDED = "recommended"


class VerifiedBy(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    SYSTEM = "system"


@dataclass(frozen=True)
class Unmeasured:
    """How an input that lacks some fields bounds a milestone's conditions
    (judging/coverage.py): each atom reading a lacking field made false (low) or true (high)."""

    lacks: tuple[str, ...]
    partly: bool  # the supplied fields still decide some deals
    require_low: Expr
    require_high: Expr
    when_low: Expr | None
    when_high: Expr | None


@dataclass(frozen=True)
class Milestone:
    """An objective sign post: an exit milestone of a stage, or a hygiene check."""

    id: str
    milestone: str
    require: CheckedCondition
    when: CheckedCondition | None
    evidence: str
    verified_by: VerifiedBy
    severity: Severity
    guidance: str
    stage_id: str | None  # None for hygiene checks
    defined_in: str  # the pack id that defined it
    location: Location
    # Set in the pack an input is judged by when the input lacks fields it reads; the
    # conditions above are then its bounds (judging/coverage.py).
    unmeasured: Unmeasured | None = field(default=None, compare=False)

    @property
    def is_hygiene(self) -> bool:
        return self.stage_id is None

    @cached_property
    def reads(self) -> tuple[str, ...]:
        """The deal fields this milestone reads, `when` included."""
        fields = set(self.require.reads)
        if self.when is not None:
            fields.update(self.when.reads)
        return tuple(sorted(fields))

    @cached_property
    def read_plan(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """What a finding shows it read: (deal field path, item fields read of a list)."""
        items: dict[str, list[str]] = {}
        order: list[str] = []
        for path in self.reads:
            top, _, rest = path.partition(".")
            name = top.removesuffix("[]")
            if top.endswith("[]"):
                items.setdefault(name, []).append(rest)
                path = name
            elif path.endswith("[]"):
                path = path.removesuffix("[]")
            if path not in order:
                order.append(path)
        return tuple((path, tuple(items.get(path, ()))) for path in order)


@dataclass(frozen=True)
class Stage:
    """A stage of the sales process, with the milestones that must be met to leave it."""

    id: str
    name: str
    buyer_step: str
    description: str
    crm_names: tuple[str, ...]
    terminal: str | None  # "won", "lost" or None for an open stage
    exit: tuple[Milestone, ...]
    position: int  # 0-based process order; terminal stages come after every open stage
    location: Location

    @property
    def is_open(self) -> bool:
        return self.terminal is None


@dataclass(frozen=True)
class FieldDeclaration:
    name: str
    type: FieldType
    description: str
    defined_in: str


@dataclass(frozen=True)
class RulePack:
    """A rule pack with `extends`, `overrides` and `remove` applied."""

    id: str
    title: str
    description: str
    extends: tuple[str, ...]
    stages: tuple[Stage, ...]
    checks: tuple[Milestone, ...]
    fields: Mapping[str, FieldDeclaration]
    source: Location
    lineage: tuple[str, ...]  # the pack ids it was built from, bases first, itself last
    # Texts read as missing, casefolded; None is dealgate's list (deals/normalise.py), and is
    # left out of the fingerprint so packs that do not change it keep their hash.
    placeholders: frozenset[str] | None = field(default=None, metadata={"omit_when_none": True})
    # Forecast category -> the id of the evidence stage a deal needs to be in it
    # (judging/forecast.py); None when no pack states one, so older hashes stay.
    forecast: Mapping[str, str] | None = field(default=None, metadata={"omit_when_none": True})
    # Open stage id -> the highest probability a deal whose evidence reaches it supports
    # (judging/forecast.py); None when no pack states one, so older hashes stay.
    probability_ceiling: Mapping[str, float] | None = field(
        default=None, metadata={"omit_when_none": True}
    )
    # The pack as written, when this one is it as judged on an input lacking some fields.
    written: RulePack | None = field(default=None, compare=False, repr=False)

    @cached_property
    def record_fields(self) -> dict[str, FieldType]:
        """The declared fields of type record, by name."""
        return {
            name: declared.type
            for name, declared in self.fields.items()
            if declared.type.kind is Kind.RECORD
        }

    @property
    def placeholder_texts(self) -> frozenset[str]:
        """The texts readers take for missing values (casefolded, without surrounding spaces)."""
        return PLACEHOLDERS if self.placeholders is None else self.placeholders

    @property
    def forecast_requirements(self) -> Mapping[str, str]:
        """Forecast category -> the stage id its deals' evidence must reach."""
        return self.forecast or {}

    def ceiling_at(self, stage: Stage) -> float | None:
        """The highest probability evidence reaching `stage` supports: its own ceiling or the
        nearest earlier stage's; None when no stage up to it has one."""
        ceilings = self.probability_ceiling or {}
        found = None
        for earlier in self.open_stages:
            if earlier.position > stage.position:
                break
            found = ceilings.get(earlier.id, found)
        return found

    @cached_property
    def open_stages(self) -> tuple[Stage, ...]:
        return tuple(stage for stage in self.stages if stage.is_open)

    @cached_property
    def terminal_stages(self) -> tuple[Stage, ...]:
        return tuple(stage for stage in self.stages if not stage.is_open)

    @cached_property
    def semantics(self) -> StageSemantics:
        """The stage rules of this pack, decided once for every stage (judging/semantics.py)."""
        from dealgate.judging.semantics import StageSemantics

        return StageSemantics(self)

    def content_hash(self) -> str:
        """The sha256 (hex) of what the resolved pack says, not of how its files are written
        (rules/fingerprint.py): a saved audit carries it, so a later one can tell the pack changed.
        """
        return fingerprint(self.written or self)

    def stage(self, stage_id: str) -> Stage:
        return self._stages_by_id[stage_id]

    def position(self, stage_id: str | None) -> int | None:
        """The position of a stage in the process; None for no stage."""
        return self._stages_by_id[stage_id].position if stage_id else None

    @cached_property
    def _stages_by_id(self) -> dict[str, Stage]:
        return {stage.id: stage for stage in self.stages}

    @cached_property
    def _milestones_by_id(self) -> dict[str, Milestone]:
        return {milestone.id: milestone for milestone in self.milestones()}

    def milestones(self) -> Iterator[Milestone]:
        """Every exit milestone in process order, then the hygiene checks."""
        for stage in self.stages:
            yield from stage.exit
        yield from self.checks

    def milestone(self, milestone_id: str) -> Milestone:
        return self._milestones_by_id[milestone_id]

    def match_stage(self, crm_value: str) -> Stage | None:
        """The stage a CRM stage value means: by crm_names or id, case and spaces ignored."""
        return self._stages_by_name.get(normalise_stage_name(crm_value))

    @cached_property
    def _stages_by_name(self) -> dict[str, Stage]:
        names: dict[str, Stage] = {}
        for stage in self.stages:
            for name in (stage.id, *stage.crm_names):
                names.setdefault(normalise_stage_name(name), stage)
        return names


def normalise_stage_name(value: str) -> str:
    return value.strip().casefold()
