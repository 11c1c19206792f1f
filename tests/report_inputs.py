"""The example exports audited once per test session in every report format, for the report
tests (HTML, XLSX, the browser test) to compare with the JSON audit of the same input."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from command import REPO, dealgate

AS_OF = "2026-11-27"
EXAMPLES = {
    "salesforce": [
        "examples/salesforce-opportunities.csv",
        "--contacts",
        "examples/salesforce-contact-roles.csv",
        "--teams",
        "examples/teams.csv",
    ],
    "hubspot": [
        "examples/hubspot-deals.csv",
        "--rules",
        "hubspot-default",
        "--teams",
        "examples/teams.csv",
    ],
}


# Last week's version of an export (benchmarks/last_week.py) and its audit date: the reports
# of that example show what changed since.
LAST_WEEK = {"salesforce": ("examples/salesforce-opportunities-last-week.csv", "2026-11-20")}


def audit_deals(
    folder: Path, deals: list[dict[str, Any]], *options: str, name: str = "pipeline.json"
) -> subprocess.CompletedProcess[str]:
    """Write deals to `folder/name` as a JSON pipeline and audit it as of AS_OF; a crash (a
    traceback, which also exits 1) fails the test. These few hand-made deals have none of most
    fields the pack reads: counted as missing, not unmeasured, each deal is listed."""
    (folder / name).write_text(json.dumps({"deals": deals}), encoding="utf-8")
    strict = "--unmeasured-as-missing"
    result = dealgate("audit", name, "--as-of", AS_OF, strict, *options, cwd=folder)
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    return result


@dataclass(frozen=True)
class AuditedExample:
    """One export audited as JSON, CSV, HTML and XLSX with the same options."""

    name: str
    json: dict[str, Any]
    csv: Path
    html: Path
    xlsx: Path


def audit_example(name: str, folder: Path) -> AuditedExample:
    """The example audited in four formats; json, html and xlsx against last week's audit.

    The audits run in `folder`, which links to the examples, so the reports name the files as
    the README's commands do (examples/…, last-week.json)."""
    if not (folder / "examples").exists():
        (folder / "examples").symlink_to(REPO / "examples", target_is_directory=True)
    since: list[str] = []
    if name in LAST_WEEK:
        export, day = LAST_WEEK[name]
        baseline = f"{name}-last-week.json"
        options = [export, *EXAMPLES[name][1:], "--as-of", day, "--format", "json"]
        result = dealgate("audit", *options, "--output", baseline, cwd=folder)
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
        since = ["--baseline", baseline]
    outputs = {}
    for report_format in ("json", "csv", "html", "xlsx"):
        path = folder / f"{name}.{report_format}"
        result = dealgate(
            "audit",
            *EXAMPLES[name],
            "--as-of",
            AS_OF,
            # the workbook's Exceptions sheet holds the CSV report's rows per finding
            *(since if report_format != "csv" else ["--csv-rows", "finding"]),
            "--format",
            report_format,
            "--output",
            str(path),
            cwd=folder,
        )
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
        outputs[report_format] = path
    document = json.loads(outputs["json"].read_text(encoding="utf-8"))
    return AuditedExample(name, document, outputs["csv"], outputs["html"], outputs["xlsx"])
