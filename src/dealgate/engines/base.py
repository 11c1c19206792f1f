"""The engine protocol: which milestones of a deal are met, missing or not applicable.

Engines only evaluate conditions. Stage semantics (what applies, skipped, to-advance,
evidence stage, inflation, disposition) are the same for every engine and are decided once,
in `dealgate.judging.semantics`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from dealgate.deals.model import LIST_ITEMS, ReadDeal
from dealgate.judging.semantics import Scope
from dealgate.rules.model import Milestone, RulePack
from dealgate.rules.types import FieldType, Kind


class Outcome(StrEnum):
    MET = "met"
    MISSING = "missing"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class DealRequest:
    """One deal and how far into the process its exit milestones are evaluated."""

    read: ReadDeal
    scope: Scope  # which milestones apply (StageSemantics.scope)

    def applies(self, milestone: Milestone, pack: RulePack) -> bool:
        return self.scope.applies(milestone, pack)


class ApplicableMilestones:
    """The ids of the milestones that apply to a request; the same few lists serve every deal."""

    def __init__(self, pack: RulePack) -> None:
        self._pack = pack
        self._lists: dict[Scope, list[str]] = {}

    def __call__(self, request: DealRequest) -> list[str]:
        key = request.scope
        found = self._lists.get(key)
        if found is None:
            found = self._lists[key] = [
                m.id for m in self._pack.milestones() if request.applies(m, self._pack)
            ]
        return found


@dataclass(frozen=True)
class DealOutcomes:
    request: DealRequest
    outcomes: Mapping[str, Outcome]  # milestone id -> outcome, for the milestones that apply
    values: Mapping[str, Any] | None = None  # the deal's values, when the engine built them


class EngineUnavailable(Exception):
    """The engine cannot run here; the message says why and how to fix it."""


class Engine(Protocol):
    name: str

    def evaluate(
        self, pack: RulePack, requests: Iterable[DealRequest], as_of: date
    ) -> Iterator[DealOutcomes]:
        """Outcomes for each requested deal, in the order given."""
        ...


_LISTS = tuple(LIST_ITEMS)  # the deal's fields that hold lists of records


def deal_values(read: ReadDeal, pack: RulePack) -> dict[str, Any]:
    """The deal's fields by name, as conditions read them (the stage as its position)."""
    fields = read.deal.__dict__  # pydantic keeps a model's field values here
    custom = fields["custom"]
    values: dict[str, Any] = {**custom, **fields}  # a canonical field wins over a custom one
    if "custom" in custom:
        values["custom"] = custom["custom"]
    else:
        del values["custom"]
    for name in _LISTS:
        found = values.get(name)
        if isinstance(found, list):
            values[name] = [item.__dict__ for item in found]
    values["stage"] = pack.position(read.stage_id)
    for name, record in pack.record_fields.items():
        if not isinstance(values.get(name), dict):
            values[name] = assembled_record(values, name, record)
    return values


def assembled_record(values: Mapping[str, Any], name: str, record: FieldType) -> Any:
    """A declared record from the flat fields readers make of it (`sponsor: {name: …}` is
    read as `sponsor_name`): a dict of its fields, or None when none of them is there."""
    found: dict[str, Any] = {}
    for part, part_type in record.fields.items():
        flat = f"{name}_{part}"
        value = values.get(flat)
        if part_type.kind is Kind.RECORD and not isinstance(value, dict):
            value = assembled_record(values, flat, part_type)
        found[part] = value
    return found if any(value is not None for value in found.values()) else None
