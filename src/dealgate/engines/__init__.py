"""Engines evaluate the milestones of deals; `choose_engine` picks one by name and input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dealgate.engines.base import Engine, EngineUnavailable

if TYPE_CHECKING:
    from dealgate.rules.model import RulePack

ENGINES = ("auto", "durable", "sql", "spark")

# From this input size `auto` prefers the SQL engine: below it, importing DuckDB, sqlglot and
# pyarrow (0.3-0.6 s here) costs more than evaluating the deals (docs/engines.md, "auto").
LARGE_INPUT_BYTES = 50_000_000


@dataclass(frozen=True)
class EngineChoice:
    """The engine that will run, and why it was chosen (what `-v` prints)."""

    engine: Engine
    reason: str


def choose_engine(
    name: str = "auto",
    input_bytes: int | None = None,
    *,
    spark_master: str | None = None,
    pack: RulePack | None = None,
) -> EngineChoice:
    """The engine asked for. `auto` takes the durable engine for small inputs and the SQL
    engine for large ones (input_bytes >= LARGE_INPUT_BYTES), and whichever of the two can
    be imported when the other cannot; it never starts Spark. `spark_master` is the spark
    engine's master URL. Given the `pack`, a pack beyond what a durable ruleset holds
    (durable.MAX_MILESTONES_PER_STAGE, MAX_STAGES_WITH_MILESTONES) makes `auto` take the
    SQL engine and `durable` refuse at once, rather than fail or hang in durable_rules."""
    if name not in ENGINES:
        raise EngineUnavailable(f"unknown engine '{name}' (engines: {', '.join(ENGINES)})")
    if spark_master is not None and name != "spark":
        raise EngineUnavailable(f"a Spark master is for the spark engine, not '{name}'")
    if name == "spark":
        from dealgate.engines.spark import SparkEngine

        return EngineChoice(SparkEngine(spark_master), "asked for")
    beyond_durable = _durable_limit(pack)
    if name == "durable":
        if pack is not None and beyond_durable:
            from dealgate.engines.durable import durable_refusal

            raise EngineUnavailable(durable_refusal(pack, beyond_durable))
        return EngineChoice(_durable(), "asked for")
    if name == "sql":
        return EngineChoice(_sql(), "asked for")
    if beyond_durable:
        try:
            return EngineChoice(
                _sql(), f"auto: the durable engine cannot hold the pack ({beyond_durable})"
            )
        except EngineUnavailable as error:
            raise EngineUnavailable(f"no engine can run here: {error}; {beyond_durable}") from None
    size = f"input of {input_bytes / 1e6:.1f} MB" if input_bytes is not None else "a few deals"
    large = input_bytes is not None and input_bytes >= LARGE_INPUT_BYTES
    preferred, other = (_sql, _durable) if large else (_durable, _sql)
    unavailable = "sql" if large else "durable"
    limit = f"{LARGE_INPUT_BYTES / 1e6:.0f} MB"
    try:
        engine = preferred()
        if input_bytes is None:
            return EngineChoice(engine, f"auto: {size}")
        return EngineChoice(engine, f"auto: {size}, {'at or over' if large else 'under'} {limit}")
    except EngineUnavailable as first:
        try:
            return EngineChoice(other(), f"auto: the {unavailable} engine cannot run here")
        except EngineUnavailable as second:
            raise EngineUnavailable(f"no engine can run here: {first}; {second}") from None


def get_engine(name: str = "auto", *, spark_master: str | None = None) -> Engine:
    """The engine asked for, as `choose_engine` picks it for a few deals."""
    return choose_engine(name, spark_master=spark_master).engine


def _durable_limit(pack: RulePack | None) -> str:
    """Why the durable engine cannot hold the pack, or ''."""
    if pack is None:
        return ""
    from dealgate.engines.durable import durable_limit

    return durable_limit(pack)


def _durable() -> Engine:
    from dealgate.engines.durable import DurableEngine

    return DurableEngine()


def _sql() -> Engine:
    from dealgate.engines.sql import SqlEngine

    return SqlEngine()


__all__ = [
    "ENGINES",
    "LARGE_INPUT_BYTES",
    "Engine",
    "EngineChoice",
    "EngineUnavailable",
    "choose_engine",
    "get_engine",
]
