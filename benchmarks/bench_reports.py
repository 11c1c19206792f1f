#!/usr/bin/env python3
"""Benchmark the reports to share: `dealgate audit --format json | html | xlsx` end to end.

On the synthetic Salesforce pipelines of bench_audit.py, each format is run several times,
interleaved, and the median wall time, the peak memory of the process and the size of the file
are reported side by side, with the time the HTML page takes to open in headless Chromium (until
its charts and exception list are drawn) when selenium and Chromium are installed.

Usage:
    python benchmarks/bench_reports.py                    # 10k and 100k deals, 3 runs each
    python benchmarks/bench_reports.py --sizes 10000 --runs 5
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_audit import AS_OF, Run, cpu_model, dealgate, prepare, run_command  # noqa: E402

FORMATS = ("json", "html", "xlsx")


def page_open_seconds(page: Path, runs: int) -> list[float] | None:
    """Seconds from navigation until the report says it is drawn, in headless Chromium."""
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        return None
    if binary is None or driver is None:
        return None
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=Service(driver))
    times = []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            browser.get(page.as_uri())
            WebDriverWait(browser, 600).until(
                lambda b: b.execute_script("return document.body.dataset.ready") == "1"
            )
            times.append(time.perf_counter() - started)
            browser.get("about:blank")
    finally:
        browser.quit()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/dealgate-bench"))
    args = parser.parse_args()
    files = prepare(args.work, args.sizes)
    runs: dict[tuple[int, str], list[Run]] = {
        (size, fmt): [] for size in args.sizes for fmt in FORMATS
    }
    for _ in range(args.runs):  # interleaved, so a noisy moment hits every format alike
        for size, (pipeline, roles, teams) in files.items():
            for fmt in FORMATS:
                output = args.work / f"report-{size}.{fmt}"
                runs[(size, fmt)].append(
                    run_command(
                        dealgate(
                            "audit",
                            str(pipeline),
                            *("--contacts", str(roles), "--teams", str(teams)),
                            *("--as-of", AS_OF.isoformat(), "--format", fmt),
                            *("--output", str(output)),
                        )
                    )
                )
    print(
        f"Machine: {platform.node()}, {os.cpu_count()} cores, {cpu_model()}, "
        f"Python {platform.python_version()}; {date.today().isoformat()}\n"
    )
    print(
        f"| deals | format | audit + report (median of {args.runs}) | vs json | peak RSS | file |"
    )
    print("|---:|---|---:|---:|---:|---:|")
    for size in args.sizes:
        medians = {
            fmt: statistics.median(run.seconds for run in runs[(size, fmt)]) for fmt in FORMATS
        }
        for fmt in FORMATS:
            peak = max(run.max_rss_mb for run in runs[(size, fmt)])
            megabytes = (args.work / f"report-{size}.{fmt}").stat().st_size / 1e6
            print(
                f"| {size:,} | {fmt} | {medians[fmt]:.2f} s | {medians[fmt] / medians['json']:.2f}x"
                f" | {peak:,.0f} MB | {megabytes:,.1f} MB |"
            )
    opened = {
        size: page_open_seconds(args.work / f"report-{size}.html", args.runs) for size in args.sizes
    }
    if all(times is None for times in opened.values()):
        print("\n(HTML page not opened: selenium, chromium or chromedriver is missing)")
        return 0
    print("\n| deals | HTML page drawn in headless Chromium (median) | runs |")
    print("|---:|---:|---|")
    for size, times in opened.items():
        if times:
            listed = ", ".join(f"{t:.2f}" for t in sorted(times))
            print(f"| {size:,} | {statistics.median(times):.2f} s | {listed} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
