"""A mapping file: how the export of any CRM maps onto the canonical deal (docs/crm-mapping.md)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dealgate.deals.normalise import DateOrder
from dealgate.deals.profiles import BUILT_IN, CANONICAL, Profile, custom_field_name, header_key
from dealgate.deals.readers import open_table
from dealgate.deals.sides import SideTable
from dealgate.errors import InputError, Problem, did_you_mean
from dealgate.rules.loader import schema_problems
from dealgate.rules.model import RulePack
from dealgate.rules.spec import FIELD_NAME
from dealgate.rules.types import CANONICAL_FIELDS
from dealgate.yamlsafe import YamlDocument, read_yaml_file

FieldName = Annotated[str, Field(pattern=FIELD_NAME)]


class JoinSpec(BaseModel):
    """A side table joined to each deal by a key column (docs/crm-mapping.md)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    file: Annotated[str, Field(description="The side table, relative to the mapping file.")]
    on: Annotated[
        dict[str, str],
        Field(
            min_length=1,
            max_length=1,
            description="{export column: side table column} holding the key both share.",
        ),
    ]
    columns: Annotated[
        dict[str, FieldName],
        Field(min_length=1, description="Side table column -> canonical or custom field."),
    ]


class TeamsSpec(BaseModel):
    """The headers of the --teams file."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    owner: Annotated[str, Field(description="The column of the deal owner (the rep).")]
    manager: Annotated[str, Field(description="The column of the owner's manager.")]


class MappingSpec(BaseModel):
    """The keys of a mapping file."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    mapping: Annotated[str, Field(description="A name for this mapping, e.g. the CRM.")]
    profile: Annotated[
        Literal["salesforce", "hubspot", "canonical"],
        Field(description="Built-in profile to start from."),
    ] = "canonical"
    columns: Annotated[
        dict[str, Annotated[list[FieldName], Field(min_length=1)]],
        Field(
            description="Column header -> canonical or custom field name, or a list of them "
            "when one column fills several fields (e.g. [id, name])."
        ),
    ] = {}
    ignore: Annotated[list[str], Field(description="Columns not to read at all.")] = []
    stage_history: Annotated[
        dict[str, str],
        Field(description="Column header -> the CRM stage whose entry date it holds."),
    ] = {}
    stages: Annotated[
        dict[str, str], Field(description="CRM stage value -> pack stage id; wins over crm_names.")
    ] = {}
    values: Annotated[
        dict[str, dict[str, str]], Field(description="Field -> {value in the file: value read}.")
    ] = {}
    date_order: Literal["M/D/YYYY", "D/M/YYYY"] | None = None
    decimal_mark: Literal[".", ","] | None = None
    currency: Annotated[str | None, Field(pattern=r"^[A-Z]{3}$")] = None
    managers: Annotated[dict[str, str], Field(description="Owner -> manager.")] = {}
    joins: Annotated[
        list[JoinSpec], Field(description="Side tables joined to each deal by a key column.")
    ] = []
    teams: Annotated[
        TeamsSpec | None, Field(description="The owner and manager headers of --teams.")
    ] = None

    @field_validator("columns", mode="before")
    @classmethod
    def _one_field_is_a_list_of_one(cls, columns: object) -> object:
        """`Header: field` is `Header: [field]`: one schema, and errors name the field."""
        if isinstance(columns, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in columns.items()}
        return columns


def joined_files(path: Path) -> list[tuple[str, Path]]:
    """The side tables a mapping file's `joins:` name: as written, and found relative to the
    mapping file. For the checks made before any work (an --output that would replace one);
    a mapping that cannot be read names none here, and load_mapping reports why."""
    try:
        spec = MappingSpec.model_validate(read_yaml_file(path).value)
    except (InputError, ValidationError):
        return []
    return [(join.file, path.parent / join.file) for join in spec.joins]


def teams_columns(path: Path) -> tuple[str, str] | None:
    """The owner and manager headers of the --teams file a mapping file names (`teams:`), for
    reading the teams file apart from the export (audit --notify-managers); None when it names
    none, or cannot be read (load_mapping reports why)."""
    try:
        spec = MappingSpec.model_validate(read_yaml_file(path).value)
    except (InputError, ValidationError):
        return None
    return (spec.teams.owner, spec.teams.manager) if spec.teams else None


def load_mapping(
    path: Path,
    pack: RulePack,
    headers: Sequence[str] | None = None,
    *,
    export: str = "the file",
    pack_named: bool = True,
) -> Profile:
    """Read a mapping file into a profile for an export with these headers; every problem
    (a column the export lacks, a field under `values:` nothing fills, a stage id the pack
    lacks) is reported with its position. When the user did not name the pack (`deals
    inspect` without --rules), a stage id the pack lacks is a note and that entry is left out.
    """
    document = read_yaml_file(path)
    try:
        spec = MappingSpec.model_validate(document.value)
    except ValidationError as error:
        raise InputError(schema_problems(error, document, MappingSpec, "mapping")) from None
    base = BUILT_IN.get(spec.profile, CANONICAL)
    targets = {header: _targets(target) for header, target in spec.columns.items()}
    problems, notes = _stage_problems(spec, document, pack, pack_named)
    joins, join_problems = _side_tables(spec, document, path.parent, headers, export)
    problems += join_problems
    if headers is not None:
        problems += _missing_columns(spec, document, headers, export)
        known = {*CANONICAL_FIELDS, *pack.fields}
        known.update(name for names in targets.values() for name in names)
        known.update(name for side in joins for _, name in side.columns)
        unread = {
            header_key(header) for header in [*spec.columns, *spec.ignore, *spec.stage_history]
        }
        known.update(
            base.target(header) or custom_field_name(header)
            for header in headers
            if header_key(header) not in unread  # read as the mapping says, or not at all
        )
        problems += _unknown_value_fields(spec, document, known)
    if problems:
        raise InputError(problems)
    columns = dict(base.columns)
    columns.update({header_key(header): names[0] for header, names in targets.items()})
    for side in joins:
        columns.update({header_key(side.header(c)): name for c, name in side.columns})
    further = {header_key(header): names[1:] for header, names in targets.items() if names[1:]}
    stage_ids = {stage.id for stage in pack.stages}
    stage_map = {header_key(k): v for k, v in spec.stages.items() if v in stage_ids}
    value_maps = {name: MappingProxyType(dict(values)) for name, values in base.value_maps.items()}
    for name, values in spec.values.items():
        merged = dict(value_maps.get(name, {}))
        merged.update({header_key(key): value for key, value in values.items()})
        value_maps[name] = MappingProxyType(merged)
    profile = replace(
        base,
        name=f"mapping {spec.mapping}",
        title=f"mapping file {path.name} (on {base.name})",
        short=base.short,
        explicit=frozenset(
            [
                *(header_key(header) for header in spec.columns),
                *(header_key(header) for side in joins for header in side.headers),
            ]
        ),
        columns=MappingProxyType(columns),
        ignore=frozenset(header_key(header) for header in spec.ignore),
        entered=MappingProxyType({header_key(h): stage for h, stage in spec.stage_history.items()}),
        further=MappingProxyType(further),
        notes=tuple(notes),
        stage_map=MappingProxyType(stage_map),
        value_maps=MappingProxyType(value_maps),
        date_order=DateOrder(spec.date_order) if spec.date_order else base.date_order,
        decimal_mark=spec.decimal_mark or base.decimal_mark,
        default_currency=spec.currency or base.default_currency,
        joins=tuple(joins),
        teams_columns=(spec.teams.owner, spec.teams.manager) if spec.teams else None,
    )
    return profile.with_managers(spec.managers)


def _side_tables(
    spec: MappingSpec,
    document: YamlDocument,
    folder: Path,
    headers: Sequence[str] | None,
    export: str,
) -> tuple[list[SideTable], list[Problem]]:
    """The side tables of `joins:`, each checked like `columns:` is: its file exists, and
    every column it names (the key on both sides, the columns read) is in its file."""
    sides: list[SideTable] = []
    problems: list[Problem] = []
    for index, join in enumerate(spec.joins):
        where = ("joins", index)
        file = folder / join.file
        if not file.is_file():
            problems.append(
                Problem(
                    document.location((*where, "file")),
                    f"side table '{join.file}' not found (looked for {file})",
                    "paths under joins: are relative to the mapping file",
                )
            )
            continue
        side_headers = open_table(file).headers
        ((on, key),) = join.on.items()
        # (column, where the mapping names it, is it a key there, the headers, their file)
        named = [(on, (*where, "on", on), True, headers, export)]
        named.append((key, (*where, "on", on), False, side_headers, file.name))
        named += [(c, (*where, "columns", c), True, side_headers, file.name) for c in join.columns]
        for header, at, is_key, among, name in named:
            if among is not None and header_key(header) not in {header_key(h) for h in among}:
                problems.append(_not_a_column(header, document, at, among, name, key=is_key))
        by_key = {header_key(h): h for h in side_headers}
        export_keys = {header_key(h): h for h in headers or ()}
        sides.append(
            SideTable(
                file,
                export_keys.get(header_key(on), on),  # as the export spells it
                by_key.get(header_key(key), key),
                tuple((by_key.get(header_key(c), c), name) for c, name in join.columns.items()),
            )
        )
    return sides, problems


def _not_a_column(
    header: str,
    document: YamlDocument,
    at: tuple[str | int, ...],
    headers: Sequence[str],
    file: str,
    *,
    key: bool = True,
) -> Problem:
    """A column a mapping names that its file lacks, with the nearest header or the headers."""
    by_key = {header_key(h): h for h in headers}
    close = difflib.get_close_matches(header_key(header), list(by_key), n=1, cutoff=0.6)
    hint = (
        f"did you mean '{by_key[close[0]]}'?"
        if close
        else f"its headers: {', '.join(headers[:12])}" + (", ..." if len(headers) > 12 else "")
    )
    where = document.key_location(at) if key else document.location(at)
    return Problem(where, f"column '{header}' is not in {file}", hint)


def _targets(targets: list[str]) -> tuple[str, ...]:
    """The fields a column fills, in order, each once."""
    return tuple(dict.fromkeys(targets))


def _stage_problems(
    spec: MappingSpec, document: YamlDocument, pack: RulePack, pack_named: bool
) -> tuple[list[Problem], list[str]]:
    """Stage ids the pack lacks: errors, or notes when the user did not name the pack."""
    problems: list[Problem] = []
    notes: list[str] = []
    stage_ids = [stage.id for stage in pack.stages]
    for crm_stage, stage_id in spec.stages.items():
        if stage_id in stage_ids:
            continue
        problem = Problem(
            document.location(("stages", crm_stage)),
            f"stage '{crm_stage}' is mapped to '{stage_id}', not a stage of pack '{pack.id}'",
            did_you_mean(stage_id, stage_ids) or "stages: " + ", ".join(stage_ids),
        )
        if pack_named:
            problems.append(problem)
        else:
            notes.append(
                f"{problem.location}: {problem.message}; read by the pack's own "
                "stage names instead (name the mapping's pack with --rules)"
            )
    return problems, notes


def _missing_columns(
    spec: MappingSpec, document: YamlDocument, headers: Sequence[str], export: str
) -> list[Problem]:
    """A column the mapping reads that the export does not have would read nothing."""
    keys = {header_key(header) for header in headers}
    named = [("columns", header) for header in spec.columns]
    named += [("stage_history", header) for header in spec.stage_history]
    return [
        _not_a_column(header, document, (section, header), headers, export)
        for section, header in named
        if header_key(header) not in keys
    ]


def _unknown_value_fields(
    spec: MappingSpec, document: YamlDocument, known: set[str]
) -> list[Problem]:
    """A field under `values:` that is not canonical, not declared by the pack and not read
    from any column: its values would never be looked at."""
    return [
        Problem(
            document.key_location(("values", name)),
            f"'values' names the field '{name}', which no column is read as "
            "(not a canonical field, not declared by the pack, not mapped)",
            did_you_mean(name, sorted(known)),
        )
        for name in spec.values
        if name not in known
    ]
