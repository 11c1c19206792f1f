"""The example exports audited once per test session in every report format, for the report
tests (HTML, XLSX, the browser test) to compare with the JSON audit of the same input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
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


def dealgate(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dealgate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )


@dataclass(frozen=True)
class AuditedExample:
    """One export audited as JSON, CSV, HTML and XLSX with the same options."""

    name: str
    json: dict[str, Any]
    csv: Path
    html: Path
    xlsx: Path


def audit_example(name: str, folder: Path, *extra: str) -> AuditedExample:
    outputs = {}
    for report_format in ("json", "csv", "html", "xlsx"):
        path = folder / f"{name}.{report_format}"
        result = dealgate(
            "audit",
            *EXAMPLES[name],
            "--as-of",
            AS_OF,
            *extra,
            "--format",
            report_format,
            "--output",
            str(path),
        )
        assert result.returncode in (0, 1), result.stderr
        outputs[report_format] = path
    document = json.loads(outputs["json"].read_text(encoding="utf-8"))
    return AuditedExample(name, document, outputs["csv"], outputs["html"], outputs["xlsx"])
