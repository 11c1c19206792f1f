"""`dealgate report`: a saved JSON audit rendered again, keeping of its deals only what the
format shows, as the audit itself does (report/audit_json.py `DealTaker`).

The saved audit of a large pipeline lists every audited deal: read whole, one of 72,000 deals
(100 MB) took 790 MB. Its deals are read one at a time instead (`saved_audit.stream_audit`)
and each format keeps what it shows:

- html, xlsx: the deals needing attention with the largest amounts (`LargestList`, the
  choice the page and the workbook make of a whole document);
- parquet: the rows, in Arrow record batches in a temporary stream (`ParquetRows`);
- json: each deal's text, in a temporary file (`SpoolFile`).

With --baseline, every deal of both audits is also kept as what changed since reads it
(report/changes.py `slim_deal`). A saved audit of an earlier schema version is read whole and
upgraded in memory (`load_audit`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from dealgate.report.changes import check_comparable, compare, load_baseline, slim_deal
from dealgate.report.formats import FORMATS, render_document
from dealgate.report.saved_audit import load_audit, stream_audit

Rendered = Iterable[str] | bytes


def render_saved(path: Path, name: str, baseline: tuple[Path, str] | None = None) -> Rendered:
    """The saved audit at `path` in format `name` (one of DOCUMENT_FORMATS), with what
    changed since the `baseline` audit (its path, and the path as shown) when one is given;
    InputError (exit 2) as load_audit's when either is no audit, or check_comparable's when
    they cannot be compared."""
    keep, render, discard = _keeper(name)
    compared: list[dict[str, Any]] = []

    def read(deal: dict[str, Any]) -> None:
        keep(deal)
        if baseline is not None:
            compared.append(slim_deal(deal))

    try:
        saved = stream_audit(path, "audit", read)
        if saved is None:  # an earlier version: read whole, upgraded
            discard()
            document = load_audit(path, "audit").data
            _compare(document, document["deals"], baseline)
            return render_document(name, document)
        _compare(saved.data, compared, baseline)
    except BaseException:
        discard()
        raise
    return render(saved.data)


def _compare(
    document: dict[str, Any], deals: list[dict[str, Any]], baseline: tuple[Path, str] | None
) -> None:
    """What changed since the baseline, as the document's `changes` (its deals `deals`)."""
    if baseline is None:
        return
    path, shown = baseline
    previous = load_baseline(path)
    check_comparable(previous, document["pack"]["id"], shown)
    compared = compare(previous.data, document | {"deals": deals}, shown)
    document["changes"] = compared.as_json()


def _keeper(
    name: str,
) -> tuple[
    Callable[[dict[str, Any]], None], Callable[[dict[str, Any]], Rendered], Callable[[], None]
]:
    """What format `name` keeps of each deal read, how it renders the document from what it
    kept, and how what it kept is thrown away unread."""
    listed = FORMATS[name].lists_largest
    if listed is not None:  # the HTML page and the workbook
        from dealgate.report.audit_json import listing_largest
        from dealgate.report.listing import LargestList

        largest = LargestList(listed)

        def render_listed(document: dict[str, Any]) -> Rendered:
            return render_document(name, listing_largest(document, *largest.shown()))

        return largest.offer_deal, render_listed, lambda: None
    if name == "parquet":
        from dealgate.report.audit_parquet import ParquetRows, render_parquet

        rows = ParquetRows()
        return rows.add, lambda document: render_parquet(document, rows), rows.close
    if name == "json":
        from dealgate.report.audit_json import SpoolFile, document_chunks, listed_deal

        spool = SpoolFile()
        count = 0

        def add(deal: dict[str, Any]) -> None:
            nonlocal count
            spool.write(listed_deal(deal, count))
            count += 1

        return add, lambda document: document_chunks(document, spool.blocks()), spool.close
    raise ValueError(f"{name} is no format a saved audit is rendered in")
