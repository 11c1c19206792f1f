"""CRM profiles: which export column means which canonical deal field.

A profile knows a CRM's report labels and API names, how it writes dates and probabilities,
and its forecast category values. The profile is detected from the headers when not given;
a mapping file (see docs/crm-mapping.md) covers any other CRM.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from dealgate.deals.normalise import DateOrder
from dealgate.rules.types import CANONICAL_FIELDS

if TYPE_CHECKING:
    from dealgate.deals.sides import SideTable

CANONICAL_FORECAST = ("Pipeline", "Best Case", "Commit", "Omitted", "Closed")


def header_key(header: str) -> str:
    """How headers are compared: case, surrounding and repeated spaces ignored."""
    return " ".join(header.split()).casefold()


def custom_field_name(header: str) -> str:
    """The name a column is kept under: snake_case, Salesforce's `__c` dropped."""
    name = re.sub(r"__c$", "", header.strip(), flags=re.IGNORECASE)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)  # EconomicBuyer -> Economic_Buyer
    name = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower()
    if not name:
        return "column"
    return f"f_{name}" if name[0].isdigit() else name


@dataclass(frozen=True)
class Profile:
    """How one CRM's exports map onto the canonical deal."""

    name: str
    title: str
    short: str  # how column explanations name it: "Salesforce", "HubSpot", ...
    columns: Mapping[str, str]  # header_key -> canonical field or custom field name
    explicit: frozenset[str] = frozenset()  # header keys a mapping file names itself
    distinctive: frozenset[str] = frozenset()  # header keys that identify this CRM
    date_order: DateOrder = DateOrder.MONTH_FIRST
    decimal_mark: str | None = None
    default_currency: str | None = None
    fraction_probability: frozenset[str] = frozenset()  # header keys holding 0-1 values
    stage_entered: tuple[re.Pattern[str], ...] = ()  # header patterns giving stage history
    # header key -> the stage a column holds the entry date of (a mapping's stage_history)
    entered: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    stage_map: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    value_maps: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    managers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    ignore: frozenset[str] = frozenset()
    # header key -> the fields a column fills besides its first (a mapping file's list)
    further: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    notes: tuple[str, ...] = ()  # what reading by this profile should say once, e.g. in inspect
    joins: tuple[SideTable, ...] = ()  # side tables a mapping file joins to each deal
    # the owner and manager headers of a teams file, when a mapping file names them
    teams_columns: tuple[str, str] | None = None

    def target(self, header: str) -> str | None:
        """The field a column maps to by this profile, or None."""
        return self.columns.get(header_key(header))

    def further_targets(self, header: str) -> tuple[str, ...]:
        """The other fields a column fills, when a mapping file names several for it."""
        return self.further.get(header_key(header), ())

    def stage_entered_of(self, header: str) -> str | None:
        """For a 'date entered stage' column: the stage it is about."""
        named = self.entered.get(header_key(header))
        if named is not None:
            return named
        for pattern in self.stage_entered:
            if pattern is _DATE_ENTERED:  # its regex takes quadratic time on a long header
                stage = _date_entered_stage(header.strip())
                if stage is not None:
                    return stage
                continue
            match = pattern.fullmatch(header.strip())
            if match:
                return match.group("stage")
        return None

    def with_managers(self, managers: Mapping[str, str]) -> Profile:
        merged = {**self.managers, **{header_key(o): m for o, m in managers.items()}}
        return replace(self, managers=MappingProxyType(merged))


_DATE_ENTERED = re.compile(r'Date entered "(?P<stage>.+?)(?: \([^)]*\))?"')
_DATE_ENTERED_PREFIX = 'Date entered "'


def _date_entered_stage(text: str) -> str | None:
    """`_DATE_ENTERED.fullmatch(text).group("stage")` in linear time: the stage, without a
    trailing ` (Pipeline)`. The regex tries the parenthesis at every length of the stage,
    each try scanning on to the next `)`: 35 s for a header of 300 KB."""
    if not (text.startswith(_DATE_ENTERED_PREFIX) and text.endswith('"')):
        return None
    inner = text[len(_DATE_ENTERED_PREFIX) : -1]
    if len(text) < len(_DATE_ENTERED_PREFIX) + 1 or not inner:
        return None
    stage = inner
    if inner.endswith(")"):
        # the shortest stage followed by " (" whose parenthesis holds no other ")"
        last = inner.rfind(")", 0, len(inner) - 1)
        found = inner.find(" (", max(1, last - 1), len(inner) - 1)
        if found != -1:
            stage = inner[:found]
    return None if "\n" in stage else stage


def _columns(**aliases: Iterable[str]) -> dict[str, str]:
    return {header_key(alias): target for target, names in aliases.items() for alias in names}


_FORECAST_VALUES = {
    "pipeline": "Pipeline",
    "best case": "Best Case",
    "best_case": "Best Case",
    "bestcase": "Best Case",
    "upside": "Best Case",
    "commit": "Commit",
    "omitted": "Omitted",
    "omit": "Omitted",
    "not forecasted": "Omitted",
    "closed": "Closed",
    "closed won": "Closed",
}

SALESFORCE = Profile(
    name="salesforce",
    title="Salesforce (report labels, API names, REST JSON)",
    short="Salesforce",
    columns=_columns(
        id=["Opportunity ID", "Opportunity Id", "Id", "Opportunity ID (18)"],
        name=["Opportunity Name", "Name"],
        account=["Account Name", "Account.Name", "Account: Account Name"],
        owner=["Opportunity Owner", "Owner.Name", "Owner Name", "Opportunity Owner: Full Name"],
        manager=["Opportunity Owner: Manager", "Owner Manager", "Owner.Manager.Name", "Manager"],
        stage=["Stage", "StageName"],
        amount=["Amount", "Amount (converted)"],
        currency=["Opportunity Currency", "CurrencyIsoCode", "Amount Currency"],
        close_date=["Close Date", "CloseDate"],
        created_date=["Created Date", "CreatedDate"],
        probability=["Probability (%)", "Probability"],
        forecast_category=["Forecast Category", "ForecastCategoryName", "ForecastCategory"],
        next_step=["Next Step", "NextStep"],
        last_activity_date=["Last Activity", "Last Activity Date", "LastActivityDate"],
        close_date_pushes=["Push Count", "PushCount"],
    ),
    distinctive=frozenset(
        header_key(name)
        for name in (
            "Opportunity ID",
            "Opportunity Name",
            "Opportunity Owner",
            "StageName",
            "CloseDate",
            "ForecastCategoryName",
            "NextStep",
            "LastActivityDate",
            "PushCount",
            "Probability (%)",
            "Account.Name",
            "Owner.Name",
        )
    ),
    value_maps=MappingProxyType({"forecast_category": MappingProxyType(_FORECAST_VALUES)}),
)

HUBSPOT = Profile(
    name="hubspot",
    title="HubSpot (export labels, internal names, stage ids)",
    short="HubSpot",
    columns=_columns(
        id=["Record ID", "Deal ID", "hs_object_id", "dealId"],
        name=["Deal Name", "dealname"],
        account=["Associated Company", "Associated Company (Primary)", "Company Name"],
        owner=["Deal owner", "hubspot_owner_id"],
        stage=["Deal Stage", "dealstage"],
        amount=["Amount", "amount"],
        currency=["Currency", "deal_currency_code"],
        close_date=["Close Date", "closedate"],
        created_date=["Create Date", "createdate"],
        probability=["Deal probability", "hs_deal_stage_probability"],
        forecast_category=["Forecast category", "hs_forecast_category"],
        next_step=["Next step", "hs_next_step"],
        next_step_date=["Next Activity Date", "notes_next_activity_date"],
        last_activity_date=["Last Activity Date", "notes_last_updated"],
        num_associated_contacts=["Number of Associated Contacts", "num_associated_contacts"],
        pipeline=["Pipeline", "pipeline"],
    ),
    distinctive=frozenset(
        header_key(name)
        for name in (
            "Record ID",
            "Deal Name",
            "Deal Stage",
            "Deal owner",
            "dealname",
            "dealstage",
            "closedate",
            "hs_next_step",
            "notes_last_updated",
            "hs_object_id",
            "hubspot_owner_id",
            "Create Date",
        )
    ),
    fraction_probability=frozenset({header_key("hs_deal_stage_probability")}),
    stage_entered=(
        re.compile(r"hs_date_entered_(?P<stage>\w+)"),
        _DATE_ENTERED,
    ),
    value_maps=MappingProxyType({"forecast_category": MappingProxyType(_FORECAST_VALUES)}),
)

# dealgate's own layout: canonical field names as headers (nested lists as JSON in CSV cells).
CANONICAL = Profile(
    name="canonical",
    title="dealgate canonical fields",
    short="canonical",
    columns=_columns(**{name: [name] for name in CANONICAL_FIELDS}),
    distinctive=frozenset(
        {
            "close_date",
            "next_step_date",
            "last_activity_date",
            "close_date_pushes",
            "forecast_category",
            "created_date",
            "contacts",
            "action_plan",
            "stage_history",
        }
    ),
    value_maps=MappingProxyType({"forecast_category": MappingProxyType(_FORECAST_VALUES)}),
)

BUILT_IN: Mapping[str, Profile] = MappingProxyType(
    {profile.name: profile for profile in (SALESFORCE, HUBSPOT, CANONICAL)}
)


def detect_profile(headers: Iterable[str]) -> tuple[Profile, str]:
    """The built-in profile whose distinctive headers match most, and why it was chosen."""
    keys = {header_key(header) for header in headers}
    scores = {name: len(keys & profile.distinctive) for name, profile in BUILT_IN.items()}
    for profile in (HUBSPOT, SALESFORCE):  # stage-history columns are HubSpot's alone
        if profile.stage_entered and any(profile.stage_entered_of(h) for h in headers):
            scores[profile.name] += 1

    # A tie goes to the profile that reads an id column (a CRM's `Opportunity ID` beats a
    # canonical `contacts`), then to the one that reads more columns, then to canonical.
    def rank(name: str) -> tuple[int, bool, int, bool]:
        columns = BUILT_IN[name].columns
        reads_id = any(columns.get(key) == "id" for key in keys)
        return (scores[name], reads_id, len(keys & columns.keys()), name == "canonical")

    best = max(scores, key=rank)
    if scores[best] == 0:
        return CANONICAL, "no CRM's headers recognised; reading canonical field names"
    matched = sorted(keys & BUILT_IN[best].distinctive)
    return BUILT_IN[best], f"{scores[best]} {BUILT_IN[best].title} headers ({', '.join(matched)})"


def columns_markdown(profile: Profile) -> str:
    """The headers a profile recognises, by field: the reference table of docs/crm-mapping.md."""
    by_field: dict[str, list[str]] = {}
    for key, target in profile.columns.items():
        by_field.setdefault(target, []).append(key)
    lines = ["| field | headers recognised (case and spaces ignored) |", "|---|---|"]
    for target, keys in by_field.items():
        lines.append(f"| `{target}` | {', '.join(f'`{key}`' for key in keys)} |")
    for pattern in profile.stage_entered:
        lines.append(f"| `stage_history` | headers matching `{pattern.pattern}` |")
    return "\n".join(lines) + "\n"
