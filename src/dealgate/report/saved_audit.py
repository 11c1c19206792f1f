"""An audit's JSON document read back from a file: a --baseline, or `dealgate report`'s input.

The reports (HTML, XLSX, changes) read only this document, so a saved audit can be rendered or
compared later without the rule pack or the export.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from dealgate.errors import InputError, Location, Problem

HINT = "save it with `dealgate audit … --format json --output FILE`"


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
    claimed: list[Money]
    at_risk: list[Money]
    skipped_by_stage: dict[str, int] = {}
    overdue_steps: dict[str, int] = {}


class SkippedFigure(_Part):
    milestone_id: str
    milestone: str
    stage_id: str
    deals: int


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
    findings: list[Finding]
    overdue_steps: list[OverdueStep] = []


class SavedAudit(_Part):
    as_of: str
    pack: Pack
    summary: Summary
    deals: list[Deal]
    audited_stages: dict[str, str | None] | None = None


def load_audit(path: Path, role: str = "audit") -> dict[str, Any]:
    """A JSON audit read back; InputError (exit 2) when it is not one, naming where.

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
    try:
        SavedAudit.model_validate(document)
    except ValidationError as error:
        raise InputError(_problems(error, shown)) from None
    return document


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number an audit writes")


def _problems(error: ValidationError, shown: str, most: int = 10) -> list[Problem]:
    """One problem per wrong key, named by its path in the document (deals[3].findings[0])."""
    problems = []
    for detail in error.errors()[:most]:
        path = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in detail["loc"]
        )
        message = "missing" if detail["type"] == "missing" else detail["msg"]
        problems.append(
            Problem(Location(shown), f"not an audit: {path.lstrip('.')}: {message}", HINT)
        )
    return problems
