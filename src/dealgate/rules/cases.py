"""A team's unit tests for its rule pack: deals, an as-of date, the milestones expected missing.

Case files live beside the packs in `rules/tests/`. This module reads and validates them
against the pack they test; the engine evaluates them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from dealgate.errors import InputError, Location, Problem, did_you_mean
from dealgate.rules.catalog import PackCatalog, pack_files
from dealgate.rules.loader import load_pack, schema_problems
from dealgate.rules.model import RulePack
from dealgate.yamlsafe import YamlDocument, read_yaml_file

# How a deal's forecast category or probability stands against its evidence
# (judging/forecast.py Standing); a case may expect one.
Standing = Literal["supported", "without_evidence", "unverifiable"]


class CaseSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    name: str
    as_of: date | None = None
    deal: dict[str, Any]
    missing: list[str]
    forecast: Standing | None = None
    probability: Standing | None = None


class CaseFileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    pack: str
    as_of: date | None = None
    cases: list[CaseSpec]


@dataclass(frozen=True)
class RuleTestCase:
    """One deal, the date it is judged on, the milestones expected missing, and how its
    forecast category and probability are expected to stand against its evidence (None: not
    checked)."""

    name: str
    deal: dict[str, Any]
    as_of: date
    missing: tuple[str, ...]
    location: Location
    forecast: str | None = None
    probability: str | None = None


@dataclass(frozen=True)
class CaseFile:
    path: Path
    pack: RulePack
    cases: tuple[RuleTestCase, ...]


def find_case_files(target: Path) -> list[Path]:
    """Case files at a path: the file itself, a tests/ folder, or a rules folder's tests/."""
    if target.is_file():
        return [target]
    tests = target / "tests"
    folder = tests if tests.is_dir() else target
    return pack_files(folder) if folder.is_dir() else []


def load_case_file(path: Path, catalog: PackCatalog) -> CaseFile:
    """Read a case file and check it against its pack; raises InputError with every problem."""
    document = read_yaml_file(path)
    try:
        spec = CaseFileSpec.model_validate(document.value)
    except ValidationError as error:
        raise InputError(schema_problems(error, document, CaseFileSpec, "test case")) from None
    pack = load_pack(_pack_reference(spec.pack, path), catalog)
    problems: list[Problem] = []
    cases = []
    names: set[str] = set()
    for index, case in enumerate(spec.cases):
        where = document.location(("cases", index))
        if case.name in names:
            problems.append(Problem(where, f"duplicate case name '{case.name}'"))
        names.add(case.name)
        as_of = case.as_of or spec.as_of
        if as_of is None:
            problems.append(
                Problem(
                    where,
                    f"case '{case.name}' has no as_of date",
                    "set as_of on the case or at the top of the file",
                )
            )
            continue
        problems += _case_problems(case, pack, document, index)
        cases.append(
            RuleTestCase(
                case.name,
                case.deal,
                as_of,
                tuple(case.missing),
                where,
                case.forecast,
                case.probability,
            )
        )
    if problems:
        raise InputError(problems)
    return CaseFile(path, pack, tuple(cases))


def _pack_reference(reference: str, case_path: Path) -> str | Path:
    if reference.endswith((".yaml", ".yml")):
        return case_path.parent / reference
    return reference


def _case_problems(
    case: CaseSpec, pack: RulePack, document: YamlDocument, index: int
) -> Sequence[Problem]:
    problems = []
    deal_id = case.deal.get("id")
    if not isinstance(deal_id, str | int) or not str(deal_id).strip():
        problems.append(
            Problem(
                document.location(("cases", index, "deal")),
                f"case '{case.name}': the deal needs an id",
            )
        )
    stage = case.deal.get("stage")
    stage_path = ("cases", index, "deal", "stage")
    if not isinstance(stage, str) or not stage.strip():
        problems.append(
            Problem(document.location(stage_path), f"case '{case.name}': the deal needs a stage")
        )
    elif pack.match_stage(stage) is None:
        names = [stage.id for stage in pack.stages]
        problems.append(
            Problem(
                document.location(stage_path),
                f"case '{case.name}': stage '{stage}' is not a stage of pack '{pack.id}'",
                did_you_mean(stage, names),
            )
        )
    known = [milestone.id for milestone in pack.milestones()]
    for position, milestone_id in enumerate(case.missing):
        if milestone_id not in known:
            problems.append(
                Problem(
                    document.location(("cases", index, "missing", position)),
                    f"unknown milestone '{milestone_id}' in pack '{pack.id}'",
                    did_you_mean(milestone_id, known),
                )
            )
    return problems
