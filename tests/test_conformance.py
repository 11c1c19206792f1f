"""One conformance suite, every engine: the cases in tests/conformance/*.yaml.

Each file holds a pack, an as-of date, optional waivers, and cases: a deal and every finding
expected (`MILESTONE: [kind/]status`; an extra waiver finding is `MILESTONE+waiver`), and
optionally its evidence stage, inflation and disposition.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from dealgate.assess import assess, request_for, with_waivers
from dealgate.deals.readers import RawRecord, flatten
from dealgate.deals.source import read_records
from dealgate.engines import Engine, get_engine
from dealgate.errors import Location
from dealgate.findings import FindingKind
from dealgate.report.json_report import disposition_text
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack
from dealgate.waivers import Waiver, WaiverBook

CONFORMANCE = Path(__file__).parent / "conformance"
# postgres: the query of `dealgate sql --dialect postgres` run on a real server (conftest.py)
ENGINES = ["durable", "sql", "postgres", "spark"]


def _cases() -> list[Any]:
    params = []
    for path in sorted(CONFORMANCE.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for index, case in enumerate(document["cases"]):
            for engine in ENGINES:
                params.append(
                    pytest.param(
                        path, index, engine, id=f"{path.stem}-{index}-{case['name'][:40]}-{engine}"
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
