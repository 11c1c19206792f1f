"""Stage history from a side file: Salesforce's OpportunityHistory export (`--stage-history`).

Salesforce writes an OpportunityHistory row each time a deal's stage, amount, probability,
close date or forecast category is saved, holding the then-current value of every one of them
and the moment of the save (CreatedDate). A deal's stage history is therefore its rows in date
order with the rows that repeat the stage before left out: those are amount or close date edits.

The file is the complete log of stage changes, so it replaces whatever stage history the export
itself holds (HubSpot's "Date entered" columns, a stage_history column).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dealgate.deals.deal_lists import STAGE_CHANGES
from dealgate.deals.model import StageChange
from dealgate.deals.normalise import DateOrder, Unreadable, clean_text, deal_key, parse_date
from dealgate.deals.profiles import header_key
from dealgate.deals.readers import open_table
from dealgate.errors import InputError, Location, Problem
from dealgate.findings import DataFinding, DataIssue

# Header keys each column is found by: the object's API names (Data Loader, Data Export), the
# labels of the "Opportunity History" report type, and snake_case. First match wins. Never
# `Id`: in OpportunityHistory that is the history row's own id, not the deal's.
HISTORY_COLUMNS: dict[str, tuple[str, ...]] = {
    "deal": (
        "opportunityid",
        "opportunity id",
        "opportunity: opportunity id",
        "opportunity.id",
        "opportunity_id",
        "deal id",
        "deal_id",
    ),
    "stage": ("stagename", "stage name", "stage", "to stage", "stage_name"),
    "entered_on": (
        "createddate",
        "created date",
        "edit date",
        "last modified",
        "created_date",
        "changed on",
    ),
}
# What each column is called in the messages: the object's API name, then report labels.
_NAMES = {
    "deal": "OpportunityId (a report's Opportunity ID)",
    "stage": "StageName (a report's Stage or To Stage)",
    "entered_on": "CreatedDate (a report's Created Date, Edit Date or Last Modified)",
}


@dataclass(frozen=True)
class _Row:
    """One readable row: a deal was saved in `stage` on `on`."""

    on: date
    stage: str
    row: int | None
    written_id: str


@dataclass(frozen=True)
class HistoryTally:
    """Every row of the file, accounted for: rows read = stage changes + repeats + rows for
    deals not in the export + rows left out (no id, no stage, or a date that cannot be read)."""

    rows_read: int
    changes: int  # rows that start a stage, for deals in the export
    repeats: int  # rows that repeat the stage before (amount or close date edits)
    unknown_deal: int  # rows for deals the export does not hold
    left_out: int
    deals: int  # deals of the export with at least one change

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.changes + self.repeats + self.unknown_deal + self.left_out

    def describe(self, file: str, *, replaces: bool) -> str:
        """The tally as a note, said once per audit; `replaces` when the export has stage
        history of its own, which the file's replaces."""
        replaced = "; it replaces the export's own stage history" if replaces else ""
        return (
            f"stage history of {file}: {self.rows_read:,} rows read = {self.changes:,} stage "
            f"changes of {self.deals:,} deals + {self.repeats:,} repeating the stage before "
            f"(amount or date edits) + {self.unknown_deal:,} for deals not in the export + "
            f"{self.left_out:,} left out (no id, stage or readable date){replaced}"
        )


@dataclass
class StageHistory:
    """Stage changes read from a side file, by deal key, and where each row came from."""

    file: str
    column: str  # the opportunity id column
    rows_read: int = 0
    left_out: int = 0
    rows: dict[str, list[_Row]] = field(default_factory=dict)
    by_deal: dict[str, list[StageChange]] = field(default_factory=dict)  # from finish()
    findings: list[DataFinding] = field(default_factory=list)

    def leave_out(self, finding: DataFinding) -> None:
        """A row that is no stage change, and why."""
        self.findings.append(finding)
        self.left_out += 1

    def finish(self) -> None:
        """Each deal's changes: by date (ties in file order), repeated stages collapsed."""
        self.by_deal = {key: _changes(rows) for key, rows in self.rows.items()}

    def account(self, seen: Iterable[str], export: str) -> HistoryTally:
        """The tally once every deal is read, and a finding for each deal not in the export
        (`seen`: the deal keys read)."""
        known = set(seen)
        changes = repeats = unknown = deals = 0
        for key, rows in self.rows.items():
            if key in known:
                deals += 1
                changes += len(self.by_deal[key])
                repeats += len(rows) - len(self.by_deal[key])
                continue
            unknown += len(rows)
            first = min(rows, key=lambda row: row.row or 0)
            lines = ", ".join(str(row.row) for row in rows if row.row is not None)
            self.findings.append(
                DataFinding(
                    self.file,
                    first.row,
                    self.column,
                    first.written_id,
                    f"stage history for deal '{first.written_id}', which is not in {export}"
                    + (f" (lines {lines})" if len(rows) > 1 and lines else ""),
                    DataIssue.UNKNOWN_DEAL,
                )
            )
        return HistoryTally(self.rows_read, changes, repeats, unknown, self.left_out, deals)


def _changes(rows: list[_Row]) -> list[StageChange]:
    return stage_changes((row.on, row.stage) for row in rows)


def stage_changes(saves: Iterable[tuple[date, str]]) -> list[StageChange]:
    """A deal's OpportunityHistory saves (day, stage) by date, keeping only those whose stage
    differs from the save before: the first save of a run is the day the deal entered that
    stage (`deal_lists.STAGE_CHANGES`). The export's rows and the live API's both go through
    here. Stages match case- and space-blind, as the pack's do."""
    return STAGE_CHANGES.assemble(
        (on, header_key(written), StageChange(stage=written, entered_on=on))
        for on, written in saves
    )


def read_stage_history(path: Path, date_order: DateOrder) -> StageHistory:
    """The stage changes of an OpportunityHistory export by deal key.

    Raises InputError (exit 2) when the file lacks an opportunity id, stage or date column.
    """
    table = open_table(path)
    columns = history_columns(path, table.headers)
    history = StageHistory(str(path), columns["deal"])
    for record in table.records:
        history.rows_read += 1
        row, values, where = record.row, record.values, record.path
        deal_id = clean_text(values.get(columns["deal"]))
        stage = clean_text(values.get(columns["stage"]))
        written_on = clean_text(values.get(columns["entered_on"]))
        if deal_id is None or stage is None or written_on is None:
            column, message, issue = _why_left_out(deal_id, stage, columns)
            history.leave_out(DataFinding(str(path), row, column, deal_id, message, issue, where))
            continue
        try:
            on = parse_date(written_on, date_order)
        except Unreadable as problem:
            message = f"{problem.message}: this change is left out of the deal's stage history"
            history.leave_out(
                DataFinding(
                    str(path), row, columns["entered_on"], deal_id, message, problem.issue, where
                )
            )
            continue
        history.rows.setdefault(deal_key(deal_id), []).append(_Row(on, stage, row, deal_id))
    history.finish()
    return history


def _why_left_out(
    deal_id: str | None, stage: str | None, columns: Mapping[str, str]
) -> tuple[str, str, DataIssue]:
    """Why a row without an id, a stage or a date is not a stage change: its column, the
    message, the issue."""
    if deal_id is None:
        return (
            columns["deal"],
            "stage change without an opportunity id; left out",
            DataIssue.MISSING_ID,
        )
    if stage is None:
        return columns["stage"], "stage change without a stage; left out", DataIssue.UNREADABLE
    return columns["entered_on"], "stage change without a date; left out", DataIssue.UNREADABLE


def history_columns(path: Path, headers: list[str]) -> dict[str, str]:
    """The header of each column the file needs; InputError naming what it has when one
    is missing."""
    keys = {header_key(header): header for header in headers}
    found: dict[str, str] = {}
    problems: list[Problem] = []
    for name, aliases in HISTORY_COLUMNS.items():
        header = next((keys[alias] for alias in aliases if alias in keys), None)
        if header is not None:
            found[name] = header
            continue
        close = _closest(aliases, keys)
        problems.append(
            Problem(
                Location(str(path), 1),
                f"a stage history file needs a column {_NAMES[name]}; its columns: "
                f"{', '.join(headers) or 'none'}",
                close
                or "export Salesforce's OpportunityHistory with OpportunityId, StageName and "
                "CreatedDate, as docs/crm-mapping.md shows",
            )
        )
    if problems:
        raise InputError(problems)
    return found


def _closest(aliases: tuple[str, ...], keys: Mapping[str, str]) -> str:
    """'did you mean' the header (as written) closest to one of the names a column goes by."""
    for alias in aliases:
        close = difflib.get_close_matches(alias, list(keys), n=1, cutoff=0.75)
        if close:
            return f"did you mean '{keys[close[0]]}'?"
    return ""
