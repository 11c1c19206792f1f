#!/usr/bin/env python3
"""Benchmark `dealgate audit` and `dealgate check` end to end, and the engine alone.

Writes synthetic Salesforce pipelines (benchmarks/synthetic.py) of each size to a work folder,
then, for each size and engine, runs the audit from the command line (CSV report) several
times, interleaved, and reports the median wall time, deals per second, peak memory (max RSS of
the process) and the speed-up over the durable engine; the engines' reports must be identical.
`--engine sql` with a CSV report is the columnar audit, all in DuckDB. With --engine-alone the
durable engine is also timed alone, in this process, on deals already read. `check` of one
deal is timed including start-up.

Usage:
    python benchmarks/bench_audit.py                      # 10k and 100k deals, 3 runs each
    python benchmarks/bench_audit.py --sizes 10000 --runs 5 --work /tmp/dealgate-bench
    python benchmarks/bench_audit.py --sizes 1000000 --engines sql --runs 3
    python benchmarks/bench_audit.py --engines durable --before /tmp/base/src   # before/after

With --before SRC, each audit also runs with SRC (another checkout's src folder) first on
PYTHONPATH, interleaved with this checkout's, and the table gives both and the speed-up; the
reports must be identical. CPU seconds (user + system) are given too, as a shared machine's
wall times are noisy.

Results print as a Markdown table for docs/performance.md, with the machine and the date.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = date(2026, 11, 27)
sys.path.insert(0, str(HERE))

from synthetic import write_salesforce, write_teams  # noqa: E402


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    cpu_seconds: float = 0.0  # user + system


def run_command(args: list[str], source: Path | None = None) -> Run:
    """Run a command; its wall time, CPU time and the peak memory of its process (from wait4).

    With a source folder, that folder is first on the command's PYTHONPATH."""
    environment = dict(os.environ)
    if source is not None:
        environment["PYTHONPATH"] = str(source)
    started = time.perf_counter()
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed with exit code {code}")
    return Run(elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def dealgate(*args: str) -> list[str]:
    return [sys.executable, "-m", "dealgate", *args]


def prepare(work: Path, sizes: list[int]) -> dict[int, tuple[Path, Path, Path]]:
    work.mkdir(parents=True, exist_ok=True)
    teams = work / "teams.csv"
    write_teams(teams)
    files = {}
    for size in sizes:
        pipeline = work / f"salesforce-{size}.csv"
        roles = work / f"salesforce-{size}-roles.csv"
        if not pipeline.exists() or not roles.exists():
            write_salesforce(pipeline, deals=size, seed=7, as_of=AS_OF, contacts_out=roles)
        files[size] = (pipeline, roles, teams)
    return files


def engine_alone(pipeline: Path, roles: Path, teams: Path) -> tuple[float, float, int]:
    """Seconds for the engine, and for engine plus stage semantics, on deals already read."""
    from dealgate.deals.source import open_deals
    from dealgate.engines import get_engine
    from dealgate.judging.assess import assess, request_for
    from dealgate.rules.loader import load_pack

    pack = load_pack("buyer-journey")
    source = open_deals(pipeline, pack, contacts=roles, teams=teams)
    reads = [read for read in source if read.stage_id is None or pack.stage(read.stage_id).is_open]
    requests = [request_for(read, pack) for read in reads]
    engine = get_engine("durable")
    list(engine.evaluate(pack, requests[:10], AS_OF))  # compile the ruleset outside the timing
    started = time.perf_counter()
    evaluated = list(engine.evaluate(pack, requests, AS_OF))
    engine_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for outcome in evaluated:
        assess(pack, outcome)
    assess_seconds = time.perf_counter() - started
    return engine_seconds, engine_seconds + assess_seconds, len(requests)


def audit_command(
    size: int, files: tuple[Path, Path, Path], engine: str, output: Path
) -> list[str]:
    pipeline, roles, teams = files
    return dealgate(
        "audit",
        str(pipeline),
        *("--contacts", str(roles), "--teams", str(teams)),
        *("--as-of", AS_OF.isoformat(), "--engine", engine),
        *("--format", "csv", "--output", str(output)),
    )


def before_and_after(args: argparse.Namespace, files: dict[int, tuple[Path, Path, Path]]) -> int:
    """Each audit with the other checkout's source (before) and this one's (after),
    interleaved; medians, speed-up, and the reports compared byte for byte."""
    here = ROOT / "src"
    sides = {"before": args.before, "after": here}
    runs: dict[tuple[int, str, str], list[Run]] = {
        (size, engine, side): [] for size in args.sizes for engine in args.engines for side in sides
    }
    for _ in range(args.runs):
        for size in args.sizes:
            for engine in args.engines:
                for side, source in sides.items():
                    output = args.work / f"audit-{size}-{engine}-{side}.csv"
                    command = audit_command(size, files[size], engine, output)
                    runs[(size, engine, side)].append(run_command(command, source))
    for size in args.sizes:
        reports = {
            (args.work / f"audit-{size}-{engine}-{side}.csv").read_bytes()
            for engine in args.engines
            for side in sides
        }
        if len(reports) != 1:
            raise SystemExit(f"before and after wrote different reports for {size:,} deals")
    print(
        f"Machine: {platform.node()}, {os.cpu_count()} cores, {cpu_model()}, "
        f"Python {platform.python_version()}; {date.today().isoformat()}; "
        f"before: {args.before}\n"
    )
    print(
        f"| deals | engine | side | wall (median of {args.runs}) | deals/s | CPU s (median) | "
        "peak RSS | speed-up (wall, CPU) |"
    )
    print("|---:|---|---|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        for engine in args.engines:
            medians = {
                side: (
                    statistics.median(run.seconds for run in runs[(size, engine, side)]),
                    statistics.median(run.cpu_seconds for run in runs[(size, engine, side)]),
                )
                for side in sides
            }
            for side in sides:
                wall, cpu = medians[side]
                peak = max(run.max_rss_mb for run in runs[(size, engine, side)])
                before_wall, before_cpu = medians["before"]
                print(
                    f"| {size:,} | {engine} | {side} | {wall:.2f} s | {size / wall:,.0f} | "
                    f"{cpu:.2f} s | {peak:,.0f} MB | "
                    f"{before_wall / wall:.2f}x, {before_cpu / cpu:.2f}x |"
                )
    return 0


def cpu_model() -> str:
    """The processor model, from /proc/cpuinfo where there is one."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--engines",
        nargs="+",
        default=["durable", "sql"],
        help="durable: the Python path; sql: the columnar audit in DuckDB",
    )
    parser.add_argument("--engine-alone", action="store_true", help="also time the engine alone")
    parser.add_argument("--work", type=Path, default=Path("/tmp/dealgate-bench"))
    parser.add_argument(
        "--before",
        type=Path,
        help="another checkout's src folder: time its audits too, interleaved, and compare",
    )
    args = parser.parse_args()
    files = prepare(args.work, args.sizes)
    if args.before is not None:
        return before_and_after(args, files)

    audits: dict[tuple[int, str], list[Run]] = {
        (size, engine): [] for size in args.sizes for engine in args.engines
    }
    for _ in range(args.runs):  # interleaved, so a noisy moment hits every size alike
        for size, (pipeline, roles, teams) in files.items():
            for engine in args.engines:
                output = args.work / f"audit-{size}-{engine}.csv"
                audits[(size, engine)].append(
                    run_command(
                        dealgate(
                            "audit",
                            str(pipeline),
                            *("--contacts", str(roles), "--teams", str(teams)),
                            *("--as-of", AS_OF.isoformat(), "--engine", engine),
                            *("--format", "csv", "--output", str(output)),
                        )
                    )
                )
    for size in args.sizes:  # the engines must have written the same report
        reports = {
            (args.work / f"audit-{size}-{engine}.csv").read_bytes() for engine in args.engines
        }
        if len(reports) != 1:
            raise SystemExit(f"the engines wrote different reports for {size:,} deals")
    deal_file = ROOT / "examples" / "deals" / "globex-skipped.yaml"
    checks = [
        run_command(dealgate("check", str(deal_file), "--as-of", AS_OF.isoformat()))
        for _ in range(max(args.runs, 5) * 2)
    ]

    print(
        f"Machine: {platform.node()}, {os.cpu_count()} cores, {cpu_model()}, "
        f"Python {platform.python_version()}; {date.today().isoformat()}\n"
    )
    print(
        f"| deals | engine | audit end to end (median of {args.runs}) | deals/s | peak RSS | "
        "vs durable |"
    )
    print("|---:|---|---:|---:|---:|---:|")
    for size in args.sizes:
        medians = {
            engine: statistics.median(run.seconds for run in audits[(size, engine)])
            for engine in args.engines
        }
        for engine in args.engines:
            median = medians[engine]
            peak = max(run.max_rss_mb for run in audits[(size, engine)])
            ratio = f"{medians['durable'] / median:.1f}x" if "durable" in medians else ""
            print(
                f"| {size:,} | {engine} | {median:.2f} s | {size / median:,.0f} | "
                f"{peak:,.0f} MB | {ratio} |"
            )
    if args.engine_alone:
        print("\n| deals | durable engine alone | deals/s | engine + stage semantics |")
        print("|---:|---:|---:|---:|")
        for size, (pipeline, roles, teams) in files.items():
            engine_seconds, with_assess, audited = engine_alone(pipeline, roles, teams)
            print(
                f"| {size:,} | {engine_seconds:.2f} s ({audited:,} open deals) | "
                f"{audited / engine_seconds:,.0f} | {audited / with_assess:,.0f} deals/s |"
            )
    check_median = statistics.median(run.seconds for run in checks)
    check_times = ", ".join(f"{run.seconds:.2f}" for run in sorted(checks, key=lambda r: r.seconds))
    print(
        f"\n`dealgate check` of one deal, wall time including start-up: median "
        f"{check_median:.2f} s over {len(checks)} runs ({check_times})."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
