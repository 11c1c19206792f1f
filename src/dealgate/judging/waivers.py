"""Waivers: an approved, dated exception that turns a missing finding into `waived`.

A waiver applies up to and including its expiry date. An expired waiver leaves the finding
missing and adds a `waiver` finding; a waiver that matches no missing finding adds one too,
so stale waivers are noticed and cleaned up.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from dealgate.deals.normalise import deal_key
from dealgate.errors import InputError, Location
from dealgate.findings import Finding, FindingKind, Status
from dealgate.rules.loader import schema_problems
from dealgate.yamlsafe import read_yaml_file


class WaiverSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    deal: Annotated[str, Field(min_length=1, description="Deal id, or a glob such as 006*.")]
    milestone: Annotated[str, Field(min_length=1)]
    # A reason of spaces is no reason: stripped, it must still say something.
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    approved_by: str | None = None
    expires: date


class WaiverFileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    waivers: list[WaiverSpec]


@dataclass(frozen=True)
class Waiver:
    deal: str
    milestone: str
    reason: str
    approved_by: str | None
    expires: date
    location: Location

    def matches(self, deal_id: str, milestone_id: str) -> bool:
        """A glob matches the id as written; a plain id also matches its other Salesforce form."""
        if milestone_id != self.milestone:
            return False
        if any(char in self.deal for char in "*?["):
            return fnmatch.fnmatchcase(deal_id, self.deal)
        return deal_key(deal_id) == deal_key(self.deal)

    def describe(self) -> str:
        by = f", approved by {self.approved_by}" if self.approved_by else ""
        return f"waived until {self.expires.isoformat()}: {self.reason}{by}"


def load_waivers(path: Path) -> list[Waiver]:
    """Read a waivers file (YAML, `waivers:` list); problems are reported with positions."""
    document = read_yaml_file(path)
    try:
        spec = WaiverFileSpec.model_validate(document.value)
    except ValidationError as error:
        raise InputError(schema_problems(error, document, WaiverFileSpec, "waivers")) from None
    return [
        Waiver(
            item.deal,
            item.milestone,
            item.reason,
            item.approved_by,
            item.expires,
            document.location(("waivers", index)),
        )
        for index, item in enumerate(spec.waivers)
    ]


# A waiver is an exception for a deal. One that waives a milestone on more than this share of
# the audited deals (and on more than BROAD_DEALS of them) changes the rule for everyone, which
# belongs in the pack: the audit says so.
BROAD_SHARE = 0.10
BROAD_DEALS = 5


@dataclass
class WaiverBook:
    """Applies waivers to findings and remembers which ones were used, and on which deals."""

    waivers: list[Waiver]
    as_of: date
    used: set[int] | None = None
    waived_deals: dict[int, set[str]] | None = None  # waiver index -> deals it waived

    def __post_init__(self) -> None:
        self.used = set()
        self.waived_deals = {}

    def apply(self, findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
        """Findings with waivers applied, plus a waiver finding for each expired waiver."""
        result: list[Finding] = []
        extra: list[Finding] = []
        for finding in findings:
            if finding.status is not Status.MISSING:
                result.append(finding)
                continue
            index, waiver = self._match(finding)
            if waiver is None:
                result.append(finding)
                continue
            if waiver.expires >= self.as_of:
                assert self.waived_deals is not None
                self.waived_deals.setdefault(index, set()).add(finding.deal_id)
                result.append(replace(finding, status=Status.WAIVED, note=waiver.describe()))
            else:
                result.append(finding)
                extra.append(self._expired(finding, waiver))
        return tuple(result + extra)

    def _match(self, finding: Finding) -> tuple[int, Waiver | None]:
        """The waiver that applies: one still valid if any matches, else an expired one.

        Every matching waiver counts as used, so a renewed waiver's expired predecessor is
        not reported as matching nothing.
        """
        matching = [
            (index, waiver)
            for index, waiver in enumerate(self.waivers)
            if waiver.matches(finding.deal_id, finding.milestone_id)
        ]
        if not matching:
            return -1, None
        assert self.used is not None
        self.used.update(index for index, _ in matching)
        valid = [pair for pair in matching if pair[1].expires >= self.as_of]
        return (valid or matching)[0]

    def _expired(self, finding: Finding, waiver: Waiver) -> Finding:
        return Finding(
            deal_id=finding.deal_id,
            milestone_id=finding.milestone_id,
            milestone=finding.milestone,
            stage_id=finding.stage_id,
            kind=FindingKind.WAIVER,
            status=Status.MISSING,
            severity="recommended",
            read=(),
            note=f"waiver expired on {waiver.expires.isoformat()} ({waiver.location}): "
            f"{waiver.reason}",
        )

    def unmatched(self) -> list[Finding]:
        """A waiver finding for every waiver that matched no missing finding."""
        assert self.used is not None
        return [
            _about(
                waiver,
                f"waiver at {waiver.location} matches no missing finding: the milestone is "
                "met, or no such deal was audited; remove it",
            )
            for index, waiver in enumerate(self.waivers)
            if index not in self.used
        ]

    def too_broad(self, audited: int) -> list[Finding]:
        """A waiver finding for every waiver that waived its milestone on more than BROAD_SHARE
        of the `audited` deals: a rule changed for everyone without a word."""
        assert self.waived_deals is not None
        return [
            _about(
                self.waivers[index],
                f"waiver at {self.waivers[index].location} waives "
                f"{self.waivers[index].milestone} on {len(deals):,} of {audited:,} audited "
                f"deals ({len(deals) / audited:.0%}): a waiver is an exception for a deal; to "
                "change the rule for everyone, remove or override the milestone in the team's "
                "pack",
            )
            for index, deals in sorted(self.waived_deals.items())
            if len(deals) > BROAD_DEALS and len(deals) > BROAD_SHARE * audited
        ]


def _about(waiver: Waiver, note: str) -> Finding:
    """A finding about a waiver itself (not about a deal's milestone)."""
    return Finding(
        deal_id=waiver.deal,
        milestone_id=waiver.milestone,
        milestone="",
        stage_id=None,
        kind=FindingKind.WAIVER,
        status=Status.MISSING,
        severity="recommended",
        read=(),
        note=note,
    )
