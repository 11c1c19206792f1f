"""Measure how large a pack one durable_rules ruleset holds (issue 14; docs/engines.md).

Generates packs of STAGES stages with MILESTONES exit milestones each and builds their durable
ruleset directly (dealgate's own limit check is skipped), printing the time or durable's error.
A ruleset that hangs ignores SIGINT, so run each size under a timeout, e.g.

    for size in "1 128" "1 129" "1 130" "512 1" "513 1"; do
        PYTHONPATH=src timeout -k 2 60 .venv/bin/python scripts/durable_limits.py $size same
    done

SHAPE: `distinct` (amount > i), `same` (amount > 0 everywhere), `when` (distinct, with a
distinct `when` each). Exit 124 from timeout means create_ruleset did not return.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from dealgate.engines.durable import compile_pack, to_json
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack


def pack_text(stages: int, milestones: int, shape: str) -> str:
    lines = ["pack: generated", "stages:"]
    for stage in range(stages):
        lines += [f"  - id: s{stage}", "    exit:" if milestones else "    exit: []"]
        for index in range(milestones):
            require = "amount > 0" if shape == "same" else f"amount > {index}"
            when = f", when: 'probability > {index}'" if shape == "when" else ""
            lines.append(
                f"      - {{id: M{stage}-{index}, milestone: m, require: '{require}'{when}}}"
            )
    lines += ["  - id: won", "    terminal: won"]
    return "\n".join(lines) + "\n"


def main() -> None:
    stages, milestones = int(sys.argv[1]), int(sys.argv[2])
    shape = sys.argv[3] if len(sys.argv) > 3 else "distinct"
    import durable_rules_engine

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.yaml"
        path.write_text(pack_text(stages, milestones, shape), encoding="utf-8")
        pack = load_pack(path, PackCatalog([path], include_bundled=False))
    compiled = compile_pack(pack, date(2026, 12, 1))
    print(f"{stages} stages x {milestones} milestones ({shape}): {len(compiled.rules)} rules")
    sys.stdout.flush()
    start = time.perf_counter()
    try:
        durable_rules_engine.create_ruleset("measured", to_json(compiled.definition))
        outcome = "ok"
    except Exception as error:  # durable's error code is in the message
        outcome = f"refused: {error}"
    print(json.dumps({"seconds": round(time.perf_counter() - start, 3), "outcome": outcome}))


if __name__ == "__main__":
    main()
