"""The application layer picks the route of an audit; the CLI only shows what it returns."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dealgate.application import COLUMNAR, READ_AGAIN, AuditRequest, run_audit_request
from dealgate.audit import AuditResult, FailOn
from dealgate.deals.source import Reading
from dealgate.engines import get_engine
from dealgate.report.csv_layout import CsvRows
from dealgate.report.formats import FORMATS
from dealgate.report.ordering import ExceptionOrder
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack

ROOT = Path(__file__).parent.parent
EXPORT = ROOT / "examples" / "salesforce-opportunities.csv"
PACK = load_pack("buyer-journey", PackCatalog(cwd=Path("/nonexistent")))
AS_OF = date(2026, 11, 27)


def _request(tmp_path: Path, engine: str, **asked: object) -> AuditRequest:
    return AuditRequest(
        pipeline=EXPORT,
        pack=PACK,
        as_of=AS_OF,
        engine=get_engine(engine),
        **{"format": "csv", "output": tmp_path / f"{engine}.csv", **asked},  # type: ignore[arg-type]
    )


def test_a_csv_audit_on_the_sql_engine_runs_in_duckdb_and_fails_as_the_python_route(
    tmp_path: Path,
) -> None:
    columnar = run_audit_request(_request(tmp_path, "sql"))
    assert columnar.route is not None and columnar.result is None
    # the example has rejected rows and data findings: the Python readers read them
    assert columnar.route.startswith(f"{COLUMNAR}; {READ_AGAIN}")
    python = run_audit_request(_request(tmp_path, "durable"))
    assert python.route is None and python.result is not None
    assert columnar.failing == python.failing > 0
    assert columnar.data == python.data and python.data is not None and python.data.rejected
    assert (tmp_path / "sql.csv").stat().st_size > 0  # the columnar route wrote its report


def test_what_only_the_python_readers_do_says_why_the_columnar_route_stepped_aside(
    tmp_path: Path,
) -> None:
    run = run_audit_request(_request(tmp_path, "sql", include_met=True, fail_on=FailOn.NEVER))
    assert run.route == "Python readers (columnar path not taken: --include-met)"
    assert run.result is not None and run.failing == 0
    assert Reading(encoding="cp1252").needs_python() == "--encoding cp1252"
    assert Reading(encoding="UTF_8").needs_python() is None
    assert Reading(sheet="Q4").needs_python() == "a sheet of a workbook"


def test_a_page_keeps_only_the_deals_it_lists_and_lists_what_the_whole_audit_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An HTML page or a workbook of a large audit lists the deals needing attention with the
    largest amounts: the audit keeps only those as it judges (its memory no longer grows with
    the pipeline), and the workbook is the one the whole document gives."""
    from dealgate.report.audit_json import audit_json
    from dealgate.report.audit_xlsx import render_xlsx
    from dealgate.report.listing import largest_deals

    limit = 7  # the workbook of the example's deals then leaves some out
    monkeypatch.setitem(FORMATS, "xlsx", replace(FORMATS["xlsx"], lists_largest=limit))
    workbook = {"format": "xlsx", "output": None}
    whole = run_audit_request(_request(tmp_path, "durable", **workbook))
    kept = run_audit_request(_request(tmp_path, "durable", **workbook, deals_read_after=False))
    assert whole.result is not None and kept.result is not None
    assert kept.result.assessments == [] and whole.failing == kept.failing
    full, partial = audit_json(whole.result, False), audit_json(kept.result, False)
    listed, left_out = largest_deals(full["deals"], limit)
    assert left_out > 0 and len(partial["deals"]) == limit
    assert (partial["deals"], partial["deals_left_out"]) == (listed, left_out)
    assert partial["deals_listed"] == "largest needing attention"
    assert {
        k: v for k, v in partial.items() if k not in ("deals", "deals_listed", "deals_left_out")
    } == {k: v for k, v in full.items() if k not in ("deals", "deals_listed")}
    assert _cells(render_xlsx(partial, limit)) == _cells(render_xlsx(full, limit))


def _cells(workbook: bytes) -> dict[str, list[list[object]]]:
    """Every sheet's cell values (a workbook's bytes hold the time it was written)."""
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(workbook))
    return {
        name: [[cell.value for cell in row] for row in book[name].iter_rows()]
        for name in book.sheetnames
    }


@pytest.mark.parametrize("order", list(ExceptionOrder))
@pytest.mark.parametrize("include_met", [False, True], ids=["exceptions", "include-met"])
def test_the_terminal_table_keeps_only_the_rows_it_shows(
    tmp_path: Path, order: ExceptionOrder, include_met: bool
) -> None:
    """The table shows the first --limit rows in the order asked for: the audit keeps only
    those as it judges, and the table reads the same as from every deal kept."""
    from dealgate.cli.console import plain_text
    from dealgate.report.audit_table import render_audit_table

    limit = 5
    asked = {"format": "table", "output": None, "include_met": include_met}
    table = {"table_rows": (limit, order)}
    whole = run_audit_request(_request(tmp_path, "durable", **asked, **table))
    kept = run_audit_request(
        _request(tmp_path, "durable", **asked, **table, deals_read_after=False)
    )
    assert whole.result is not None and kept.result is not None
    assert kept.result.assessments == [] and whole.failing == kept.failing

    def table(result: AuditResult) -> str:
        return plain_text(render_audit_table(result, include_met, limit, None, order))

    assert table(kept.result) == table(whole.result)
    assert "more deals not shown" in table(kept.result)


def test_a_parquet_audit_spools_its_rows_and_writes_the_file_of_deals_kept(
    tmp_path: Path,
) -> None:
    """Parquet's rows are spooled as the audit judges (ParquetSpool), in batches smaller
    than the pipeline here: the file reads back as the one written from every deal kept."""
    import io

    import pyarrow.parquet as parquet

    from dealgate.report.audit_json import audit_json
    from dealgate.report.audit_parquet import ParquetRows
    from dealgate.report.formats import render_document

    ParquetRows.batch_rows = 40  # several batches of the example's deals
    try:
        asked = {"format": "parquet", "output": None}
        whole = run_audit_request(_request(tmp_path, "durable", **asked))
        spooled = run_audit_request(_request(tmp_path, "durable", **asked, deals_read_after=False))
    finally:
        ParquetRows.batch_rows = 10_000
    assert whole.result is not None and spooled.result is not None
    assert spooled.result.assessments == [] and whole.failing == spooled.failing

    def table(result: AuditResult) -> Any:
        report = render_document("parquet", audit_json(result, False), result.streamed)
        assert isinstance(report, bytes)
        return parquet.read_table(io.BytesIO(report))

    kept, streamed = table(whole.result), table(spooled.result)
    assert streamed.num_rows == kept.num_rows > 40
    assert streamed.equals(kept) and streamed.schema.metadata == kept.schema.metadata


@pytest.mark.parametrize("rows", list(CsvRows))
@pytest.mark.parametrize("include_met", [False, True], ids=["exceptions", "include-met"])
def test_a_csv_audit_on_the_python_route_spools_its_rows(
    tmp_path: Path, rows: CsvRows, include_met: bool
) -> None:
    """The durable engine's CSV report is written as the audit judges (CsvSpool), byte for
    byte the report of every deal kept."""
    from dealgate.report.formats import render_result

    asked = {"format": "csv", "output": None, "csv_rows": rows, "include_met": include_met}
    whole = run_audit_request(_request(tmp_path, "durable", **asked))
    spooled = run_audit_request(_request(tmp_path, "durable", **asked, deals_read_after=False))
    assert whole.result is not None and spooled.result is not None
    assert spooled.result.assessments == [] and whole.failing == spooled.failing

    def report(result: AuditResult) -> str:
        return "".join(render_result("csv", result, include_met, FailOn.REQUIRED, rows))

    assert report(spooled.result) == report(whole.result)
    assert report(whole.result).count("\r\n") > 10


@pytest.mark.parametrize("include_met", [False, True], ids=["exceptions", "include-met"])
def test_a_markdown_audit_spools_its_exception_lines(tmp_path: Path, include_met: bool) -> None:
    """Markdown's exception list is written as the audit judges (MarkdownSpool), under the
    summary counted on the way: byte for byte the report of every deal kept."""
    from dealgate.report.formats import render_result

    asked = {"format": "markdown", "output": None, "include_met": include_met}
    whole = run_audit_request(_request(tmp_path, "durable", **asked))
    spooled = run_audit_request(_request(tmp_path, "durable", **asked, deals_read_after=False))
    assert whole.result is not None and spooled.result is not None
    assert spooled.result.assessments == []

    def report(result: AuditResult) -> str:
        return "".join(
            render_result("markdown", result, include_met, FailOn.REQUIRED, CsvRows.DEAL)
        )

    assert report(spooled.result) == report(whole.result)
    assert report(whole.result).count("\n| ") > 10


@pytest.mark.parametrize("fail_on", [FailOn.REQUIRED, FailOn.RECOMMENDED])
@pytest.mark.parametrize("include_met", [False, True], ids=["exceptions", "include-met"])
def test_a_junit_audit_spools_its_test_suites(
    tmp_path: Path, include_met: bool, fail_on: FailOn
) -> None:
    """JUnit's suites are written as the audit judges (JunitSpool), each indented as in the
    whole tree, under a root that counts them: byte for byte the XML of every deal kept."""
    from dealgate.report.formats import render_result

    asked = {"format": "junit", "output": None, "include_met": include_met, "fail_on": fail_on}
    whole = run_audit_request(_request(tmp_path, "durable", **asked))
    spooled = run_audit_request(_request(tmp_path, "durable", **asked, deals_read_after=False))
    assert whole.result is not None and spooled.result is not None
    assert spooled.result.assessments == []

    def report(result: AuditResult) -> str:
        return "".join(render_result("junit", result, include_met, fail_on, CsvRows.DEAL))

    assert report(spooled.result) == report(whole.result)
    assert report(whole.result).count("<failure ") > 5
