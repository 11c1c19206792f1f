"""Findings: small frozen values that reporters turn into text. No reporter evaluates rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DataIssue(StrEnum):
    """What was wrong with a value or row of an input file."""

    UNREADABLE = "unreadable"  # a date, amount, number or flag that cannot be read
    PLACEHOLDER = "placeholder"  # N/A, TBD, ... typed to get past a gate
    OUT_OF_RANGE = "out_of_range"  # e.g. a probability of 140
    UNKNOWN_STAGE = "unknown_stage"  # a stage the pack does not know
    DUPLICATE_ID = "duplicate_id"
    MISSING_ID = "missing_id"  # the row was rejected
    UNKNOWN_DEAL = "unknown_deal"  # e.g. a contact role for a deal not in the pipeline
    WRONG_SHAPE = "wrong_shape"  # a record that is not a mapping, a list that is not a list


# A data finding's issue as a sales-ops lead says it.
ISSUE_WORDS: dict[str, str] = {
    DataIssue.UNREADABLE: "unreadable value",
    DataIssue.PLACEHOLDER: "placeholder",
    DataIssue.OUT_OF_RANGE: "out of range",
    DataIssue.UNKNOWN_STAGE: "unknown stage",
    DataIssue.DUPLICATE_ID: "duplicated deal id",
    DataIssue.MISSING_ID: "no deal id",
    DataIssue.UNKNOWN_DEAL: "unknown deal",
    DataIssue.WRONG_SHAPE: "wrong shape",
}


@dataclass(frozen=True)
class DataFinding:
    """A problem with one value or row of an input, where it was found."""

    file: str
    row: int | None  # CSV line (header = 1), sheet row, JSONL line, or YAML line when known
    column: str | None  # the column header as in the file, or the field name
    deal_id: str | None
    message: str
    issue: DataIssue
    path: str | None = None  # JSON and YAML: e.g. deals[3].close_date

    @property
    def where(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.path:
            parts.append(self.path)
        elif self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "deal_id": self.deal_id,
            "message": self.message,
            "issue": self.issue.value,
            "path": self.path,
        }


class FindingKind(StrEnum):
    SKIPPED = "skipped"  # an exit milestone of a stage before the deal's stage
    TO_ADVANCE = "to-advance"  # an exit milestone of the deal's own stage
    HYGIENE = "hygiene"
    DATA = "data"
    WAIVER = "waiver"  # an expired waiver, or one that matches nothing


class Status(StrEnum):
    MET = "met"
    MISSING = "missing"
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"
    UNMEASURED = "unmeasured"  # the input supplies no field this depends on (coverage)


class Disposition(StrEnum):
    KEEP = "keep"
    RE_STAGE = "re-stage"
    RE_DATE = "re-date"

    def text(self, evidence_stage_id: str | None) -> str:
        """As reports write it: `keep`, `re-date`, or `re-stage to <evidence stage id>`."""
        if self is Disposition.RE_STAGE and evidence_stage_id:
            return f"{self.value} to {evidence_stage_id}"
        return self.value


@dataclass(frozen=True)
class Finding:
    """One milestone of one deal: its status, and the fields it read with their values."""

    deal_id: str
    milestone_id: str
    milestone: str  # the sign post, in words
    stage_id: str | None  # the stage it exits; None for hygiene and waiver findings
    kind: FindingKind
    status: Status
    severity: str
    read: tuple[tuple[str, object], ...]  # (field, value) in the order read
    guidance: str = ""
    evidence: str = ""
    note: str = ""  # e.g. the waiver that applied, or why a waiver finding was raised

    def as_json(self) -> dict[str, object]:
        return {
            "milestone_id": self.milestone_id,
            "milestone": self.milestone,
            "kind": self.kind.value,
            "status": self.status.value,
            "severity": self.severity,
            "stage_id": self.stage_id,
            "read": {name: json_value(value) for name, value in self.read},
            "guidance": self.guidance,
            "evidence": self.evidence,
            "note": self.note,
        }


def json_value(value: object) -> object:
    """A value as JSON carries it: dates as ISO text, amounts as numbers."""
    from datetime import date
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    return value
