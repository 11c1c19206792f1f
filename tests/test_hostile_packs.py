"""Hostile rule packs: each is refused with a located error and exit 2, never a traceback or a
crash later in the audit. Issue 14; docs/reliability.md lists each case and its test."""

from __future__ import annotations

from pathlib import Path

from command import dealgate
from dealgate.rules.expr import MAX_EXPRESSION_LENGTH, MAX_NESTING, MAX_NUMBER_DIGITS
from dealgate.rules.loader import MAX_EXTENDS_DEPTH
from dealgate.rules.spec import MAX_GUIDANCE_LENGTH


def _chain(folder: Path, length: int) -> None:
    """Packs c0 extends c1 extends ... c{length-1}, which has the stages."""
    for index in range(length):
        body = f"pack: c{index}\n"
        if index < length - 1:
            body += f"extends: [c{index + 1}]\nstages: []\n"
        else:
            body += "stages:\n  - id: qualify\n  - id: won\n    terminal: won\n"
        (folder / f"c{index}.yaml").write_text(body, encoding="utf-8")


def test_an_extends_chain_of_1000_packs_is_refused_at_the_depth_limit(tmp_path: Path) -> None:
    _chain(tmp_path, 1000)
    result = dealgate("rules", "validate", "--rules", ".", "c0.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    depth = MAX_EXTENDS_DEPTH
    assert result.stderr.splitlines()[0] == (
        f"c{depth - 1}.yaml:2:11: error: 'extends' goes more than {depth} packs deep: "
        f"c0 -> c1 -> ... -> c{depth - 2} -> c{depth - 1} -> c{depth} "
        f"(a pack may build on a chain of at most {depth} packs; merge some of them)"
    )


def test_an_extends_chain_at_the_depth_limit_is_fine(tmp_path: Path) -> None:
    _chain(tmp_path, MAX_EXTENDS_DEPTH)
    result = dealgate("rules", "validate", "--rules", ".", "c0.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_pack_extending_itself_is_named_so(tmp_path: Path) -> None:
    (tmp_path / "selfish.yaml").write_text(
        "pack: selfish\nextends: [selfish]\nstages:\n  - id: qualify\n", encoding="utf-8"
    )
    result = dealgate("rules", "validate", "--rules", ".", "selfish.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "selfish.yaml:2:11: error: pack 'selfish' extends itself "
        "(list the packs it builds on, not its own id)"
    )
    assert "did you mean" not in result.stderr


def test_a_pack_may_extend_a_bundled_pack_of_the_same_id(tmp_path: Path) -> None:
    (tmp_path / "bant.yaml").write_text(
        "pack: bant\nextends: [bant]\nstages: []\n", encoding="utf-8"
    )
    result = dealgate("rules", "validate", "bant.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def _check_pack(folder: Path, require: str) -> Path:
    """A pack whose one hygiene check requires `require`, and one deal of amount 5."""
    (folder / "pack.yaml").write_text(
        "pack: hostile\nstages:\n  - id: qualify\n  - id: won\n    terminal: won\n"
        f'checks:\n  - id: HYG-X\n    milestone: x\n    require: "{require}"\n',
        encoding="utf-8",
    )
    (folder / "deals.csv").write_text(
        "id,name,stage,amount,close_date\nD1,Ada,qualify,5,2027-01-01\n", encoding="utf-8"
    )
    return folder


def _validate(folder: Path) -> tuple[int, str]:
    result = dealgate("rules", "validate", "--rules", ".", "pack.yaml", cwd=folder)
    return result.returncode, result.stderr


def _audits(folder: Path) -> dict[str, tuple[int, str, str]]:
    """The audit on each engine: exit code, CSV report, stderr."""
    found = {}
    for engine in ("durable", "sql"):
        result = dealgate(
            "audit",
            "deals.csv",
            "--rules",
            "pack.yaml",
            "--as-of",
            "2026-12-01",
            "--engine",
            engine,
            "--format",
            "csv",
            cwd=folder,
        )
        found[engine] = (result.returncode, result.stdout, result.stderr)
    return found


def test_a_5000_digit_number_is_refused_where_it_is_written(tmp_path: Path) -> None:
    folder = _check_pack(tmp_path, "amount > " + "9" * 5000)
    expected = (
        "pack.yaml:9:24: error: number with 5,000 digits; a number has at most "
        f"{MAX_NUMBER_DIGITS} (numbers are compared with about 16 significant digits)"
    )
    code, stderr = _validate(folder)
    assert code == 2
    assert stderr.splitlines()[0] == expected
    for code, stdout, stderr in _audits(folder).values():
        assert code == 2
        assert stdout == ""
        assert stderr.splitlines() == [expected]


def test_numbers_of_the_longest_allowed_length_agree_on_both_engines(tmp_path: Path) -> None:
    most = MAX_NUMBER_DIGITS
    folder = _check_pack(
        tmp_path,
        f"amount > -{'9' * most} and amount < {'9' * most} and amount > 0.{'0' * (most - 2)}1",
    )
    assert _validate(folder)[0] == 0
    found = _audits(folder)
    assert found["durable"][:2] == found["sql"][:2]
    assert found["durable"][0] == 0, found["durable"][2]


def test_a_text_constant_under_the_length_limit_works_on_both_engines(tmp_path: Path) -> None:
    folder = _check_pack(tmp_path, "name != '" + "x" * 9000 + "'")
    assert _validate(folder)[0] == 0
    found = _audits(folder)
    assert found["durable"][:2] == found["sql"][:2]
    assert found["durable"][0] == 0, found["durable"][2]


def test_a_text_constant_of_200000_characters_is_a_located_error(tmp_path: Path) -> None:
    folder = _check_pack(tmp_path, "name == '" + "x" * 200_000 + "'")
    code, stderr = _validate(folder)
    assert code == 2
    assert stderr.splitlines()[0] == (
        f"pack.yaml:9:15: error: expression longer than {MAX_EXPRESSION_LENGTH:,} characters"
    )


def test_deep_nesting_is_a_located_error_not_a_recursion_error(tmp_path: Path) -> None:
    cases = {
        "(" * 10_000 + "amount > 0" + ")" * 10_000: (
            f"pack.yaml:9:15: error: expression longer than {MAX_EXPRESSION_LENGTH:,} characters"
        ),
        "not " * 10_000 + "amount > 0": (
            f"pack.yaml:9:15: error: expression longer than {MAX_EXPRESSION_LENGTH:,} characters"
        ),
        "(" * 4_000 + "amount > 0" + ")" * 4_000: (
            f"pack.yaml:9:{15 + MAX_NESTING}: error: expression nested more than "
            f"{MAX_NESTING} levels deep"
        ),
        "not " * 2_000 + "amount > 0": (
            f"pack.yaml:9:{15 + 4 * MAX_NESTING}: error: expression nested more than "
            f"{MAX_NESTING} levels deep"
        ),
    }
    for require, expected in cases.items():
        folder = _check_pack(tmp_path, require)
        code, stderr = _validate(folder)
        assert code == 2
        assert "Traceback" not in stderr and "RecursionError" not in stderr
        assert stderr.splitlines()[0] == expected


def _wordy_pack(guidance: str, evidence: str = "What proves it.") -> str:
    return (
        "pack: wordy\nstages:\n  - id: qualify\n    exit:\n      - id: M1\n"
        "        milestone: Positive amount\n        require: amount > 0\n"
        f"        guidance: {guidance}\n        evidence: {evidence}\n"
        "  - id: won\n    terminal: won\n"
    )


def test_a_megabyte_of_guidance_is_refused_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(_wordy_pack("g" * 1_000_000), encoding="utf-8")
    result = dealgate("rules", "validate", "--rules", ".", "pack.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        f"pack.yaml:8:19: error: 'guidance' is 1,000,000 characters long; at most "
        f"{MAX_GUIDANCE_LENGTH:,} are allowed (every finding in every report repeats it: "
        "link to a longer text instead)"
    )


def test_evidence_one_character_too_long_is_refused_and_the_limit_itself_is_fine(
    tmp_path: Path,
) -> None:
    most = MAX_GUIDANCE_LENGTH
    (tmp_path / "pack.yaml").write_text(
        _wordy_pack("g" * most, evidence="e" * (most + 1)), encoding="utf-8"
    )
    result = dealgate("rules", "validate", "--rules", ".", "pack.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert [line.split(" (")[0] for line in result.stderr.splitlines()[:-1]] == [
        f"pack.yaml:9:19: error: 'evidence' is {most + 1:,} characters long; "
        f"at most {most:,} are allowed"
    ]


def test_an_override_cannot_bring_long_guidance_in_either(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(
        "pack: wordier\nextends: [bant]\nstages: []\noverrides:\n  BANT-BUDGET:\n"
        f"    guidance: {'g' * (MAX_GUIDANCE_LENGTH + 1)}\n",
        encoding="utf-8",
    )
    result = dealgate("rules", "validate", "--rules", ".", "pack.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("pack.yaml:6:15: error: 'guidance' is 4,001 characters long")


def test_every_bundled_pack_keeps_within_the_text_limits() -> None:
    result = dealgate("rules", "validate", "rules")
    assert result.returncode == 0, result.stderr
