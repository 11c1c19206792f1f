#!/usr/bin/env python3
"""Benchmark the memory of a JSON audit: deals kept until the report is written, against deals
spooled as they are judged (what `dealgate audit --format json` does since issue 14).

Each size runs both ways in child processes, interleaved, on the synthetic Salesforce pipelines
of bench_audit.py; the median wall time and peak memory of each, and the two reports compared
byte for byte. "kept" is the library's other mode (`AuditRequest(deals_read_after=True)`), the one
a `--baseline` comparison still takes.

Usage:
    python benchmarks/bench_json_memory.py                         # 20k and 100k deals, 2 runs
    python benchmarks/bench_json_memory.py --sizes 200000 500000 --runs 1
"""

from __future__ import annotations

import argparse
import filecmp
import platform
import statistics
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_audit import AS_OF, Run, cpu_model, prepare, run_command  # noqa: E402

MODES = ("kept", "spooled")


def one_audit(mode: str, pipeline: Path, roles: Path, teams: Path, output: Path) -> None:
    """One JSON audit in this process, its deals kept or spooled, written to `output`."""
    from dealgate.application import AuditRequest, run_audit_request
    from dealgate.audit import FailOn
    from dealgate.deals.source import Reading
    from dealgate.engines import get_engine
    from dealgate.report.audit_json import audit_json_chunks
    from dealgate.rules.loader import load_pack

    request = AuditRequest(
        pipeline=pipeline,
        pack=load_pack("buyer-journey"),
        as_of=AS_OF,
        engine=get_engine("auto"),
        reading=Reading(teams=teams, contacts=roles),
        fail_on=FailOn.NEVER,
        format="json",
        deals_read_after=mode == "kept",
    )
    run = run_audit_request(request)
    assert run.result is not None
    with output.open("w", encoding="utf-8") as out:
        for chunk in audit_json_chunks(run.result, include_met=False):
            out.write(chunk)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/dealgate-bench"))
    parser.add_argument("--one", nargs=5, help=argparse.SUPPRESS)  # a child: mode and files
    args = parser.parse_args()
    if args.one:
        mode, *paths = args.one
        one_audit(mode, *map(Path, paths))
        return 0
    files = prepare(args.work, args.sizes)
    runs: dict[tuple[int, str], list[Run]] = {(s, m): [] for s in args.sizes for m in MODES}
    for _ in range(args.runs):  # interleaved, so a noisy moment hits both alike
        for size, (pipeline, roles, teams) in files.items():
            for mode in MODES:
                output = args.work / f"json-{mode}-{size}.json"
                child = [sys.executable, __file__, "--one", mode, str(pipeline), str(roles)]
                runs[(size, mode)].append(run_command([*child, str(teams), str(output)]))
    print(f"{date.today()}, {platform.node()}: {cpu_model()}, Python {platform.python_version()}")
    print("| deals | deals kept: wall, peak RSS | spooled: wall, peak RSS | RSS ratio | same |")
    print("|---|---|---|---|---|")
    for size in args.sizes:
        kept, spooled = (runs[(size, mode)] for mode in MODES)
        same = filecmp.cmp(
            args.work / f"json-kept-{size}.json", args.work / f"json-spooled-{size}.json", False
        )
        wall = [statistics.median(r.seconds for r in side) for side in (kept, spooled)]
        rss = [statistics.median(r.max_rss_mb for r in side) for side in (kept, spooled)]
        print(
            f"| {size:,} | {wall[0]:.1f} s, {rss[0]:,.0f} MB | {wall[1]:.1f} s, {rss[1]:,.0f} MB"
            f" | {rss[0] / rss[1]:.2f}x | {'yes' if same else 'NO'} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
