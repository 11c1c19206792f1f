"""The table of report formats (report/formats.py) is what the CLI offers and checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from command import REPO, dealgate
from dealgate.cli.audit import AuditFormat
from dealgate.cli.report import ReportFormat
from dealgate.report.formats import BASELINE_FORMATS, DOCUMENT_FORMATS, FORMATS


def test_the_cli_offers_every_format_and_report_those_of_a_saved_audit() -> None:
    assert {f.value for f in AuditFormat} == set(FORMATS)
    assert {f.value for f in ReportFormat} == set(DOCUMENT_FORMATS)


@pytest.mark.parametrize("name", [name for name, f in FORMATS.items() if f.binary])
def test_a_format_of_bytes_needs_a_file(name: str, tmp_path: Path) -> None:
    (tmp_path / "pipeline.json").write_text('{"deals": [{"id": "D-1"}]}', encoding="utf-8")
    result = dealgate("audit", "pipeline.json", "--format", name, cwd=tmp_path)
    assert result.returncode == 2
    assert f"--format {name} writes {FORMATS[name].binary}" in result.stderr


@pytest.mark.parametrize("name", [name for name in FORMATS if name not in BASELINE_FORMATS])
def test_a_baseline_is_refused_where_it_is_not_shown(name: str, tmp_path: Path) -> None:
    (tmp_path / "pipeline.json").write_text('{"deals": []}', encoding="utf-8")
    result = dealgate(
        "audit", "pipeline.json", "--baseline", "last.json", "--format", name,
        "--output", f"out.{name}", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"--baseline is shown in {', '.join(BASELINE_FORMATS)}, not {name}" in " ".join(
        result.stderr.split()
    )


def test_markdown_shows_crm_text_as_typed_where_it_is_rendered(tmp_path: Path) -> None:
    import html
    import re

    import yaml
    from markdown_it import MarkdownIt

    deal = yaml.safe_load((REPO / "examples/deals/globex-skipped.yaml").read_text("utf-8"))
    deal["name"] = "<script>alert(1)</script> *Q4* [deal](http://x) | half & half"
    deal["owner"] = "_Lars_ `Eriksson` #1"
    deal["close_date"] = "2026-11-01"  # a hygiene miss: the deal is in the exception list
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump({"deals": [deal]}), encoding="utf-8")
    done = dealgate(
        "audit", "pipeline.yaml", "--as-of", "2026-11-27", "--format", "markdown",
        "--fail-on", "never", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rendered = MarkdownIt("commonmark").enable("table").render(done.stdout)
    assert "<script>" not in rendered and "<em>" not in rendered and "<a " not in rendered
    text = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    assert deal["name"] in text
    assert deal["owner"] in text
