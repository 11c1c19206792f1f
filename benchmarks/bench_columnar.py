#!/usr/bin/env python3
"""The columnar audit (`dealgate audit --engine sql --format csv`) beside hand-written DuckDB.

Writes a pipeline of N deals (default 1M) in 12 canonical columns and an 8-milestone pack
(deterministic: every value is a hash of the row number), then times, each in a fresh process
(wall time and peak RSS from wait4), interleaved, --runs times:

  dealgate-deal      dealgate's report with one row per deal (the default CSV layout)
  duckdb-deal        a hand-written query writing (deal id, missing milestone ids)
  dealgate-finding   dealgate's report with one row per finding (--csv-rows finding)
  duckdb-finding     a hand-written query writing the same rows and columns

Before timing, the hand-written outputs are checked against dealgate's: the same deals with
the same missing milestones, and the same (deal, milestone, kind) findings; a disagreement
ends the run with exit 1. Then the audit itself (reading, judging, writing the report; not
the process start) runs in this process with DuckDB at 1 and at 2 threads, to show it has no
serial step.

Usage:
    python benchmarks/bench_columnar.py                          # 1M deals, 3 runs
    python benchmarks/bench_columnar.py --deals 10000000 --runs 1 --skip-threads
    python benchmarks/bench_columnar.py --deals 100000 --work /tmp/bench-columnar
"""

from __future__ import annotations

import argparse
import csv
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_audit import Run, cpu_model, run_command  # noqa: E402

AS_OF = date(2026, 11, 27)
STAGES = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
]
PACK = """\
pack: bench-eight
title: Eight milestones over twelve canonical columns (benchmarks/bench_columnar.py)
stages:
  - id: qualify
    crm_names: [Prospecting, Qualification]
    exit:
      - {id: Q-NEXT, milestone: Next step agreed, require: present(next_step)}
      - {id: Q-AMOUNT, milestone: Amount sized, require: amount > 0}
  - id: discover
    crm_names: [Needs Analysis]
    exit:
      - {id: D-CLOSE, milestone: Close date set, require: present(close_date)}
      - id: D-PROB
        milestone: Probability agreed
        require: probability >= 20
        severity: recommended
  - id: propose
    crm_names: [Proposal/Price Quote]
    exit:
      - {id: P-ACCOUNT, milestone: Account known, require: present(account)}
  - id: negotiate
    crm_names: [Negotiation/Review]
    exit:
      - {id: N-PROB, milestone: Probability high, require: probability >= 60}
  - {id: closed_won, crm_names: [Closed Won], terminal: won}
  - {id: closed_lost, crm_names: [Closed Lost], terminal: lost}
checks:
  - {id: HYG-CLOSE-PAST, milestone: Close date not past, require: close_date >= today}
  - id: HYG-ACTIVITY
    milestone: Recent activity
    require: days_since(last_activity_date) <= 30
    severity: recommended
"""


def _pick(values: list[str], salt: int) -> str:
    listed = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    return f"([{listed}])[1 + CAST(hash(i, {salt}) % {len(values)} AS BIGINT)]"


def _sometimes_blank(expression: str, one_in: int, salt: int) -> str:
    return f"CASE WHEN hash(i, {salt}) % {one_in} = 0 THEN NULL ELSE {expression} END"


def write_pipeline(path: Path, deals: int) -> None:
    """N deals in 12 canonical columns, some cells blank, written by DuckDB."""
    import duckdb

    def day(start: str, span: int, salt: int) -> str:
        offset = f"CAST(hash(i, {salt}) % {span} AS INTEGER)"
        return f"strftime(DATE '{start}' + {offset}, '%Y-%m-%d')"

    columns = {
        "id": "'006' || lpad(CAST(i AS VARCHAR), 12, '0')",
        "name": "'Deal ' || i",
        "account": _sometimes_blank("'Account ' || (hash(i, 2) % 50000)", 10, 1),
        "owner": "'Owner ' || (hash(i, 3) % 200)",
        "stage": _pick(STAGES, 4),
        "amount": _sometimes_blank("CAST(hash(i, 6) % 200000 AS VARCHAR) || '.00'", 20, 5),
        "currency": _pick(["USD", "EUR", "GBP"], 7),
        "close_date": _sometimes_blank(day("2026-06-01", 365, 9), 15, 8),
        "created_date": day("2025-06-01", 365, 10),
        "probability": _sometimes_blank("CAST(hash(i, 12) % 101 AS VARCHAR)", 8, 11),
        "next_step": _sometimes_blank("'Call the buyer ' || (hash(i, 14) % 100)", 4, 13),
        "last_activity_date": _sometimes_blank(day("2026-09-01", 90, 16), 6, 15),
    }
    select = ", ".join(f"{sql} AS {name}" for name, sql in columns.items())
    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    connection.execute(
        f"COPY (SELECT {select} FROM range(1, {deals + 1}) AS t(i)) "
        f"TO '{path}' (FORMAT csv, HEADER true)"
    )


# --- the same checks, written by hand ----------------------------------------------------

# The pack's open stages, by position, and the CRM stage texts of each.
_POSITION = {
    "Prospecting": 0,
    "Qualification": 0,
    "Needs Analysis": 1,
    "Proposal/Price Quote": 2,
    "Negotiation/Review": 3,
}
_STAGE_IDS = ["qualify", "discover", "propose", "negotiate"]
_MILESTONES = [  # id, stage position (None: hygiene), missing when
    ("Q-NEXT", 0, "next_step IS NULL"),
    ("Q-AMOUNT", 0, "NOT coalesce(amount > 0, false)"),
    ("D-CLOSE", 1, "close_date IS NULL"),
    ("D-PROB", 1, "NOT coalesce(probability >= 20, false)"),
    ("P-ACCOUNT", 2, "account IS NULL"),
    ("N-PROB", 3, "NOT coalesce(probability >= 60, false)"),
    ("HYG-CLOSE-PAST", None, f"NOT coalesce(close_date >= DATE '{AS_OF}', false)"),
    ("HYG-ACTIVITY", None, f"NOT coalesce(DATE '{AS_OF}' - last_activity_date <= 30, false)"),
]
_REQUIRED = {"Q-NEXT", "Q-AMOUNT", "D-CLOSE", "P-ACCOUNT", "N-PROB"}


def _deals_sql(pipeline: Path) -> str:
    positions = " ".join(f"WHEN '{stage}' THEN {pos}" for stage, pos in _POSITION.items())
    return f"""SELECT id, name, owner, stage, account, next_step, currency, amount AS amount_text,
        try_cast(amount AS DOUBLE) AS amount, try_cast(close_date AS DATE) AS close_date,
        try_cast(probability AS DOUBLE) AS probability,
        try_cast(last_activity_date AS DATE) AS last_activity_date,
        CASE stage {positions} END AS pos
      FROM read_csv('{pipeline}', header = true, all_varchar = true)
      WHERE stage NOT IN ('Closed Won', 'Closed Lost')"""


def _kind(position: int | None) -> str:
    if position is None:
        return "'hygiene'"
    return f"CASE WHEN pos > {position} THEN 'skipped' ELSE 'to-advance' END"


def _missing(position: int | None, condition: str) -> str:
    applies = "true" if position is None else f"pos >= {position}"
    return f"({applies} AND {condition})"


def _evidence() -> str:
    arms = []
    for position in range(4):
        required = [_missing(p, c) for m, p, c in _MILESTONES if p == position and m in _REQUIRED]
        arms.append(f"WHEN pos > {position} AND ({' OR '.join(required)}) THEN {position}")
    return f"CASE {' '.join(arms)} ELSE pos END"


def handwritten_deal_query(pipeline: Path, out: Path) -> str:
    """(deal id, missing milestone ids) of every deal that needs attention."""
    flags = ", ".join(f'{_missing(p, c)} AS "{m}"' for m, p, c in _MILESTONES)
    ids = ", ".join(f"CASE WHEN \"{m}\" THEN '{m}' END" for m, _, _ in _MILESTONES)
    attention = " OR ".join(f"(\"{m}\" AND {_kind(p)} <> 'to-advance')" for m, p, _ in _MILESTONES)
    return f"""COPY (
      WITH d AS (SELECT *, {flags}, {_evidence()} AS evidence FROM ({_deals_sql(pipeline)}))
      SELECT id AS deal_id, concat_ws('; ', {ids}) AS missing FROM d
      WHERE pos > evidence OR {attention}
    ) TO '{out}' (FORMAT csv, HEADER true)"""


def handwritten_finding_query(pipeline: Path, out: Path) -> str:
    """The columns of dealgate's report per finding, one row per missing finding."""
    items = ", ".join(
        f"{{'milestone_id': '{m}', 'kind': {_kind(p)}, 'missing': {_missing(p, c)}}}"
        for m, p, c in _MILESTONES
    )
    titles = {
        "Q-NEXT": "Next step agreed",
        "Q-AMOUNT": "Amount sized",
        "D-CLOSE": "Close date set",
        "D-PROB": "Probability agreed",
        "P-ACCOUNT": "Account known",
        "N-PROB": "Probability high",
        "HYG-CLOSE-PAST": "Close date not past",
        "HYG-ACTIVITY": "Recent activity",
    }
    title = " ".join(f"WHEN '{m}' THEN '{t}'" for m, t in titles.items())
    severity = " ".join(
        f"WHEN '{m}' THEN '{'required' if m in _REQUIRED else 'recommended'}'" for m in titles
    )

    def stage_id(position: str) -> str:
        arms = " ".join(f"WHEN {index} THEN '{id_}'" for index, id_ in enumerate(_STAGE_IDS))
        return f"CASE {position} {arms} END"

    re_date = _missing(None, _MILESTONES[6][2])
    return f"""COPY (
      WITH d AS (SELECT *, {_evidence()} AS e, [{items}] AS checks FROM ({_deals_sql(pipeline)})),
      f AS (SELECT *, unnest(list_filter(checks, lambda x: x.missing)) AS finding FROM d)
      SELECT id AS deal_id, name AS deal_name, owner, NULL AS manager, stage,
        {stage_id("pos")} AS stage_id, {stage_id("e")} AS evidence_stage,
        pos - e AS inflation, amount_text AS amount, currency,
        strftime(close_date, '%Y-%m-%d') AS close_date,
        CASE WHEN {re_date} THEN 're-date' WHEN pos > e THEN 're-stage to ' || {stage_id("e")}
             ELSE 'keep' END AS disposition,
        finding.milestone_id, CASE finding.milestone_id {title} END AS milestone,
        finding.kind, 'missing' AS status, CASE finding.milestone_id {severity} END AS severity,
        to_json({{'next_step': next_step, 'amount': amount, 'close_date': close_date,
                  'probability': probability, 'account': account,
                  'last_activity_date': last_activity_date}}) AS read,
        NULL AS guidance
      FROM f WHERE pos > e OR len(list_filter(checks, lambda x: x.missing
                                                          AND x.kind <> 'to-advance')) > 0
    ) TO '{out}' (FORMAT csv, HEADER true)"""


def run_handwritten(kind: str, pipeline: Path, out: Path) -> None:
    """Run a hand-written query in this process (the child process of a timed run)."""
    import duckdb

    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    query = handwritten_deal_query if kind == "deal" else handwritten_finding_query
    connection.execute(query(pipeline, out))


# --- agreement --------------------------------------------------------------------------


def deal_missing(path: Path, column: str) -> dict[str, set[str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        if column == "missing":
            return {row["deal_id"]: set(filter(None, row["missing"].split("; "))) for row in reader}
        return {
            row["deal_id"]: {
                milestone
                for kind in ("skipped", "hygiene", "to_advance")
                for milestone in row[kind].split("; ")
                if milestone
            }
            for row in reader
        }


def findings(path: Path) -> set[tuple[str, str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return {
            (row["deal_id"], row["milestone_id"], row["kind"]) for row in csv.DictReader(stream)
        }


def verify(work: Path, pipeline: Path, pack: Path) -> list[str]:
    """Where the hand-written queries disagree with dealgate (empty when they agree)."""
    problems = []
    for rows in ("deal", "finding"):
        ours, theirs = work / f"check-dealgate-{rows}.csv", work / f"check-duckdb-{rows}.csv"
        run_command(dealgate_command(pipeline, pack, ours, rows))
        run_command(handwritten_command(rows, pipeline, theirs))
        if rows == "deal":
            same = deal_missing(ours, "by-kind") == deal_missing(theirs, "missing")
        else:
            same = findings(ours) == findings(theirs)
        if not same:
            problems.append(f"one row per {rows}: {ours} and {theirs} differ")
    return problems


# --- timing -----------------------------------------------------------------------------


def dealgate_command(pipeline: Path, pack: Path, out: Path, rows: str) -> list[str]:
    return [
        *(sys.executable, "-m", "dealgate", "audit", str(pipeline), "--rules", str(pack)),
        *("--engine", "sql", "--format", "csv", "--csv-rows", rows, "--output", str(out)),
        *("--as-of", AS_OF.isoformat(), "--fail-on", "never"),
    ]


def handwritten_command(rows: str, pipeline: Path, out: Path) -> list[str]:
    return [sys.executable, __file__, "--run-handwritten", rows, str(pipeline), str(out)]


class _TimedConnection:
    """A DuckDB connection that adds each statement's wall time to `steps`, by its kind."""

    def __init__(self, connection: Any, steps: dict[str, float]) -> None:
        self._connection = connection
        self._steps = steps

    def execute(self, statement: str, *args: Any) -> Any:
        started = time.perf_counter()
        result = self._connection.execute(statement, *args)
        kind = _statement_kind(statement)
        self._steps[kind] = self._steps.get(kind, 0.0) + time.perf_counter() - started
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def _statement_kind(statement: str) -> str:
    text = " ".join(statement.split()).upper()
    if text.startswith(("CREATE TEMP TABLE", "CREATE TEMPORARY TABLE")):
        return "judge: read, normalise, judge, keep (CREATE TEMPORARY TABLE)"
    if text.startswith("COPY"):
        return "write the report (COPY)"
    if text.startswith("EXPLAIN"):
        return "plan check (EXPLAIN)"
    if "GROUPING SETS" in text:
        return "distinct stage and owner texts (a scan)"
    if text.startswith("SELECT COALESCE(SUM("):
        return "failing findings (a scan of the kept deals)"
    if text.startswith(("SET ", "CREATE OR REPLACE MACRO", "CREATE TEMP VIEW")):
        return "macros, views and settings"
    return "other statements"


def time_query_threads(
    pipeline: Path, pack_path: Path, out: Path, runs: int
) -> tuple[dict[int, float], dict[int, dict[str, float]]]:
    """The audit in this process (pack loaded once), at 1 and 2 DuckDB threads: medians of
    the whole audit, and of each kind of statement it runs."""
    import duckdb

    from dealgate.audit import AuditFilters, FailOn
    from dealgate.columnar.audit import ColumnarRequest, run_columnar_audit
    from dealgate.rules.catalog import PackCatalog
    from dealgate.rules.loader import load_pack

    pack = load_pack(pack_path, PackCatalog(include_bundled=False, cwd=pack_path.parent))
    times: dict[int, list[float]] = {1: [], 2: []}
    steps: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    connect = duckdb.connect
    try:
        for _ in range(runs):
            for threads in (1, 2):
                run_steps: dict[str, float] = {}
                duckdb.connect = lambda *a, **k: _TimedConnection(connect(*a, **k), run_steps)  # type: ignore[assignment]  # noqa: B023
                request = ColumnarRequest(
                    pipeline, pack, AS_OF, AuditFilters(), FailOn.NEVER, threads=threads
                )
                started = time.perf_counter()
                run_columnar_audit(request, out)
                times[threads].append(time.perf_counter() - started)
                steps[threads].append(run_steps)
    finally:
        duckdb.connect = connect
    medians = {threads: statistics.median(values) for threads, values in times.items()}
    step_medians = {
        threads: {
            kind: statistics.median(run.get(kind, 0.0) for run in runs_steps)
            for kind in sorted({kind for run in runs_steps for kind in run})
        }
        for threads, runs_steps in steps.items()
    }
    return medians, step_medians


def median_runs(approaches: dict[str, Callable[[], list[str]]], runs: int) -> dict[str, list[Run]]:
    results: dict[str, list[Run]] = {name: [] for name in approaches}
    for _ in range(runs):
        for name, command in approaches.items():
            results[name].append(run_command(command()))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, help="keep the files here (default: a temp dir)")
    parser.add_argument("--skip-threads", action="store_true", help="no 1 vs 2 thread timing")
    parser.add_argument("--skip-verify", action="store_true")
    parser.add_argument("--run-handwritten", nargs=3, metavar=("ROWS", "PIPELINE", "OUT"))
    parser.add_argument("--write-pipeline", nargs=2, metavar=("DEALS", "PATH"))
    parser.add_argument("--verify", nargs=2, metavar=("WORK", "PIPELINE"))
    args = parser.parse_args()
    if args.verify:
        work, pipeline = Path(args.verify[0]), Path(args.verify[1])
        problems = verify(work, pipeline, work / "bench-eight.yaml")
        for problem in problems:
            print(f"disagreement: {problem}")
        return 1 if problems else 0
    if args.write_pipeline:
        write_pipeline(Path(args.write_pipeline[1]), int(args.write_pipeline[0]))
        return 0
    if args.run_handwritten:
        rows, pipeline, out = args.run_handwritten
        run_handwritten(rows, Path(pipeline), Path(out))
        return 0

    work = args.work or Path(tempfile.mkdtemp(prefix="dealgate-columnar-"))
    work.mkdir(parents=True, exist_ok=True)
    pipeline, pack = work / f"pipeline-{args.deals}.csv", work / "bench-eight.yaml"
    pack.write_text(PACK, encoding="utf-8")
    if not pipeline.exists():
        # in a child process: a forked child starts with its parent's peak memory, so this
        # process stays small for the peak RSS of the timed runs to be their own
        run_command([sys.executable, __file__, "--write-pipeline", str(args.deals), str(pipeline)])
    size_mb = pipeline.stat().st_size / 1e6
    if not args.skip_verify:
        # in a child process too: the outputs it reads would swell this one (see above)
        checked = subprocess.run([sys.executable, __file__, "--verify", str(work), str(pipeline)])
        if checked.returncode != 0:
            return 1
    approaches: dict[str, Callable[[], list[str]]] = {
        "dealgate-deal": lambda: dealgate_command(pipeline, pack, work / "d-deal.csv", "deal"),
        "duckdb-deal": lambda: handwritten_command("deal", pipeline, work / "h-deal.csv"),
        "dealgate-finding": lambda: dealgate_command(
            pipeline, pack, work / "d-finding.csv", "finding"
        ),
        "duckdb-finding": lambda: handwritten_command("finding", pipeline, work / "h-f.csv"),
    }
    results = median_runs(approaches, args.runs)
    print(f"{date.today()}, {cpu_model()}, Python {platform.python_version()}")
    print(f"{args.deals:,} deals, {size_mb:,.0f} MB of CSV; medians of {args.runs} runs\n")
    print("| approach | wall time | runs | vs hand-written | peak RSS | report |")
    print("|---|---:|---|---:|---:|---:|")
    medians = {name: statistics.median(r.seconds for r in runs) for name, runs in results.items()}
    outputs = {
        "dealgate-deal": "d-deal.csv",
        "duckdb-deal": "h-deal.csv",
        "dealgate-finding": "d-finding.csv",
        "duckdb-finding": "h-f.csv",
    }
    for name, runs in results.items():
        rows = name.split("-")[1]
        ratio = medians[name] / medians[f"duckdb-{rows}"]
        spread = ", ".join(f"{r.seconds:.1f}" for r in runs)
        peak = max(r.max_rss_mb for r in runs)
        report = (work / outputs[name]).stat().st_size / 1e6
        print(
            f"| {name} | {medians[name]:.2f} s | {spread} | {ratio:.2f}x | {peak:,.0f} MB "
            f"| {report:,.0f} MB |"
        )
    if not args.skip_threads:
        threads, steps = time_query_threads(pipeline, pack, work / "threads.csv", args.runs)
        print(
            f"\naudit in process (report per deal): 1 thread {threads[1]:.2f} s, "
            f"2 threads {threads[2]:.2f} s, speed-up {threads[1] / threads[2]:.2f}x\n"
        )
        print("| statement | 1 thread | 2 threads | speed-up |")
        print("|---|---:|---:|---:|")
        for kind in steps[1]:
            one, two = steps[1][kind], steps[2].get(kind, 0.0)
            speedup = f"{one / two:.2f}x" if two > 0 else "-"
            print(f"| {kind} | {one:.2f} s | {two:.2f} s | {speedup} |")
        outside = {n: threads[n] - sum(steps[n].values()) for n in (1, 2)}
        print(f"| Python between the statements | {outside[1]:.2f} s | {outside[2]:.2f} s | - |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
