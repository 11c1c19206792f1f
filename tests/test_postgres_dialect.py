"""The PostgreSQL query on a real server agrees with the durable engine on awkward values:
text that is almost a number or a date, division by zero, fractional days, and a deal field
read inside a list condition where a list item has a field of the same name."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from dealgate.deals.readers import RawRecord, flatten
from dealgate.deals.source import read_records
from dealgate.engines import get_engine
from dealgate.engines.base import Engine
from dealgate.judging.assess import request_for
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack

AS_OF = date(2026, 11, 27)
PACK = {
    "pack": "awkward",
    "stages": [{"id": "open"}],
    "checks": [
        {"id": "DATE-TEXT", "milestone": "text as a date", "require": "met_on < today"},
        {"id": "NUMBER-TEXT", "milestone": "text as a number", "require": "discount < 20"},
        {"id": "PER-POINT", "milestone": "division", "require": "amount / probability > 1"},
        {"id": "HALF-DAY", "milestone": "fractional days", "require": "close_date + 0.5 > today"},
        {"id": "DAYS-ON", "milestone": "whole days", "require": "close_date - 30 < today"},
        {
            "id": "OWNER-STEP",
            "milestone": "the deal owner owns a step",
            "require": "any(action_plan, owner == deal.owner)",
        },
        {
            "id": "ALL-DONE",
            "milestone": "every step done",
            "require": "all(action_plan, present(done_on))",
        },
    ],
}
TEXTS = [
    "2026-01-01",
    " 2026-01-01 ",
    "2026-02-30",
    "2026-02-28",
    "2024-02-29",
    "2026-13-01",
    "2026",
    "2026-1-1",
    "0000-01-01",
    "x",
]
NUMBERS = ["12", " 12.5 ", "1e1", ".5", "-3", "+4", "abc", "1.5d", "", "12,5", "25"]


def _deals() -> list[dict[str, Any]]:
    deals: list[dict[str, Any]] = []
    for index, (text, number) in enumerate(zip(TEXTS, NUMBERS, strict=False)):
        deals.append({"id": f"T{index}", "stage": "open", "met_on": text, "discount": number})
    deals += [
        {"id": "Z", "stage": "open", "amount": 100, "probability": 0},
        {"id": "P", "stage": "open", "amount": 100, "probability": 50},
        {"id": "C", "stage": "open", "close_date": "2026-11-27"},
        {
            "id": "O",
            "stage": "open",
            "owner": "Ada",
            "action_plan": [{"owner": "Kim", "done_on": "2026-11-01"}, {"owner": "Ada"}],
        },
        {"id": "N", "stage": "open", "owner": "Bo", "action_plan": [{"owner": "Kim"}]},
        {"id": "E", "stage": "open", "owner": "Bo", "action_plan": []},
    ]
    return deals


def _pack(tmp_path: Path) -> RulePack:
    path = tmp_path / "awkward.yaml"
    path.write_text(yaml.safe_dump(PACK, sort_keys=False), encoding="utf-8")
    return load_pack(path, PackCatalog(include_bundled=False, cwd=tmp_path))


def _outcomes(engine: Engine, pack: RulePack) -> dict[str, dict[str, str]]:
    records = [RawRecord(n + 1, "deal", flatten(deal)) for n, deal in enumerate(_deals())]
    reads, _ = read_records("awkward.yaml", records, pack)
    requests = [request_for(read, pack) for read in reads]
    return {
        evaluated.request.read.deal.id: {k: v.value for k, v in evaluated.outcomes.items()}
        for evaluated in engine.evaluate(pack, requests, AS_OF)
    }


def test_postgres_reads_awkward_values_as_the_durable_engine_does(
    postgres_engine: Engine, tmp_path: Path
) -> None:
    pack = _pack(tmp_path)
    on_postgres = _outcomes(postgres_engine, pack)
    assert on_postgres == _outcomes(get_engine("durable"), pack)
    # the cases are not all alike: each check is met by some deal and missed by another,
    # except half a day, which is no day at all
    for check in PACK["checks"]:
        statuses = {outcomes[check["id"]] for outcomes in on_postgres.values()}
        expected = {"missing"} if check["id"] == "HALF-DAY" else {"met", "missing"}
        assert statuses == expected, check["id"]


DECLARED = {
    "pack": "declared",
    "fields": {
        "stakeholders": {
            "type": "list",
            "fields": {
                "name": "text",
                "role": "text",
                "met_on": "date",
                "approvals": {"type": "list", "fields": {"by": "text"}},
            },
        },
    },
    "stages": [{"id": "open"}, {"id": "late"}],
    "checks": [
        {
            "id": "CFO-MET",
            "milestone": "CFO met before close",
            "require": "count(stakeholders, role == 'CFO' and met_on <= deal.close_date) >= 1",
        },
        {
            "id": "APPROVED",
            "milestone": "someone approved",
            "require": "any(stakeholders, count(approvals) >= 1)",
        },
        {
            "id": "ALL-NAMED",
            "milestone": "all named",
            "require": "all(stakeholders, present(name))",
        },
        {"id": "LATE", "milestone": "late stage", "require": "stage >= late"},
    ],
}
DECLARED_DEALS: list[dict[str, Any]] = [
    {"id": "A", "stage": "open"},
    {
        "id": "B",
        "stage": "late",
        "close_date": "2026-12-31",
        "stakeholders": [
            {"name": "Kim", "role": "CFO", "met_on": "2026-12-01", "approvals": [{"by": "Kim"}]},
            {"role": "CTO", "approvals": []},
        ],
    },
    {
        "id": "C",
        "stage": "open",
        "close_date": "2026-11-30",
        "stakeholders": [{"name": "Lee", "role": "CFO", "met_on": "2026-12-01"}],
    },
    {"id": "D", "stage": "late", "stakeholders": []},
]


def test_declared_nested_lists_read_alike_on_postgres(
    postgres_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "declared.yaml"
    path.write_text(yaml.safe_dump(DECLARED, sort_keys=False), encoding="utf-8")
    pack = load_pack(path, PackCatalog(include_bundled=False, cwd=tmp_path))
    records = [RawRecord(n + 1, "deal", flatten(deal)) for n, deal in enumerate(DECLARED_DEALS)]
    reads, _ = read_records("declared.yaml", records, pack)
    requests = [request_for(read, pack) for read in reads]

    def outcomes(engine: Engine) -> dict[str, dict[str, str]]:
        return {
            done.request.read.deal.id: {k: v.value for k, v in done.outcomes.items()}
            for done in engine.evaluate(pack, requests, AS_OF)
        }

    on_postgres = outcomes(postgres_engine)
    assert on_postgres == outcomes(get_engine("durable")) == outcomes(get_engine("sql"))
    assert on_postgres["B"] == dict.fromkeys(on_postgres["B"], "met") | {"ALL-NAMED": "missing"}
