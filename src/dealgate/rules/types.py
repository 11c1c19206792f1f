"""Value types of the rule language and the canonical deal fields every pack can read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Kind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    BOOLEAN = "boolean"
    LIST = "list"  # a list of records
    RECORD = "record"
    STAGE = "stage"  # the deal's stage, ordered by the pack's process
    ANY = "any"  # a field nobody declared: its type is only known from the data


DECLARABLE_KINDS = (
    Kind.TEXT,
    Kind.NUMBER,
    Kind.MONEY,
    Kind.DATE,
    Kind.BOOLEAN,
    Kind.LIST,
    Kind.RECORD,
)
NUMERIC = frozenset({Kind.NUMBER, Kind.MONEY})


@dataclass(frozen=True)
class FieldType:
    """The type of a field; lists and records also know the fields of their items."""

    kind: Kind
    fields: Mapping[str, FieldType] = field(default_factory=lambda: MappingProxyType({}))

    def __str__(self) -> str:
        return "list of records" if self.kind is Kind.LIST else self.kind.value

    @property
    def is_open(self) -> bool:
        """True when the item or record fields are not declared (any name may be read)."""
        return not self.fields


def _t(kind: Kind, **fields: FieldType) -> FieldType:
    return FieldType(kind, MappingProxyType(dict(fields)))


TEXT = _t(Kind.TEXT)
NUMBER = _t(Kind.NUMBER)
MONEY = _t(Kind.MONEY)
DATE = _t(Kind.DATE)
BOOLEAN = _t(Kind.BOOLEAN)
STAGE = _t(Kind.STAGE)
ANY = _t(Kind.ANY)

CONTACT = _t(Kind.LIST, name=TEXT, title=TEXT, role=TEXT, is_primary=BOOLEAN, engaged_on=DATE)
ACTION_PLAN_STEP = _t(
    Kind.LIST, milestone=TEXT, owner_side=TEXT, owner=TEXT, due=DATE, done_on=DATE
)
STAGE_CHANGE = _t(Kind.LIST, stage=TEXT, entered_on=DATE)

# The fields of the canonical deal (see docs/rules.md); CRM profiles map exports onto them.
CANONICAL_FIELDS: Mapping[str, FieldType] = MappingProxyType(
    {
        "id": TEXT,
        "name": TEXT,
        "account": TEXT,
        "owner": TEXT,
        "manager": TEXT,
        "stage": STAGE,
        "amount": MONEY,
        "currency": TEXT,
        "close_date": DATE,
        "created_date": DATE,
        "probability": NUMBER,
        "forecast_category": TEXT,
        "next_step": TEXT,
        "next_step_date": DATE,
        "last_activity_date": DATE,
        "close_date_pushes": NUMBER,
        "close_date_largest_push_days": NUMBER,
        "close_date_days_pushed": NUMBER,
        "stage_moved_back": BOOLEAN,
        "contacts": CONTACT,
        "action_plan": ACTION_PLAN_STEP,
        "stage_history": STAGE_CHANGE,
    }
)
