"""Where durable_rules cannot be imported, dealgate says so plainly and how to fix it."""

from __future__ import annotations

import sys

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
    with pytest.raises(EngineUnavailable, match="unknown engine 'spark'"):
        get_engine("spark")
