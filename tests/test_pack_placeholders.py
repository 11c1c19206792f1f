"""A pack says which texts are placeholders: readers turn them into missing values, or keep
them as text (`placeholders: {add: [...], keep: [...]}`), in extending packs too."""

from __future__ import annotations

from pathlib import Path

import pytest

from dealgate.deals.cell_rules import PLACEHOLDERS
from dealgate.deals.readers import RawRecord
from dealgate.deals.source import read_records
from dealgate.errors import PackError
from dealgate.findings import DataIssue
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack
from dealgate.rules.spec import json_schema

BASE = """\
pack: base
placeholders: {add: [Pending, see notes]}
stages:
  - id: open
checks:
  - {id: HYG-NEXT-STEP, milestone: A next step, require: present(next_step)}
"""
TEAM = """\
pack: team
extends: [base]
placeholders: {keep: [TBD]}
stages: []
"""


def _load(folder: Path, pack_id: str, **files: str) -> RulePack:
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return load_pack(pack_id, PackCatalog([folder], include_bundled=False))


def _next_step(pack: RulePack, written: str) -> tuple[object, list[DataIssue]]:
    record = RawRecord(1, "deal", {"id": "D-1", "stage": "open", "next_step": written})
    reads, mapper = read_records("deals.csv", [record], pack)
    return reads[0].deal.next_step, [finding.issue for finding in mapper.findings]


def test_an_extending_pack_keeps_tbd_as_text_and_inherits_added_placeholders(
    tmp_path: Path,
) -> None:
    team = _load(tmp_path, "team", base=BASE, team=TEAM)
    assert team.placeholder_texts == (PLACEHOLDERS - {"tbd"}) | {"pending", "see notes"}
    assert _next_step(team, "TBD") == ("TBD", [])
    assert _next_step(team, " Pending ") == (None, [DataIssue.PLACEHOLDER])
    assert _next_step(team, "n/a") == (None, [DataIssue.PLACEHOLDER])


def test_a_pack_without_the_key_reads_dealgate_placeholders_as_missing(tmp_path: Path) -> None:
    plain = _load(
        tmp_path,
        "plain",
        plain=BASE.replace("pack: base", "pack: plain").replace(
            "placeholders: {add: [Pending, see notes]}\n", ""
        ),
    )
    assert plain.placeholders is None
    assert _next_step(plain, "TBD") == (None, [DataIssue.PLACEHOLDER])
    assert _next_step(plain, "Pending") == ("Pending", [])


def test_keeping_a_text_that_is_no_placeholder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PackError) as caught:
        _load(tmp_path, "team", base=BASE, team=TEAM.replace("[TBD]", "[TDB]"))
    [problem] = caught.value.problems
    assert problem.message == "'TDB' is not a placeholder, so keeping it changes nothing"
    assert problem.hint == "did you mean 'tbd'?"
    assert problem.location.line == 3


def test_the_schema_describes_placeholders_for_editors() -> None:
    schema = json_schema()
    assert "placeholders" in schema["properties"]
    assert set(schema["$defs"]["PlaceholdersSpec"]["properties"]) == {"add", "keep"}
