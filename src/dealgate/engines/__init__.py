"""Engines evaluate the milestones of deals; `get_engine` picks one by name."""

from __future__ import annotations

from dealgate.engines.base import Engine, EngineUnavailable

ENGINES = ("auto", "durable")


def get_engine(name: str = "auto") -> Engine:
    """The engine asked for; `auto` is the durable engine until the SQL engine exists."""
    if name not in ENGINES:
        raise EngineUnavailable(f"unknown engine '{name}' (engines: {', '.join(ENGINES)})")
    from dealgate.engines.durable import DurableEngine

    return DurableEngine()


__all__ = ["ENGINES", "Engine", "EngineUnavailable", "get_engine"]
