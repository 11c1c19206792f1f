#!/usr/bin/env python3
"""Benchmark `dealgate calibrate` from weekly snapshots: time and peak memory by pipeline size.

For each size, writes a synthetic Salesforce pipeline (benchmarks/synthetic.py, seed 7), saves
it as `--snapshots` weekly audits with --include-met (the same export judged on successive
Fridays, as a team's weekly audit of a slow-moving pipeline would be), and times
`dealgate calibrate SNAPSHOTS --outcomes EXPORT` several times: the median wall time, CPU time
and peak memory (max RSS of the process). The snapshot's size on disk and the time to save one
are given too: they are what a team pays every week.

Usage:
    python benchmarks/bench_calibrate.py                          # 2k and 20k deals, 4 snapshots
    python benchmarks/bench_calibrate.py --sizes 20000 --snapshots 8 --runs 3
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_audit import AS_OF, Run, cpu_model, dealgate, prepare, run_command  # noqa: E402


def snapshots(pipeline: Path, count: int, work: Path) -> tuple[list[Path], Run]:
    """The pipeline saved as `count` weekly snapshots before AS_OF; the first save's cost."""
    saved, first = [], None
    for week in range(count, 0, -1):
        day = AS_OF - timedelta(weeks=week)
        path = work / f"{pipeline.stem}-{day.isoformat()}.json"
        if not path.exists() or first is None:
            run = run_command(
                dealgate(
                    "audit", str(pipeline), "--as-of", day.isoformat(), "--fail-on", "never",
                    "--format", "json", "--include-met", "--output", str(path),
                )
            )  # fmt: skip
            first = first or run
        saved.append(path)
    assert first is not None
    return saved, first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--snapshots", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/dealgate-bench-calibrate"))
    options = parser.parse_args()
    files = prepare(options.work, options.sizes)
    print(f"Machine: {cpu_model()}, {platform.python_version()}; {date.today().isoformat()}")
    print(
        "\n| deals | snapshots | one snapshot on disk | saving one | calibrate (median) "
        "| CPU | peak memory |\n|---|---|---|---|---|---|---|"
    )
    for size in options.sizes:
        pipeline = files[size][0]
        saved, first = snapshots(pipeline, options.snapshots, options.work)
        command = dealgate(
            "calibrate", *map(str, saved), "--outcomes", str(pipeline), "--format", "json"
        )
        runs = [run_command(command) for _ in range(options.runs)]
        megabytes = saved[0].stat().st_size / 1e6
        print(
            f"| {size:,} | {len(saved)} | {megabytes:,.0f} MB | {first.seconds:.1f} s "
            f"| {statistics.median(r.seconds for r in runs):.1f} s "
            f"| {statistics.median(r.cpu_seconds for r in runs):.1f} s "
            f"| {max(r.max_rss_mb for r in runs):,.0f} MB |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
