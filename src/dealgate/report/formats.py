"""Every audit report format and what it can do, in one table, and the one way to render each.

A format reads either the per-deal audit result (`AuditResult`) or the audit's JSON document,
which `dealgate report` also renders from a saved audit. The CLI checks options against this
table (a baseline, a file for bytes, the columnar route) rather than against lists of its own.
Writers are imported when used: `check` and a CSV audit load none of the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dealgate.report.csv_layout import CsvRows

if TYPE_CHECKING:
    from dealgate.audit import AuditResult, FailOn, StreamedDeals


class Reads(StrEnum):
    RESULT = "result"  # the per-deal audit result
    DOCUMENT = "document"  # the audit's JSON document (report/audit_json.py)


@dataclass(frozen=True)
class Format:
    name: str
    reads: Reads
    baseline: bool = False  # shows what changed since a baseline audit
    binary: str | None = None  # writes bytes, which need --output: what it writes, in words
    columnar: bool = False  # the columnar route writes it inside DuckDB (dealgate/columnar)
    # Says what the input could not measure (report/coverage.py); else the CLI says it on stderr.
    coverage: bool = True
    # Lists the rejected rows and data findings (report/data_notice.py); else the CLI says
    # how many there are of each kind on stderr.
    lists_data: bool = False
    # Lists at most this many deals, those needing attention with the largest amounts
    # (report/listing.py): the audit keeps only those as it judges (`LargestDeals`).
    lists_largest: int | None = None


FORMATS = {
    format.name: format
    for format in (
        Format("table", Reads.RESULT, baseline=True),
        Format("json", Reads.DOCUMENT, baseline=True, lists_data=True),
        Format("jsonl", Reads.RESULT, coverage=False),
        Format("csv", Reads.RESULT, columnar=True, coverage=False),
        Format("markdown", Reads.RESULT),
        Format("junit", Reads.RESULT, coverage=False),
        # the whole list of 100k deals made a page of 141 MB that a browser barely opens
        Format("html", Reads.DOCUMENT, baseline=True, lists_data=True, lists_largest=5000),
        # openpyxl wrote 20,000 deals (70,000 findings, each on Exceptions and on its manager's
        # sheet) in 60 s, and a sheet holds 1,048,576 rows
        Format("xlsx", Reads.DOCUMENT, baseline=True, binary="a workbook", lists_largest=25_000),
        Format("parquet", Reads.DOCUMENT, binary="a Parquet file", coverage=False),
    )
}
DOCUMENT_FORMATS = tuple(name for name, format in FORMATS.items() if format.reads is Reads.DOCUMENT)
BASELINE_FORMATS = tuple(name for name, format in FORMATS.items() if format.baseline)


def render_document(
    name: str, document: dict[str, Any], spooled: StreamedDeals | None = None
) -> Iterable[str] | bytes:
    """The JSON document as a format that reads it: text chunks, or a binary file's bytes.
    Parquet takes its rows from `spooled` when the audit spooled them (`ParquetSpool`)."""
    assert FORMATS[name].reads is Reads.DOCUMENT, name
    if name == "xlsx":
        from dealgate.report.audit_xlsx import render_xlsx

        return render_xlsx(document)
    if name == "parquet":
        from dealgate.report.audit_parquet import render_parquet

        return render_parquet(document, spooled)
    if name == "html":
        from dealgate.report.audit_html import render_html

        return [render_html(document)]
    return [json.dumps(document, indent=2) + "\n"]


def render_result(
    name: str, result: AuditResult, include_met: bool, fail_on: FailOn, rows: CsvRows
) -> Iterable[str]:
    """The per-deal result as a text format that reads it (the terminal table aside, which
    needs the console)."""
    assert FORMATS[name].reads is Reads.RESULT and name != "table", name
    if name == "jsonl":
        from dealgate.report.audit_json import jsonl_lines

        return jsonl_lines(result, include_met)
    if name == "csv":
        from dealgate.report.audit_csv import csv_lines

        return csv_lines(result, include_met, rows)
    if name == "markdown":
        from dealgate.report.audit_markdown import markdown_chunks

        return markdown_chunks(result, include_met)
    from dealgate.report.audit_junit import junit_chunks

    return junit_chunks(result, include_met, fail_on)
