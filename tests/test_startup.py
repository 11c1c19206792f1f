"""`dealgate check` of one deal imports only what it runs (issue 11: start-up within 0.3 s).

Not a timing test: a timed test fails on a loaded machine and passes on a fast one. What it
pins is the cause of a slow start: a module imported at the top of a file that the check never
runs. `python -X importtime` lists every module a process imports; the heavy libraries of the
columnar audit and the reports, and dealgate's audit-only modules, must not be among them.
benchmarks/bench_check.py times the command.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from command import REPO
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack

DEAL = REPO / "examples" / "deals" / "globex-skipped.yaml"

# What a check of one deal never runs. The SQL engine and the columnar audit (DuckDB, sqlglot,
# pyarrow), the workbook (openpyxl), and dealgate's audit and waiver modules with what they
# draw in: the waivers' pydantic models, the audit's roll-ups, the audit command's options.
NOT_FOR_ONE_DEAL = (
    "duckdb",
    "sqlglot",
    "pyarrow",
    "openpyxl",
    "pyspark",
    "dealgate.audit",
    "dealgate.cli.audit",
    "dealgate.judging.waivers",
    "dealgate.columnar",
    "dealgate.engines.sql",
    "dealgate.report.audit_json",
    "dealgate.report.audit_html",
    "dealgate.report.audit_xlsx",
    "dealgate.report.changes",
)

_IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.MULTILINE)


def imported_by(*args: str) -> tuple[int, set[str]]:
    """Exit code of `dealgate ARGS` in a fresh process, and every module it imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dealgate", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    return done.returncode, set(_IMPORT_LINE.findall(done.stderr))


def unneeded(modules: set[str]) -> list[str]:
    return sorted(
        module
        for module in modules
        for heavy in NOT_FOR_ONE_DEAL
        if module == heavy or module.startswith(heavy + ".")
    )


@pytest.mark.parametrize("output_format", ["table", "json"])
def test_check_of_one_yaml_deal_imports_only_what_it_runs(output_format: str) -> None:
    code, modules = imported_by(
        "check", str(DEAL), "--as-of", "2026-11-27", "--format", output_format
    )
    assert code == 1  # the example deal misses required milestones
    assert {"dealgate.cli.check", "dealgate.engines.durable", "yaml"} <= modules  # the list is real
    assert unneeded(modules) == []


def test_the_guard_sees_a_heavy_import() -> None:
    """The audit of a pipeline does import the audit module: the guard can tell."""
    code, modules = imported_by(
        "audit", str(REPO / "examples" / "salesforce-opportunities.csv"), "--as-of", "2026-11-27"
    )
    assert code in (0, 1)
    assert "dealgate.audit" in unneeded(modules)


def test_a_pack_found_by_id_is_parsed_once(tmp_path: Path) -> None:
    """Finding a pack by id parses its file; loading it reuses that parse, not a second one.
    Seen from outside: a file changed between the two is loaded as it was first read."""
    pack = tmp_path / "team.yaml"
    pack.write_text(PACK.format(title="As first read"))
    catalog = PackCatalog([tmp_path], include_bundled=False)
    assert catalog.find("team") is not None
    pack.write_text(PACK.format(title="Changed on disk"))
    assert load_pack("team", catalog).title == "As first read"
    assert load_pack("team", PackCatalog([tmp_path], include_bundled=False)).title == (
        "Changed on disk"
    )


PACK = """\
pack: team
title: {title}
stages:
  - id: qualify
    exit:
      - id: QUAL-PAIN
        milestone: Pain confirmed
        require: present(pain)
"""
