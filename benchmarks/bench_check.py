#!/usr/bin/env python3
"""Benchmark `dealgate check` of one deal, start-up included, and what its start-up imports.

Runs `python -m dealgate check examples/deals/globex-skipped.yaml --as-of 2026-11-27` N times
(default 20) in fresh processes and prints the median, min and max wall time and CPU time
(user + system, from wait4: on a shared machine it moves less than wall time). Then it runs the
same command with `-X importtime` a few times and prints the ten packages whose imports cost
the most (median of their own import time, summed per package), and the ten heaviest imports
made by dealgate's own modules.

With `--baseline SRC` it times another source tree too (say a checkout of main), interleaved
with this one, run by run, so both see the same load.

Bytecode: an installed dealgate has its .pyc files (pip compiles them at install). By default
each tree's bytecode is cached in a temporary folder (PYTHONPYCACHEPREFIX) and warmed up before
timing, whatever PYTHONDONTWRITEBYTECODE says; `--no-bytecode-cache` compiles every module
from source on every run instead, as a checkout run with PYTHONDONTWRITEBYTECODE=1 does.

Usage:
    python benchmarks/bench_check.py
    python benchmarks/bench_check.py --runs 30 --baseline ../main/src
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEAL = ROOT / "examples" / "deals" / "globex-skipped.yaml"
CHECK = ["-m", "dealgate", "check", str(DEAL), "--as-of", "2026-11-27"]
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


@dataclass(frozen=True)
class Tree:
    """A dealgate source tree to time, and the environment its runs get."""

    label: str
    env: dict[str, str]


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float


def tree(label: str, src: Path, cache: Path | None) -> Tree:
    env = dict(os.environ, PYTHONPATH=str(src.resolve()))
    if cache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    return Tree(label, env)


def run_check(checked: Tree, *flags: str) -> tuple[Run, str]:
    """One `dealgate check` in a fresh process: its times and its standard error."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *flags, *CHECK],
        env=checked.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):  # 1: the example deal is not ready to advance
        raise SystemExit(f"check failed with exit code {process.returncode}:\n{stderr}")
    return Run(wall, usage.ru_utime + usage.ru_stime), stderr


def import_costs(stderr: str) -> tuple[dict[str, int], dict[str, int]]:
    """From -X importtime: microseconds per package (own time, summed) and, for each import a
    dealgate module makes of another package, its cumulative time."""
    per_package: dict[str, int] = defaultdict(int)
    from_dealgate: dict[str, int] = {}
    lines = [m for m in map(IMPORT_LINE.match, stderr.splitlines()) if m]
    # importtime prints children before their parent; a parent is the next line less indented.
    for index, match in enumerate(lines):
        own, cumulative, indent, name = int(match[1]), int(match[2]), len(match[3]), match[4]
        per_package[package(name)] += own
        parent = next((m[4] for m in lines[index + 1 :] if len(m[3]) < indent), None)
        if parent is not None and parent.startswith("dealgate") and not name.startswith("dealgate"):
            from_dealgate[f"{name} (by {parent})"] = cumulative
    return per_package, from_dealgate


def package(module: str) -> str:
    """What an import is counted under: the top-level package, dealgate's by subpackage."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "dealgate" and len(parts) > 1 else parts[0]


def medians(samples: Sequence[dict[str, int]]) -> dict[str, float]:
    names = {name for sample in samples for name in sample}
    return {name: statistics.median(sample.get(name, 0) for sample in samples) for name in names}


def summary(runs: list[Run]) -> str:
    walls = [run.wall for run in runs]
    cpus = [run.cpu for run in runs]
    return (
        f"wall median {statistics.median(walls):.3f} s, min {min(walls):.3f} s, "
        f"max {max(walls):.3f} s; CPU median {statistics.median(cpus):.3f} s "
        f"({len(runs)} runs)"
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per tree (default 20)")
    parser.add_argument("--profiles", type=int, default=5, help="-X importtime runs (default 5)")
    parser.add_argument("--baseline", type=Path, help="another dealgate src folder, interleaved")
    parser.add_argument("--no-bytecode-cache", action="store_true", help="compile every run")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="dealgate-bench-pyc-") as cache_root:
        trees = [("this tree", ROOT / "src")]
        if args.baseline is not None:
            trees.insert(0, ("baseline", args.baseline))
        checked = [
            tree(label, src, None if args.no_bytecode_cache else Path(cache_root) / str(i))
            for i, (label, src) in enumerate(trees)
        ]
        for each in checked:  # warm up: bytecode cache, file system cache
            for _ in range(3):
                run_check(each)
        runs: dict[str, list[Run]] = {each.label: [] for each in checked}
        for _ in range(args.runs):
            for each in checked:
                runs[each.label].append(run_check(each)[0])
        profiles: dict[str, list[tuple[dict[str, int], dict[str, int]]]] = {
            each.label: [] for each in checked
        }
        for _ in range(args.profiles):
            for each in checked:
                profiles[each.label].append(import_costs(run_check(each, "-X", "importtime")[1]))

    print(
        f"Machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}; "
        f"bytecode {'compiled every run' if args.no_bytecode_cache else 'cached'}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"Command: python {' '.join(CHECK[:3])} {DEAL.relative_to(ROOT)} --as-of 2026-11-27\n")
    for each in checked:
        print(f"{each.label}: {summary(runs[each.label])}")
    for each in checked:
        per_package = medians([costs for costs, _ in profiles[each.label]])
        by_dealgate = medians([imports for _, imports in profiles[each.label]])
        total = sum(per_package.values())
        print(
            f"\n{each.label}: import time {total / 1e3:.0f} ms in all (median of "
            f"{args.profiles} runs with -X importtime, which adds its own overhead)"
        )
        print("  top 10 packages by their own import time:")
        for name, micros in sorted(per_package.items(), key=lambda item: -item[1])[:10]:
            print(f"    {micros / 1e3:7.1f} ms  {name}")
        print("  top 10 imports of other packages made by dealgate's modules (cumulative):")
        for name, micros in sorted(by_dealgate.items(), key=lambda item: -item[1])[:10]:
            print(f"    {micros / 1e3:7.1f} ms  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
