"""Salesforce as a live source: opportunities read through the REST API's SOQL queries.

What is read is chosen by the pack: the canonical fields it reads map to Opportunity's API
names through the SALESFORCE profile (the names its exports and REST JSON already use), and
its custom fields to the org's fields whose snake_case is theirs (`Economic_Buyer__c`). The
describe call says which of them this user can see: a field the org lacks, or field-level
security hides, is simply absent from it, and is left out of the query, so the audit reports
the milestones reading it as unmeasured instead of the query failing. Contact roles and stage
history come in the same query, as subqueries, so one page of results is one request.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

import httpx

from dealgate.deals.opportunity_history import stage_changes
from dealgate.deals.profiles import SALESFORCE, custom_field_name, header_key
from dealgate.errors import UsageError, did_you_mean
from dealgate.live import LiveRead, LiveRequest
from dealgate.live.http import CrmConnection, CrmError, redact
from dealgate.rules.types import CANONICAL_FIELDS

API_VERSION = "v60.0"
DATA = f"/services/data/{API_VERSION}"
# Opportunity's API names for the canonical fields, in the order of a saved record; each one's
# canonical field is the SALESFORCE profile's, so a live read and an export map alike.
API_NAMES = (
    "Id",
    "Name",
    "Account.Name",
    "Owner.Name",
    "Owner.Manager.Name",
    "StageName",
    "Amount",
    "CurrencyIsoCode",
    "CloseDate",
    "CreatedDate",
    "Probability",
    "ForecastCategoryName",
    "NextStep",
    "LastActivityDate",
    "PushCount",
)
FIELD_API_NAMES: Mapping[str, str] = {
    target: name for name in API_NAMES if (target := SALESFORCE.target(name)) is not None
}
# Child relationships read as the nested lists of the canonical deal.
CONTACT_ROLES = "(SELECT Role, IsPrimary, Contact.Name, Contact.Title FROM OpportunityContactRoles)"
HISTORIES = "(SELECT StageName, CreatedDate FROM OpportunityHistories ORDER BY CreatedDate)"
RELATIONSHIPS = {"contacts": "OpportunityContactRoles", "stage_history": "OpportunityHistories"}
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_NO_SUCH_COLUMN = re.compile(r"No such column '(?P<column>\w+)' on entity '(?P<entity>\w+)'")
_SUBQUERY = re.compile(r"\(SELECT (?P<fields>.+?) FROM (?P<rest>.+)\)")
# A Salesforce access token (a session id): the org id, `!`, the secret. Removed from whatever
# the Salesforce CLI says before any of it can reach a message.
_SESSION_ID = re.compile(r"00D[A-Za-z0-9]{12,15}![A-Za-z0-9._-]+")


def read_salesforce(request: LiveRequest) -> LiveRead:
    """The opportunity a live source names, or the open pipeline, as records in the REST
    API's shape (relationship fields flattened: `Owner.Name`)."""
    deal_id = request.source.deal_id
    if deal_id is not None and not _ID.fullmatch(deal_id):
        raise UsageError(
            f"'{deal_id}' is not a Salesforce record id (15 or 18 letters and digits), "
            "e.g. sf:006Dn000004XyZaIAK"
        )
    instance, token = credentials(request.environment)
    with CrmConnection(
        "Salesforce", instance, token, request.limits, read_error=salesforce_error
    ) as connection:
        read = LiveRead([])
        describe = connection.get(f"{DATA}/sobjects/Opportunity/describe")
        columns, nested = _readable(request, describe, read)
        conditions = _conditions(request, connection, read)
        while True:  # each time round leaves a column out, or raises
            soql = (
                f"SELECT {', '.join([*columns, *nested])} FROM Opportunity"
                f" WHERE {' AND '.join(conditions)}"
            )
            try:
                read.records = [
                    _record(connection, raw, columns) for raw in query(connection, soql)
                ]
                break
            except UnreadableColumn as error:
                if not _leave_out(error, columns, nested, read):
                    raise  # not one of ours: a field of --where
        if deal_id is not None and not read.records:
            raise CrmError(
                f"Salesforce has no opportunity {deal_id} that this user can see",
                "check the id (the 15 or 18 characters in the opportunity's URL)",
            )
        count = len(read.records)
        read.notes.append(
            f"read {count:,} opportunit{'y' if count == 1 else 'ies'} from Salesforce at "
            f"{httpx.URL(instance).host} in {connection.requests:,} requests"
        )
        return read


def credentials(environment: Mapping[str, str]) -> tuple[str, str]:
    """The instance URL and access token: SF_INSTANCE_URL and SF_ACCESS_TOKEN, else the org
    the Salesforce CLI is logged in to (`sf org display`, SF_TARGET_ORG or its default)."""
    token = environment.get("SF_ACCESS_TOKEN", "").strip()
    instance = environment.get("SF_INSTANCE_URL", "").strip()
    if token and instance:
        return instance.rstrip("/"), token
    if token or instance:
        missing = "SF_INSTANCE_URL" if token else "SF_ACCESS_TOKEN"
        raise CrmError(
            f"{missing} is not set: SF_ACCESS_TOKEN and SF_INSTANCE_URL go together",
            "set both, or neither to use the Salesforce CLI's org (docs/live-crm.md)",
        )
    return sf_org_display(environment)


def sf_org_display(environment: Mapping[str, str]) -> tuple[str, str]:
    """The instance URL and access token of the Salesforce CLI's org, from the JSON of
    `sf org display --json`. Nothing it prints is shown before a token is removed."""
    command = shutil.which("sf", path=environment.get("PATH"))
    if command is None:
        raise CrmError(
            "no Salesforce credentials: SF_ACCESS_TOKEN and SF_INSTANCE_URL are not set, "
            "and the Salesforce CLI (sf) is not installed",
            "set both variables, or install sf and run `sf org login web` (docs/live-crm.md)",
        )
    org = environment.get("SF_TARGET_ORG", "").strip()
    arguments = [command, "org", "display", "--json", *(["--target-org", org] if org else [])]
    try:
        done = subprocess.run(
            arguments,
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(environment),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CrmError(f"the Salesforce CLI could not be run: {_hidden(str(error))}") from None
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        answer = None
    result = answer.get("result") if isinstance(answer, dict) else None
    token = result.get("accessToken") if isinstance(result, dict) else None
    instance = result.get("instanceUrl") if isinstance(result, dict) else None
    if done.returncode == 0 and isinstance(token, str) and isinstance(instance, str):
        return instance.rstrip("/"), token
    said = answer.get("message") if isinstance(answer, dict) else None
    said = said if isinstance(said, str) else (done.stderr or done.stdout).strip()[:300]
    which = f"org {org}" if org else "the default org"
    raise CrmError(
        f"the Salesforce CLI gave no access token for {which}: {_hidden(said, token)}",
        "log in with `sf org login web`, name the org with --target-org, "
        "or set SF_ACCESS_TOKEN and SF_INSTANCE_URL",
    )


def _hidden(text: str, *tokens: object) -> str:
    secrets = [token for token in tokens if isinstance(token, str)]
    return _SESSION_ID.sub("***", redact(text, secrets))


def salesforce_error(response: httpx.Response) -> CrmError | None:
    """Salesforce's own reading of an error answer: its body is a list of
    `{"message", "errorCode"}`. None for the connection's generic message."""
    try:
        errors = json.loads(response.content)
    except ValueError:
        return None
    first = errors[0] if isinstance(errors, list) and errors else errors
    if not isinstance(first, dict):
        return None
    code = str(first.get("errorCode", ""))
    message = str(first.get("message", "")).strip()
    if code == "REQUEST_LIMIT_EXCEEDED":
        return CrmError(
            f"Salesforce's API request allocation for this org is spent (REQUEST_LIMIT_EXCEEDED: "
            f"{message}); the allocation is counted over a rolling 24 hours",
            "try again later; Setup > Company Information shows the org's API requests of "
            "the last 24 hours",
        )
    if code == "INVALID_SESSION_ID":
        return CrmError(
            "Salesforce refused the token (INVALID_SESSION_ID): it is invalid or has expired",
            "get a new one: `sf org login web`, or a new SF_ACCESS_TOKEN (docs/live-crm.md)",
        )
    if code in ("API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED", "INSUFFICIENT_ACCESS"):
        return CrmError(
            f"Salesforce refused access ({code}): {message}",
            "the user needs API Enabled and read access to Opportunity (docs/live-crm.md)",
        )
    unreadable = _NO_SUCH_COLUMN.search(message)
    if code == "INVALID_FIELD" and unreadable is not None:
        return UnreadableColumn(
            f"Salesforce refused the query ({code}): {message}",
            "check --where",
            unreadable["entity"],
            unreadable["column"],
        )
    if code in ("MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE"):
        return CrmError(f"Salesforce refused the query ({code}): {message}", "check --where")
    return None


class UnreadableColumn(CrmError):
    """INVALID_FIELD: a column of the query that this user cannot read. The describe of
    Opportunity shows its own fields only; a related object's (the owner's manager,
    User.ManagerId; a contact's title) hidden by field-level security shows here."""

    def __init__(self, message: str, hint: str, entity: str, column: str) -> None:
        super().__init__(message, hint)
        self.entity = entity
        self.column = column


def _leave_out(
    error: UnreadableColumn, columns: list[str], nested: list[str], read: LiveRead
) -> bool:
    """Leave the column Salesforce would not read out of the query, and say it is unmeasured;
    False when it is none of the columns dealgate asked for."""
    where = f"{error.entity}.{error.column}"
    canonical = {name: field for field, name in FIELD_API_NAMES.items()}
    for name in columns:
        if "." in name and error.column in name.split(".")[1:]:
            columns.remove(name)
            field = canonical.get(name, custom_field_name(name))
            read.unmeasured[field] = f"{where} is not visible to this user"
            read.notes.append(
                f"Salesforce: {where} is not visible to this user, so {field} is unmeasured "
                "(field-level security)"
            )
            return True
    for position, subquery in enumerate(nested):
        parts = _SUBQUERY.fullmatch(subquery)
        if parts is None:
            continue
        fields = [name.strip() for name in parts["fields"].split(",")]
        kept = [name for name in fields if error.column not in name.split(".")]
        if len(kept) == len(fields):
            continue
        relationship = parts["rest"].split()[0]
        if not kept:
            del nested[position]
            field = next(f for f, name in RELATIONSHIPS.items() if name == relationship)
            read.unmeasured[field] = f"{where} is not visible to this user"
            read.notes.append(
                f"Salesforce: {where} is not visible to this user, so {field} is unmeasured"
            )
            return True
        nested[position] = f"(SELECT {', '.join(kept)} FROM {parts['rest']})"
        read.notes.append(
            f"Salesforce: {where} is not visible to this user, so it is read as empty "
            f"in {relationship} (field-level security)"
        )
        return True
    return False


def query(connection: CrmConnection, soql: str) -> Iterator[dict[str, Any]]:
    """The records a SOQL query gives, page after page (`nextRecordsUrl`)."""
    page = connection.get(f"{DATA}/query", params={"q": soql})
    while True:
        yield from page.get("records", [])
        following = page.get("nextRecordsUrl")
        if page.get("done", True) or not following:
            return
        page = connection.get(following)


def soql_quote(value: str) -> str:
    """A SOQL string literal: the backslash and the quote escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _readable(
    request: LiveRequest, describe: dict[str, Any], read: LiveRead
) -> tuple[list[str], list[str]]:
    """The Opportunity fields to select (those the pack reads that this user can see) and
    the subqueries; what cannot be read goes to `read.unmeasured`."""
    visible = {field["name"] for field in describe.get("fields", [])}
    related = {field["relationshipName"] for field in describe.get("fields", [])} - {None}
    children = {child.get("relationshipName") for child in describe.get("childRelationships", [])}

    def can_read(name: str) -> bool:
        return name in visible if "." not in name else name.split(".")[0] in related

    wanted = set(request.fields) | {"id", "stage"}
    columns: list[str] = []
    hidden: list[str] = []  # as named in the note: `Opportunity.NextStep (next_step)`
    for field_name, name in FIELD_API_NAMES.items():
        if field_name not in wanted:
            continue
        if can_read(name):
            columns.append(name)
        elif field_name != "currency":  # an org of one currency has no CurrencyIsoCode
            read.unmeasured[field_name] = f"Opportunity.{name} is not visible to this user"
            hidden.append(f"Opportunity.{name} ({field_name})")
    nested: list[str] = []
    for field_name, subquery in (("contacts", CONTACT_ROLES), ("stage_history", HISTORIES)):
        if field_name not in wanted or (
            field_name == "stage_history" and not request.stage_history
        ):
            continue
        if RELATIONSHIPS[field_name] in children:
            nested.append(subquery)
        else:
            read.unmeasured[field_name] = f"{RELATIONSHIPS[field_name]} are not visible"
            hidden.append(f"{RELATIONSHIPS[field_name]} ({field_name})")
    if hidden:
        read.notes.append(
            f"Salesforce: not visible to this user, so unmeasured: {', '.join(hidden)} "
            "(absent from the org, or hidden by field-level security)"
        )
    # by the name a column would be kept under; a custom field (`Pain__c`) over `Pain`
    custom = {custom_field_name(name): name for name in sorted(visible, key=_custom_last)}
    absent = []
    for wanted_field in sorted(wanted - CANONICAL_FIELDS.keys()):
        if wanted_field in custom:
            columns.append(custom[wanted_field])
        else:
            read.unmeasured[wanted_field] = "no Opportunity field of that name is visible"
            absent.append(wanted_field)
    if absent:
        read.notes.append(
            f"Salesforce: no visible Opportunity field for {', '.join(absent)}, so unmeasured "
            "(a field is found by its API name: Economic_Buyer__c for economic_buyer)"
        )
    for name in sorted(wanted & CANONICAL_FIELDS.keys()):
        if name not in FIELD_API_NAMES and name not in RELATIONSHIPS:
            read.unmeasured.setdefault(name, "Opportunity has no standard field for it")
    return columns, nested


def _conditions(request: LiveRequest, connection: CrmConnection, read: LiveRead) -> list[str]:
    """The query's WHERE: one deal, or the open pipeline with the audit's filters, each value
    checked against the org's own (its users, its stages) and quoted."""
    if request.source.deal_id is not None:
        return [f"Id = {soql_quote(request.source.deal_id)}"]
    conditions = ["IsClosed = false"]
    if request.owners:
        names = [row["Name"] for row in query(connection, "SELECT Name FROM User")]
        owners = _known("--owner", request.owners, names, "a user of this Salesforce org")
        conditions.append(f"Owner.Name IN ({', '.join(map(soql_quote, owners))})")
    if request.stages:
        labels = [
            row["MasterLabel"]
            for row in query(connection, "SELECT MasterLabel FROM OpportunityStage")
        ]
        stages = _stages(request.stages, labels, read)
        if stages:
            conditions.append(f"StageName IN ({', '.join(map(soql_quote, stages))})")
    if request.where:
        conditions.append(f"({request.where})")
    return conditions


def _known(option: str, asked: Iterable[str], names: list[str], what: str) -> list[str]:
    """Each value asked for, as the org spells it; a UsageError for one it does not know."""
    spelled = {header_key(name): name for name in names if isinstance(name, str)}
    known = []
    for value in asked:
        name = spelled.get(header_key(value))
        if name is None:
            raise UsageError(
                f"{option} '{value}' is not {what}", did_you_mean(value, spelled.values())
            )
        known.append(name)
    return known


def _stages(asked: tuple[str, ...], labels: list[str], read: LiveRead) -> list[str]:
    """The stage names the query filters by. A --stage may name a pack stage by its id, which
    the org does not know: then the query reads every open stage and the audit filters."""
    spelled = {header_key(label): label for label in labels}
    if all(header_key(value) in spelled for value in asked):
        return [spelled[header_key(value)] for value in asked]
    close = [value for value in asked if header_key(value) not in spelled]
    for value in close:
        hint = did_you_mean(value, spelled.values())
        if hint:
            raise UsageError(f"--stage '{value}' is not a stage of this Salesforce org", hint)
    read.notes.append(
        f"--stage {', '.join(close)}: not a Salesforce stage name; applied as the pack's "
        "stage after reading"
    )
    return []


def _record(connection: CrmConnection, raw: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    """One opportunity as a saved record: the columns selected (null where empty, so every
    record has every key) and the nested lists of the canonical deal."""
    record = {name: _value(raw, name) for name in columns}
    roles = raw.get("OpportunityContactRoles", ...)
    if roles is not ...:
        record["contacts"] = [_contact(role) for role in _children(connection, roles)]
    saves = raw.get("OpportunityHistories", ...)
    if saves is not ...:
        rows = [
            (date.fromisoformat(str(save["CreatedDate"])[:10]), str(save["StageName"]))
            for save in _children(connection, saves)
            if save.get("CreatedDate") and save.get("StageName")
        ]
        record["stage_history"] = [
            {"stage": change.stage, "entered_on": change.entered_on}
            for change in stage_changes(rows)
        ]
    return record


def _children(connection: CrmConnection, result: Any) -> Iterator[dict[str, Any]]:
    """A subquery's records (null when there are none), its further pages followed."""
    while isinstance(result, dict):
        yield from result.get("records", [])
        following = result.get("nextRecordsUrl")
        if result.get("done", True) or not following:
            return
        result = connection.get(following)


def _contact(role: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": _value(role, "Contact.Name"),
        "title": _value(role, "Contact.Title"),
        "role": role.get("Role"),
        "is_primary": role.get("IsPrimary"),
    }


def _custom_last(name: str) -> tuple[bool, str]:
    return name.lower().endswith("__c"), name


def _value(record: dict[str, Any], name: str) -> Any:
    """A field of a record by its API name, through relationships (`Owner.Manager.Name`)."""
    value: Any = record
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
