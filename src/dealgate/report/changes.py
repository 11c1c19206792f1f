"""What changed since a previous audit: `dealgate audit … --baseline last-week.json`.

Both sides are audit JSON documents (report/audit_json.py), so a baseline is whatever a team
saved last week with `--format json`. Skipped, hygiene and to-advance findings are compared.

An audit saved before schema version 4 listed only the deals needing attention (its
`deals_listed` says so once upgraded, report/saved_audit.py): a deal it audited but did not
list had no skipped or hygiene finding missing, but its to-advance findings (the work ahead of
it) were not written down. Those are unknown, so they are neither new nor resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dealgate.errors import InputError, Location, Problem
from dealgate.report.saved_audit import DEALS_LISTED

if TYPE_CHECKING:
    from dealgate.report.saved_audit import AuditDocument

TRACKED_KINDS = frozenset({"skipped", "hygiene", "to-advance"})
# A deal's to-advance findings are known only where the document lists the deal, or lists all.
_UNLISTED_UNKNOWN = frozenset({"to-advance"})


@dataclass(frozen=True)
class FindingChange:
    """A skipped, hygiene or to-advance milestone that became missing, or stopped being
    missing."""

    deal_id: str
    deal_name: str | None
    owner: str | None
    manager: str | None
    milestone_id: str
    milestone: str
    kind: str
    severity: str
    # For a resolved finding: "no longer missing" (met, or its condition no longer applies),
    # "re-staged" (the deal went back before it), "closed", or "waived".
    how: str | None = None

    def as_json(self) -> dict[str, object]:
        shape: dict[str, object] = {
            "deal_id": self.deal_id,
            "deal_name": self.deal_name,
            "owner": self.owner,
            "manager": self.manager,
            "milestone_id": self.milestone_id,
            "milestone": self.milestone,
            "kind": self.kind,
            "severity": self.severity,
        }
        if self.how is not None:
            shape["how"] = self.how
        return shape


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


# --- comparing ---------------------------------------------------------------------------


def check_comparable(baseline: AuditDocument, pack_id: str, shown: str) -> None:
    """InputError (exit 2) when the baseline was audited with another pack: its milestones are
    not this audit's, so every figure of the comparison would mislead.

    The same pack changed since (another content hash) is compared all the same, with a note
    (pack_change): a team edits its pack between forecast calls, and wants to see the effect.
    """
    then_pack = baseline.pack_id
    if then_pack != pack_id:
        raise InputError(
            [
                Problem(
                    Location(shown),
                    f"the baseline was audited with pack {then_pack}, this audit uses {pack_id}",
                    "audit both with the same --rules, or audit without --baseline",
                )
            ]
        )


# What `compare` reads of a deal, and of its findings: only findings missing or waived tell
# anything (a finding met, not applicable or unmeasured is "no longer missing" either way).
_DEAL_KEYS = ("id", "name", "owner", "manager", "stage_id", "amount", "currency")
_FINDING_KEYS = ("milestone_id", "milestone", "kind", "status", "severity", "stage_id")
_TOLD_STATUSES = frozenset({"missing", "waived"})


def slim_deal(deal: dict[str, Any]) -> dict[str, Any]:
    """The part of a document's deal that `compare` reads: what changed since a baseline is
    the same from slim deals as from whole ones, for a fraction of the memory."""
    slim = {key: deal.get(key) for key in _DEAL_KEYS}
    slim["findings"] = [
        {key: finding.get(key) for key in _FINDING_KEYS}
        for finding in deal["findings"]
        if finding["status"] in _TOLD_STATUSES
    ]
    return slim


def load_baseline(path: Path) -> AuditDocument:
    """A saved audit to compare with, its deals slim (`slim_deal`), read one at a time; one
    saved by an earlier dealgate is read whole and upgraded. InputError as load_audit's."""
    from dealgate.report.saved_audit import load_audit, stream_audit

    slim: list[dict[str, Any]] = []
    saved = stream_audit(path, "baseline", lambda deal: slim.append(slim_deal(deal)))
    if saved is None:
        return load_audit(path, "baseline")
    saved.data["deals"] = slim
    return saved


def compare(baseline: dict[str, Any], current: dict[str, Any], baseline_file: str) -> Changes:
    """The changes from a baseline audit document to the current one, both of the same pack
    (check_comparable); the stage order is the current audit's pack's."""
    changes = Changes(baseline_file, baseline["as_of"], current["as_of"])
    stages = Stages(current["pack"].get("stages") or [])
    then_missing, now_missing = _missing(baseline), _missing(current)
    then_stages, now_stages = _stages(baseline), _stages(current)
    then_unknown, now_unknown = _unlisted(baseline), _unlisted(current)
    now_findings = {
        (deal["id"], finding["milestone_id"]): finding
        for deal in current["deals"]
        for finding in deal["findings"]
    }
    for key, change in now_missing.items():
        if change.kind in _UNLISTED_UNKNOWN and then_unknown(key[0]):
            continue
        if key not in then_missing or _advanced_without(then_missing[key], change):
            changes.new.append(change)
    for key, change in then_missing.items():
        if change.kind in _UNLISTED_UNKNOWN and now_unknown(key[0]):
            continue
        now = now_missing.get(key)
        # a skipped milestone that is to-advance now: the deal went back before it
        went_back = now is not None and change.kind != "to-advance" and now.kind == "to-advance"
        if (now is None or went_back) and key[0] in now_stages:
            how = _how_resolved(
                now_findings.get(key), then_stages.get(key[0]), now_stages[key[0]], stages
            )
            changes.resolved.append(replace(change, how=how))
    changes.deals_no_longer_audited = len(then_stages.keys() - now_stages.keys())
    if "audited_stages" in baseline:
        changes.deals_new_to_audit = len(now_stages.keys() - then_stages.keys())
    else:
        changes.notes.append(
            "the baseline lists only the deals that needed attention, so a deal's stage is "
            "known there only for those"
        )
    unknown = sum(1 for deal_id in now_stages if then_unknown(deal_id))
    if unknown:
        changes.notes.append(
            f"the baseline lists only the deals that needed attention: the to-advance findings "
            f"of {unknown:,} deals it did not list are not compared"
        )
    changes.moved_without_milestones = _moved(then_stages, now_stages, current, stages)
    summary_then, summary_now = baseline["summary"], current["summary"]
    changes.at_risk_then = list(summary_then["pipeline_at_risk"])
    changes.at_risk_now = list(summary_now["pipeline_at_risk"])
    changes.deals_at_risk_then = summary_then["deals_at_risk"]
    changes.deals_at_risk_now = summary_now["deals_at_risk"]
    if baseline["as_of"] > current["as_of"]:
        changes.notes.append("the baseline is dated after this audit")
    note = pack_change(baseline["pack"].get("hash"), current["pack"].get("hash"))
    if note:
        changes.notes.append(note)
    return changes


def pack_change(then_hash: str | None, now_hash: str | None) -> str | None:
    """A note when both audits recorded their pack's content hash and the two differ: some new
    or resolved findings may come from the edited rules, not from the deals. An audit saved
    before the hash existed (schema version 1) cannot tell, and gets no note."""
    if then_hash is None or now_hash is None or then_hash == now_hash:
        return None
    return (
        f"the pack changed since the baseline (hash {then_hash[:12]}… → {now_hash[:12]}…): "
        "findings new or resolved may come from the rules, not the deals"
    )


class Stages:
    """The pack's stages as the audit document lists them: their order, and which are open."""

    def __init__(self, listed: list[dict[str, Any]]) -> None:
        self.position = {stage["id"]: number for number, stage in enumerate(listed)}
        self.open = {stage["id"] for stage in listed if stage.get("open", True)}

    def moved_forward(self, before: str | None, now: str | None) -> bool:
        """From an open stage to a later open one (closing a deal is not a move)."""
        return (
            before in self.open
            and now in self.open
            and self.position[str(now)] > self.position[str(before)]
        )

    def moved_back(self, before: str | None, now: str | None) -> bool:
        return (
            before in self.position
            and now in self.position
            and self.position[str(now)] < self.position[str(before)]
        )


def _how_resolved(
    finding: dict[str, Any] | None, before: str | None, now: str | None, stages: Stages
) -> str:
    """Why a finding missing then is not missing now: the work was done, or something else."""
    if finding is not None and finding["status"] == "waived":
        return "waived"
    if now is not None and now in stages.position and now not in stages.open:
        return "closed"
    if stages.moved_back(before, now) or (finding is not None and finding["status"] == "missing"):
        return "re-staged"  # the milestone is ahead of the deal now, not behind it
    return "no longer missing"


def _missing(document: dict[str, Any]) -> dict[tuple[str, str], FindingChange]:
    """(deal id, milestone id) -> the skipped, hygiene or to-advance finding missing there."""
    missing = {}
    for deal in document["deals"]:
        for finding in deal["findings"]:
            if finding["status"] != "missing" or finding["kind"] not in TRACKED_KINDS:
                continue
            change = FindingChange(
                deal["id"],
                deal.get("name"),
                deal.get("owner"),
                deal.get("manager"),
                finding["milestone_id"],
                finding["milestone"],
                finding["kind"],
                finding["severity"],
            )
            missing[(change.deal_id, change.milestone_id)] = change
    return missing


def _advanced_without(then: FindingChange, now: FindingChange) -> bool:
    """Whether a milestone missing both times went from the work ahead of its deal (to-advance)
    to one it skipped: the deal advanced without it, a new skipped finding (one that fails the
    audit). The other way, the deal went back, and its skipped finding is resolved."""
    return then.kind == "to-advance" and now.kind != "to-advance"


def _unlisted(document: dict[str, Any]) -> Callable[[str], bool]:
    """Whether the document cannot tell a deal's to-advance findings: never when it lists every
    audited deal; else (saved before version 4) when it audited the deal but did not list it,
    or, without `audited_stages` (a version 1 audit before it), did not list it."""
    if document.get("deals_listed") == DEALS_LISTED:
        return lambda deal_id: False
    listed = {deal["id"] for deal in document["deals"]}
    audited = document.get("audited_stages")
    if audited is None:
        return lambda deal_id: deal_id not in listed
    return lambda deal_id: deal_id in audited and deal_id not in listed


def _stages(document: dict[str, Any]) -> dict[str, str | None]:
    """Deal id -> claimed stage id for every deal the audit covered (or listed, if older).

    A duplicated id whose rows claim different stages maps to None: which row moved is unknown.
    """
    stages: dict[str, str | None] = dict(document.get("audited_stages") or {})
    listed: dict[str, set[str | None]] = {}
    for deal in document["deals"]:
        listed.setdefault(deal["id"], set()).add(deal.get("stage_id"))
    for deal_id, claimed in listed.items():
        if len(claimed) > 1:
            stages[deal_id] = None
        else:
            stages.setdefault(deal_id, next(iter(claimed)))
    return stages


def _moved(
    then_stages: dict[str, str | None],
    now_stages: dict[str, str | None],
    current: dict[str, Any],
    stages: Stages,
) -> list[StageMove]:
    """Deals now at a later open stage than in the baseline, missing exit milestones of the
    stage they were at or of a stage they passed."""
    moves = []
    for deal in current["deals"]:
        before, now = then_stages.get(deal["id"]), now_stages.get(deal["id"])
        if before is None or now is None or not stages.moved_forward(before, now):
            continue
        skipped = tuple(
            finding["milestone_id"]
            for finding in deal["findings"]
            if finding["kind"] == "skipped"
            and finding["status"] == "missing"
            and stages.position.get(finding.get("stage_id"), -1) >= stages.position[before]
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
