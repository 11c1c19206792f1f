"""Where an engine cannot run, dealgate says so plainly and how to fix it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dealgate.engines import EngineUnavailable, get_engine


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
