"""Where an engine cannot run, dealgate says so plainly and how to fix it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from command import needs_durable
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
    with pytest.raises(EngineUnavailable, match="unknown engine 'snowflake'"):
        get_engine("snowflake")


def test_spark_master_is_only_for_the_spark_engine() -> None:
    with pytest.raises(EngineUnavailable, match="not 'sql'"):
        get_engine("sql", spark_master="local[2]")


def test_a_spark_master_that_is_no_url_is_refused_before_spark_starts() -> None:
    with pytest.raises(EngineUnavailable, match="'nosuch://host' is not a Spark master URL"):
        get_engine("spark", spark_master="nosuch://host")


def test_missing_pyspark_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(EngineUnavailable) as caught:
        get_engine("spark")
    assert "pip install 'dealgate[spark]'" in str(caught.value)
    assert "Java 17" in str(caught.value)


def test_missing_java_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(EngineUnavailable) as caught:
        get_engine("spark")
    message = str(caught.value)
    assert f"JAVA_HOME={tmp_path} has no bin/java" in message
    assert "Java 17 or later" in message


def test_a_java_too_old_for_spark_4_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("pyspark")
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    # What Java 11 prints for -version (on stderr).
    java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.22\" 2024-01-16' >&2\n")
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(EngineUnavailable, match=r"needs Java 17 or later, .* is Java 11"):
        get_engine("spark")


@needs_durable
def test_auto_takes_durable_for_small_inputs_and_sql_for_large_ones() -> None:
    small = choose_engine("auto", 2_000_000)
    assert small.engine.name == "durable"
    assert small.reason == "auto: input of 2.0 MB, under 50 MB"
    large = choose_engine("auto", LARGE_INPUT_BYTES)
    assert large.engine.name == "sql"
    assert large.reason == "auto: input of 50.0 MB, at or over 50 MB"
    check = choose_engine("auto")  # a check: a few deals
    assert (check.engine.name, check.reason) == ("durable", "auto: a few deals")


def test_auto_takes_what_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "durable_rules_engine", None)
    choice = choose_engine("auto", 1_000)
    assert choice.engine.name == "sql"
    assert choice.reason == "auto: the durable engine cannot run here"


@needs_durable
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
