"""Hostile inputs at the engines' limits: numbers durable's parser cannot read as written, and
packs larger than a durable ruleset holds. Issue 14; docs/reliability.md lists each case."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest

from command import dealgate

AS_OF = "2026-12-01"

# Amounts that json.dumps writes with an exponent (1e-05, 1e+20) or beyond 64-bit integers.
AMOUNTS = {
    "TINY": "0.00001",
    "HUGE": "100000000000000000000.5",
    "NEG-TINY": "-0.00001",
    "ZERO": "0",
    "WIDE-INT": "99999999999999999999",
    "SUBNORMAL": "0." + "0" * 320 + "5",
}

EXPONENT_PACK = """\
pack: exponents
stages:
  - id: qualify
  - id: won
    terminal: won
checks:
  - id: HYG-AMOUNT
    milestone: The amount is positive
    require: amount > 0
  - id: HYG-SMALL
    milestone: The amount is below a small constant
    require: amount < 0.00002
  - id: HYG-HUGE
    milestone: The amount is above a constant beyond 64-bit integers
    require: amount > 99999999999999999999
  - id: HYG-NEAR
    milestone: The amount equals a constant with many decimals
    require: amount != 0.000010000000000000001
"""


def _audit(
    folder: Path, engine: str, *extra: str, timeout: float | None = None
) -> tuple[int, list[dict[str, str]], str]:
    result = dealgate(
        "audit",
        "deals.csv",
        "--rules",
        "pack.yaml",
        "--as-of",
        AS_OF,
        "--engine",
        engine,
        "--format",
        "csv",
        "--csv-rows",
        "finding",
        "--include-met",
        *extra,
        cwd=folder,
        timeout=timeout,
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout))) if result.stdout else []
    return result.returncode, rows, result.stderr


def _statuses(rows: list[dict[str, str]]) -> dict[tuple[str, str], str]:
    return {(row["deal_id"], row["milestone_id"]): row["status"] for row in rows}


@pytest.fixture
def exponent_folder(tmp_path: Path) -> Path:
    (tmp_path / "pack.yaml").write_text(EXPONENT_PACK, encoding="utf-8")
    lines = ["id,name,stage,amount,close_date"]
    lines += [f"{deal},{deal},qualify,{amount},2027-01-01" for deal, amount in AMOUNTS.items()]
    (tmp_path / "deals.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_amounts_written_with_an_exponent_give_the_same_findings_on_both_engines(
    exponent_folder: Path,
) -> None:
    durable_code, durable_rows, durable_err = _audit(exponent_folder, "durable")
    sql_code, sql_rows, _ = _audit(exponent_folder, "sql")
    assert durable_code == sql_code == 1, durable_err
    assert "Traceback" not in durable_err
    durable, sql = _statuses(durable_rows), _statuses(sql_rows)
    assert durable == sql
    assert durable[("TINY", "HYG-AMOUNT")] == "met"
    assert durable[("TINY", "HYG-SMALL")] == "met"
    assert durable[("SUBNORMAL", "HYG-AMOUNT")] == "met"
    assert durable[("NEG-TINY", "HYG-AMOUNT")] == "missing"
    assert durable[("ZERO", "HYG-AMOUNT")] == "missing"
    assert durable[("HUGE", "HYG-SMALL")] == "missing"
    # Compared as 64-bit floats on both engines: 1e20 + 0.5 and 99999999999999999999 are
    # both 1e20, so neither is above the constant (which is 1e20 too).
    assert durable[("HUGE", "HYG-HUGE")] == "missing"
    assert durable[("WIDE-INT", "HYG-HUGE")] == "missing"
    # 0.000010000000000000001 is the float 0.00001.
    assert durable[("TINY", "HYG-NEAR")] == "missing"


def test_plain_numbers_read_back_to_the_same_float() -> None:
    from dealgate.engines.durable import plain_number

    for value in (1e-05, 1e20, 1e20 + 2**20, -2.5e-300, 5e-324, 1.7976931348623157e308, 0.1):
        text = plain_number(value)
        assert "e" not in text and "." in text
        assert float(text) == value
    assert plain_number(float("inf")).startswith("1000")


def _wide_pack(milestones: int) -> str:
    """One stage with many exit milestones: `amount > i` for i in 0..milestones-1."""
    lines = ["pack: wide", "stages:", "  - id: qualify", "    exit:"]
    lines += [
        f"      - {{id: M{index}, milestone: Above {index}, require: 'amount > {index}'}}"
        for index in range(milestones)
    ]
    lines += ["  - id: propose", "  - id: won", "    terminal: won"]
    return "\n".join(lines) + "\n"


def _long_pack(stages: int) -> str:
    """Many stages with one exit milestone each."""
    lines = ["pack: long", "stages:"]
    for index in range(stages):
        lines += [
            f"  - id: s{index}",
            f"    exit: [{{id: M{index}, milestone: Above {index}, require: 'amount > {index}'}}]",
        ]
    lines += ["  - id: last", "  - id: won", "    terminal: won"]
    return "\n".join(lines) + "\n"


def _big_pack_folder(folder: Path, pack: str, stage: str) -> Path:
    (folder / "pack.yaml").write_text(pack, encoding="utf-8")
    (folder / "deals.csv").write_text(
        f"id,name,stage,amount,close_date\nD1,One,{stage},150.5,2027-01-01\n", encoding="utf-8"
    )
    return folder


def test_auto_takes_sql_for_a_stage_with_more_milestones_than_durable_holds(
    tmp_path: Path,
) -> None:
    folder = _big_pack_folder(tmp_path, _wide_pack(300), "propose")
    code, rows, stderr = _audit(folder, "auto", "-v")
    assert code == 1, stderr
    assert (
        "engine: sql (auto: the durable engine cannot hold the pack (stage 'qualify' has 300"
        in (stderr)
    )
    statuses = _statuses(rows)
    assert len(statuses) == 300
    missing = {milestone for (_, milestone), status in statuses.items() if status == "missing"}
    assert missing == {f"M{index}" for index in range(151, 300)}


def test_explicit_durable_refuses_a_stage_with_too_many_milestones(tmp_path: Path) -> None:
    folder = _big_pack_folder(tmp_path, _wide_pack(300), "propose")
    code, rows, stderr = _audit(folder, "durable")
    assert code == 2
    assert rows == []
    assert (
        "error: the durable engine cannot run pack 'wide': stage 'qualify' has 300 milestones;"
        in (stderr)
    )
    assert "at most 128 per stage; use --engine sql" in stderr
    assert "Traceback" not in stderr


def test_a_stage_of_128_milestones_runs_on_durable(tmp_path: Path) -> None:
    folder = _big_pack_folder(tmp_path, _wide_pack(128), "propose")
    durable_code, durable_rows, stderr = _audit(folder, "durable")
    sql_code, sql_rows, _ = _audit(folder, "sql")
    assert durable_code == sql_code == 0, stderr  # 150.5 is above every constant
    assert _statuses(durable_rows) == _statuses(sql_rows)
    assert set(_statuses(durable_rows).values()) == {"met"}


def test_520_stages_do_not_hang_durable(tmp_path: Path) -> None:
    folder = _big_pack_folder(tmp_path, _long_pack(520), "last")
    start = time.monotonic()
    code, _, stderr = _audit(folder, "durable", timeout=120)
    assert code == 2
    assert "520 stages have milestones" in stderr and "at most 500" in stderr
    assert time.monotonic() - start < 60
    code, rows, stderr = _audit(folder, "auto", "-v", timeout=120)
    assert code == 1, stderr
    assert "engine: sql (auto: the durable engine cannot hold the pack" in stderr
    missing = {row["milestone_id"] for row in rows if row["status"] == "missing"}
    assert missing == {f"M{index}" for index in range(151, 520)}


def test_rules_test_with_auto_runs_a_pack_beyond_durable_on_sql(tmp_path: Path) -> None:
    (tmp_path / "wide.yaml").write_text(_wide_pack(300), encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "wide.yaml").write_text(
        "pack: wide\nas_of: 2026-12-01\ncases:\n  - name: Above 150 only\n"
        "    deal: {id: D1, name: One, stage: propose, amount: 150.5, close_date: 2027-01-01}\n"
        f"    missing: [{', '.join(f'M{index}' for index in range(151, 300))}]\n",
        encoding="utf-8",
    )
    result = dealgate("rules", "test", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 0 failed" in result.stdout
    refused = dealgate("rules", "test", ".", "--engine", "durable", cwd=tmp_path)
    assert refused.returncode == 2
    assert "a durable ruleset holds at most 128 per stage" in refused.stderr


def test_more_hygiene_checks_than_durable_holds_go_to_sql(tmp_path: Path) -> None:
    checks = "\n".join(
        f"  - {{id: C{index}, milestone: Above {index}, require: 'amount > {index}'}}"
        for index in range(200)
    )
    stages = "stages:\n  - id: qualify\n  - id: won\n    terminal: won\n"
    pack = f"pack: checked\n{stages}checks:\n{checks}\n"
    folder = _big_pack_folder(tmp_path, pack, "qualify")
    code, _, stderr = _audit(folder, "durable")
    assert code == 2
    assert "the pack has 200 hygiene checks; a durable ruleset holds at most 128;" in stderr
    code, rows, stderr = _audit(folder, "auto", "-v")
    assert code == 1, stderr
    assert "engine: sql (auto: the durable engine cannot hold the pack" in stderr
    missing = {row["milestone_id"] for row in rows if row["status"] == "missing"}
    assert missing == {f"C{index}" for index in range(151, 200)}
