"""What changed since a previous audit: `dealgate audit … --baseline last-week.json`.

Both sides are audit JSON documents (report/audit_json.py), so a baseline is whatever a team
saved last week with `--format json`. Only skipped and hygiene findings are compared: those are
listed for every deal that has one, while a deal's to-advance findings (the work ahead of it)
are listed only when the deal is an exception for another reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dealgate.errors import InputError, Location, Problem
from dealgate.rules.model import RulePack

TRACKED_KINDS = frozenset({"skipped", "hygiene"})


@dataclass(frozen=True)
class FindingChange:
    """A skipped or hygiene milestone that became missing, or stopped being missing."""

    deal_id: str
    deal_name: str | None
    owner: str | None
    manager: str | None
    milestone_id: str
    milestone: str
    kind: str
    severity: str

    def as_json(self) -> dict[str, object]:
        return {
            "deal_id": self.deal_id,
            "deal_name": self.deal_name,
            "owner": self.owner,
            "manager": self.manager,
            "milestone_id": self.milestone_id,
            "milestone": self.milestone,
            "kind": self.kind,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class StageMove:
    """A deal that moved to a later stage without the exit milestones of the stages it left."""

    deal_id: str
    deal_name: str | None
    owner: str | None
    manager: str | None
    from_stage: str
    to_stage: str
    amount: object
    currency: str | None
    skipped: tuple[str, ...]  # milestone ids

    def as_json(self) -> dict[str, object]:
        return {
            "deal_id": self.deal_id,
            "deal_name": self.deal_name,
            "owner": self.owner,
            "manager": self.manager,
            "from_stage": self.from_stage,
            "to_stage": self.to_stage,
            "amount": self.amount,
            "currency": self.currency,
            "skipped": list(self.skipped),
        }


@dataclass
class Changes:
    baseline_file: str
    baseline_as_of: str
    as_of: str
    new: list[FindingChange] = field(default_factory=list)
    resolved: list[FindingChange] = field(default_factory=list)
    moved_without_milestones: list[StageMove] = field(default_factory=list)
    deals_no_longer_audited: int = 0
    deals_new_to_audit: int = 0
    at_risk_then: list[Any] = field(default_factory=list)  # [{currency, amount}]
    at_risk_now: list[Any] = field(default_factory=list)
    deals_at_risk_then: int = 0
    deals_at_risk_now: int = 0
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "baseline": {"file": self.baseline_file, "as_of": self.baseline_as_of},
            "as_of": self.as_of,
            "new_findings": [change.as_json() for change in self.new],
            "resolved_findings": [change.as_json() for change in self.resolved],
            "moved_without_milestones": [move.as_json() for move in self.moved_without_milestones],
            "deals_no_longer_audited": self.deals_no_longer_audited,
            "deals_new_to_audit": self.deals_new_to_audit,
            "value_at_risk": {"then": self.at_risk_then, "now": self.at_risk_now},
            "deals_at_risk": {"then": self.deals_at_risk_then, "now": self.deals_at_risk_now},
            "notes": self.notes,
        }


# --- reading a baseline ------------------------------------------------------------------


def load_baseline(path: Path) -> dict[str, Any]:
    """A previous JSON audit; InputError (exit 2) when it is not one, naming where."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(Location(shown), "baseline file not found")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError([Problem(Location(shown), f"cannot read the baseline: {error}")]) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        where = Location(shown, error.lineno, error.colno)
        raise InputError([Problem(where, f"not JSON: {error.msg}")]) from None
    problems = _shape_problems(document, shown)
    if problems:
        raise InputError(problems)
    assert isinstance(document, dict)
    return document


def _shape_problems(document: object, shown: str) -> list[Problem]:
    hint = "save the baseline with `dealgate audit … --format json --output FILE`"
    where = Location(shown, 1)
    if not isinstance(document, dict):
        return [Problem(where, "not an audit: the JSON is not an object", hint)]
    problems = [
        Problem(where, f"not an audit: no {key!r} key", hint)
        for key in ("as_of", "summary", "deals")
        if key not in document
    ]
    if problems:
        return problems
    if not isinstance(document["deals"], list):
        return [Problem(where, "'deals' is not a list", hint)]
    for number, deal in enumerate(document["deals"]):
        if (
            not isinstance(deal, dict)
            or not isinstance(deal.get("id"), str)
            or not isinstance(deal.get("findings"), list)
        ):
            return [Problem(where, f"deals[{number}] is not a deal with an id and findings", hint)]
    return []


# --- comparing ---------------------------------------------------------------------------


def compare(
    baseline: dict[str, Any], current: dict[str, Any], pack: RulePack, baseline_file: str
) -> Changes:
    """The changes from a baseline audit document to the current one."""
    changes = Changes(baseline_file, str(baseline.get("as_of")), str(current.get("as_of")))
    then_missing = _missing(baseline)
    now_missing = _missing(current)
    then_stages = _stages(baseline)
    now_stages = _stages(current)
    for key, change in now_missing.items():
        if key not in then_missing:
            changes.new.append(change)
    for key, change in then_missing.items():
        if key not in now_missing and key[0] in now_stages:
            changes.resolved.append(change)
    changes.deals_no_longer_audited = len(then_stages.keys() - now_stages.keys())
    if "audited_stages" in baseline:
        changes.deals_new_to_audit = len(now_stages.keys() - then_stages.keys())
    else:
        changes.notes.append(
            "the baseline lists only the deals that needed attention, so a deal's stage is "
            "known there only for those"
        )
    changes.moved_without_milestones = _moved(pack, then_stages, current)
    summary_then, summary_now = baseline.get("summary") or {}, current["summary"]
    changes.at_risk_then = list(summary_then.get("pipeline_at_risk") or [])
    changes.at_risk_now = list(summary_now.get("pipeline_at_risk") or [])
    changes.deals_at_risk_then = int(summary_then.get("deals_at_risk") or 0)
    changes.deals_at_risk_now = int(summary_now.get("deals_at_risk") or 0)
    then_pack = (baseline.get("pack") or {}).get("id")
    if then_pack and then_pack != pack.id:
        changes.notes.append(f"the baseline was audited with pack {then_pack}, this with {pack.id}")
    if str(baseline.get("as_of")) > str(current.get("as_of")):
        changes.notes.append("the baseline is dated after this audit")
    return changes


def _missing(document: dict[str, Any]) -> dict[tuple[str, str], FindingChange]:
    """(deal id, milestone id) -> the skipped or hygiene finding missing there."""
    missing = {}
    for deal in document["deals"]:
        for finding in deal["findings"]:
            if finding.get("status") != "missing" or finding.get("kind") not in TRACKED_KINDS:
                continue
            change = FindingChange(
                deal["id"],
                deal.get("name"),
                deal.get("owner"),
                deal.get("manager"),
                str(finding.get("milestone_id")),
                str(finding.get("milestone")),
                str(finding.get("kind")),
                str(finding.get("severity")),
            )
            missing[(change.deal_id, change.milestone_id)] = change
    return missing


def _stages(document: dict[str, Any]) -> dict[str, str | None]:
    """Deal id -> claimed stage id for every deal the audit covered (or listed, if older)."""
    stages: dict[str, str | None] = dict(document.get("audited_stages") or {})
    for deal in document["deals"]:
        stages.setdefault(deal["id"], deal.get("stage_id"))
    return stages


def _moved(
    pack: RulePack, then_stages: dict[str, str | None], current: dict[str, Any]
) -> list[StageMove]:
    """Deals now at a later stage than in the baseline, missing exits of the stages they left."""
    position = {stage.id: stage.position for stage in pack.stages}
    moves = []
    for deal in current["deals"]:
        before, now = then_stages.get(deal["id"]), deal.get("stage_id")
        if before not in position or now not in position or position[now] <= position[before]:
            continue
        skipped = tuple(
            finding["milestone_id"]
            for finding in deal["findings"]
            if finding.get("kind") == "skipped"
            and finding.get("status") == "missing"
            and position.get(finding.get("stage_id"), -1) >= position[before]
        )
        if skipped:
            moves.append(
                StageMove(
                    deal["id"],
                    deal.get("name"),
                    deal.get("owner"),
                    deal.get("manager"),
                    before,
                    now,
                    deal.get("amount"),
                    deal.get("currency"),
                    skipped,
                )
            )
    return moves
