"""One conformance suite, every engine: the cases in tests/conformance/*.yaml.

Each file holds a pack, an as-of date, optional waivers, and cases: a deal and every finding
expected (`MILESTONE: [kind/]status`; an extra waiver finding is `MILESTONE+waiver`), and
optionally its evidence stage, inflation and disposition.

The engines judge the deal as the YAML reader reads it. The columnar route (DuckDB reads a CSV
export and judges it in SQL, `dealgate.columnar`) gets the deal as a one-row CSV export and is
held to what its CSV report shows: the missing findings of a deal that needs attention, with
their kind, and the deal's evidence stage, inflation and disposition.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from dealgate.audit import AuditFilters, FailOn
from dealgate.columnar.audit import ColumnarRequest, run_columnar_audit
from dealgate.columnar.canonical import Unsupported
from dealgate.deals.readers import RawRecord, flatten
from dealgate.deals.source import read_records
from dealgate.engines import Engine, get_engine
from dealgate.errors import Location
from dealgate.findings import FindingKind
from dealgate.judging.assess import assess, request_for, with_waivers
from dealgate.judging.waivers import Waiver, WaiverBook
from dealgate.report.csv_layout import CsvRows
from dealgate.report.json_report import disposition_text
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack

CONFORMANCE = Path(__file__).parent / "conformance"
# postgres: the query of `dealgate sql --dialect postgres` run on a real server (conftest.py)
# columnar: the deal as a one-row CSV export through run_columnar_audit (_columnar_case)
ENGINES = ["durable", "sql", "postgres", "spark", "columnar"]

# Cases (by file stem, or stem-index) the columnar route does not run, and why; never silent.
# Not asked of it: the CLI sends these inputs to the Python path before the route starts.
COLUMNAR_NOT_ASKED: dict[str, str] = {
    "waivers": "waivers: the columnar route takes none (--waivers runs the Python path)",
}
# Declined by the route itself (Unsupported), after which the CLI takes the Python path: a
# strict xfail, so a case the route starts to run is noticed and judged here.
COLUMNAR_DECLINES: dict[str, str] = {
    "records": "a milestone reads a record field (champion.name): the CSV report's read "
    "column is not written for record fields",
    "records-declared": "a milestone reads a declared record field (champion.name)",
    "placeholders": "the pack changes which texts are placeholders: the SQL that reads the "
    "export holds dealgate's own list",
}


def _columnar_marks(stem: str, index: int) -> list[pytest.MarkDecorator]:
    for key in (f"{stem}-{index}", stem):
        if key in COLUMNAR_NOT_ASKED:
            return [pytest.mark.skip(reason=COLUMNAR_NOT_ASKED[key])]
        if key in COLUMNAR_DECLINES:
            reason = COLUMNAR_DECLINES[key]
            return [pytest.mark.xfail(reason=reason, raises=Unsupported, strict=True)]
    return []


def _cases() -> list[Any]:
    params = []
    for path in sorted(CONFORMANCE.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for index, case in enumerate(document["cases"]):
            for engine in ENGINES:
                marks = _columnar_marks(path.stem, index) if engine == "columnar" else []
                params.append(
                    pytest.param(
                        path,
                        index,
                        engine,
                        id=f"{path.stem}-{index}-{case['name'][:40]}-{engine}",
                        marks=marks,
                    )
                )
    return params


def _pack(path: Path, document: dict[str, Any], tmp_path: Path) -> RulePack:
    pack_file = tmp_path / f"{path.stem}.yaml"
    pack_file.write_text(yaml.safe_dump(document["pack"], sort_keys=False), encoding="utf-8")
    return load_pack(pack_file, PackCatalog(include_bundled=False, cwd=tmp_path))


def _waivers(document: dict[str, Any], as_of: date) -> WaiverBook | None:
    if "waivers" not in document:
        return None
    return WaiverBook(
        [
            Waiver(
                item["deal"],
                item["milestone"],
                item["reason"],
                item.get("approved_by"),
                item["expires"],
                Location("waivers", index),
            )
            for index, item in enumerate(document["waivers"])
        ],
        as_of,
    )


# Engines that need a server or a JVM: one per test run, from a fixture in conftest.py.
SHARED = {"postgres": "postgres_engine", "spark": "spark_engine"}


def _engine(name: str, request: pytest.FixtureRequest) -> Engine:
    if name in SHARED:
        shared: Engine = request.getfixturevalue(SHARED[name])
        return shared
    return get_engine(name)


@pytest.mark.parametrize(("path", "index", "engine_name"), _cases())
def test_conformance_case(
    path: Path, index: int, engine_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    case = document["cases"][index]
    as_of = document["as_of"]
    pack = _pack(path, document, tmp_path)
    if engine_name == "columnar":
        _columnar_case(document, case, pack, tmp_path)
        return
    reads, mapper = read_records(str(path), [RawRecord(1, "deal", flatten(case["deal"]))], pack)
    engine = _engine(engine_name, request)
    [evaluated] = list(engine.evaluate(pack, [request_for(reads[0], pack)], as_of))
    assessment = assess(pack, evaluated)
    book = _waivers(document, as_of)
    if book is not None:
        assessment = with_waivers(pack, assessment, book)
    shown_kind = any("/" in str(value) for value in case["findings"].values())
    actual = {}
    for finding in assessment.findings:
        key = finding.milestone_id + ("+waiver" if finding.kind is FindingKind.WAIVER else "")
        status = finding.status.value
        actual[key] = f"{finding.kind.value}/{status}" if shown_kind else status
    assert actual == case["findings"]
    if "evidence_stage" in case:
        evidence = assessment.evidence_stage.id if assessment.evidence_stage else None
        assert evidence == case["evidence_stage"]
    if "inflation" in case:
        assert assessment.inflation == case["inflation"]
    if "disposition" in case:
        assert disposition_text(assessment) == case["disposition"]
    assert [f for f in mapper.findings if f.issue.value != "unknown_stage"] == []


def test_unmatched_waivers_are_reported(tmp_path: Path) -> None:
    document = yaml.safe_load((CONFORMANCE / "waivers.yaml").read_text(encoding="utf-8"))
    book = _waivers(document, document["as_of"])
    assert book is not None
    pack_path = CONFORMANCE / "waivers.yaml"
    pack = _pack(pack_path, document, tmp_path)
    engine = get_engine("durable")
    for case in document["cases"]:
        reads, _ = read_records("w", [RawRecord(1, "deal", flatten(case["deal"]))], pack)
        for evaluated in engine.evaluate(pack, [request_for(reads[0], pack)], document["as_of"]):
            book.apply(assess(pack, evaluated).findings)
    unmatched = [f"{f.deal_id} {f.milestone_id}" for f in book.unmatched()]
    assert unmatched == document["unmatched_waivers"]


def test_every_operator_and_function_is_covered() -> None:
    text = " ".join(path.read_text(encoding="utf-8") for path in CONFORMANCE.glob("*.yaml"))
    for token in (
        "==",
        "!=",
        " < ",
        "<=",
        " > ",
        ">=",
        " in [",
        "not in [",
        " and ",
        " or ",
        "not ",
        " + ",
        " - ",
        " * ",
        " / ",
        "-amount",
        "present(",
        "days_since(",
        "days_until(",
        "count(",
        "any(",
        "all(",
        "deal.",
        "when:",
        "terminal:",
        "waivers:",
        "stage >=",
    ):
        assert token in text, token


# -- the columnar route ------------------------------------------------------------------


def _columnar_case(
    document: dict[str, Any], case: dict[str, Any], pack: RulePack, tmp_path: Path
) -> None:
    export = _one_row_export(case["deal"], tmp_path / "deal.csv")
    reports = {}
    for layout in CsvRows:
        report = tmp_path / f"report-{layout.value}.csv"
        run_columnar_audit(
            ColumnarRequest(
                export,
                pack,
                document["as_of"],
                AuditFilters(include_closed=True),  # closed deals are judged, as in the engines
                FailOn.NEVER,
                profile="canonical",
                rows=layout,
                # The case is a deal written by hand: a field it leaves out is missing, as in
                # check (the one-row export has no column for it, which would be unmeasured).
                unmeasured_as_missing=True,
            ),
            report,
        )
        with report.open(encoding="utf-8", newline="") as stream:
            reports[layout] = list(csv.DictReader(stream))
    rows, deal_rows = reports[CsvRows.FINDING], reports[CsvRows.DEAL]
    expected = _missing_findings(case, pack)
    if not _needs_attention(case, expected):
        assert rows == [] and deal_rows == [], "the deal does not need attention: no row"
        return
    assert {row["milestone_id"]: row["kind"] for row in rows} == expected
    [deal_row] = deal_rows
    for kind, column in (
        ("skipped", "skipped"),
        ("hygiene", "hygiene"),
        ("to-advance", "to_advance"),
    ):
        ids = [row["milestone_id"] for row in rows if row["kind"] == kind]
        assert deal_row[column] == "; ".join(ids), column
    deal_columns = {
        "evidence_stage": lambda row: row["evidence_stage"] or None,
        "inflation": lambda row: int(row["inflation"]),
        "disposition": lambda row: row["disposition"],
    }
    for name, read in deal_columns.items():
        if name in case:
            assert {read(row) for row in [*rows, deal_row]} == {case[name]}, name


def _one_row_export(deal: dict[str, Any], path: Path) -> Path:
    """The deal as a CSV export writes it: canonical names as headers, every value as text,
    a list of records as JSON text in its cell."""
    flat = flatten(deal)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(list(flat))
        writer.writerow([_cell(value) for value in flat.values()])
    return path


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)  # dates inside as ISO text
    return str(value)


def _missing_findings(case: dict[str, Any], pack: RulePack) -> dict[str, str]:
    """The expected missing findings and their kind; a milestone of a stage states its kind
    in the case (the kind of a check is always hygiene)."""
    missing = {}
    for key, value in case["findings"].items():
        kind, _, status = str(value).rpartition("/")
        if status != "missing" or key.endswith("+waiver"):
            continue
        if not kind:
            milestone = next(m for m in pack.milestones() if m.id == key)
            assert milestone.stage_id is None, f"{key}: give the kind of a stage milestone"
            kind = FindingKind.HYGIENE.value
        missing[key] = kind
    return missing


def _needs_attention(case: dict[str, Any], missing: dict[str, str]) -> bool:
    """As the exception list decides: inflated, or missing more than the next stage's exits."""
    inflated = bool(case.get("inflation"))
    return inflated or any(kind != FindingKind.TO_ADVANCE.value for kind in missing.values())
