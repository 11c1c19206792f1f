"""The values a field can hold once a deal is read, where dealgate normalises them.

Text compares exactly, so a condition must use the value as dealgate reads it, not as the
CRM file writes it: `forecast_category == 'commit'` would never be true. The checker uses
these domains to refuse a literal that is a slip of a value in the domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from dealgate.deals.cell_rules import FALSE_WORDS, TRUE_WORDS
from dealgate.deals.profiles import CANONICAL, CANONICAL_FORECAST, header_key
from dealgate.rules.spelling import slip_of


@dataclass(frozen=True)
class Domain:
    """What a field holds after reading: its values, and what the files' words are read as."""

    what: str  # "a forecast category"
    values: tuple[str, ...]
    read_as: Mapping[str, str]  # a value as files write it (header_key form) -> its value
    text: bool  # the values are text, written quoted in a condition

    def slip(self, literal: str) -> str | None:
        """How to write the value a text literal meant, when it is never read but close to one."""
        if self.text and literal in self.values:
            return None
        found = self.read_as.get(header_key(literal)) or slip_of(literal, self.values)
        if found is None:
            return None
        return f"'{found}'" if self.text else found


FORECAST_CATEGORY = Domain(
    "a forecast category",
    CANONICAL_FORECAST,
    CANONICAL.value_maps["forecast_category"],
    text=True,
)

# A yes/no field is read as true or false, whatever words the file uses.
YES_NO = Domain(
    "the value of a yes/no field",
    ("true", "false"),
    MappingProxyType(
        {word: "true" for word in TRUE_WORDS} | {word: "false" for word in FALSE_WORDS}
    ),
    text=False,
)

# Canonical deal fields whose text dealgate normalises on reading.
DEAL_FIELD_DOMAINS: Mapping[str, Domain] = MappingProxyType(
    {"forecast_category": FORECAST_CATEGORY}
)
