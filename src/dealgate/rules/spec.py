"""The rule pack file format as pydantic models: validation and the JSON Schema.

These models describe one YAML file as written, before `extends` is resolved. The loader
maps their validation errors back to lines and columns of the file.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dealgate.rules.expr import KEYWORDS
from dealgate.rules.types import DECLARABLE_KINDS

PACK_ID = r"^[a-z0-9][a-z0-9_-]*$"
STAGE_ID = r"^[a-z][a-z0-9_]*$"
MILESTONE_ID = r"^[A-Za-z][A-Za-z0-9_.-]*$"
FIELD_NAME = r"^[a-z_][a-z0-9_]*$"

# The longest texts a milestone may carry. Each is copied into every finding of every report
# (a row per deal and milestone), so a pack with megabytes of guidance would make every report
# that much larger. The bundled packs' longest: guidance 324 characters, evidence 176,
# milestone 69.
MAX_GUIDANCE_LENGTH = 4_000  # guidance and evidence
MAX_MILESTONE_LENGTH = 500  # the milestone's sign post

Severity = Literal["required", "recommended"]
VerifiedBy = Literal["buyer", "seller", "system"]
FieldKind = Literal["text", "number", "money", "date", "boolean", "list", "record"]

assert set(FieldKind.__args__) == {kind.value for kind in DECLARABLE_KINDS}  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class MilestoneSpec(_Strict):
    """An exit milestone of a stage, or a hygiene check."""

    id: Annotated[str, Field(pattern=MILESTONE_ID, description="Unique id, e.g. QUAL-PAIN.")]
    milestone: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_MILESTONE_LENGTH,
            description="The sign post, in a few words.",
        ),
    ]
    require: Annotated[str, Field(min_length=1, description="Condition that must be true.")]
    when: Annotated[str | None, Field(description="Applies only when this is true.")] = None
    evidence: Annotated[
        str | None,
        Field(max_length=MAX_GUIDANCE_LENGTH, description="What proves it, and where it is."),
    ] = None
    verified_by: Annotated[VerifiedBy, Field(description="Who can confirm it.")] = "seller"
    severity: Severity = "required"
    guidance: Annotated[
        str | None,
        Field(
            max_length=MAX_GUIDANCE_LENGTH,
            description="The skill, question or tool that gets it done.",
        ),
    ] = None


class StageSpec(_Strict):
    """A stage of the process; its `exit` milestones must be met to leave it."""

    id: Annotated[str, Field(pattern=STAGE_ID, description="Stage id used in expressions.")]
    name: str | None = None
    buyer_step: Annotated[str | None, Field(description="Where the buyer is in their journey.")] = (
        None
    )
    description: str | None = None
    crm_names: Annotated[
        list[str],
        Field(description="CRM stage values that mean this stage (case and spaces ignored)."),
    ] = []
    terminal: Annotated[
        Literal["won", "lost"] | None, Field(description="Marks a closed stage.")
    ] = None
    after: Annotated[
        str | None,
        Field(
            description="In an extending pack: this is a new stage, placed after that stage id "
            "(a stage the extended packs do not have is an error without it)."
        ),
    ] = None
    exit: list[MilestoneSpec] = []

    @field_validator("id")
    @classmethod
    def _not_a_keyword(cls, value: str) -> str:
        if value in KEYWORDS:
            raise ValueError(f"'{value}' is a word of the expression language")
        return value


class FieldSpec(_Strict):
    """A declared deal field: its type, and for lists and records the fields of an item."""

    type: FieldKind
    description: str | None = None
    fields: dict[Annotated[str, Field(pattern=FIELD_NAME)], FieldSpec] = {}

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _expand_shorthand(value)


class OverrideSpec(_Strict):
    """Changes to an inherited milestone or check."""

    milestone: Annotated[str | None, Field(max_length=MAX_MILESTONE_LENGTH)] = None
    require: str | None = None
    when: str | None = None
    evidence: Annotated[str | None, Field(max_length=MAX_GUIDANCE_LENGTH)] = None
    verified_by: VerifiedBy | None = None
    severity: Severity | None = None
    guidance: Annotated[str | None, Field(max_length=MAX_GUIDANCE_LENGTH)] = None


class PlaceholdersSpec(_Strict):
    """Texts that read as missing (N/A, TBD, ...), changed from dealgate's list or the bases'."""

    add: Annotated[
        list[str], Field(description="Texts also read as missing, ignoring case and spaces.")
    ] = []
    keep: Annotated[
        list[str],
        Field(description="Placeholders read as text here (e.g. tbd), ignoring case and spaces."),
    ] = []


class PackSpec(_Strict):
    """One rule pack file."""

    pack: Annotated[str, Field(pattern=PACK_ID, description="The pack id.")]
    title: str | None = None
    description: str | None = None
    extends: Annotated[list[str], Field(description="Packs this one builds on, in order.")] = []
    fields: Annotated[
        dict[Annotated[str, Field(pattern=FIELD_NAME)], FieldSpec],
        Field(
            description="Declared custom fields; once declared, expressions "
            "may read only declared and canonical fields."
        ),
    ] = {}
    stages: Annotated[list[StageSpec], Field(description="Stages in process order.")]
    checks: Annotated[
        list[MilestoneSpec], Field(description="Hygiene checks for every open deal.")
    ] = []
    overrides: dict[str, OverrideSpec] = {}
    remove: Annotated[list[str], Field(description="Inherited milestone ids to drop.")] = []
    placeholders: Annotated[
        PlaceholdersSpec | None,
        Field(
            description="Change which texts are read as missing: add more, or keep some "
            "(say tbd) as text; applied after the extended packs' changes."
        ),
    ] = None
    forecast: Annotated[
        dict[str, str],
        Field(
            description="Per forecast category (Pipeline, Best Case, Commit, Closed, Omitted), "
            "the evidence stage a deal needs to be in it, e.g. {Commit: negotiate}; an "
            "extending pack inherits its bases' and may override a category."
        ),
    ] = {}
    probability_ceiling: Annotated[
        dict[str, float],
        Field(
            description="Per stage id, the highest probability (0 to 100) a deal whose "
            "evidence reaches that stage supports, e.g. {qualify: 10, negotiate: 80}; a stage "
            "without an entry takes the nearest earlier one's. An extending pack inherits its "
            "bases' and may override a stage."
        ),
    ] = {}

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _expand_shorthand(value)


def _expand_shorthand(value: Any) -> Any:
    """`pain: text` is shorthand for `pain: {type: text}`."""
    if isinstance(value, dict):
        return {
            key: {"type": item} if isinstance(item, str) else item for key, item in value.items()
        }
    return value


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a rule pack file, for editors."""
    schema = PackSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dealgate rule pack"
    # The shorthand `name: text` is valid YAML for a field; say so to editors too.
    field_ref = {"$ref": "#/$defs/FieldSpec"}
    shorthand = {"anyOf": [field_ref, {"enum": list(FieldKind.__args__)}]}  # type: ignore[attr-defined]
    schema["properties"]["fields"]["additionalProperties"] = shorthand
    schema["$defs"]["FieldSpec"]["properties"]["fields"]["additionalProperties"] = shorthand
    return schema
