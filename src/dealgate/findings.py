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
