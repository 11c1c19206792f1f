"""The CSV report's layouts: which rows and columns, and how a cell is kept from running.

Shared by the Python writer (report/audit_csv.py) and the columnar one (columnar/audit.py);
imports nothing heavy, so the command line can offer the choice without loading either.

Text that a spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage
return) is written with a leading apostrophe, so a deal name can never execute: the rule is
`safe_text` of report/cell_writing.py, written once for both writers.
"""

from __future__ import annotations

from enum import StrEnum


class CsvRows(StrEnum):
    DEAL = "deal"
    FINDING = "finding"


DEAL_PART = [
    "deal_id",
    "deal_name",
    "owner",
    "manager",
    "stage",
    "stage_id",
    "evidence_stage",
    "inflation",
    "amount",
    "currency",
    "close_date",
    "disposition",
]
# One row per deal: the ids of its missing milestones of each kind, and of its waived ones.
DEAL_COLUMNS = [*DEAL_PART, "skipped", "hygiene", "to_advance", "waived"]
# One row per finding.
FINDING_COLUMNS = [
    *DEAL_PART,
    "milestone_id",
    "milestone",
    "kind",
    "status",
    "severity",
    "read",
    "guidance",
]
ID_SEPARATOR = "; "  # between the milestone ids of one kind in a row per deal
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
