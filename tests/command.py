"""`dealgate` run as a user runs it: a separate process, plain output, a wide terminal.

Its output is always a pipe (stdout is not a terminal); `columns=80` makes it the width of a
narrow terminal, and of a pipe read with no COLUMNS set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def durable_imports() -> bool:
    """Whether durable-rules imports on this Python (its release does not on 3.13 and later
    unless built as docs/engines.md says)."""
    try:
        import durable_rules_engine  # noqa: F401
    except ImportError:
        return False
    return True


# For the tests that need the durable engine itself. It is skipped only on a Python where the
# released durable-rules cannot import (3.13 and later); on 3.11 and 3.12 a missing durable is
# a failure, as CI installs it there.
needs_durable = pytest.mark.skipif(
    sys.version_info >= (3, 13) and not durable_imports(),
    reason="durable-rules does not import on this Python (docs/engines.md)",
)
