"""Waiver files a person wrote by hand: clear messages for what cannot be used, and a word when
one waiver quietly changes a rule for most of the pipeline (docs/check-and-audit.md, Waivers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from command import REPO, dealgate

EXPORT = str(REPO / "examples/salesforce-opportunities.csv")


def _audit(tmp_path: Path, waivers: str, *args: str) -> tuple[int, str, str]:
    (tmp_path / "waivers.yaml").write_text(waivers, encoding="utf-8")
    done = dealgate(
        "audit", EXPORT, "--as-of", "2026-11-27", "--waivers", "waivers.yaml",
        "--fail-on", "never", *args, cwd=tmp_path,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "",
            "waivers.yaml:1:1: error: a waivers file must be a mapping of keys, not an empty file",
        ),
        ("- HYG-AMOUNT\n", "a waivers file must be a mapping of keys, not list"),
        (
            "waivers:\n  - {deal: X, milestone: HYG-AMOUNT, reason: '   ', expires: 2026-12-31}\n",
            "waivers.yaml:2:46: error: 'reason' must not be empty",
        ),
        (
            "waivers:\n  - {deal: X, milestone: HYG-AMOUNT, reason: ok, expires: 20261231}\n",
            "'expires' must be a date written YYYY-MM-DD, not 20261231",
        ),
    ],
)
def test_a_waiver_file_that_cannot_be_used_says_why_and_exits_2(
    tmp_path: Path, text: str, message: str
) -> None:
    code, _, stderr = _audit(tmp_path, text)
    assert code == 2
    assert message in stderr


def test_a_waiver_for_every_deal_is_reported_not_applied_silently(tmp_path: Path) -> None:
    code, stdout, _ = _audit(
        tmp_path,
        "waivers:\n"
        "  - {deal: '*', milestone: HYG-NEXT-STEP, reason: Reps skip it, expires: 2026-12-31}\n",
        "--format",
        "json",
    )
    assert code == 0
    document = json.loads(stdout)
    waived = {
        deal["id"]
        for deal in document["deals"]
        for finding in deal["findings"]
        if finding["status"] == "waived" and finding["milestone_id"] == "HYG-NEXT-STEP"
    }
    assert len(waived) > 5
    [broad] = [w for w in document["waivers"] if "a waiver is an exception" in w["note"]]
    audited = document["summary"]["deals_audited"]
    assert f"waives HYG-NEXT-STEP on {len(waived):,} of {audited:,} audited deals" in broad["note"]
    assert "waivers.yaml:2" in broad["note"]


def test_a_waiver_for_one_deal_is_not_called_broad(tmp_path: Path) -> None:
    code, stdout, _ = _audit(
        tmp_path,
        "waivers:\n  - {deal: '0065g000003WWS0AAO', milestone: HYG-NEXT-STEP, reason: On leave,"
        " expires: 2026-12-31}\n",
        "--format",
        "json",
    )
    assert code == 0
    assert not [w for w in json.loads(stdout)["waivers"] if "exception" in w["note"]]
