"""HubSpot as a live source: deals read through the CRM v3 API, written the way an export is.

A deal read here must give the findings the same deal exported gives, so each record holds
what the export's columns hold: the owner's name under `Deal owner` (the API gives an owner
id), the stage and pipeline labels (the API gives ids), `Date entered "<stage> (<pipeline>)"`
from the `hs_date_entered_<stage id>` properties, custom properties under their labels. The
API's own names are kept where the export's value is the same (`dealname`, `amount`, ...).

Only the properties the pack reads are asked for, and only those this token can see
(`/crm/v3/properties/deals`); a field HubSpot does not hold is unmeasured, never a failed
query. Every request goes through `CrmConnection` (timeouts, 429 retries, no token in text).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from dealgate.deals.profiles import HUBSPOT, custom_field_name
from dealgate.errors import UsageError, did_you_mean
from dealgate.live import LiveRead, LiveRequest
from dealgate.live.http import CrmConnection, CrmError

HUBSPOT_API = "https://api.hubapi.com"
TOKEN_VARIABLE = "HUBSPOT_ACCESS_TOKEN"
URL_VARIABLE = "HUBSPOT_API_URL"  # another base URL: a proxy, or a test server
PAGE_SIZE = 100  # deals per search page (the search API allows up to 200)
SEARCH_CAP = 10_000  # the search API pages no further than this many results per query
BATCH_SIZE = 100  # ids per batch read
ASSOCIATION_BATCH_SIZE = 1000

# How the export heads what the API gives as an id: the records keep the export's header.
OWNER_HEADER = "Deal owner"
STAGE_HEADER = "Deal Stage"
PIPELINE_HEADER = "Pipeline"
COMPANY_HEADER = "Associated Company"
# Not `contacts`: a contact list without roles would make every milestone that reads a role
# (BANT-AUTHORITY) missing, where the export leaves it unmeasured; coverage counts a list as
# supplied whole (judging/coverage.py). Kept beside the deal, for `--save` to show.
CONTACTS_KEY = "associated_contacts"
ID_PROPERTY = "hs_object_id"
# Fields whose property holds an id the export shows resolved: the record keeps its header.
_RESOLVED = {"owner": "hubspot_owner_id", "stage": "dealstage", "pipeline": "pipeline"}
_RESOLVED_HEADERS = {"owner": OWNER_HEADER, "stage": STAGE_HEADER, "pipeline": PIPELINE_HEADER}
# Fields no deal property gives: the id, associations and stage history (read otherwise), and
# what comes from elsewhere than the CRM (a teams file, saved audits).
_NOT_A_PROPERTY = frozenset(
    {"id", "contacts", "account", "stage_history"}
    | {"manager", "close_date_largest_push_days", "close_date_days_pushed", "stage_moved_back"}
)
_ENTERED_PREFIX = "hs_date_entered_"
_DEAL_PATH = "/crm/v3/objects/deals/"


def read_hubspot(request: LiveRequest) -> LiveRead:
    """Read one HubSpot deal, or the open pipeline, as export-shaped records. Raises
    CrmError for a portal that cannot be read as asked or a deal it does not hold,
    UsageError for a deal id that is no number, an unknown owner or stage."""
    token = request.environment.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise CrmError(
            f"no HubSpot token: {TOKEN_VARIABLE} is not set",
            f"set {TOKEN_VARIABLE} to a private app's access token; docs/live-crm.md says how",
        )
    deal_id = request.source.deal_id
    if deal_id is not None and not deal_id.isdigit():
        raise UsageError(
            f"'{deal_id}' is not a HubSpot deal id: a deal's Record ID is a number "
            "(hubspot:15207000076)"
        )
    base_url = request.environment.get(URL_VARIABLE, "").strip() or HUBSPOT_API
    if urlsplit(base_url).scheme != "https":
        raise CrmError(
            f"{URL_VARIABLE} must be an https:// URL: the token is not sent in clear text",
            "docs/live-crm.md",
        )
    with CrmConnection(
        "HubSpot", base_url.rstrip("/"), token, request.limits, read_error=_read_error
    ) as connection:
        portal = _Portal.read(connection)
        read = LiveRead([])
        wanted = _plan(request, portal, read)
        if deal_id is not None:
            deals = [_one_deal(connection, deal_id, wanted)]
            if request.owners or request.stages:
                read.notes.append("--owner and --stage filter the pipeline, not one deal")
        else:
            deals = list(_open_deals(connection, _filters(request, portal, read), wanted, read))
        portal.add_former_owners(connection, deals)
        associated = _associations(connection, deals, wanted, single=deal_id is not None)
        read.records = [_record(deal, portal, wanted, associated) for deal in deals]
        read.notes.append(
            f"read {len(deals)} deal{'s' if len(deals) != 1 else ''} from HubSpot "
            f"in {connection.requests} requests"
        )
    return read


# --- the portal: its properties, owners and pipelines ------------------------------------


@dataclass(frozen=True)
class _Stage:
    id: str
    label: str
    pipeline: str  # the pipeline's label
    closed: bool


@dataclass
class _Portal:
    """What this token can see of the portal, read once per run."""

    properties: dict[str, str]  # internal name -> label
    owners: dict[str, str]  # owner id -> name
    stages: dict[str, _Stage]  # stage id -> stage
    pipelines: dict[str, str]  # pipeline id -> label

    @classmethod
    def read(cls, connection: CrmConnection) -> _Portal:
        listed = connection.get("/crm/v3/properties/deals").get("results", [])
        properties = {
            item["name"]: item.get("label") or item["name"]
            for item in listed
            if isinstance(item, dict) and "name" in item and not item.get("hidden", False)
        }
        owners = {str(o["id"]): _owner_name(o) for o in _pages(connection, "/crm/v3/owners")}
        stages: dict[str, _Stage] = {}
        pipelines: dict[str, str] = {}
        for pipeline in connection.get("/crm/v3/pipelines/deals").get("results", []):
            pipelines[str(pipeline["id"])] = pipeline["label"]
            for stage in pipeline.get("stages", []):
                closed = str(stage.get("metadata", {}).get("isClosed", "false")).lower()
                stages[str(stage["id"])] = _Stage(
                    str(stage["id"]), stage["label"], pipeline["label"], closed == "true"
                )
        return cls(properties, owners, stages, pipelines)

    def add_former_owners(self, connection: CrmConnection, deals: list[dict[str, Any]]) -> None:
        """Deals may be owned by users since deactivated, whom only the archived owners list
        names: it is read when a deal's owner is not among the active ones."""
        unknown = {
            str(owner)
            for deal in deals
            if (owner := deal.get("properties", {}).get("hubspot_owner_id"))
            and str(owner) not in self.owners
        }
        if unknown:
            for owner in _pages(connection, "/crm/v3/owners", {"archived": "true"}):
                self.owners.setdefault(str(owner["id"]), _owner_name(owner))


def _pages(
    connection: CrmConnection, path: str, query: Mapping[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """The results of a paged GET, every page (`paging.next.after` until absent)."""
    params = {**(query or {}), "limit": str(PAGE_SIZE)}
    while True:
        page = connection.get(path, params)
        yield from page.get("results", [])
        after = page.get("paging", {}).get("next", {}).get("after")
        if not after:
            return
        params = {**params, "after": str(after)}


def _owner_name(owner: Mapping[str, Any]) -> str:
    """An owner as the export names them: first and last name, else the email."""
    name = _person(owner.get("firstName"), owner.get("lastName"))
    return name or str(owner.get("email") or owner["id"])


def _person(first: object, last: object) -> str | None:
    name = " ".join(str(part).strip() for part in (first, last) if part and str(part).strip())
    return name or None


# --- which properties to ask for ----------------------------------------------------------


@dataclass
class _Wanted:
    """The deal properties to ask for, and how each is written in the record."""

    headers: dict[str, str] = field(default_factory=dict)  # property -> record key
    entered: dict[str, str] = field(default_factory=dict)  # hs_date_entered_x -> record key
    contacts: bool = False
    companies: bool = False

    @property
    def properties(self) -> list[str]:
        return sorted({*self.headers, *self.entered})


def _plan(request: LiveRequest, portal: _Portal, read: LiveRead) -> _Wanted:
    """The properties that give the fields asked for; the fields HubSpot lacks go to
    `read.unmeasured`, each with why."""
    aliases: dict[str, list[str]] = {}
    for key, target in HUBSPOT.columns.items():
        aliases.setdefault(target, []).append(key)
    by_label = {custom_field_name(label): name for name, label in portal.properties.items()}
    wanted = _Wanted(contacts="contacts" in request.fields, companies="account" in request.fields)
    # in the order of the profile's columns, as the export orders them; custom fields after
    order = list(dict.fromkeys(HUBSPOT.columns.values()))
    asked = request.fields - _NOT_A_PROPERTY | {"stage"}
    for name in sorted(asked, key=lambda f: (order.index(f) if f in order else len(order), f)):
        found = _property_of(name, aliases.get(name, []), by_label, portal)
        if found is not None:
            wanted.headers[found[0]] = found[1]
        else:
            read.unmeasured[name] = (
                f"no HubSpot deal property gives '{name}' (none named "
                f"{' or '.join(aliases.get(name, [name]))}, or labelled so, "
                "is visible to this token)"
            )
    if "stage_history" in request.fields or request.stage_history:
        for stage in portal.stages.values():
            property_name = f"{_ENTERED_PREFIX}{stage.id}"
            if property_name in portal.properties:
                wanted.entered[property_name] = f'Date entered "{stage.label} ({stage.pipeline})"'
        if not wanted.entered:
            read.unmeasured["stage_history"] = (
                "this token sees no hs_date_entered_<stage> deal properties"
            )
    if wanted.contacts and "num_associated_contacts" in portal.properties:
        wanted.headers.setdefault("num_associated_contacts", "num_associated_contacts")
    if wanted.contacts:
        read.unmeasured["contacts"] = (
            f"HubSpot has no contact roles: the associated contacts are saved as "
            f"'{CONTACTS_KEY}' and the rules read num_associated_contacts, as for an export"
        )
    return wanted


def _property_of(
    name: str, aliases: list[str], by_label: Mapping[str, str], portal: _Portal
) -> tuple[str, str] | None:
    """The property that gives a field, and the key the record holds it under: the export's
    header where the export shows a label for an id, else the property's own name; a custom
    property under its label, as the export heads it."""
    if name in _RESOLVED and _RESOLVED[name] in portal.properties:
        return _RESOLVED[name], _RESOLVED_HEADERS[name]
    known = [alias for alias in aliases if alias in portal.properties]
    if known:
        return known[0], known[0]
    if name in portal.properties:  # a custom property named as the field
        return name, portal.properties[name]
    if name in by_label:  # a custom property labelled as the export heads the field
        return by_label[name], portal.properties[by_label[name]]
    return None


# --- reading deals -----------------------------------------------------------------------


def _one_deal(connection: CrmConnection, deal_id: str, wanted: _Wanted) -> dict[str, Any]:
    associations = [
        kind for kind, on in (("contacts", wanted.contacts), ("companies", wanted.companies)) if on
    ]
    params = {"properties": ",".join(wanted.properties)}
    if associations:
        params["associations"] = ",".join(associations)
    deal: dict[str, Any] = connection.get(f"/crm/v3/objects/deals/{deal_id}", params)
    return deal


def _read_error(response: httpx.Response) -> CrmError | None:
    """HubSpot's own error answers: a deal id it does not know, and the message of a 400
    or 403 (`{"status": "error", "message": ..., "category": ...}`); None for the rest."""
    path = response.request.url.path
    status = response.status_code
    if status == 404 and path.removeprefix(_DEAL_PATH).isdigit():
        return CrmError(
            f"no deal {path.removeprefix(_DEAL_PATH)} in HubSpot",
            "check the deal's Record ID; the token's app must be able to see the deal",
        )
    if status in (401, 429):
        return None
    try:
        message = str(response.json().get("message", "")).strip()
    except (ValueError, AttributeError):
        return None
    if not message:
        return None
    if status == 403:
        return CrmError(
            f"HubSpot refused access (403) to {path}: {message}",
            "the private app needs the scopes docs/live-crm.md lists",
        )
    return CrmError(f"HubSpot answered {status} to {path}: {message[:300]}")


def _filters(request: LiveRequest, portal: _Portal, read: LiveRead) -> list[dict[str, Any]]:
    """The search filters of the open pipeline with the audit's owner and stage filters,
    each checked against what the portal knows."""
    if "hs_is_closed" in portal.properties:
        filters: list[dict[str, Any]] = [
            {"propertyName": "hs_is_closed", "operator": "EQ", "value": "false"}
        ]
    else:
        closed = sorted(stage.id for stage in portal.stages.values() if stage.closed)
        filters = [{"propertyName": "dealstage", "operator": "NOT_IN", "values": closed}]
    if request.owners:
        ids = _owner_ids(request.owners, portal.owners)
        filters.append({"propertyName": "hubspot_owner_id", "operator": "IN", "values": ids})
    if request.stages:
        ids = _stage_ids(request.stages, portal.stages)
        filters.append({"propertyName": "dealstage", "operator": "IN", "values": ids})
    if request.where:
        read.notes.append(
            "--where is a Salesforce (SOQL) filter: HubSpot deals are not filtered by it "
            "(unchecked)"
        )
    return filters


def _owner_ids(asked: Iterable[str], owners: Mapping[str, str]) -> list[str]:
    by_name: dict[str, list[str]] = {}
    for owner_id, name in owners.items():
        by_name.setdefault(name.casefold(), []).append(owner_id)
    ids: list[str] = []
    for owner in asked:
        found = by_name.get(owner.strip().casefold()) or (
            [owner.strip()] if owner.strip() in owners else None
        )
        if not found:
            hint = did_you_mean(owner, sorted(set(owners.values())))
            raise UsageError(f"no HubSpot owner '{owner}'" + (f"; {hint}" if hint else ""))
        ids.extend(found)
    return sorted(set(ids))


def _stage_ids(asked: Iterable[str], stages: Mapping[str, _Stage]) -> list[str]:
    ids: list[str] = []
    for wanted in asked:
        key = wanted.strip().casefold()
        found = [s.id for s in stages.values() if key in (s.label.casefold(), s.id.casefold())]
        if not found:
            hint = did_you_mean(wanted, sorted({s.label for s in stages.values()}))
            raise UsageError(f"no HubSpot deal stage '{wanted}'" + (f"; {hint}" if hint else ""))
        ids.extend(found)
    return sorted(set(ids))


def _open_deals(
    connection: CrmConnection, filters: list[dict[str, Any]], wanted: _Wanted, read: LiveRead
) -> Iterator[dict[str, Any]]:
    """Every deal the search filters match, page by page. A search pages no further than
    SEARCH_CAP results, so a larger pipeline is read in windows of record ids, each starting
    after the last id read: no deal is lost and none is read twice."""
    last_id: str | None = None
    windows = 0
    while True:
        windows += 1
        window = list(filters)
        if last_id is not None:
            window.append({"propertyName": ID_PROPERTY, "operator": "GT", "value": last_id})
        body: dict[str, Any] = {
            "filterGroups": [{"filters": window}],
            "sorts": [{"propertyName": ID_PROPERTY, "direction": "ASCENDING"}],
            "properties": wanted.properties,
            "limit": PAGE_SIZE,
        }
        in_window = 0
        while True:
            page = connection.post("/crm/v3/objects/deals/search", body)
            results = page.get("results", [])
            yield from results
            in_window += len(results)
            if results:
                last_id = str(results[-1]["id"])
            after = page.get("paging", {}).get("next", {}).get("after")
            if not after or not results:
                if windows > 1:
                    read.notes.append(
                        f"HubSpot's search gives at most {SEARCH_CAP:,} deals a query: "
                        f"the pipeline was read in {windows} queries by record id"
                    )
                return
            if in_window + PAGE_SIZE > SEARCH_CAP:
                break  # the next page would pass the cap: a new query after the last id
            body = {**body, "after": str(after)}


def _associations(
    connection: CrmConnection, deals: list[dict[str, Any]], wanted: _Wanted, *, single: bool
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """For each kind asked for (contacts, companies): deal id -> the associated records."""
    kinds = {
        "contacts": ["firstname", "lastname", "jobtitle"],
        "companies": ["name"],
    }
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for kind, properties in kinds.items():
        if not getattr(wanted, kind):
            continue
        if single:
            links = {
                str(deal["id"]): [
                    str(item["id"])
                    for item in deal.get("associations", {}).get(kind, {}).get("results", [])
                ]
                for deal in deals
            }
        else:
            links = _linked(connection, [str(deal["id"]) for deal in deals], kind)
        ids = sorted({linked for targets in links.values() for linked in targets})
        records = _batch_read(connection, kind, ids, properties)
        found[kind] = {
            deal: [records[target] for target in targets if target in records]
            for deal, targets in links.items()
        }
    return found


def _linked(connection: CrmConnection, deal_ids: list[str], kind: str) -> dict[str, list[str]]:
    """Deal id -> the ids of its associated records of a kind (v4 batch associations)."""
    links: dict[str, list[str]] = {deal: [] for deal in deal_ids}
    for start in range(0, len(deal_ids), ASSOCIATION_BATCH_SIZE):
        chunk = deal_ids[start : start + ASSOCIATION_BATCH_SIZE]
        answer = connection.post(
            f"/crm/v4/associations/deals/{kind}/batch/read",
            {"inputs": [{"id": deal} for deal in chunk]},
        )
        for result in answer.get("results", []):
            deal = str(result["from"]["id"])
            targets = [str(item["toObjectId"]) for item in result.get("to", [])]
            links[deal] = list(dict.fromkeys([*links.get(deal, []), *targets]))
    return links


def _batch_read(
    connection: CrmConnection, kind: str, ids: list[str], properties: list[str]
) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), BATCH_SIZE):
        inputs = [{"id": record_id} for record_id in ids[start : start + BATCH_SIZE]]
        answer = connection.post(
            f"/crm/v3/objects/{kind}/batch/read", {"properties": properties, "inputs": inputs}
        )
        for result in answer.get("results", []):
            records[str(result["id"])] = result.get("properties", {})
    return records


# --- the record, as the export holds it --------------------------------------------------


def _record(
    deal: Mapping[str, Any],
    portal: _Portal,
    wanted: _Wanted,
    associated: Mapping[str, Mapping[str, list[dict[str, Any]]]],
) -> dict[str, Any]:
    properties: Mapping[str, Any] = deal.get("properties", {})
    deal_id = str(deal["id"])
    record: dict[str, Any] = {ID_PROPERTY: deal_id}
    for name, header in wanted.headers.items():
        value = properties.get(name)
        if value is not None and name == "hubspot_owner_id":
            value = portal.owners.get(str(value), str(value))
        elif value is not None and name == "dealstage":
            stage = portal.stages.get(str(value))
            value = stage.label if stage else value
        elif value is not None and name == "pipeline":
            value = portal.pipelines.get(str(value), value)
        record[header] = value
    if "companies" in associated:
        companies = associated["companies"].get(deal_id, [])
        record[COMPANY_HEADER] = companies[0].get("name") if companies else None
    if "contacts" in associated:
        record[CONTACTS_KEY] = [
            {
                key: value
                for key, value in (
                    ("name", _person(contact.get("firstname"), contact.get("lastname"))),
                    ("title", contact.get("jobtitle")),
                )
                if value
            }
            for contact in associated["contacts"].get(deal_id, [])
        ]
    for name, header in wanted.entered.items():
        record[header] = properties.get(name)
    return record
