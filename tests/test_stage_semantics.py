"""The stage rules, decided once (judging/semantics.py), and their two readings.

The first tests pin what the rules say on a bundled pack. The property holds the columnar
judge's SQL to the Python answers it was written from: random stages and unmet milestones,
judged by DuckDB, give the same applicable milestones, kinds, evidence stage, inflation,
re-date and attention as `StageSemantics` gives in Python.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from dealgate.audit import AuditFilters
from dealgate.columnar.canonical import ident
from dealgate.columnar.judge import Judge, missing_column, unmet_column
from dealgate.findings import Disposition, FindingKind
from dealgate.judging.semantics import Position, Scope
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack


def _pack(pack_id: str) -> RulePack:
    return load_pack(pack_id, PackCatalog(cwd=Path("/nonexistent")))


BUYER_JOURNEY = _pack("buyer-journey")
MEDDPICC = _pack("meddpicc")


def test_a_deal_of_an_unknown_stage_gets_only_hygiene_checks() -> None:
    semantics = BUYER_JOURNEY.semantics
    assert semantics.scope(None) == Scope(limit=-1, hygiene=True)
    applying = [m for m in semantics.milestones if semantics.applies(m, None)]
    assert applying and all(m.is_hygiene for m in applying)
    assert semantics.evidence(None, lambda m: True) is None


def test_a_closed_deal_answers_for_every_open_exit_and_no_hygiene() -> None:
    pack = BUYER_JOURNEY
    [won, *_] = pack.terminal_stages
    scope = pack.semantics.scope(won.position)
    assert scope == Scope(limit=pack.open_stages[-1].position, hygiene=False)
    exits = [m for m in pack.semantics.milestones if not m.is_hygiene]
    assert all(pack.semantics.kind(m, won.position) is FindingKind.SKIPPED for m in exits)


def test_kinds_follow_the_claimed_stage() -> None:
    pack = BUYER_JOURNEY
    first, second = pack.open_stages[:2]
    earlier, own = first.exit[0], second.exit[0]
    semantics = pack.semantics
    assert semantics.kind(earlier, second.position) is FindingKind.SKIPPED
    assert semantics.kind(own, second.position) is FindingKind.TO_ADVANCE
    assert semantics.fails(earlier, second.position)
    assert not semantics.fails(own, second.position)
    check = pack.checks[0]
    assert semantics.kind(check, None) is FindingKind.HYGIENE
    # checking a deal --to a later stage asks for the exits on the way, as to-advance
    scope = semantics.scope(first.position, to_position=pack.open_stages[2].position)
    assert scope.limit == second.position


def test_the_first_failed_gate_stops_the_evidence_stage() -> None:
    pack = BUYER_JOURNEY
    semantics = pack.semantics
    claimed = pack.open_stages[-1].position
    assert semantics.evidence(claimed, lambda m: False) == claimed
    gate = semantics.gates[1]
    failing = gate.required[0]
    evidence = semantics.evidence(claimed, lambda m: m is failing)
    assert evidence == gate.reached == gate.position
    assert semantics.inflation(claimed, evidence) == claimed - gate.position


def test_a_missing_required_check_of_the_close_date_re_dates_the_deal() -> None:
    semantics = BUYER_JOURNEY.semantics
    assert semantics.re_dating, "the bundled pack checks the close date"
    [re_dating, *_] = semantics.re_dating
    assert semantics.disposition(lambda m: m is re_dating, 2) is Disposition.RE_DATE
    assert semantics.disposition(lambda m: False, 2) is Disposition.RE_STAGE
    assert semantics.disposition(lambda m: False, 0) is Disposition.KEEP


def _deals(pack: RulePack) -> st.SearchStrategy[list[tuple[Position, tuple[bool, ...]]]]:
    positions = st.sampled_from(pack.semantics.positions)
    unmet = st.tuples(*(st.booleans() for _ in pack.semantics.milestones))
    return st.lists(st.tuples(positions, unmet), min_size=1, max_size=40)


@pytest.mark.parametrize("pack", [BUYER_JOURNEY, MEDDPICC], ids=lambda pack: pack.id)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_columnar_judge_writes_the_rules_python_decided(
    pack: RulePack, data: st.DataObject
) -> None:
    deals = data.draw(_deals(pack))
    semantics = pack.semantics
    milestones = semantics.milestones
    judge = Judge(pack, AuditFilters(include_closed=True))
    unmet = ", ".join(
        f"CAST(u[{index + 1}] AS BOOLEAN) AS {ident(unmet_column(m))}"
        for index, m in enumerate(milestones)
    )
    kinds = [exp.alias_(judge.kind(m), f"kind {i}", quoted=True) for i, m in enumerate(milestones)]
    flags = [exp.column(missing_column(index), quoted=True) for index in range(len(milestones))]
    statuses = sqlglot.parse_one(
        f"""SELECT * EXCLUDE (u), {unmet} FROM (
              SELECT unnest($stages) AS stage, unnest($unmet) AS u, NULL AS dg_stage_id,
                     generate_subscripts($stages, 1) AS n)""",
        read="duckdb",
    )
    assert isinstance(statuses, exp.Select)
    attention = sqlglot.parse_one("d.n IN (SELECT n FROM dg_exceptions) AS attention")
    judged = (
        judge.exceptions_query(statuses)
        .select("d.n", "d.dg_evidence", "d.dg_inflation", "d.dg_re_date", append=False)
        .select(*kinds, *flags, attention)
        .from_("dg_deal_rows AS d")
        .order_by("d.n")
    )
    rows = (
        duckdb.connect()
        .execute(
            judged.sql(dialect="duckdb"),
            {"stages": [p for p, _ in deals], "unmet": [list(u) for _, u in deals]},
        )
        .fetchall()
    )
    assert len(rows) == len(deals)
    count = len(milestones)
    for (position, unmet_flags), row in zip(deals, rows, strict=True):
        _, evidence, inflation, re_date, *rest = row
        sql_kinds, sql_missing, attention = rest[:count], rest[count : 2 * count], rest[-1]
        missing = {
            m.id
            for m, flag in zip(milestones, unmet_flags, strict=True)
            if flag and semantics.applies(m, position)
        }
        assert {m.id for m, f in zip(milestones, sql_missing, strict=True) if f} == missing
        for m, kind in zip(milestones, sql_kinds, strict=True):
            if m.id in missing:
                assert kind == semantics.kind(m, position).value
        expected = semantics.evidence(position, lambda m, missing=missing: m.id in missing)
        assert evidence == expected
        assert inflation == semantics.inflation(position, expected)
        disposition = semantics.disposition(lambda m, missing=missing: m.id in missing, 0)
        assert re_date == (disposition is Disposition.RE_DATE)
        assert attention == (
            inflation > 0
            or any(semantics.fails(m, position) for m in milestones if m.id in missing)
        )


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_the_columnar_judge_filters_stages_as_python_does(data: st.DataObject) -> None:
    pack = BUYER_JOURNEY
    chosen = data.draw(st.sets(st.sampled_from([stage.id for stage in pack.stages])))
    filters = AuditFilters(stages=tuple(sorted(chosen)), include_closed=data.draw(st.booleans()))
    positions = list(pack.semantics.positions)
    kept = (
        duckdb.connect()
        .execute(
            f"SELECT stage FROM (SELECT unnest($stages) AS stage) AS d "
            f"WHERE {Judge(pack, filters).audited().sql(dialect='duckdb')}",
            {"stages": positions},
        )
        .fetchall()
    )
    expected = [p for p in positions if filters.stage_exclusion(p, pack) is None]
    assert sorted(kept, key=str) == sorted([(p,) for p in expected], key=str)
