#!/usr/bin/env python3
"""Rewind a Salesforce opportunity export to an earlier day, for `dealgate audit --baseline`.

What had not happened yet on that day is taken out: a deal created after it is dropped, a date
of evidence (a `… On` column) after it is blanked, and a later Last Activity becomes a day of
the week before. Some deals at later stages
are put back one or two stages, as if they had been advanced since (the seed picks them). The
result is what the export would have looked like a week earlier, so the example audit can show
what changed since.

Usage (writes examples/salesforce-opportunities-last-week.csv byte for byte):
    python benchmarks/last_week.py --export examples/salesforce-opportunities.csv \
        --day 2026-11-20 --seed 7 --out examples/salesforce-opportunities-last-week.csv
"""

from __future__ import annotations

import argparse
import csv
import random
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

from dealgate.rules.loader import load_pack

SHARE_MOVED = 0.15  # of the deals at the third stage or later


def slash_date(text: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), "%m/%d/%Y").date()
    except ValueError:
        return None


def rewind(rows: list[list[str]], day: date, seed: int) -> list[list[str]]:
    header, data = rows[0], rows[1:]
    pack = load_pack("buyer-journey")
    stage_column = header.index("Stage")
    created = header.index("Created Date")
    evidence = [i for i, name in enumerate(header) if name.endswith(" On")]
    activity = header.index("Last Activity")
    labels: dict[str, Counter[str]] = {}
    for row in data:
        stage = pack.match_stage(row[stage_column])
        if stage is not None:
            labels.setdefault(stage.id, Counter())[row[stage_column]] += 1
    label_of = {stage_id: names.most_common(1)[0][0] for stage_id, names in labels.items()}
    open_stages = [stage for stage in pack.open_stages if stage.id in label_of]
    chance = random.Random(seed)
    kept = [header]
    for row in data:
        made = slash_date(row[created])
        if made is not None and made > day:
            continue
        row = list(row)
        for column in evidence:
            when = slash_date(row[column])
            if when is not None and when > day:
                row[column] = ""
        last = slash_date(row[activity])
        if last is not None and last > day:
            earlier = day - timedelta(days=int(chance.random() * 7))
            row[activity] = f"{earlier.month}/{earlier.day}/{earlier.year}"
        stage = pack.match_stage(row[stage_column])
        if stage in open_stages[2:] and chance.random() < SHARE_MOVED:
            back = open_stages[max(0, open_stages.index(stage) - 1 - (chance.random() < 0.5))]
            row[stage_column] = label_of[back.id]
        kept.append(row)
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, required=True)
    parser.add_argument("--day", type=date.fromisoformat, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    options = parser.parse_args()
    with options.export.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    earlier = rewind(rows, options.day, options.seed)
    with options.out.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(earlier)
    print(f"wrote {options.out}: {len(earlier) - 1} of {len(rows) - 1} rows, as of {options.day}")


if __name__ == "__main__":
    main()
