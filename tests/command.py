"""`dealgate` run as a user runs it: a separate process, plain output, a wide terminal.

Its output is always a pipe (stdout is not a terminal); `columns=80` makes it the width of a
narrow terminal, and of a pipe read with no COLUMNS set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def dealgate(
    *args: str, cwd: Path = REPO, columns: int = 200, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """`timeout`: seconds after which the process is killed and the test fails."""
    return subprocess.run(
        [sys.executable, "-m", "dealgate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"},
    )
