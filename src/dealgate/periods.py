"""The bounds of a close-date filter as a user names them: a day, or a quarter (2026-Q4)."""

from __future__ import annotations

import re
from datetime import date, timedelta

_QUARTER = re.compile(r"(\d{4})-?Q([1-4])", re.IGNORECASE)


def day_or_quarter(text: str, *, end: bool) -> date:
    """A date (YYYY-MM-DD), or a quarter's first day, or its last with end=True.

    Raises ValueError for anything else."""
    match = _QUARTER.fullmatch(text.strip())
    if not match:
        return date.fromisoformat(text)
    year, quarter = int(match[1]), int(match[2])
    if not end:
        return date(year, 3 * quarter - 2, 1)
    following = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return following - timedelta(days=1)
