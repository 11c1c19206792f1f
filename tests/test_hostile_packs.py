"""Hostile rule packs: each is refused with a located error and exit 2, never a traceback or a
crash later in the audit. Issue 14; docs/reliability.md lists each case and its test."""

from __future__ import annotations

from pathlib import Path

from command import dealgate
from dealgate.rules.loader import MAX_EXTENDS_DEPTH


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
