"""Where durable_rules cannot be imported, dealgate says so plainly and how to fix it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dealgate.engines import LARGE_INPUT_BYTES, EngineUnavailable, choose_engine, get_engine


def test_missing_durable_rules_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes the import fail, as on Python 3.13 without the fix.
    monkeypatch.setitem(sys.modules, "durable_rules_engine", None)
    with pytest.raises(EngineUnavailable) as caught:
        get_engine("durable")
    message = str(caught.value)
    assert "does not import here" in message
    assert 'CC="gcc -DPyEval_CallObject=PyObject_CallObject"' in message


def test_unknown_engine_is_named() -> None:
    with pytest.raises(EngineUnavailable, match="unknown engine 'spark'"):
        get_engine("spark")


def test_auto_takes_durable_for_small_inputs_and_sql_for_large_ones() -> None:
    small = choose_engine("auto", 2_000_000)
    assert small.engine.name == "durable"
    assert small.reason == "auto: input of 2.0 MB, under 50 MB"
    large = choose_engine("auto", LARGE_INPUT_BYTES)
    assert large.engine.name == "sql"
    assert large.reason == "auto: input of 50.0 MB, at or over 50 MB"
    assert choose_engine("auto").engine.name == "durable"  # a check: a few deals


def test_auto_takes_what_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "durable_rules_engine", None)
    choice = choose_engine("auto", 1_000)
    assert choice.engine.name == "sql"
    assert choice.reason == "auto: the durable engine cannot run here"


def test_verbose_says_which_engine_ran() -> None:
    examples = Path(__file__).parent.parent / "examples"
    for asked, said in [
        ("auto", "engine: durable (auto: input of 0.2 MB, under 50 MB)"),
        ("sql", "engine: sql (asked for)"),
    ]:
        completed = subprocess.run(
            [
                *(sys.executable, "-m", "dealgate", "audit", str(examples / "hubspot-deals.csv")),
                *("--as-of", "2026-11-27", "--format", "json", "--fail-on", "never"),
                *("--engine", asked, "-v"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        assert said in completed.stderr.splitlines()
        assert json.loads(completed.stdout)["engine"] == said.split()[1]
