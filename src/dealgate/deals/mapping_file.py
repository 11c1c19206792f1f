"""A mapping file: how the export of any CRM maps onto the canonical deal (docs/crm-mapping.md)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dealgate.deals.normalise import DateOrder
from dealgate.deals.profiles import BUILT_IN, CANONICAL, Profile, header_key
from dealgate.errors import InputError, Problem, did_you_mean
from dealgate.rules.loader import schema_problems
from dealgate.rules.model import RulePack
from dealgate.rules.spec import FIELD_NAME
from dealgate.yamlsafe import read_yaml_file


class MappingSpec(BaseModel):
    """The keys of a mapping file."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    mapping: Annotated[str, Field(description="A name for this mapping, e.g. the CRM.")]
    profile: Annotated[
        Literal["salesforce", "hubspot", "canonical"],
        Field(description="Built-in profile to start from."),
    ] = "canonical"
    columns: Annotated[
        dict[str, Annotated[str, Field(pattern=FIELD_NAME)]],
        Field(description="Column header -> canonical or custom field name."),
    ] = {}
    ignore: Annotated[list[str], Field(description="Columns not to read at all.")] = []
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


def load_mapping(path: Path, pack: RulePack) -> Profile:
    """Read a mapping file into a profile; every problem is reported with its position."""
    document = read_yaml_file(path)
    try:
        spec = MappingSpec.model_validate(document.value)
    except ValidationError as error:
        raise InputError(schema_problems(error, document, MappingSpec)) from None
    problems = []
    stage_ids = [stage.id for stage in pack.stages]
    for crm_stage, stage_id in spec.stages.items():
        if stage_id not in stage_ids:
            problems.append(
                Problem(
                    document.location(("stages", crm_stage)),
                    f"stage '{crm_stage}' is mapped to '{stage_id}', "
                    f"not a stage of pack '{pack.id}'",
                    did_you_mean(stage_id, stage_ids) or "stages: " + ", ".join(stage_ids),
                )
            )
    if problems:
        raise InputError(problems)
    base = BUILT_IN.get(spec.profile, CANONICAL)
    columns = dict(base.columns)
    columns.update({header_key(header): target for header, target in spec.columns.items()})
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
        explicit=frozenset(header_key(header) for header in spec.columns),
        columns=MappingProxyType(columns),
        ignore=frozenset(header_key(header) for header in spec.ignore),
        stage_map=MappingProxyType({header_key(k): v for k, v in spec.stages.items()}),
        value_maps=MappingProxyType(value_maps),
        date_order=DateOrder(spec.date_order) if spec.date_order else base.date_order,
        decimal_mark=spec.decimal_mark or base.decimal_mark,
        default_currency=spec.currency or base.default_currency,
    )
    return profile.with_managers(spec.managers)
