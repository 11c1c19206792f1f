"""Load rule pack files, resolve `extends`, check every expression: one RulePack or errors.

Every problem found is collected with its file, line and column, so a pack author sees all
of them at once; nothing about deals is read before a pack is known to be sound.
"""

from __future__ import annotations

import copy
import difflib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, UnionType
from typing import Any

from pydantic import BaseModel, ValidationError

from dealgate.deals.cell_rules import PLACEHOLDERS
from dealgate.deals.profiles import header_key
from dealgate.errors import InputError, Location, PackError, Problem, did_you_mean
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.checker import CheckedCondition, ConditionErrors, Scope, check_condition
from dealgate.rules.domains import FORECAST_CATEGORY
from dealgate.rules.expr import Boolean, ExpressionError, parse_expression
from dealgate.rules.model import (
    FieldDeclaration,
    Milestone,
    RulePack,
    Severity,
    Stage,
    VerifiedBy,
    normalise_stage_name,
)
from dealgate.rules.spec import (
    FIELD_NAME,
    MILESTONE_ID,
    PACK_ID,
    STAGE_ID,
    FieldSpec,
    MilestoneSpec,
    OverrideSpec,
    PackSpec,
    StageSpec,
)
from dealgate.rules.types import CANONICAL_FIELDS, FieldType, Kind
from dealgate.yamlsafe import YamlDocument, YamlPath, read_yaml_file

# The longest chain of `extends` a pack may sit on (itself included): deeper chains are
# refused with the file and line that goes too deep, rather than recursing without bound.
MAX_EXTENDS_DEPTH = 50


@dataclass(frozen=True)
class PackSource:
    """One pack file, read and checked against the file format."""

    path: Path
    spec: PackSpec
    document: YamlDocument

    @property
    def declares_fields(self) -> bool:
        return "fields" in self.spec.model_fields_set


def read_pack_source(path: Path, catalog: PackCatalog | None = None) -> PackSource:
    """Read one pack file (the catalog's parse of it, if it has one) and validate its keys and
    values; raises PackError."""
    source, problems = _read_pack_source(path, catalog)
    if source is None or problems:
        raise PackError(problems)
    return source


def _read_pack_source(
    path: Path, catalog: PackCatalog | None
) -> tuple[PackSource | None, list[Problem]]:
    """A pack file and the problems of its keys and values. A file whose problems are only
    keys that can be left out (a typo'd key, a wrong `severity`) still gives a source, with
    those keys dropped, so that its stages and conditions are checked in the same run."""
    try:
        document = catalog.document(path) if catalog is not None else read_yaml_file(path)
    except InputError as error:
        return None, list(error.problems)
    if not isinstance(document.value, dict):
        return None, [
            Problem(document.location(()), "a rule pack is a mapping with 'pack' and 'stages'")
        ]
    try:
        spec = PackSpec.model_validate(document.value)
    except ValidationError as error:
        problems = schema_problems(error, document, PackSpec)
        repaired = _without_bad_keys(document.value, error)
        if repaired is None:
            return None, problems + _syntax_problems(document)
        return PackSource(path, repaired, document), problems
    return PackSource(path, spec, document), []


# Keys that may be dropped from a file with schema errors to check the rest of it: each has a
# default, and leaving it out cannot make other errors appear. Ids, `after`, `extends` and
# `fields` are not among them: without them, stages, packs and names would be missing.
_DROPPABLE = {
    "pack": frozenset({"title", "description", "checks", "overrides", "remove"}),
    "stage": frozenset({"name", "buyer_step", "description", "crm_names", "terminal", "exit"}),
    "milestone": frozenset({"when", "evidence", "verified_by", "severity", "guidance"}),
    "override": frozenset(OverrideSpec.model_fields),
}
# A milestone's required texts, when missing or wrong, are stood in for by harmless ones.
_STAND_INS = {"milestone": "?", "require": "true"}


def _without_bad_keys(value: dict[str, Any], error: ValidationError) -> PackSpec | None:
    """The pack with every key in error dropped or stood in for, or None when that is not
    possible without other errors following from it."""
    repaired = copy.deepcopy(value)
    for item in error.errors():
        path: YamlPath = tuple(item["loc"])
        if item["type"] == "extra_forbidden":
            _drop(repaired, path)
            continue
        place = _repair_place(path)
        if place is None:
            return None
        owner, key_path = place
        key = str(key_path[-1])
        if key in _DROPPABLE[owner]:
            _drop(repaired, key_path)
        elif owner == "milestone" and key in _STAND_INS:
            _set(repaired, key_path, _STAND_INS[key])
        else:
            return None
    try:
        return PackSpec.model_validate(repaired)
    except ValidationError:
        return None


def _repair_place(path: YamlPath) -> tuple[str, YamlPath] | None:
    """Which kind of mapping an error is in, and the path of its key there."""
    match path:
        case ("stages", int(), "exit", int(), str(), *_):
            return "milestone", path[:5]
        case ("stages", int(), "exit", int()) | ("checks", int()):
            return None  # not a mapping: leaving it out would lose a milestone id
        case ("checks", int(), str(), *_):
            return "milestone", path[:3]
        case ("stages", int(), str(), *_):
            return "stage", path[:3]
        case ("overrides", str(), str(), *_):
            return "override", path[:3]
        case (str(), *_):
            return "pack", path[:1]
    return None


def _drop(value: Any, path: YamlPath) -> None:
    parent = _value_at(value, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)


def _set(value: Any, path: YamlPath, text: str) -> None:
    parent = _value_at(value, path[:-1])
    if isinstance(parent, dict):
        parent[path[-1]] = text


def _syntax_problems(document: YamlDocument) -> list[Problem]:
    """Syntax errors of the conditions in a file that failed schema checks, to report together.

    Names and types need the resolved pack, so only syntax is checked here.
    """
    value = document.value
    places: list[YamlPath] = []
    for index, stage in enumerate(_as_list(value.get("stages"))):
        for exit_index, _ in enumerate(_as_list(_get(stage, "exit"))):
            places.append(("stages", index, "exit", exit_index))
    places += [("checks", index) for index, _ in enumerate(_as_list(value.get("checks")))]
    overrides = value.get("overrides")
    if isinstance(overrides, dict):
        places += [("overrides", key) for key in overrides]
    problems = []
    for place in places:
        for condition in ("require", "when"):
            path = (*place, condition)
            text = _value_at(value, path)
            if not isinstance(text, str):
                continue
            try:
                parse_expression(text)
            except ExpressionError as error:
                problems.append(
                    Problem(
                        document.text_location(path, error.span.start), error.message, error.hint
                    )
                )
    return problems


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _value_at(value: Any, path: YamlPath) -> Any:
    for part in path:
        if isinstance(value, dict) and isinstance(part, str):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            return None
    return value


def load_pack(reference: str | Path, catalog: PackCatalog | None = None) -> RulePack:
    """Resolve a pack given by id or by path into one RulePack; raises PackError."""
    catalog = catalog or PackCatalog()
    path = _locate(reference, catalog)
    return _Resolver(catalog).resolve(path)


def _locate(reference: str | Path, catalog: PackCatalog) -> Path:
    candidate = Path(reference)
    if candidate.suffix in (".yaml", ".yml") or candidate.is_file():
        return candidate
    entry = catalog.find(str(reference))
    if entry is None:
        hint = did_you_mean(str(reference), catalog.ids()) or (
            "known packs: " + ", ".join(catalog.ids())
        )
        raise PackError([Problem(Location(str(reference)), f"no rule pack '{reference}'", hint)])
    return entry.path


# --- schema errors --------------------------------------------------------------------


def schema_problems(
    error: ValidationError, document: YamlDocument, model: type[BaseModel], what: str = "pack"
) -> list[Problem]:
    """pydantic's validation errors as problems at the lines and columns of the file, a file
    holding `what` (a pack, waivers, test cases)."""
    problems = []
    for item in error.errors():
        path: YamlPath = tuple(item["loc"])
        key = str(path[-1]) if path else what
        kind = item["type"]
        if not path and kind in ("dict_type", "model_type"):
            found = "an empty file" if item["input"] is None else type(item["input"]).__name__
            required = [name for name, info in model.model_fields.items() if info.is_required()]
            problems.append(
                Problem(
                    document.location(()),
                    f"a {what} file must be a mapping of keys, not {found}",
                    "it needs " + ", ".join(f"'{name}:'" for name in required),
                )
            )
        elif kind == "missing":
            location = document.location(path[:-1])
            problems.append(Problem(location, f"missing required key '{key}'"))
        elif kind == "extra_forbidden":
            allowed = _keys_at(model, path[:-1])
            hint = did_you_mean(key, allowed) or ("allowed keys: " + ", ".join(allowed))
            problems.append(Problem(document.key_location(path), f"unknown key '{key}'", hint))
        else:
            problems.append(
                Problem(document.location(path), _value_message(key, item), _value_hint(item))
            )
    return problems


def _value_message(key: str, item: Any) -> str:
    kind = item["type"]
    if kind == "string_type":
        return f"'{key}' must be text"
    if kind == "list_type":
        return f"'{key}' must be a list"
    if kind in ("dict_type", "model_type"):
        return f"'{key}' must be a mapping"
    if kind == "string_pattern_mismatch":
        what = _PATTERN_NAMES.get(item["ctx"]["pattern"], (key, ""))[0]
        return f"'{item['input']}' is not a valid {what}"
    if kind == "string_too_short":
        return f"'{key}' must not be empty"
    if kind == "string_too_long":
        return (
            f"'{key}' is {len(item['input']):,} characters long; "
            f"at most {item['ctx']['max_length']:,} are allowed"
        )
    if kind == "value_error":
        return f"'{key}': {item['ctx']['error']}"
    if kind.startswith("date_"):
        return f"'{key}' must be a date written YYYY-MM-DD, not {item['input']!r}"
    return f"'{key}': {item['msg'].rstrip('.')}"


def _value_hint(item: Any) -> str:
    if item["type"] == "string_type" and not isinstance(item["input"], list | dict):
        return "put the value in quotes"
    if item["type"] == "string_pattern_mismatch":
        return _PATTERN_NAMES.get(item["ctx"]["pattern"], ("", ""))[1]
    if item["type"] == "string_too_long":
        return "every finding in every report repeats it: link to a longer text instead"
    return ""


# What each id pattern names, and how to write one.
_PATTERN_NAMES = {
    PACK_ID: ("pack id", "lower-case letters, digits, '-' and '_', e.g. acme-sales"),
    STAGE_ID: ("stage id", "lower_snake_case, e.g. negotiate"),
    MILESTONE_ID: ("milestone id", "letters, digits, '-', '_' and '.', e.g. QUAL-PAIN"),
    FIELD_NAME: ("field name", "lower_snake_case, e.g. economic_buyer"),
}


def _keys_at(model: type[BaseModel], path: YamlPath) -> list[str]:
    """The keys allowed in the mapping at `path` of a file described by `model`."""
    current: Any = model
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return []
            current = info.annotation
        elif typing.get_origin(current) is list:
            current = typing.get_args(current)[0]
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, UnionType):
            options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            annotation = options[0]
        else:
            return annotation


# --- resolution -----------------------------------------------------------------------


@dataclass
class _Condition:
    """A condition's text and where it was written, until it is checked."""

    text: str
    source: PackSource
    path: YamlPath


@dataclass
class _WorkMilestone:
    spec: MilestoneSpec
    stage_id: str | None
    source: PackSource
    path: YamlPath
    require: _Condition
    when: _Condition | None


@dataclass
class _WorkStage:
    spec: StageSpec
    source: PackSource
    path: YamlPath
    name: str
    buyer_step: str
    description: str
    crm_names: list[tuple[str, Location]]
    terminal: str | None
    exit: list[_WorkMilestone] = field(default_factory=list)


@dataclass
class _Work:
    """The pack being built, one source at a time, bases first."""

    stages: list[_WorkStage] = field(default_factory=list)
    checks: list[_WorkMilestone] = field(default_factory=list)
    milestones: dict[str, _WorkMilestone] = field(default_factory=dict)
    fields: dict[str, FieldDeclaration] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    placeholders: set[str] | None = None  # None: dealgate's list, unchanged
    # Forecast category -> (stage id, where it was written); later packs override a category.
    forecast: dict[str, tuple[str, Location]] = field(default_factory=dict)
    # Stage id -> (highest probability its evidence supports, where it was written).
    probability_ceiling: dict[str, tuple[float, Location]] = field(default_factory=dict)


class _Resolver:
    def __init__(self, catalog: PackCatalog) -> None:
        self.catalog = catalog
        self.problems: list[Problem] = []
        self.unusable = False  # a file could not be read, or its bases could not be found

    def resolve(self, path: Path) -> RulePack:
        order: list[PackSource] = []
        root = self._collect(path, [], order)
        if root is None or self.unusable:
            raise PackError(self.problems)
        work = _Work()
        for source in order:
            _apply(source, work)
        pack = _build(root, order, work)
        if self.problems or work.problems:
            raise PackError(self.problems + work.problems)
        return pack

    def _collect(
        self, path: Path, stack: list[tuple[Path, str]], order: list[PackSource]
    ) -> PackSource | None:
        """Read a pack and its bases depth-first; `order` gets bases before what extends them."""
        source, problems = _read_pack_source(path, self.catalog)
        self.problems.extend(problems)
        if source is None:
            self.unusable = True
            return None
        stack = [*stack, (path.resolve(), source.spec.pack)]
        for index, base_id in enumerate(source.spec.extends):
            where = source.document.location(("extends", index))
            entry = self.catalog.find(base_id, exclude=[path])
            if entry is None and base_id == source.spec.pack:
                self.problems.append(
                    Problem(
                        where,
                        f"pack '{base_id}' extends itself",
                        "list the packs it builds on, not its own id",
                    )
                )
                self.unusable = True
                continue
            if entry is None:
                hint = did_you_mean(base_id, self.catalog.ids()) or (
                    "known packs: " + ", ".join(self.catalog.ids())
                )
                self.problems.append(Problem(where, f"extends unknown pack '{base_id}'", hint))
                self.unusable = True
                continue
            base_path = entry.path.resolve()
            if any(known == base_path for known, _ in stack):
                cycle = " -> ".join([*(pack_id for _, pack_id in stack), base_id])
                self.problems.append(
                    Problem(
                        where, f"'extends' makes a cycle: {cycle}", "a pack cannot build on itself"
                    )
                )
                self.unusable = True
                continue
            if any(known.path.resolve() == base_path for known in order):
                continue  # already included through another base
            if len(stack) >= MAX_EXTENDS_DEPTH:
                chain = [pack_id for _, pack_id in stack]
                shown = " -> ".join([*chain[:2], "...", *chain[-2:], base_id])
                self.problems.append(
                    Problem(
                        where,
                        f"'extends' goes more than {MAX_EXTENDS_DEPTH} packs deep: {shown}",
                        "a pack may build on a chain of at most "
                        f"{MAX_EXTENDS_DEPTH} packs; merge some of them",
                    )
                )
                self.unusable = True
                continue
            self._collect(entry.path, stack, order)
        order.append(source)
        return source


def _apply(source: PackSource, work: _Work) -> None:
    """Merge one pack's fields, stages, checks, overrides and removals into the work."""
    spec = source.spec
    _apply_fields(source, work)
    own_stages: set[str] = set()
    inserted_after: dict[str, int] = {}
    inherited = [stage.spec.id for stage in work.stages] if spec.extends else []
    for index, stage_spec in enumerate(spec.stages):
        path: YamlPath = ("stages", index)
        if stage_spec.id in own_stages:
            work.problems.append(
                Problem(
                    source.document.location((*path, "id")), f"duplicate stage id '{stage_spec.id}'"
                )
            )
            continue
        own_stages.add(stage_spec.id)
        existing = next((stage for stage in work.stages if stage.spec.id == stage_spec.id), None)
        if existing is None and inherited and stage_spec.after is None:
            existing = _unplaced_stage(stage_spec, source, path, inherited, work)
        if existing is not None:
            _extend_stage(existing, stage_spec, source, path, work)
            stage = existing
        else:
            stage = _new_stage(stage_spec, source, path)
            _place_stage(stage, work, inserted_after)
        for exit_index, milestone_spec in enumerate(stage_spec.exit):
            milestone = _new_milestone(
                milestone_spec, stage.spec.id, source, (*path, "exit", exit_index), work
            )
            if milestone is not None:
                stage.exit.append(milestone)
    for index, check_spec in enumerate(spec.checks):
        milestone = _new_milestone(check_spec, None, source, ("checks", index), work)
        if milestone is not None:
            work.checks.append(milestone)
    _apply_overrides(source, work)
    _apply_removals(source, work)
    _apply_placeholders(source, work)
    _apply_forecast(source, work)
    for stage_id, ceiling in source.spec.probability_ceiling.items():
        where = source.document.location(("probability_ceiling", stage_id))
        work.probability_ceiling[stage_id] = (ceiling, where)


def _apply_forecast(source: PackSource, work: _Work) -> None:
    """Forecast categories are checked against the normalised domain here; the stage ids
    once every stage is known (_check_forecast)."""
    for written, stage_id in source.spec.forecast.items():
        where = source.document.key_location(("forecast", written))
        category = FORECAST_CATEGORY.read_as.get(header_key(written), written)
        if category not in FORECAST_CATEGORY.values:
            hint = did_you_mean(written, FORECAST_CATEGORY.values) or (
                "forecast categories: " + ", ".join(FORECAST_CATEGORY.values)
            )
            work.problems.append(Problem(where, f"unknown forecast category '{written}'", hint))
            continue
        work.forecast[category] = (stage_id, source.document.location(("forecast", written)))


def _check_forecast(work: _Work, stage_ids: list[str]) -> dict[str, str]:
    for category, (stage_id, where) in work.forecast.items():
        if stage_id not in stage_ids:
            hint = did_you_mean(stage_id, stage_ids) or ("stages: " + ", ".join(stage_ids))
            work.problems.append(
                Problem(
                    where, f"forecast category '{category}' needs unknown stage '{stage_id}'", hint
                )
            )
    return {category: stage_id for category, (stage_id, _) in work.forecast.items()}


def _check_probability_ceiling(work: _Work, stages: tuple[Stage, ...]) -> dict[str, float]:
    """Ceilings name open stages, lie in 0-100 and never fall as the evidence grows."""
    open_ids = [stage.id for stage in stages if stage.is_open]
    ceilings: dict[str, float] = {}
    for stage_id, (ceiling, where) in work.probability_ceiling.items():
        if stage_id not in open_ids:
            hint = did_you_mean(stage_id, open_ids) or ("open stages: " + ", ".join(open_ids))
            work.problems.append(
                Problem(where, f"probability_ceiling names unknown open stage '{stage_id}'", hint)
            )
        elif not 0 <= ceiling <= 100:
            work.problems.append(
                Problem(where, f"probability ceiling {ceiling:g} for '{stage_id}' is outside 0-100")
            )
        else:
            ceilings[stage_id] = ceiling
    highest: tuple[str, float] | None = None
    for stage_id in open_ids:
        if stage_id not in ceilings:
            continue
        if highest is not None and ceilings[stage_id] < highest[1]:
            work.problems.append(
                Problem(
                    work.probability_ceiling[stage_id][1],
                    f"probability ceiling {ceilings[stage_id]:g} for '{stage_id}' is below "
                    f"{highest[1]:g} for the earlier stage '{highest[0]}'",
                    "more evidence never supports a lower probability",
                )
            )
        highest = (stage_id, ceilings[stage_id])
    return {stage_id: ceilings[stage_id] for stage_id in open_ids if stage_id in ceilings}


def _apply_placeholders(source: PackSource, work: _Work) -> None:
    """Texts added are read as missing, texts kept are read as text; a kept text that is
    no placeholder at this point is an error, as it would silently change nothing."""
    spec = source.spec.placeholders
    if spec is None:
        return
    current = set(PLACEHOLDERS if work.placeholders is None else work.placeholders)
    for key in ("add", "keep"):
        for index, written in enumerate(getattr(spec, key)):
            text = written.strip().casefold()
            where = source.document.location(("placeholders", key, index))
            if not text:
                work.problems.append(
                    Problem(where, "a blank placeholder", "blanks are missing anyway")
                )
            elif key == "add":
                current.add(text)
            elif text not in current:
                hint = did_you_mean(text, sorted(current)) or (
                    "placeholders: " + ", ".join(sorted(current))
                )
                work.problems.append(
                    Problem(
                        where,
                        f"'{written}' is not a placeholder, so keeping it changes nothing",
                        hint,
                    )
                )
            else:
                current.discard(text)
    work.placeholders = current


def _unplaced_stage(
    spec: StageSpec, source: PackSource, path: YamlPath, inherited: list[str], work: _Work
) -> _WorkStage | None:
    """A stage id an extending pack neither inherits nor places with `after`: an error, since
    a typo of an inherited id would otherwise add a stage. The stage it is most likely a typo
    of is returned, so the rest of the file is checked as meant."""
    meant = did_you_mean(spec.id, inherited)
    bases = ", ".join(source.spec.extends)
    work.problems.append(
        Problem(
            source.document.location((*path, "id")),
            f"stage '{spec.id}' is not in {bases}, and a new stage needs 'after: STAGE_ID'",
            meant or "stages: " + ", ".join(inherited),
        )
    )
    close = difflib.get_close_matches(spec.id, inherited, n=1, cutoff=0.6)
    return next((stage for stage in work.stages if [stage.spec.id] == close), None)


def _apply_fields(source: PackSource, work: _Work) -> None:
    for name, field_spec in source.spec.fields.items():
        where = source.document.key_location(("fields", name))
        if name in CANONICAL_FIELDS:
            work.problems.append(
                Problem(
                    where,
                    f"'{name}' is a canonical deal field ({CANONICAL_FIELDS[name]})",
                    "declare only custom fields",
                )
            )
            continue
        declared = FieldDeclaration(
            name, _field_type(field_spec), field_spec.description or "", source.spec.pack
        )
        known = work.fields.get(name)
        if known is not None and known.type != declared.type:
            work.problems.append(
                Problem(
                    where,
                    f"field '{name}' is declared {declared.type} here but "
                    f"{known.type} in pack '{known.defined_in}'",
                )
            )
            continue
        work.fields[name] = declared


def _field_type(spec: FieldSpec) -> FieldType:
    items = {name: _field_type(item) for name, item in spec.fields.items()}
    return FieldType(Kind(spec.type), MappingProxyType(items))


def _new_stage(spec: StageSpec, source: PackSource, path: YamlPath) -> _WorkStage:
    return _WorkStage(
        spec,
        source,
        path,
        spec.name or spec.id,
        spec.buyer_step or "",
        spec.description or "",
        _crm_names(spec, source, path),
        spec.terminal,
    )


def _crm_names(spec: StageSpec, source: PackSource, path: YamlPath) -> list[tuple[str, Location]]:
    return [
        (name, source.document.location((*path, "crm_names", index)))
        for index, name in enumerate(spec.crm_names)
    ]


def _extend_stage(
    stage: _WorkStage, spec: StageSpec, source: PackSource, path: YamlPath, work: _Work
) -> None:
    """An extending pack lists an inherited stage: add milestones, change names."""
    given = spec.model_fields_set
    if "after" in given:
        work.problems.append(
            Problem(
                source.document.key_location((*path, "after")),
                f"stage '{spec.id}' is inherited; 'after' only places new stages",
            )
        )
    if "terminal" in given and spec.terminal != stage.terminal:
        work.problems.append(
            Problem(
                source.document.key_location((*path, "terminal")),
                f"stage '{spec.id}' is inherited; it cannot change between open and terminal",
            )
        )
    if "name" in given:
        stage.name = spec.name or spec.id
    if "buyer_step" in given:
        stage.buyer_step = spec.buyer_step or ""
    if "description" in given:
        stage.description = spec.description or ""
    if "crm_names" in given:
        stage.crm_names = _crm_names(spec, source, path)


def _place_stage(stage: _WorkStage, work: _Work, inserted_after: dict[str, int]) -> None:
    anchor = stage.spec.after
    if anchor is None:
        work.stages.append(stage)
        return
    ids = [known.spec.id for known in work.stages]
    if anchor not in ids:
        where = stage.source.document.location((*stage.path, "after"))
        hint = did_you_mean(anchor, ids) or ("stages so far: " + ", ".join(ids))
        work.problems.append(Problem(where, f"'after' names unknown stage '{anchor}'", hint))
        work.stages.append(stage)
        return
    # Several new stages after one anchor keep the order they are written in.
    offset = inserted_after.get(anchor, 0)
    work.stages.insert(ids.index(anchor) + 1 + offset, stage)
    inserted_after[anchor] = offset + 1


def _new_milestone(
    spec: MilestoneSpec, stage_id: str | None, source: PackSource, path: YamlPath, work: _Work
) -> _WorkMilestone | None:
    known = work.milestones.get(spec.id)
    if known is not None:
        first = known.source.document.location((*known.path, "id"))
        inherited = known.source is not source
        hint = (
            f"first defined at {first}; use 'overrides' to change an inherited milestone"
            if inherited
            else f"first defined at {first}"
        )
        work.problems.append(
            Problem(
                source.document.location((*path, "id")), f"duplicate milestone id '{spec.id}'", hint
            )
        )
        return None
    when = _Condition(spec.when, source, (*path, "when")) if spec.when is not None else None
    milestone = _WorkMilestone(
        spec, stage_id, source, path, _Condition(spec.require, source, (*path, "require")), when
    )
    work.milestones[spec.id] = milestone
    return milestone


def _apply_overrides(source: PackSource, work: _Work) -> None:
    for milestone_id, override in source.spec.overrides.items():
        path: YamlPath = ("overrides", milestone_id)
        target = work.milestones.get(milestone_id)
        if target is None:
            work.problems.append(_unknown_milestone(source, path, milestone_id, work, "override"))
            continue
        changes = {key: getattr(override, key) for key in override.model_fields_set}
        for condition in ("require", "when"):
            if condition in changes:
                setattr(
                    target,
                    condition,
                    _Condition(changes.pop(condition), source, (*path, condition)),
                )
        target.spec = target.spec.model_copy(update=changes)


def _apply_removals(source: PackSource, work: _Work) -> None:
    for index, milestone_id in enumerate(source.spec.remove):
        target = work.milestones.pop(milestone_id, None)
        if target is None:
            work.problems.append(
                _unknown_milestone(source, ("remove", index), milestone_id, work, "remove")
            )
            continue
        if target.stage_id is None:
            work.checks.remove(target)
        else:
            stage = next(stage for stage in work.stages if stage.spec.id == target.stage_id)
            stage.exit.remove(target)


def _unknown_milestone(
    source: PackSource, path: YamlPath, milestone_id: str, work: _Work, verb: str
) -> Problem:
    where = (
        source.document.key_location(path) if verb == "override" else source.document.location(path)
    )
    hint = did_you_mean(milestone_id, work.milestones)
    return Problem(where, f"cannot {verb} unknown milestone '{milestone_id}'", hint)


# --- the resolved pack ----------------------------------------------------------------


def _build(root: PackSource, order: list[PackSource], work: _Work) -> RulePack:
    open_stages = [stage for stage in work.stages if stage.terminal is None]
    terminal_stages = [stage for stage in work.stages if stage.terminal is not None]
    ordered = open_stages + terminal_stages
    stage_ids = [stage.spec.id for stage in ordered]
    if not open_stages:
        work.problems.append(
            Problem(
                root.document.key_location(("stages",)),
                "the pack has no open stage",
                "list the stages in order",
            )
        )
    _check_crm_names(ordered, work)
    deal_fields: dict[str, FieldType] = dict(CANONICAL_FIELDS)
    deal_fields.update({name: declared.type for name, declared in work.fields.items()})
    checker = _ConditionChecker(deal_fields, stage_ids, work)
    stages = tuple(
        Stage(
            id=stage.spec.id,
            name=stage.name,
            buyer_step=stage.buyer_step,
            description=stage.description,
            crm_names=tuple(name for name, _ in stage.crm_names),
            terminal=stage.terminal,
            exit=tuple(_finish(milestone, checker) for milestone in stage.exit),
            position=position,
            location=stage.source.document.location(stage.path),
        )
        for position, stage in enumerate(ordered)
    )
    for stage in terminal_stages:
        if stage.exit:
            work.problems.append(
                Problem(
                    stage.source.document.key_location((*stage.path, "exit")),
                    f"terminal stage '{stage.spec.id}' cannot have exit milestones",
                )
            )
    forecast = _check_forecast(work, stage_ids)
    probability_ceiling = _check_probability_ceiling(work, stages)
    spec = root.spec
    return RulePack(
        id=spec.pack,
        title=spec.title or spec.pack,
        description=spec.description or "",
        extends=tuple(spec.extends),
        stages=stages,
        checks=tuple(_finish(check, checker) for check in work.checks),
        fields=MappingProxyType(dict(work.fields)),
        source=root.document.location(()),
        lineage=tuple(source.spec.pack for source in order),
        placeholders=None if work.placeholders is None else frozenset(work.placeholders),
        forecast=MappingProxyType(forecast) if forecast else None,
        probability_ceiling=(
            MappingProxyType(probability_ceiling) if probability_ceiling else None
        ),
    )


def _check_crm_names(stages: list[_WorkStage], work: _Work) -> None:
    """A CRM stage value must mean one stage: no name in two stages, none equal to another id."""
    owner: dict[str, str] = {normalise_stage_name(stage.spec.id): stage.spec.id for stage in stages}
    for stage in stages:
        for name, where in stage.crm_names:
            key = normalise_stage_name(name)
            other = owner.setdefault(key, stage.spec.id)
            if other != stage.spec.id:
                work.problems.append(
                    Problem(
                        where,
                        f"CRM name '{name}' is mapped to stages '{other}' and '{stage.spec.id}'",
                        "a CRM stage value must mean one stage",
                    )
                )


@dataclass
class _ConditionChecker:
    deal_fields: Mapping[str, FieldType]
    stage_ids: list[str]
    work: _Work

    def check(self, condition: _Condition) -> CheckedCondition:
        scope = Scope(self.deal_fields, self.stage_ids, condition.source.declares_fields)
        try:
            return check_condition(condition.text, scope)
        except ExpressionError as failure:
            errors = failure.errors if isinstance(failure, ConditionErrors) else (failure,)
            for error in errors:
                location = condition.source.document.text_location(condition.path, error.span.start)
                self.work.problems.append(Problem(location, error.message, error.hint))
            return CheckedCondition(condition.text, _NEVER, ())


def _finish(milestone: _WorkMilestone, checker: _ConditionChecker) -> Milestone:
    spec = milestone.spec
    return Milestone(
        id=spec.id,
        milestone=spec.milestone,
        require=checker.check(milestone.require),
        when=checker.check(milestone.when) if milestone.when is not None else None,
        evidence=spec.evidence or "",
        verified_by=VerifiedBy(spec.verified_by),
        severity=Severity(spec.severity),
        guidance=spec.guidance or "",
        stage_id=milestone.stage_id,
        defined_in=milestone.source.spec.pack,
        location=milestone.source.document.location(milestone.path),
    )


# The tree kept for a condition that failed to check; the pack is refused anyway.
_NEVER = Boolean(False)
