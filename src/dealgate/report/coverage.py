"""Coverage in words: what the input could not measure, and how to supply it.

Every format says it once per audit (judging/coverage.py decides it). Written from the JSON
form of the coverage (`Coverage.as_json`, the audit document's `coverage`), so the reports of
a saved audit say it too.
"""

from __future__ import annotations

from typing import Any

from dealgate.judging.coverage import COLUMN_HINT


def unmeasured_count(section: dict[str, Any] | None) -> int:
    return len(section["unmeasured"]) if section else 0


def coverage_headline(section: dict[str, Any]) -> str:
    """One sentence: how many milestones are unmeasured, on what, and how they are counted."""
    unmeasured = section["unmeasured"]
    whole = sum(1 for entry in unmeasured if not entry["partly"])
    partly = len(unmeasured) - whole
    total = f"of {section['milestones']:,} milestones"
    if whole:
        counts = f"{whole:,} {total} cannot be measured"
        if partly:
            counts += f" and {partly:,} only on some deals"
    else:
        counts = f"{partly:,} {total} can be measured only on some deals"
    counted = (
        "they count as missing (--unmeasured missing)"
        if section["unmeasured_counted_as"] == "missing"
        else "they are not counted as missing, put no pipeline at risk and fail nothing"
    )
    return f"{counts} from {section['source']}; {counted}."


def coverage_lines(section: dict[str, Any]) -> list[str]:
    """The fields nothing supplies with the milestones reading them, grouped by what supplies
    them, and what else a team can do."""
    lines = []
    by_column = []
    for lacking in section["lacking_fields"]:
        named = f"{lacking['field']} ({', '.join(lacking['milestones'])})"
        if lacking["how"] == COLUMN_HINT:
            by_column.append(named)
        else:
            lines.append(f"{named}: {lacking['how']}")
    if by_column:
        hint = "add a column for each (or map one in a mapping file: columns: {Your header: field})"
        lines.insert(0, f"Nothing supplies {', '.join(by_column)}: {hint}")
    lines.append("Or remove those milestones in your team's pack (docs/check-and-audit.md).")
    return lines


def coverage_text(section: dict[str, Any] | None) -> str:
    """The headline and one line per way to supply; empty when everything is measured."""
    if not unmeasured_count(section):
        return ""
    assert section is not None
    lines = [f"Coverage: {coverage_headline(section)}"]
    lines += [f"  - {line}" for line in coverage_lines(section)]
    return "\n".join(lines) + "\n"
