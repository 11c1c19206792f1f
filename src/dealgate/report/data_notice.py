"""The rows an audit rejected and its data findings, in words, for the formats that do not
list them.

The JSON audit lists every rejected row and data finding, and the HTML page the first ones
(`Format.lists_data`). The CSV report, JSON Lines, JUnit, Markdown, the terminal table, the
workbook and the Parquet file count them at most, or say nothing of them. For those the
command says on stderr how many rows were rejected and how many findings there are of each
kind, with the first of each and where it is. A row read is audited, excluded or rejected
with its reason; it is never dropped in silence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dealgate.findings import ISSUE_WORDS, DataFinding

if TYPE_CHECKING:
    from dealgate.deals.mapper import RejectedRow


@dataclass(frozen=True)
class DataNotice:
    """How many rows were read and rejected, and the data findings by kind, most first:
    (kind, how many, the first one in words)."""

    rows_read: int
    rejected: int
    first_rejected: str | None
    kinds: tuple[tuple[str, int, str], ...]

    @property
    def findings(self) -> int:
        return sum(count for _, count, _ in self.kinds)


def data_notice(
    rows_read: int, rejected: Sequence[RejectedRow], findings: Iterable[DataFinding]
) -> DataNotice | None:
    """The notice of an audit's rejected rows and data findings; None when it has neither."""
    counts: Counter[str] = Counter()
    first: dict[str, DataFinding] = {}
    for finding in findings:
        counts[finding.issue.value] += 1
        first.setdefault(finding.issue.value, finding)
    if not rejected and not counts:
        return None
    first_rejected = None
    if rejected:
        row = rejected[0]
        where = ", ".join(
            part
            for part in (row.file, f"row {row.row}" if row.row is not None else "", row.path)
            if part
        )
        first_rejected = f"{where}: {row.reason}"
    kinds = tuple(
        (issue, count, f"{first[issue].where}: {first[issue].message}")
        for issue, count in counts.most_common()
    )
    return DataNotice(rows_read, len(rejected), first_rejected, kinds)


def data_text(notice: DataNotice, format_name: str) -> str:
    """The notice as lines for stderr, ending with a newline."""
    said = []
    if notice.rejected:
        said.append(f"{notice.rejected:,} of {notice.rows_read:,} rows rejected")
    if notice.kinds:
        said.append(f"{notice.findings:,} data finding{'' if notice.findings == 1 else 's'}")
    lines = [
        f"Data: {' and '.join(said)}, which --format {format_name} does not list "
        "(--format json lists each one):"
    ]
    if notice.first_rejected is not None:
        lines.append(f"  - rejected rows: {_first(notice.rejected, notice.first_rejected)}")
    for issue, count, first in notice.kinds:
        lines.append(f"  - {ISSUE_WORDS.get(issue, issue)}: {_first(count, first)}")
    return "\n".join(lines) + "\n"


def _first(count: int, first: str) -> str:
    return f"{count:,}, the first at {first}" if count > 1 else f"1, at {first}"
