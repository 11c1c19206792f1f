"""Win/loss review data: a table of closed deals, one qualification answer per column, read
through a mapping file that says which answers count as met, missing or unknown.

```yaml
outcome: {column: Status, won: [Won], lost: [Lost]}
id: {column: ID}                 # optional: without it, deals are named by their row
milestones:
  budget-allocated: {column: Budgt_alloc, name: Budget allocated, met: [Yes], missing: [No],
                     unknown: [Unknown]}
```

Answers are compared as the outcome and stage names are, ignoring case and surrounding spaces,
and as written in the mapping: `Yes` stays the text "Yes" although YAML would read it as true.
A blank cell is unknown (not recorded). An answer the mapping lists nowhere is a data finding and
counts as unknown, never as missing. Rows whose outcome is neither won nor lost are left out and
counted; listed answers that no row holds are reported, since a slip there silently reads nothing.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dealgate.calibration.statistics import Measure, Observation
from dealgate.deals.profiles import header_key
from dealgate.deals.readers import RawRecord, open_table
from dealgate.errors import InputError, Location, Problem, did_you_mean
from dealgate.findings import DataFinding, DataIssue
from dealgate.rules.loader import schema_problems
from dealgate.rules.spec import MILESTONE_ID
from dealgate.yamlsafe import YamlDocument, YamlPath, read_yaml_file

Answers = Annotated[list[str], Field(description="Values of the column, as the table holds them.")]


class OutcomeSpec(BaseModel):
    """The column holding each deal's outcome, and which of its values are a win or a loss."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    column: str
    won: Annotated[list[str], Field(min_length=1)]
    lost: Annotated[list[str], Field(min_length=1)]


class IdSpec(BaseModel):
    """The column naming each deal."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    column: str


class MilestoneSpec(BaseModel):
    """One qualification attribute read as a milestone."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    column: str
    name: str | None = None
    met: Annotated[list[str], Field(min_length=1)]
    missing: Answers = []
    unknown: Answers = []


class ReviewMappingSpec(BaseModel):
    """The keys of a review mapping file."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    outcome: OutcomeSpec
    id: IdSpec | None = None
    milestones: Annotated[
        dict[Annotated[str, Field(pattern=MILESTONE_ID)], MilestoneSpec], Field(min_length=1)
    ]


@dataclass(frozen=True)
class ReviewMilestone:
    """A milestone of the review: its id, its name in words and the column it is read from."""

    id: str
    name: str
    column: str


@dataclass(frozen=True)
class UnusedAnswer:
    """A value the mapping lists that no row of the table holds."""

    location: Location  # where the mapping lists it
    column: str
    listed_as: str  # met, missing, unknown, won or lost
    value: str

    def __str__(self) -> str:
        return (
            f"{self.location}: '{self.value}' (listed as {self.listed_as}) "
            f"is in no row of column '{self.column}'"
        )


@dataclass(frozen=True)
class ReviewData:
    """Closed deals of a win/loss review as observations on milestones, with what was wrong."""

    table: str
    milestones: tuple[ReviewMilestone, ...]
    observations: tuple[Observation, ...]
    problems: tuple[DataFinding, ...]  # answers listed nowhere, damaged rows, duplicate ids
    deals: int  # rows read as a won or lost deal
    won: int
    excluded: tuple[tuple[str, int], ...]  # outcome value -> rows neither won nor lost
    unused: tuple[UnusedAnswer, ...]
    table_notes: tuple[str, ...] = ()  # the reader's, e.g. rows read as cp1252

    @property
    def milestone_ids(self) -> list[str]:
        return [milestone.id for milestone in self.milestones]

    @property
    def notes(self) -> list[str]:
        """What a reader should know about the rows read, in sentences."""
        notes = list(self.table_notes)
        if self.excluded:
            rows = sum(rows for _, rows in self.excluded)
            values = ", ".join(
                f"'{value}' {rows}" if value.strip() else f"blank {rows}"
                for value, rows in self.excluded
            )
            notes.append(
                f"{rows} row(s) of {self.table} left out: their outcome is neither won nor "
                f"lost ({values})"
            )
        notes += [str(unused) for unused in self.unused]
        return notes


@dataclass(frozen=True)
class _Column:
    """A column the mapping reads: as the table spells it, and its answers by folded value."""

    header: str
    answers: Mapping[str, str]  # folded value -> met | missing | unknown | won | lost
    listed: Mapping[str, tuple[str, YamlPath]]  # folded value -> (as written, where)


def read_review(table: Path, mapping: Path) -> ReviewData:
    """Read a win/loss review table through its mapping file; an unusable mapping (a column the
    table lacks, a value listed twice) is an InputError naming the line of the mapping."""
    document = read_yaml_file(mapping)
    lines = mapping.read_text("utf-8-sig").splitlines()
    document.value = _as_written(document, lines, document.value, ())
    try:
        spec = ReviewMappingSpec.model_validate(document.value)
    except ValidationError as error:
        raise InputError(schema_problems(error, document, ReviewMappingSpec, "mapping")) from None
    opened = open_table(table)
    outcome, id_column, milestones = _columns(spec, document, opened.headers, opened.file)
    reading = _Reading(opened.file, outcome, id_column, milestones)
    for record in opened.records:
        reading.add(record)
    return reading.result(document, spec, opened.notes)


def _as_written(document: YamlDocument, lines: list[str], value: Any, path: YamlPath) -> Any:
    """Every plain value as its text in the file: YAML reads `Yes` as true and `01` as 1, but a
    table's answers are text."""
    if isinstance(value, dict):
        return {
            key: _as_written(document, lines, item, (*path, key)) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_as_written(document, lines, item, (*path, n)) for n, item in enumerate(value)]
    if isinstance(value, bool | int | float | Decimal | date | datetime):
        info = document.values.get(path)
        if info is not None and len(info.segments) == 1:
            segment = info.segments[0]
            line = lines[segment.line - 1] if segment.line <= len(lines) else ""
            return line[segment.column - 1 : segment.column - 1 + segment.length]
        return str(value)
    return value


def _columns(
    spec: ReviewMappingSpec, document: YamlDocument, headers: Sequence[str], table: str
) -> tuple[_Column, _Column | None, dict[str, _Column]]:
    """Each column the mapping reads, found among the table's headers; every column it lacks and
    every value listed twice is a problem."""
    problems: list[Problem] = []
    by_key = {header_key(header): header for header in headers}

    def column(name: str, where: YamlPath, groups: dict[str, list[str]]) -> _Column:
        header = by_key.get(header_key(name))
        if header is None:
            hint = did_you_mean(name, headers) or "its columns: " + ", ".join(headers[:12])
            problems.append(
                Problem(
                    document.location((*where, "column")),
                    f"column '{name}' is not in {table}",
                    hint,
                )
            )
        answers: dict[str, str] = {}
        listed: dict[str, tuple[str, YamlPath]] = {}
        for group, values in groups.items():
            for n, value in enumerate(values):
                key = header_key(value)
                at = (*where, group, n)
                if key in answers:
                    problems.append(
                        Problem(
                            document.location(at),
                            f"'{value}' is listed as {answers[key]} and as {group}",
                            "list each value once",
                        )
                    )
                    continue
                answers[key] = group
                listed[key] = (value, at)
        return _Column(header or name, answers, listed)

    outcome = column(
        spec.outcome.column, ("outcome",), {"won": spec.outcome.won, "lost": spec.outcome.lost}
    )
    id_column = column(spec.id.column, ("id",), {}) if spec.id else None
    milestones = {
        milestone_id: column(
            entry.column,
            ("milestones", milestone_id),
            {"met": entry.met, "missing": entry.missing, "unknown": entry.unknown},
        )
        for milestone_id, entry in spec.milestones.items()
    }
    if problems:
        raise InputError(problems)
    return outcome, id_column, milestones


class _Reading:
    """The rows of a review table read one by one into observations and data findings."""

    def __init__(
        self,
        table: str,
        outcome: _Column,
        id_column: _Column | None,
        milestones: dict[str, _Column],
    ) -> None:
        self.table = table
        self.outcome = outcome
        self.id_column = id_column
        self.milestones = milestones
        self.observations: list[Observation] = []
        self.problems: list[DataFinding] = []
        self.excluded: collections.Counter[str] = collections.Counter()
        self.seen: dict[str, set[str]] = collections.defaultdict(set)  # header -> folded values
        self.deal_ids: set[str] = set()
        self.won = 0

    def add(self, record: RawRecord) -> None:
        """One row: a won or lost deal's answers, or a row left out and counted."""
        if record.note:
            self._finding(record, None, None, record.note, DataIssue.WRONG_SHAPE)
        for header, message in record.cell_notes:
            self._finding(record, header, None, message, DataIssue.UNREADABLE)
        if not record.values:
            return
        outcome = _text(record.values.get(self.outcome.header))
        self.seen[self.outcome.header].add(header_key(outcome))
        result = self.outcome.answers.get(header_key(outcome))
        if result is None:
            self.excluded[outcome] += 1
            return
        deal_id = self._deal_id(record)
        if deal_id is None:
            return
        won = result == "won"
        self.won += won
        for milestone_id, column in self.milestones.items():
            measure = self._measure(record, deal_id, column)
            self.observations.append(Observation(deal_id, milestone_id, measure, won))

    def _deal_id(self, record: RawRecord) -> str | None:
        """The deal's id, or its row when the table has none; None for a repeated id."""
        row = f"row {record.row}" if record.row is not None else f"record {record.path}"
        if self.id_column is None:
            self.deal_ids.add(row)
            return row
        deal_id = _text(record.values.get(self.id_column.header)).strip()
        if not deal_id:
            self._finding(
                record,
                self.id_column.header,
                None,
                f"no deal id; named {row}",
                DataIssue.MISSING_ID,
            )
            deal_id = row
        if deal_id in self.deal_ids:
            message = f"deal id '{deal_id}' repeats an earlier row; this row is left out"
            self._finding(record, self.id_column.header, deal_id, message, DataIssue.DUPLICATE_ID)
            return None
        self.deal_ids.add(deal_id)
        return deal_id

    def _measure(self, record: RawRecord, deal_id: str, column: _Column) -> Measure:
        answer = _text(record.values.get(column.header))
        key = header_key(answer)
        self.seen[column.header].add(key)
        group = column.answers.get(key)
        if group is not None:
            return Measure(group)
        if key:  # a blank cell is simply not recorded; a value nobody listed is a finding
            listed = ", ".join(f"'{value}'" for value, _ in column.listed.values())
            message = (
                f"'{answer}' is not listed in the mapping as met, missing or unknown "
                f"(listed: {listed}); read as unknown"
            )
            self._finding(record, column.header, deal_id, message, DataIssue.UNREADABLE)
        return Measure.UNKNOWN

    def _finding(
        self,
        record: RawRecord,
        column: str | None,
        deal_id: str | None,
        message: str,
        issue: DataIssue,
    ) -> None:
        self.problems.append(
            DataFinding(self.table, record.row, column, deal_id, message, issue, record.path)
        )

    def result(
        self, document: YamlDocument, spec: ReviewMappingSpec, notes: Sequence[str]
    ) -> ReviewData:
        milestones = tuple(
            ReviewMilestone(milestone_id, entry.name or milestone_id, column.header)
            for (milestone_id, entry), column in zip(
                spec.milestones.items(), self.milestones.values(), strict=True
            )
        )
        unused = tuple(self._unused(document))
        return ReviewData(
            table=self.table,
            milestones=milestones,
            observations=tuple(self.observations),
            problems=tuple(self.problems),
            deals=len(self.deal_ids),
            won=self.won,
            excluded=tuple(sorted(self.excluded.items(), key=lambda item: (-item[1], item[0]))),
            unused=unused,
            table_notes=tuple(notes),
        )

    def _unused(self, document: YamlDocument) -> Iterator[UnusedAnswer]:
        for column in (self.outcome, *self.milestones.values()):
            seen = self.seen[column.header]
            for key, (value, at) in column.listed.items():
                if key not in seen:
                    group = column.answers[key]
                    yield UnusedAnswer(document.location(at), column.header, group, value)


def _text(cell: object) -> str:
    """A cell as text: CSV cells already are; a spreadsheet's 3.0 is '3', a blank ''."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)
