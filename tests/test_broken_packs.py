"""Deliberately broken packs produce exactly the messages and positions expected.

Each `tests/broken_packs/NAME.yaml` has a `NAME.expected` beside it: the error lines, in
order, that validating it must print (`file:line:col: error: message (hint)`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dealgate.errors import PackError
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack

BROKEN = Path(__file__).parent / "broken_packs"
CASES = sorted(path.name for path in BROKEN.glob("*.yaml"))


def test_every_broken_pack_has_its_expectation() -> None:
    assert CASES
    for name in CASES:
        assert (BROKEN / name).with_suffix(".expected").is_file(), name


@pytest.mark.parametrize("name", CASES)
def test_broken_pack_reports_exact_errors(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BROKEN)
    expected = (BROKEN / name).with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    catalog = PackCatalog([Path("bases"), Path(name)], include_bundled=False)
    with pytest.raises(PackError) as caught:
        load_pack(Path(name), catalog)
    assert [str(problem) for problem in caught.value.problems] == expected


def test_validate_command_prints_all_errors_and_exits_2() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dealgate",
            "rules",
            "validate",
            "--rules",
            "bases",
            "expression-errors.yaml",
            "unknown-keys.yaml",
        ],
        cwd=BROKEN,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    expected = [
        *(BROKEN / "expression-errors.expected").read_text(encoding="utf-8").splitlines(),
        *(BROKEN / "unknown-keys.expected").read_text(encoding="utf-8").splitlines(),
        "2 of 2 pack files have errors",
    ]
    assert lines == expected
    assert "Traceback" not in result.stderr
