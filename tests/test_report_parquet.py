"""The Parquet report: the JSON audit's deals as a nested table, read back by real readers
(pyarrow and DuckDB), with each milestone's texts once in the file's metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as parquet

from report_inputs import AS_OF, EXAMPLES, audit_deals, dealgate


def _audit(tmp_path: Path, name: str) -> tuple[dict[str, Any], Path]:
    """The example audited as JSON and as Parquet with the same options."""
    paths = {}
    for report_format in ("json", "parquet"):
        path = tmp_path / f"{name}.{report_format}"
        result = dealgate(
            "audit", *EXAMPLES[name], "--as-of", AS_OF, "--format", report_format,
            "--output", str(path),
        )  # fmt: skip
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
        paths[report_format] = path
    return json.loads(paths["json"].read_text(encoding="utf-8")), paths["parquet"]


def test_every_listed_deal_is_a_row_with_its_findings(tmp_path: Path) -> None:
    document, path = _audit(tmp_path, "salesforce")
    rows = parquet.read_table(path).to_pylist()
    # every audited deal, flagged: the exception list is the rows needing attention
    assert len(rows) == document["summary"]["deals_audited"]
    assert 0 < sum(row["needs_attention"] for row in rows) < len(rows)
    assert [row["deal_id"] for row in rows] == [deal["id"] for deal in document["deals"]]
    for row, deal in zip(rows, document["deals"], strict=True):
        assert row["disposition"] == deal["disposition"]
        assert row["inflation"] == deal["inflation"]
        assert row["at_risk"] == deal["at_risk"]
        assert row["needs_attention"] == deal["needs_attention"]
        assert row["amount"] == deal["amount"]
        assert (row["close_date"].isoformat() if row["close_date"] else None) == deal["close_date"]
        assert row["row"] == deal["location"]["row"]
        assert [
            (f["milestone_id"], f["kind"], f["status"], json.loads(f["read"]))
            for f in row["findings"]
        ] == [(f["milestone_id"], f["kind"], f["status"], f["read"]) for f in deal["findings"]]
        assert len(row["overdue_steps"]) == len(deal["overdue_steps"])


def test_the_audit_and_each_milestone_are_in_the_metadata_once(tmp_path: Path) -> None:
    document, path = _audit(tmp_path, "salesforce")
    metadata = parquet.read_schema(path).metadata
    audit = json.loads(metadata[b"dealgate.audit"])
    assert audit["summary"] == document["summary"]
    assert audit["pack"] == document["pack"]
    assert "deals" not in audit
    milestones = {m["milestone_id"]: m for m in json.loads(metadata[b"dealgate.milestones"])}
    named = {f["milestone_id"]: f for deal in document["deals"] for f in deal["findings"]}
    assert milestones.keys() == named.keys()
    for milestone_id, finding in named.items():
        assert milestones[milestone_id]["milestone"] == finding["milestone"]
        assert milestones[milestone_id]["guidance"] == finding["guidance"]


def test_duckdb_reads_it_as_a_bi_tool_would(tmp_path: Path) -> None:
    document, path = _audit(tmp_path, "salesforce")
    [skipped] = (
        duckdb.connect()
        .execute(
            f"SELECT count(*) FROM (SELECT unnest(findings) AS f FROM read_parquet('{path}')) "
            "WHERE f.kind = 'skipped' AND f.status = 'missing'"
        )
        .fetchall()
    )
    expected = sum(
        1
        for deal in document["deals"]
        for f in deal["findings"]
        if f["kind"] == "skipped" and f["status"] == "missing"
    )
    assert skipped == (expected,) and expected > 0


def test_a_saved_audit_gives_the_same_table(tmp_path: Path) -> None:
    document, path = _audit(tmp_path, "salesforce")
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(document), encoding="utf-8")
    again = tmp_path / "again.parquet"
    result = dealgate("report", str(saved), "--format", "parquet", "--output", str(again))
    assert result.returncode == 0, result.stderr
    assert parquet.read_table(again).equals(parquet.read_table(path))


def test_parquet_needs_a_file(tmp_path: Path) -> None:
    (tmp_path / "pipeline.json").write_text('{"deals": [{"id": "D-1"}]}', encoding="utf-8")
    result = dealgate("audit", "pipeline.json", "--format", "parquet", cwd=tmp_path)
    assert result.returncode == 2
    assert "--format parquet writes a Parquet file" in result.stderr
    assert "--output" in result.stderr


def test_a_huge_amount_is_written_as_missing_not_a_crash(tmp_path: Path) -> None:
    # More than 28 whole digits is a data finding (deals/normalise.py MAX_WHOLE_DIGITS).
    deal = {"id": "B-1", "stage": "Proposal", "amount": 1e308, "currency": "USD"}
    audit_deals(tmp_path, [deal], "--format", "parquet", "--output", "out.parquet")
    [row] = parquet.read_table(tmp_path / "out.parquet").to_pylist()
    assert (row["deal_id"], row["amount"]) == ("B-1", None)
