"""The canonical deal: every CRM export, YAML or JSON file is read into this one model.

A field that is None is missing (unknown to the rules). For the nested lists the difference
between None (not exported) and [] (exported, empty) matters: `count(contacts)` is unknown for
the first and 0 for the second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from dealgate.errors import Location

_ModelT = TypeVar("_ModelT", bound=BaseModel)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Contact(_Record):
    """A buyer contact on the deal (Salesforce: an OpportunityContactRole)."""

    name: str | None = None
    title: str | None = None
    role: str | None = None
    is_primary: bool | None = None
    engaged_on: date | None = None


class ActionPlanStep(_Record):
    """A step of the mutual action plan agreed with the buyer."""

    milestone: str | None = None
    owner_side: Literal["buyer", "seller"] | None = None
    owner: str | None = None
    due: date | None = None
    done_on: date | None = None


class StageChange(_Record):
    """The deal entered `stage` (as the CRM names it) on `entered_on`."""

    stage: str | None = None
    entered_on: date | None = None


class Deal(_Record):
    """One opportunity, in canonical fields; other columns are kept in `custom`."""

    id: str
    name: str | None = None
    account: str | None = None
    owner: str | None = None
    manager: str | None = None
    stage: str | None = Field(default=None, description="The stage as exported by the CRM")
    amount: Decimal | None = None
    currency: str | None = None
    close_date: date | None = None
    created_date: date | None = None
    probability: Decimal | None = Field(default=None, description="Percentage, 0 to 100")
    forecast_category: str | None = None
    next_step: str | None = None
    next_step_date: date | None = None
    last_activity_date: date | None = None
    close_date_pushes: int | None = None
    # Derived from saved audits (--history, deals/history.py) unless the export has a column.
    close_date_largest_push_days: int | None = None
    close_date_days_pushed: int | None = None
    stage_moved_back: bool | None = None
    contacts: list[Contact] | None = None
    action_plan: list[ActionPlanStep] | None = None
    stage_history: list[StageChange] | None = None
    custom: dict[str, Any] = Field(default_factory=dict)

    def field(self, name: str) -> Any:
        """A canonical or custom field by name; None when missing."""
        if name in CANONICAL_NAMES:
            return getattr(self, name)
        return self.custom.get(name)


CANONICAL_NAMES = frozenset(name for name in Deal.model_fields if name != "custom")
LIST_ITEMS: dict[str, type[_Record]] = {
    "contacts": Contact,
    "action_plan": ActionPlanStep,
    "stage_history": StageChange,
}


@dataclass(frozen=True)
class InsufficientHistory:
    """The fields --history derives that one deal was seen too few times for
    (deals/history.py), and why; coverage makes the milestones reading them unmeasured."""

    reasons: Mapping[str, str]  # field -> why, e.g. "insufficient history: seen in 1 of 4 …"
    # At its current stage in every sighting: it entered that stage on or before this day.
    stage_since: date | None = None


class ReadDeal(BaseModel):
    """A deal and where it was read from."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, defer_build=True)

    deal: Deal
    location: Location  # file and line (CSV), sheet row (XLSX) or line of the record
    path: str = ""  # for JSON and YAML: e.g. deals[3]
    stage_id: str | None = None  # the pack stage the deal's CRM stage means, when known
    insufficient_history: InsufficientHistory | None = None  # --history (deals/history.py)


def construct(model: type[_ModelT], values: dict[str, Any]) -> _ModelT:
    """A model from values already read as their declared types, without validating again.

    Readers type every value themselves (and report what they cannot read), so pydantic's
    validation would only repeat the work; its own `model_construct` costs ~12 µs a record
    because it resolves every default each time. This fills the defaults once per class.
    tests/test_deal_roundtrip.py checks the result equals a validated model.
    """
    instance = model.__new__(model)
    found = _DEFAULTS.get(model)
    defaults, mutable = found if found is not None else _defaults(model)
    fields = {**defaults, **values}
    for name in mutable:  # a default dict (custom fields) must not be shared between deals
        if name not in values:
            fields[name] = {}
    _set(instance, "__dict__", fields)
    _set(instance, "__pydantic_fields_set__", set(values))
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


_set = object.__setattr__  # past the frozen model's own __setattr__


_DEFAULTS: dict[type[BaseModel], tuple[dict[str, Any], tuple[str, ...]]] = {}


def _defaults(model: type[BaseModel]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A model's field defaults, and which of them are dicts to make afresh each time."""
    found = _DEFAULTS.get(model)
    if found is None:
        defaults = {
            name: info.get_default(call_default_factory=True)
            for name, info in model.model_fields.items()
        }
        mutable = tuple(name for name, value in defaults.items() if isinstance(value, dict))
        found = _DEFAULTS[model] = (defaults, mutable)
    return found
