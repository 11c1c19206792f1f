"""A Maven-style export in four files (pipeline, accounts, products, teams), read with a
mapping file by a team's pack that reads joined fields: both engines give one report."""

from __future__ import annotations

import json
from pathlib import Path

from command import dealgate

AS_OF = "2017-04-01"
FILES = {
    "sales_pipeline.csv": (
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value",
        "1C1I7A6R,Moses Frase,GTX Plus Basic,Cancity,Won,2016-10-20,2017-03-01,1054",
        "Z063OYW0,Darcel Schlecht,GTXPro,Isdom,Engaging,2017-03-25,,",
        "EC4QE1BX,Darcel Schlecht,MG Special,Cancity,Engaging,2016-11-02,,",
        "MV1LWRNH,Moses Frase,GTX Basic,Hottechi,Engaging,2017-02-01,,",
        "PE84CX4O,Zane Levy,GTX Pro,,Prospecting,,,",
    ),
    "data/accounts.csv": (
        "account,sector,year_established,revenue,employees,office_location,subsidiary_of",
        "Cancity,retail,2001,718.62,2448,United States,",
        "Isdom,medical,2002,3178.24,4540,United States,",
    ),
    "data/products.csv": (
        "product,series,sales_price",
        "GTX Basic,GTX,550",
        "GTX Pro,GTX,4821",
        "MG Special,MG,55",
        "GTX Plus Basic,GTX,1096",
    ),
    "data/sales_teams.csv": (
        "sales_agent,manager,regional_office",
        "Moses Frase,Dustin Brinkmann,Central",
        "Darcel Schlecht,Melvin Marxen,Central",
    ),
}
MAPPING = """\
mapping: maven-crm
columns:
  opportunity_id: id
  sales_agent: owner
  deal_stage: stage
  close_value: amount
stages:
  Prospecting: prospect
  Engaging: engage
  Won: won
  Lost: lost
values:
  product: {GTXPro: GTX Pro}
currency: USD
joins:
  - file: data/accounts.csv
    on: {account: account}
    columns: {sector: sector, revenue: account_revenue}
  - file: data/products.csv
    on: {product: product}
    columns: {series: series}
teams: {owner: sales_agent, manager: manager}
"""
# The team reads the account's sector and revenue from accounts.csv, the product's series
# from products.csv, and counts days from engage_date, a column no one declared.
PACK = """\
pack: maven-team
title: Maven team process
stages:
  - id: prospect
    exit:
      - {id: P-SECTOR, milestone: the account's sector is known, require: present(sector)}
  - id: engage
    exit:
      - id: E-SIZED
        milestone: a large account for GTX, small ones for the rest
        require: "series == 'GTX' or account_revenue < 1000"
  - {id: won, terminal: won}
  - {id: lost, terminal: lost}
checks:
  - id: H-FRESH
    milestone: engaged in the last 90 days
    when: stage == engage
    require: days_since(engage_date) <= 90
"""


def _export(folder: Path) -> None:
    for name, lines in FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    (folder / "maven.yaml").write_text(MAPPING, encoding="utf-8")
    (folder / "maven-team.yaml").write_text(PACK, encoding="utf-8")


def _audit(folder: Path, engine: str, output: str) -> tuple[int, str, str]:
    result = dealgate(
        "audit",
        "sales_pipeline.csv",
        "--rules",
        "maven-team.yaml",
        "--mapping",
        "maven.yaml",
        "--teams",
        "data/sales_teams.csv",
        "--engine",
        engine,
        "--format",
        output,
        "--as-of",
        AS_OF,
        "-v",
        cwd=folder,
    )
    return result.returncode, result.stdout, result.stderr


def test_a_maven_export_in_four_files_audits_alike_on_both_routes(tmp_path: Path) -> None:
    _export(tmp_path)
    durable = _audit(tmp_path, "durable", "csv")
    sql = _audit(tmp_path, "sql", "csv")
    assert durable[0] == sql[0] == 1, durable[2] + sql[2]
    assert durable[1] == sql[1]
    assert "columnar path not taken: side tables joined by the mapping file" in sql[2]
    for stderr in (durable[2], sql[2]):
        assert (
            "note: 1 deal(s) whose 'account' matches no 'account' of accounts.csv get no "
            "values from it" in stderr
        ), stderr
    rows = {line.split(",")[0]: line for line in durable[1].splitlines()[1:]}
    # Z063OYW0 (GTXPro, read as GTX Pro: series GTX) engaged a week ago: nothing to say
    assert set(rows) == {"EC4QE1BX", "MV1LWRNH"}
    # EC4QE1BX: MG on an account of revenue 718.62 is sized; engaged in November is stale
    assert rows["EC4QE1BX"].endswith(",keep,,H-FRESH,,")
    # MV1LWRNH: Hottechi is not in accounts.csv: no sector, so prospecting was skipped
    assert rows["MV1LWRNH"].endswith(",re-stage to prospect,P-SECTOR,,,")


def test_the_json_audit_of_a_joined_export_measures_what_the_join_supplies(
    tmp_path: Path,
) -> None:
    _export(tmp_path)
    code, stdout, stderr = _audit(tmp_path, "sql", "json")
    assert code == 1, stderr
    document = json.loads(stdout)
    coverage = document["coverage"]
    unmeasured = {entry["field"] for entry in coverage.get("unmeasured", [])}
    assert not unmeasured & {"sector", "account_revenue", "series", "engage_date", "manager"}
    assert "the columns of accounts.csv joined by account" in coverage["source"]
    assert "the columns of products.csv joined by product" in coverage["source"]
    managers = {
        deal["id"]: deal["manager"] for deal in document["deals"] if deal["needs_attention"]
    }
    assert managers == {"EC4QE1BX": "Melvin Marxen", "MV1LWRNH": "Dustin Brinkmann"}
