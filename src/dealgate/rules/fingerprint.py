"""A resolved rule pack's fingerprint: a hash of what it says, not of how its files are written.

A saved audit carries it (report/audit_json.py), so a later audit or report can tell that the
pack changed in between even when its id did not. It is taken from the resolved model, so YAML
layout, comments, key order, quoting and the spacing inside an expression do not change it, and
neither does where a milestone is written (its file and line, or which base pack defined it).
Everything the pack says does: stages, CRM names, milestones (require, when, severity, stage,
evidence, guidance…), hygiene checks and field declarations.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import Enum

from dealgate.rules.checker import CheckedCondition

# Where the pack was written, not what it says: two packs that differ only here judge alike.
_PROVENANCE = frozenset({"location", "source", "defined_in", "lineage", "extends"})


def fingerprint(model: object) -> str:
    """The sha256 (hex) of the model's canonical JSON form."""
    text = json.dumps(canonical(model), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(value: object) -> object:
    """The value as plain JSON data, the same for every writing of the same content."""
    if isinstance(value, CheckedCondition):
        # The checked tree, not the text: `a  and b` and a folded YAML line mean `a and b`.
        return canonical(value.tree)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        shape: dict[str, object] = {"": type(value).__name__}  # Not and Negate share fields
        for item in dataclasses.fields(value):
            found = getattr(value, item.name)
            if found is None and item.metadata.get("omit_when_none"):
                continue  # a newer key left unset: the hash stays what it was before it
            if item.compare and item.name not in _PROVENANCE:
                shape[item.name] = canonical(found)
        return shape
    if isinstance(value, Enum):
        return canonical(value.value)
    if isinstance(value, Mapping):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [canonical(item) for item in value]
    if isinstance(value, frozenset):
        return sorted(str(canonical(item)) for item in value)
    if isinstance(value, Decimal):
        return str(value.normalize())  # 5, 5.0 and 5.00 are one number in a condition
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"no canonical form for {type(value).__name__}")
