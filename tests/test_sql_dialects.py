"""The audit query generated for each SQL dialect from the one tree, read back by sqlglot."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlglot
import yaml
from sqlglot import exp

from dealgate.engines.dialects import DIALECTS, UnknownDialect
from dealgate.engines.sql import compile_query
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack

CONFORMANCE = Path(__file__).parent / "conformance"
AS_OF = date(2026, 11, 27)
GENERATED = ["spark", "postgres", "snowflake", "bigquery"]


def _bundled() -> list[RulePack]:
    catalog = PackCatalog(include_bundled=True, cwd=CONFORMANCE)  # no ./rules of the caller
    packs = [load_pack(pack_id, catalog) for pack_id in catalog.ids()]
    assert {"buyer-journey", "meddpicc", "bant"} <= {pack.id for pack in packs}
    return packs


def _conformance(folder: Path) -> list[RulePack]:
    packs = []
    for path in sorted(CONFORMANCE.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        pack_file = folder / path.name
        pack_file.write_text(yaml.safe_dump(document["pack"], sort_keys=False), encoding="utf-8")
        packs.append(load_pack(pack_file, PackCatalog(include_bundled=False, cwd=folder)))
    return packs


@pytest.fixture(scope="module")
def every_pack(tmp_path_factory: pytest.TempPathFactory) -> list[RulePack]:
    return _bundled() + _conformance(tmp_path_factory.mktemp("packs"))


def _text(pack: RulePack, dialect: str, *, pretty: bool = True) -> str:
    tree = compile_query(pack, AS_OF, dialect=dialect)
    return tree.sql(dialect=dialect, pretty=pretty, unsupported_level=sqlglot.ErrorLevel.RAISE)


@pytest.mark.parametrize("dialect", GENERATED)
def test_every_pack_compiles_to_sql_the_dialect_reads_back(
    every_pack: list[RulePack], dialect: str
) -> None:
    assert len(every_pack) >= 12
    for pack in every_pack:
        parsed = sqlglot.parse_one(_text(pack, dialect), read=dialect)
        assert isinstance(parsed, exp.Select)
        aliases = [select.alias_or_name for select in parsed.selects]
        assert aliases == ["_dealgate_row", *(m.id for m in pack.milestones())], pack.id


@pytest.mark.parametrize("dialect", GENERATED)
def test_no_duckdb_only_construct_leaks_into_another_dialect(
    every_pack: list[RulePack], dialect: str
) -> None:
    for pack in every_pack:
        text = _text(pack, dialect).upper()
        for duckdb_only in ("LIST_FILTER", "LAMBDA ", "LEN(", "::"):
            assert duckdb_only not in text, (pack.id, duckdb_only)


def test_spark_tests_a_missing_list_before_its_size(every_pack: list[RulePack]) -> None:
    lists = next(pack for pack in every_pack if pack.id == "conformance-lists")
    text = _text(lists, "spark", pretty=False)
    # size(NULL) is -1 in Spark: every SIZE sits in the ELSE of a NULL test of its list
    assert text.count("SIZE(") == text.count("IS NULL THEN NULL ELSE SIZE(")
    assert "EXISTS(`contacts`, x1 -> COALESCE((x1.`role` = 'Economic Buyer'), FALSE))" in text


def test_postgres_and_bigquery_read_lists_with_unnest_subqueries(
    every_pack: list[RulePack],
) -> None:
    lists = next(pack for pack in every_pack if pack.id == "conformance-lists")
    postgres = _text(lists, "postgres", pretty=False)
    bigquery = _text(lists, "bigquery", pretty=False)
    assert 'FROM UNNEST(d."contacts") AS x1' in postgres
    assert "FROM UNNEST(d.`contacts`) AS x1" in bigquery
    assert "FILTER(" not in postgres + bigquery


def test_snowflake_reads_item_fields_from_variants_with_casts(
    every_pack: list[RulePack],
) -> None:
    lists = next(pack for pack in every_pack if pack.id == "conformance-lists")
    text = _text(lists, "snowflake", pretty=False)
    assert "CAST(GET_PATH(x1, 'role') AS VARCHAR) = 'Economic Buyer'" in text
    assert "CAST(GET_PATH(x5, 'due') AS DATE)" in text


def test_every_dialect_is_known_and_others_are_refused() -> None:
    assert sorted(DIALECTS) == ["bigquery", "duckdb", "postgres", "snowflake", "spark"]
    pack = _bundled()[0]
    with pytest.raises(UnknownDialect, match="dialects: duckdb"):
        compile_query(pack, AS_OF, dialect="oracle")
