"""An audit's JSON document read back from a file: a --baseline, or `dealgate report`'s input.

The reports (HTML, XLSX, changes) read only this document, so a saved audit can be rendered or
compared later without the rule pack or the export. Every saved version is read here, and only
here: an older document is upgraded in memory to the current version, so a team's audit of
last week keeps working after dealgate changes what it writes.

Versions (`schema_version`, top level):
  1  no `schema_version` key: the documents written before versions existed.
  2  `schema_version` and `pack.hash`, the sha256 of the resolved pack's content
     (RulePack.content_hash), so a later audit can tell the pack changed under the same id.
  3  `coverage`: what the input could not measure.
  4  `deals` lists every audited deal, each with `needs_attention` (the exception list), and
     `deals_listed` says so ("all"); before, only the deals needing attention were listed
     (every deal with --include-met), so an upgraded document says "needing attention".
  5  `findings_listed`: "all" when each deal lists every finding, met ones included (an audit
     run with --include-met: a snapshot `dealgate calibrate` can read), "not met" when it lists
     the findings not met. An upgraded document says "all" when any listed finding is met.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from dealgate.errors import InputError, Location, Problem
from dealgate.report.json_stream import Abandon, JsonSyntaxError, read_object

HINT = "save it with `dealgate audit … --format json --output FILE`"

# The version report/audit_json.py writes; the loader reads it and every earlier one.
SCHEMA_VERSION = 5
# `deals_listed`: which audited deals `deals` holds. A version 4 audit lists all of them; one
# saved before lists those needing attention, so a deal it audited (`audited_stages`) but did
# not list had no missing skipped or hygiene finding, and its to-advance ones are unknown.
DEALS_LISTED = "all"
NEEDING_ATTENTION = "needing attention"
# The document an HTML page or a workbook of a large audit is rendered from, never saved: the
# deals needing attention with the largest amounts, and `deals_left_out` the others.
LARGEST_NEEDING_ATTENTION = "largest needing attention"
# `findings_listed`: which findings each listed deal holds: every one, met included
# (--include-met), or those not met.
FINDINGS_ALL = "all"
FINDINGS_NOT_MET = "not met"
# The kinds of missing finding that make a deal need attention (judging/semantics.py
# ATTENTION_KINDS), as a saved deal names them.
_ATTENTION_KINDS = frozenset({"skipped", "hygiene", "waiver"})


class _Part(BaseModel):
    """A part of the audit's JSON shape (report/audit_json.py): the keys the reports read, with
    their types; other keys are allowed, and keys added since an older audit may be absent."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False, strict=True)


class Money(_Part):
    currency: str | None
    amount: int | float


class PackStage(_Part):
    id: str
    name: str
    open: bool


class Pack(_Part):
    id: str
    hash: str | None = None  # None in a version 1 document: the content was not recorded
    title: str = ""
    stages: list[PackStage] = []


class StageFigure(_Part):
    stage_id: str | None
    name: str
    deals: int
    claimed: list[Money]
    deals_at_risk: int = 0
    at_risk: list[Money] = []


class OwnerFigure(_Part):
    manager: str | None
    owner: str | None
    deals: int
    deals_with_skipped_milestones: int
    deals_at_risk: int
    missing_required: int
    deals_missing_required: int | None = None  # absent before version 4
    claimed: list[Money]
    at_risk: list[Money]
    skipped_by_stage: dict[str, int] = {}
    overdue_steps: dict[str, int] = {}
    forecast_without_evidence: int = 0
    forecast_without_evidence_amounts: list[Money] = []
    forecast_unverifiable: int = 0
    forecast_unverifiable_amounts: list[Money] = []


class SkippedFigure(_Part):
    milestone_id: str
    milestone: str
    stage_id: str
    deals: int


class ForecastFigure(_Part):
    """A forecast category, or the probability (category None), against evidence
    (judging/forecast.py); absent before it."""

    claim: str = "category"
    category: str | None
    required_stage_id: str | None
    deals: int
    claimed: list[Money]
    without_evidence: int
    without_evidence_amounts: list[Money]
    unverifiable: int = 0
    unverifiable_amounts: list[Money] = []


class Summary(_Part):
    deals_audited: int
    deals_with_skipped_milestones: int
    deals_at_risk: int
    pipeline_claimed: list[Money]
    pipeline_at_risk: list[Money]
    pipeline_supported: list[Money] = []
    by_stage: list[StageFigure]
    by_evidence_stage: list[StageFigure] = []
    by_owner: list[OwnerFigure]
    skipped_milestones: list[SkippedFigure] = []
    overdue_steps: dict[str, int] = {}
    deals_with_overdue_steps: int = 0
    data_findings: dict[str, int] = {}
    forecast: list[ForecastFigure] = []


class Finding(_Part):
    milestone_id: str
    milestone: str
    kind: str
    status: str
    severity: str
    stage_id: str | None = None
    read: dict[str, Any] = {}
    guidance: str = ""
    note: str = ""


class OverdueStep(_Part):
    milestone: str | None
    side: str
    owner: str | None
    due: str
    days_overdue: int


class Deal(_Part):
    id: str
    name: str | None = None
    owner: str | None = None
    manager: str | None = None
    stage: str | None = None
    stage_id: str | None = None
    evidence_stage: str | None = None
    inflation: int = 0
    at_risk: bool | None = None
    amount: int | float | None = None
    currency: str | None = None
    close_date: str | None = None
    disposition: str = ""
    needs_attention: bool | None = None  # absent before version 4, filled by the upgrade
    findings: list[Finding]
    overdue_steps: list[OverdueStep] = []
    forecast_category: str | None = None
    forecast: dict[str, str | None] | None = None
    probability_ceiling: dict[str, str | float | None] | None = None


class UnmeasuredMilestone(_Part):
    milestone_id: str
    milestone: str
    stage_id: str | None
    lacks: list[str]
    partly: bool


class LackingField(_Part):
    field: str
    milestones: list[str]
    how: str


class Coverage(_Part):
    """What the input could not measure (judging/coverage.py); absent before coverage."""

    source: str
    milestones: int
    unmeasured_counted_as: str
    unmeasured: list[UnmeasuredMilestone]
    lacking_fields: list[LackingField]


class SavedAudit(_Part):
    schema_version: int = 1
    as_of: str
    pack: Pack
    summary: Summary
    deals: list[Deal]
    deals_listed: str = NEEDING_ATTENTION  # absent before version 4
    findings_listed: str = FINDINGS_NOT_MET  # absent before version 5
    audited_stages: dict[str, str | None] | None = None
    coverage: Coverage | None = None


# A saved audit's deals, checked a batch at a time as they are read (stream_audit).
_DEALS = TypeAdapter(list[Deal])
_CHECKED_TOGETHER = 1000


@dataclass(frozen=True)
class AuditDocument:
    """A saved audit at the current schema version, whatever version it was saved at."""

    audit: SavedAudit  # typed: the keys the reports read
    data: dict[str, Any]  # the same document as JSON data, every key kept
    saved_version: int  # the schema version of the file

    @property
    def pack_id(self) -> str:
        return self.audit.pack.id

    @property
    def pack_hash(self) -> str | None:
        return self.audit.pack.hash


def load_audit(path: Path, role: str = "audit") -> AuditDocument:
    """A JSON audit read back and upgraded to SCHEMA_VERSION; InputError (exit 2) when it is not
    one, or one of a later version, naming where.

    `role` names the file in messages: "baseline" for --baseline, "audit" for `dealgate report`.
    """
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(Location(shown), f"{role} file not found")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError([Problem(Location(shown), f"cannot read the {role}: {error}")]) from None
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        where = Location(shown, error.lineno, error.colno)
        raise InputError([Problem(where, f"not JSON: {error.msg}")]) from None
    except ValueError as error:
        raise InputError([Problem(Location(shown), f"not JSON: {error}")]) from None
    if not isinstance(document, dict):
        raise InputError([Problem(Location(shown), "not an audit: not a JSON object", HINT)])
    version = _saved_version(document, shown)  # first: a later version may differ anywhere
    try:
        # Every version this dealgate reads validates here: the keys added since are optional.
        typed = SavedAudit.model_validate(document)
    except ValidationError as error:
        raise InputError(_problems(error, shown)) from None
    data = upgrade(document, version)
    if version < SCHEMA_VERSION:  # the typed audit as upgraded: what the keys added mean
        typed = SavedAudit.model_validate(data)
    return AuditDocument(typed, data, version)


def read_deals_of(path: Path, role: str, each_deal: Callable[[Deal], None]) -> AuditDocument:
    """A saved audit whose deals are given to `each_deal` typed, one at a time and in order,
    for a reader that keeps a little of each (--history, calibrate): read deal by deal
    (`stream_audit`), the document returned then lists none; one of an earlier version is
    read whole and upgraded. InputError as load_audit's."""
    document = stream_audit(path, role, each_deal, typed=True)
    if document is None:
        document = load_audit(path, role)
        for deal in document.audit.deals:
            each_deal(deal)
    return document


def stream_audit(
    path: Path, role: str, each_deal: Callable[[Any], None], *, typed: bool = False
) -> AuditDocument | None:
    """A saved audit with each of its deals checked and given to `each_deal` in order (as
    JSON data, or typed: a `Deal`), not kept (`data["deals"]` is empty): a million deals are
    read without holding them. None, before any deal is given, for a document of an earlier
    version or one that lists its deals before its schema_version (dealgate writes the version
    first): `load_audit` reads those whole. InputError as load_audit's, a wrong deal named by
    its place (deals[3])."""
    shown = str(path)

    def version_first(head: dict[str, Any]) -> None:
        if "schema_version" not in head or _saved_version(head, shown) < SCHEMA_VERSION:
            raise Abandon

    batch: list[Any] = []  # checked a thousand at a time: twice as fast as one by one
    first = 0  # the place of the batch's first deal in the document

    def check(index: int, deal: Any) -> None:
        batch.append(deal)
        if len(batch) == _CHECKED_TOGETHER:
            hand_over()

    def hand_over() -> None:
        nonlocal first
        try:
            checked = _DEALS.validate_python(batch)
        except ValidationError as error:
            raise InputError(_problems(error, shown, prefix=("deals",), offset=first)) from None
        for deal in checked if typed else batch:
            each_deal(deal)
        first += len(batch)
        batch.clear()

    try:
        with path.open(encoding="utf-8-sig") as stream:
            document = read_object(stream, "deals", check, version_first, _no_constant)
        hand_over()
    except Abandon:
        return None
    except FileNotFoundError:
        raise InputError([Problem(Location(shown), f"{role} file not found")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError([Problem(Location(shown), f"cannot read the {role}: {error}")]) from None
    except JsonSyntaxError as error:
        where = Location(shown, error.line, error.column)
        raise InputError([Problem(where, f"not JSON: {error.message}")]) from None
    except ValueError as error:
        raise InputError([Problem(Location(shown), f"not JSON: {error}")]) from None
    if "deals" not in document:  # no deals at all: what load_audit says of it
        return None
    version = _saved_version(document, shown)
    try:
        head = SavedAudit.model_validate(document)
    except ValidationError as error:
        raise InputError(_problems(error, shown)) from None
    return AuditDocument(head, document, version)


def upgrade(document: dict[str, Any], version: int) -> dict[str, Any]:
    """The document of `version` as the current version writes it, one version at a time."""
    while version < SCHEMA_VERSION:
        document = _UPGRADES[version](document)
        version += 1
    return document


def _from_1(document: dict[str, Any]) -> dict[str, Any]:
    """Version 1 to 2: the version key, and the pack hash an older audit did not record (None),
    in the places the writer puts them."""
    pack = document["pack"]
    upgraded = {"schema_version": 2} | document
    upgraded["pack"] = {"id": pack["id"], "hash": None} | pack
    return upgraded


def _from_2(document: dict[str, Any]) -> dict[str, Any]:
    """Version 2 to 3: the coverage, which an older audit did not record (None), after the
    input. Its deals' missing findings may count fields the export lacked as missing."""
    upgraded: dict[str, Any] = {}
    for key, value in document.items():
        upgraded[key] = 3 if key == "schema_version" else value
        if key == "input":
            upgraded["coverage"] = None
    upgraded.setdefault("coverage", None)
    return upgraded


def _from_3(document: dict[str, Any]) -> dict[str, Any]:
    """Version 3 to 4: each listed deal flagged as needing attention or not, decided from its
    own inflation and missing findings as audit.needs_attention does; and `deals_listed` after
    the deals. Only the deals needing attention were listed, unless the audit ran with
    --include-met: a listed deal needing none tells it listed them all."""
    deals = [_flagged(deal) for deal in document["deals"]]
    every = any(not deal["needs_attention"] for deal in deals)
    upgraded: dict[str, Any] = {}
    for key, value in document.items():
        upgraded[key] = 4 if key == "schema_version" else deals if key == "deals" else value
        if key == "deals":
            upgraded["deals_listed"] = DEALS_LISTED if every else NEEDING_ATTENTION
    return upgraded


def _flagged(deal: dict[str, Any]) -> dict[str, Any]:
    """A saved deal with `needs_attention`, before `at_risk` where the writer puts it."""
    attention = (deal.get("inflation") or 0) > 0 or any(
        finding["status"] == "missing" and finding["kind"] in _ATTENTION_KINDS
        for finding in deal["findings"]
    )
    flagged: dict[str, Any] = {}
    for key, value in deal.items():
        if key == "at_risk":
            flagged["needs_attention"] = attention
        flagged[key] = value
    flagged.setdefault("needs_attention", attention)
    return flagged


def _from_4(document: dict[str, Any]) -> dict[str, Any]:
    """Version 4 to 5: `findings_listed` after `deals_listed`. A document listing a met
    finding ran with --include-met, and so lists every finding."""
    listed = any(
        finding["status"] == "met" for deal in document["deals"] for finding in deal["findings"]
    )
    upgraded: dict[str, Any] = {}
    for key, value in document.items():
        upgraded[key] = 5 if key == "schema_version" else value
        if key == "deals_listed":
            upgraded["findings_listed"] = FINDINGS_ALL if listed else FINDINGS_NOT_MET
    return upgraded


_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _from_1,
    2: _from_2,
    3: _from_3,
    4: _from_4,
}


def _saved_version(document: dict[str, Any], shown: str) -> int:
    """The document's schema version; InputError when this dealgate cannot read it."""
    version = document.get("schema_version", 1)
    if type(version) is not int or version < 1:
        message = f"not an audit: schema_version: {json.dumps(version)} is not a version"
        raise InputError([Problem(Location(shown), message, HINT)])
    if version > SCHEMA_VERSION:
        message = (
            f"the audit was saved by a later dealgate (schema version {version}); "
            f"this one reads versions 1 to {SCHEMA_VERSION}"
        )
        hint = "upgrade dealgate, or save the audit again with this version"
        raise InputError([Problem(Location(shown), message, hint)])
    return version


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number an audit writes")


def _problems(
    error: ValidationError,
    shown: str,
    most: int = 10,
    prefix: tuple[str, ...] = (),
    offset: int = 0,
) -> list[Problem]:
    """One problem per wrong key, named by its path in the document (deals[3].findings[0]);
    `prefix`: where the validated part stands in it; `offset`: the place in the document of
    the first item of a validated list."""
    problems = []
    for detail in error.errors()[:most]:
        loc = detail["loc"]
        if offset and loc and isinstance(loc[0], int):
            loc = (loc[0] + offset, *loc[1:])
        path = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in (*prefix, *loc)
        )
        message = "missing" if detail["type"] == "missing" else detail["msg"]
        problems.append(
            Problem(Location(shown), f"not an audit: {path.lstrip('.')}: {message}", HINT)
        )
    return problems
