"""Property: canonical deals written to CSV, XLSX, JSON or Parquet read back as the same deals."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealgate.deals.model import ActionPlanStep, Contact, Deal, StageChange
from dealgate.deals.normalise import is_placeholder
from dealgate.deals.profiles import CANONICAL_FORECAST
from dealgate.deals.source import open_deals
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack

PACK = load_pack("buyer-journey", PackCatalog(cwd=Path("/nonexistent")))
SCALARS = [
    "id",
    "name",
    "account",
    "owner",
    "manager",
    "stage",
    "amount",
    "currency",
    "close_date",
    "created_date",
    "probability",
    "forecast_category",
    "next_step",
    "next_step_date",
    "last_activity_date",
    "close_date_pushes",
]
LISTS = ["contacts", "action_plan", "stage_history"]
CUSTOM = ["region", "lead_source", "deal_type"]
COLUMNS = SCALARS + LISTS + CUSTOM

text = (
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=20)
    .map(str.strip)
    .filter(lambda value: bool(value) and not is_placeholder(value))
)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
money = st.decimals(
    min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
)
optional = st.none  # readability: st.none() | strategy

contacts = st.builds(
    Contact,
    name=optional() | text,
    title=optional() | text,
    role=optional() | text,
    is_primary=optional() | st.booleans(),
    engaged_on=optional() | dates,
)
steps = st.builds(
    ActionPlanStep,
    milestone=optional() | text,
    owner=optional() | text,
    owner_side=optional() | st.sampled_from(["buyer", "seller"]),
    due=optional() | dates,
    done_on=optional() | dates,
)
changes = st.builds(StageChange, stage=optional() | text, entered_on=optional() | dates)


@st.composite
def deals(draw: st.DrawFn) -> list[Deal]:
    ids = draw(st.lists(text, min_size=1, max_size=5, unique_by=lambda value: value))
    stage_names = [stage.id for stage in PACK.stages]
    made = []
    for deal_id in ids:
        made.append(
            Deal(
                id=deal_id,
                name=draw(optional() | text),
                account=draw(optional() | text),
                owner=draw(optional() | text),
                manager=draw(optional() | text),
                stage=draw(st.sampled_from(stage_names)),  # a missing stage is a finding
                amount=draw(optional() | money),
                currency=draw(optional() | st.sampled_from(["USD", "EUR", "GBP"])),
                close_date=draw(optional() | dates),
                created_date=draw(optional() | dates),
                probability=draw(optional() | st.integers(0, 100).map(Decimal)),
                forecast_category=draw(optional() | st.sampled_from(CANONICAL_FORECAST)),
                next_step=draw(optional() | text),
                next_step_date=draw(optional() | dates),
                last_activity_date=draw(optional() | dates),
                close_date_pushes=draw(optional() | st.integers(0, 20)),
                contacts=draw(optional() | st.lists(contacts, max_size=3)),
                action_plan=draw(optional() | st.lists(steps, max_size=3)),
                stage_history=draw(optional() | st.lists(changes, max_size=3)),
                custom=draw(st.dictionaries(st.sampled_from(CUSTOM), text, max_size=3)),
            )
        )
    return made


def _plain(value: Any) -> Any:
    """A value as JSON holds it: dates as ISO text, amounts as text, records as objects."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_plain(item.model_dump(exclude_none=True)) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _row(deal: Deal) -> dict[str, Any]:
    row = {name: getattr(deal, name) for name in SCALARS + LISTS}
    row.update(deal.custom)
    return row


def write_csv(path: Path, made: list[Deal]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for deal in made:
            row = _row(deal)
            writer.writerow(
                [
                    ""
                    if row.get(c) is None
                    else json.dumps(_plain(row[c]))
                    if c in LISTS
                    else _plain(row[c])
                    for c in COLUMNS
                ]
            )


def write_xlsx(path: Path, made: list[Deal]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(COLUMNS)
    for deal in made:
        row = _row(deal)
        cells: list[Any] = []
        for column in COLUMNS:
            value = row.get(column)
            if column in LISTS and value is not None:
                value = json.dumps(_plain(value))
            elif isinstance(value, Decimal):
                value = str(value)  # typed as text, as many exports do for amounts
            cells.append(value)
        sheet.append(cells)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula stays text, as in exports
    workbook.save(path)


def write_json(path: Path, made: list[Deal]) -> None:
    records = [{k: _plain(v) for k, v in _row(deal).items() if v is not None} for deal in made]
    path.write_text(json.dumps({"deals": records}), encoding="utf-8")


def write_parquet(path: Path, made: list[Deal]) -> None:
    def items(values: list[Any] | None) -> list[dict[str, Any]] | None:
        return None if values is None else [item.model_dump() for item in values]

    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for deal in made:
        row = _row(deal)
        for name in COLUMNS:
            value = row.get(name)
            columns[name].append(items(value) if name in LISTS else value)
    schema = pa.schema(
        [
            *(
                (name, pa.string())
                for name in ("id", "name", "account", "owner", "manager", "stage")
            ),
            ("amount", pa.decimal128(14, 2)),
            ("currency", pa.string()),
            ("close_date", pa.date32()),
            ("created_date", pa.date32()),
            ("probability", pa.decimal128(5, 0)),
            ("forecast_category", pa.string()),
            ("next_step", pa.string()),
            ("next_step_date", pa.date32()),
            ("last_activity_date", pa.date32()),
            ("close_date_pushes", pa.int32()),
            (
                "contacts",
                pa.list_(
                    pa.struct(
                        [
                            ("name", pa.string()),
                            ("title", pa.string()),
                            ("role", pa.string()),
                            ("is_primary", pa.bool_()),
                            ("engaged_on", pa.date32()),
                        ]
                    )
                ),
            ),
            (
                "action_plan",
                pa.list_(
                    pa.struct(
                        [
                            ("milestone", pa.string()),
                            ("owner_side", pa.string()),
                            ("owner", pa.string()),
                            ("due", pa.date32()),
                            ("done_on", pa.date32()),
                        ]
                    )
                ),
            ),
            (
                "stage_history",
                pa.list_(pa.struct([("stage", pa.string()), ("entered_on", pa.date32())])),
            ),
            *((name, pa.string()) for name in CUSTOM),
        ]
    )
    pq.write_table(pa.table(columns, schema=schema), path)


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "json": write_json, "parquet": write_parquet}


@pytest.mark.parametrize("suffix", list(WRITERS))
@given(made=deals())
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_canonical_deals_survive_a_round_trip(
    tmp_path: Path, suffix: str, made: list[Deal]
) -> None:
    path = tmp_path / f"deals.{suffix}"
    WRITERS[suffix](path, made)
    source = open_deals(path, PACK, profile="canonical")
    read = [item.deal for item in source]
    assert source.findings == []
    assert read == made
    counts = source.mapper.reconciliation
    assert (counts.rows_read, counts.deals_read, counts.rows_rejected) == (len(made),) * 2 + (0,)
