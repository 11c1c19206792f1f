"""Shared fixtures: one Spark session for the whole test run (a JVM starts in several seconds)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from dealgate.engines import EngineUnavailable, get_engine
from dealgate.engines.spark import SparkEngine


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[SparkEngine]:
    """The spark engine on a local session, stopped when the tests end. Skipped where pyspark
    or Java is missing, except in CI, which must run it."""
    try:
        engine = get_engine("spark")
    except EngineUnavailable as error:
        if running_in_ci():
            pytest.fail(f"CI runs the spark engine, but it cannot run here: {error}")
        pytest.skip(f"spark engine not available here: {error}")
    assert isinstance(engine, SparkEngine)
    engine.session  # noqa: B018 - start Spark once, so later engines in this process share it
    yield engine
    engine.close()
