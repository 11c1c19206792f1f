"""The resolved rule pack: the one typed model every engine and report reads."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from dealgate.errors import Location
from dealgate.rules.checker import CheckedCondition
from dealgate.rules.types import FieldType


class Severity(StrEnum):
    REQUIRED = "required"
    RECOMMENDED = "recommended"


class VerifiedBy(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    SYSTEM = "system"


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

    @property
    def is_hygiene(self) -> bool:
        return self.stage_id is None

    @property
    def reads(self) -> tuple[str, ...]:
        """The deal fields this milestone reads, `when` included."""
        fields = set(self.require.reads)
        if self.when is not None:
            fields.update(self.when.reads)
        return tuple(sorted(fields))


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

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        return tuple(stage for stage in self.stages if stage.is_open)

    @property
    def terminal_stages(self) -> tuple[Stage, ...]:
        return tuple(stage for stage in self.stages if not stage.is_open)

    def stage(self, stage_id: str) -> Stage:
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(stage_id)

    def milestones(self) -> Iterator[Milestone]:
        """Every exit milestone in process order, then the hygiene checks."""
        for stage in self.stages:
            yield from stage.exit
        yield from self.checks

    def milestone(self, milestone_id: str) -> Milestone:
        for milestone in self.milestones():
            if milestone.id == milestone_id:
                return milestone
        raise KeyError(milestone_id)

    def match_stage(self, crm_value: str) -> Stage | None:
        """The stage a CRM stage value means: by crm_names or id, case and spaces ignored."""
        key = normalise_stage_name(crm_value)
        for stage in self.stages:
            if key == normalise_stage_name(stage.id) or key in (
                normalise_stage_name(name) for name in stage.crm_names
            ):
                return stage
        return None


def normalise_stage_name(value: str) -> str:
    return value.strip().casefold()
