"""Engines evaluate the milestones of deals; `get_engine` picks one by name."""

from __future__ import annotations

from dealgate.engines.base import Engine, EngineUnavailable

ENGINES = ("auto", "durable", "sql", "spark")


def get_engine(name: str = "auto", *, spark_master: str | None = None) -> Engine:
    """The engine asked for; `auto` is the durable engine, or the SQL engine where
    durable_rules cannot be imported. `spark_master` is the spark engine's master URL."""
    if name not in ENGINES:
        raise EngineUnavailable(f"unknown engine '{name}' (engines: {', '.join(ENGINES)})")
    if spark_master is not None and name != "spark":
        raise EngineUnavailable(f"a Spark master is for the spark engine, not '{name}'")
    if name == "spark":
        from dealgate.engines.spark import SparkEngine

        return SparkEngine(spark_master)
    if name == "sql":
        from dealgate.engines.sql import SqlEngine

        return SqlEngine()
    from dealgate.engines.durable import DurableEngine

    try:
        return DurableEngine()
    except EngineUnavailable:
        if name == "durable":
            raise
        from dealgate.engines.sql import SqlEngine

        return SqlEngine()


__all__ = ["ENGINES", "Engine", "EngineUnavailable", "get_engine"]
