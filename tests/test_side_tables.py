"""Side tables a mapping file joins by key, and teams files whose columns a mapping names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dealgate.deals.source import DealSource, open_deals
from dealgate.errors import InputError
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack("buyer-journey", PackCatalog(cwd=Path("/nonexistent")))


PIPELINE = (
    "opportunity_id,sales_agent,product,account,deal_stage,close_value\r\n"
    "1C1I7A6R,Moses Frase,GTX Plus Basic,Cancity,Won,1054\r\n"
    "Z063OYW0,Darcel Schlecht,GTXPro,Isdom,Engaging,\r\n"
    "EC4QE1BX,Darcel Schlecht,MG Special,Nowhere Inc,Engaging,\r\n"
    "MV1LWRNH,Moses Frase,GTX Basic,,Prospecting,\r\n"
)
ACCOUNTS = (
    "account,sector,year_established,revenue,employees\r\n"
    "Cancity,retail,2001,718.62,2448\r\n"
    "isdom ,medical,2002,3178.24,4540\r\n"
)
PRODUCTS = "product,series,sales_price\r\nGTX Basic,GTX,550\r\nGTX Pro,GTX,4821\r\n"
MAPPING = """\
mapping: maven-crm
columns:
  opportunity_id: id
  sales_agent: owner
  deal_stage: stage
  close_value: amount
values:
  product: {GTXPro: GTX Pro}
joins:
  - file: side/accounts.csv
    on: {Account: ACCOUNT}
    columns: {Sector: sector, revenue: account_revenue}
  - file: side/products.csv
    on: {product: product}
    columns: {series: series}
"""


def _export(tmp_path: Path, mapping: str = MAPPING, accounts: str = ACCOUNTS) -> Path:
    (tmp_path / "sales_pipeline.csv").write_bytes(PIPELINE.encode())
    (tmp_path / "side").mkdir(exist_ok=True)
    (tmp_path / "side" / "accounts.csv").write_bytes(accounts.encode())
    (tmp_path / "side" / "products.csv").write_bytes(PRODUCTS.encode())
    (tmp_path / "maven.yaml").write_text(mapping, encoding="utf-8")
    return tmp_path / "maven.yaml"


def _read(tmp_path: Path, pack: RulePack, mapping: Path, **options: object) -> DealSource:
    return open_deals(tmp_path / "sales_pipeline.csv", pack, mapping=mapping, **options)  # type: ignore[arg-type]


def test_columns_of_an_accounts_file_become_fields_of_each_deal_of_the_account(
    tmp_path: Path, pack: RulePack
) -> None:
    source = _read(tmp_path, pack, _export(tmp_path))
    deals = [read.deal for read in source]
    assert [deal.custom.get("sector") for deal in deals] == ["retail", "medical", None, None]
    assert deals[0].custom["account_revenue"] == "718.62"  # as written, like its own columns
    # the product key is matched as the deal reads it: after `values:`, case and spaces ignored
    assert [deal.custom.get("series") for deal in deals] == [None, "GTX", None, "GTX"]
    assert deals[1].custom["product"] == "GTX Pro"
    # a deal whose key matches no row gets nothing from it, and a note says how many
    assert (
        "1 deal(s) whose 'account' matches no 'account' of accounts.csv get no values from it"
        in source.mapper.notes
    )
    assert (
        "2 deal(s) whose 'product' matches no 'product' of products.csv get no values from it"
        in source.mapper.notes
    )
    uses = {use.header: use.field for use in source.mapper.plan}
    assert uses["accounts.csv:revenue"] == "account_revenue"
    supply = source.supply
    assert {"sector", "account_revenue", "series"} <= supply.fields
    assert "the columns of accounts.csv joined by account" in supply.source


def test_a_side_table_can_fill_a_canonical_field(tmp_path: Path, pack: RulePack) -> None:
    mapping = _export(
        tmp_path,
        "mapping: m\ncolumns: {opportunity_id: id, deal_stage: stage}\n"
        "joins:\n  - file: side/accounts.csv\n    on: {account: account}\n"
        "    columns: {year_established: created_date}\n",
        "account,year_established\r\nCancity,2016-01-04\r\n",
    )
    deals = [read.deal for read in _read(tmp_path, pack, mapping)]
    assert str(deals[0].created_date) == "2016-01-04"


def test_columns_a_join_names_that_its_files_lack_are_errors_with_the_nearest_header(
    tmp_path: Path, pack: RulePack
) -> None:
    mapping = _export(
        tmp_path,
        "mapping: m\ncolumns: {opportunity_id: id}\njoins:\n  - file: side/accounts.csv\n"
        "    on: {acount: acount_name}\n    columns: {sectr: sector, size: employees}\n"
        "  - file: side/missing.csv\n    on: {product: product}\n    columns: {a: b}\n",
    )
    with pytest.raises(InputError) as caught:
        _read(tmp_path, pack, mapping)
    assert [str(p).replace(str(tmp_path) + "/", "") for p in caught.value.problems] == [
        "maven.yaml:5:10: error: column 'acount' is not in sales_pipeline.csv "
        "(did you mean 'account'?)",
        "maven.yaml:5:18: error: column 'acount_name' is not in accounts.csv "
        "(did you mean 'account'?)",
        "maven.yaml:6:15: error: column 'sectr' is not in accounts.csv (did you mean 'sector'?)",
        "maven.yaml:6:30: error: column 'size' is not in accounts.csv (its headers: account, "
        "sector, year_established, revenue, employees)",
        "maven.yaml:7:11: error: side table 'side/missing.csv' not found (looked for "
        "side/missing.csv) (paths under joins: are relative to the mapping file)",
    ]


def test_a_side_table_with_a_repeated_key_is_an_error_naming_both_lines(
    tmp_path: Path, pack: RulePack
) -> None:
    mapping = _export(tmp_path, accounts=ACCOUNTS + "CANCITY,retail,2001,1.00,2\r\n")
    with pytest.raises(InputError) as caught:
        _read(tmp_path, pack, mapping)
    assert [str(p).replace(str(tmp_path) + "/", "") for p in caught.value.problems] == [
        "side/accounts.csv:4: error: 'CANCITY' in column 'account' is also on line 2: a side "
        "table needs one row per key (remove the repeated row, or join by a column whose "
        "values are unique)"
    ]


def test_a_mapping_names_the_owner_and_manager_columns_of_the_teams_file(
    tmp_path: Path, pack: RulePack
) -> None:
    teams = tmp_path / "teams.csv"
    teams.write_bytes(b"Agent Name,Boss,regional_office\r\nMoses Frase,Dustin Brinkmann,C\r\n")
    mapping = _export(tmp_path, MAPPING + "teams: {owner: agent name, manager: Boss}\n")
    deals = [read.deal for read in _read(tmp_path, pack, mapping, teams=teams)]
    assert [deal.manager for deal in deals] == ["Dustin Brinkmann", None, None, "Dustin Brinkmann"]
    mapping.write_text(MAPPING + "teams: {owner: sales_agent, manager: Boss}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        _read(tmp_path, pack, mapping, teams=teams)
    assert [str(p).replace(str(tmp_path) + "/", "") for p in caught.value.problems] == [
        "teams.csv:1: error: no column 'sales_agent' (named by teams: in maven.yaml) "
        "(its headers: Agent Name, Boss, regional_office)"
    ]


def test_a_teams_file_without_known_headers_is_an_error_naming_its_headers(
    tmp_path: Path, pack: RulePack
) -> None:
    teams = tmp_path / "teams.csv"
    teams.write_bytes(b"Agent Name,Manager\r\nMoses Frase,Dustin Brinkmann\r\n")
    with pytest.raises(InputError) as caught:
        _read(tmp_path, pack, _export(tmp_path), teams=teams)
    (problem,) = caught.value.problems
    assert "no owner column" in problem.message
    assert "its headers: Agent Name, Manager" in str(problem)
    assert "teams: {owner: HEADER, manager: HEADER}" in str(problem)


def test_the_teams_headers_dealgate_looks_for_are_documented() -> None:
    from dealgate.deals.source import MANAGER_HEADERS, OWNER_HEADERS

    doc = (Path(__file__).resolve().parents[1] / "docs" / "crm-mapping.md").read_text("utf-8")
    section = doc[doc.index("- `--teams teams.csv`") : doc.index("- `joins:` in a mapping")]
    documented = {
        " ".join(name.split()).casefold() for name in re.findall(r"`([^`:{}]+)`", section)
    }
    assert set(OWNER_HEADERS) | set(MANAGER_HEADERS) <= documented


def test_the_docs_side_tables_example_joins_a_maven_export(tmp_path: Path, pack: RulePack) -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "crm-mapping.md").read_text("utf-8")
    section = doc[doc.index("### Side tables joined by a key") :]
    example = section[section.index("```yaml\n") + 8 : section.index("```\n", 1)]
    mapping = _export(tmp_path, MAPPING.split("joins:")[0] + example)
    for name in ("accounts.csv", "products.csv"):
        (tmp_path / "side" / name).rename(tmp_path / name)
    deals = [read.deal for read in _read(tmp_path, pack, mapping)]
    assert [(d.custom.get("sector"), d.custom.get("product_series")) for d in deals] == [
        ("retail", None),
        ("medical", "GTX"),
        (None, None),
        (None, "GTX"),
    ]
