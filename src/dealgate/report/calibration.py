"""A calibration as JSON, CSV and a terminal table (docs/calibration.md "Reading the output")."""

from __future__ import annotations

import csv
import io
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from dealgate.calibration.calibrate import Calibration, MilestoneCalibration
from dealgate.calibration.statistics import Rate, StageConversion, Verdict

CALIBRATION_SCHEMA_VERSION = 1

_VERDICT_STYLES = {
    Verdict.PREDICTIVE: "green",
    Verdict.INVERSE: "red",
    Verdict.NOT_PREDICTIVE: "yellow",
}


def calibration_json(calibration: Calibration) -> dict[str, Any]:
    """The calibration as one JSON document."""
    thresholds = calibration.thresholds
    return {
        "calibration_schema_version": CALIBRATION_SCHEMA_VERSION,
        "method": calibration.method,
        "source": calibration.source,
        "pack": calibration.pack_id,
        "lead_days": calibration.lead_days,
        "deals_won": calibration.deals_won,
        "deals_lost": calibration.deals_lost,
        "not_calibrated": calibration.not_calibrated,
        "warnings": list(calibration.warnings),
        "thresholds": {
            "confidence": thresholds.confidence,
            "min_deals": thresholds.min_deals,
            "nearly_all": thresholds.nearly_all,
            "recorded_at_least": thresholds.recorded_at_least,
            "margin": thresholds.margin,
            "correction": thresholds.correction.value,
        },
        "milestones": [_milestone_json(row) for row in calibration.milestones],
        "stages": [_stage_json(stage) for stage in calibration.stages],
        "data_findings": [finding.as_json() for finding in calibration.data_findings],
        "notes": list(calibration.notes),
    }


def _milestone_json(row: MilestoneCalibration) -> dict[str, Any]:
    verdict, counts = row.verdict, row.verdict.counts
    return {
        "milestone_id": row.milestone.id,
        "milestone": row.milestone.name,
        "stage_id": row.milestone.stage_id,
        "severity": row.milestone.severity,
        "met": counts.met,
        "missing": counts.missing,
        "unknown": counts.unknown,
        "win_rate_met": _rate_json(verdict.met),
        "win_rate_missing": _rate_json(verdict.missing),
        "difference": _round(verdict.difference),
        "difference_interval": [_round(verdict.difference_low), _round(verdict.difference_high)],
        "confidence": round(verdict.confidence, 6),
        "verdict": verdict.verdict.value,
        "reason": verdict.reason,
        "leaking_deals": row.leaking,
    }


def _rate_json(rate: Rate) -> dict[str, Any]:
    return {
        "won": rate.won,
        "deals": rate.deals,
        "rate": _round(rate.rate),
        "interval": [_round(rate.low), _round(rate.high)],
    }


def _stage_json(stage: StageConversion) -> dict[str, Any]:
    return {
        "stage_id": stage.stage_id,
        "exits_met": stage.exits_met,
        "deals": stage.deals,
        "reached_next": stage.reached_next,
        "won": stage.won,
        "next_rate": _round(stage.next_rate),
        "win_rate": _round(stage.win_rate),
        "median_days_in_stage": stage.median_days_in_stage,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


CSV_COLUMNS = (
    "milestone_id",
    "milestone",
    "stage_id",
    "verdict",
    "met",
    "missing",
    "unknown",
    "won_when_met",
    "win_rate_met",
    "won_when_missing",
    "win_rate_missing",
    "difference",
    "difference_low",
    "difference_high",
    "confidence",
    "leaking_deals",
    "reason",
)


def calibration_csv(calibration: Calibration) -> str:
    """One row per milestone, in the pack's order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in calibration.milestones:
        verdict, counts = row.verdict, row.verdict.counts
        writer.writerow(
            [
                row.milestone.id,
                _cell(row.milestone.name),
                row.milestone.stage_id or "",
                verdict.verdict.value,
                counts.met,
                counts.missing,
                counts.unknown,
                verdict.met.won,
                _blank(verdict.met.rate),
                verdict.missing.won,
                _blank(verdict.missing.rate),
                _blank(verdict.difference),
                _blank(verdict.difference_low),
                _blank(verdict.difference_high),
                round(verdict.confidence, 6),
                row.leaking,
                _cell(verdict.reason),
            ]
        )
    return buffer.getvalue()


def _blank(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def calibration_table(calibration: Calibration) -> RenderableType:
    """The calibration for a terminal: the headline, each milestone's verdict, each stage."""
    parts: list[RenderableType] = [_headline(calibration)]
    parts.extend(Text(f"warning: {warning}", style="yellow") for warning in calibration.warnings)
    parts.append(_milestone_table(calibration))
    if calibration.stages:
        parts.append(_stage_table(calibration))
    return Group(*parts)


def _headline(calibration: Calibration) -> Text:
    text = Text()
    text.append(f"Calibration from {calibration.method}", style="bold")
    text.append(f": {calibration.source}\n")
    text.append(
        f"{calibration.deals_calibrated} closed deals calibrated "
        f"({calibration.deals_won} won, {calibration.deals_lost} lost)"
    )
    if calibration.lead_days is not None:
        text.append(f", each as its last snapshot {calibration.lead_days}+ days before the close")
    for reason, deals in sorted(calibration.not_calibrated.items()):
        text.append(f"\n  not calibrated: {deals} ({reason})")
    level = min((row.verdict.confidence for row in calibration.milestones), default=0.95)
    text.append(
        f"\ndifferences in points, met minus missing; intervals at {level:.2%} each "
        f"({calibration.thresholds.correction.value} correction of "
        f"{calibration.thresholds.confidence:.0%} over the milestones compared); "
        "the reasons are in --format json or csv"
    )
    for note in calibration.notes:
        text.append(f"\nnote: {note}")
    if calibration.data_findings:
        text.append(f"\n{len(calibration.data_findings)} data finding(s): answers read as unknown")
    return text


def _milestone_table(calibration: Calibration) -> Table:
    table = Table(title="Milestones: win rate when met and when missing", title_justify="left")
    staged = calibration.pack_id is not None  # a review's attributes have no stage
    for header in ("milestone", "stage", "won when met", "won when missing", "unknown"):
        if header != "stage" or staged:
            table.add_column(header, overflow="fold")
    table.add_column("difference (interval)", overflow="fold")
    table.add_column("verdict", overflow="fold")
    for row in calibration.milestones:
        verdict = row.verdict
        label = Text(verdict.verdict.value, style=_VERDICT_STYLES.get(verdict.verdict, ""))
        if row.leaking:
            label.append(f"\nleaking: {row.leaking} met after the close", style="red")
        stage = [row.milestone.stage_id or "hygiene"] if staged else []
        table.add_row(
            f"{row.milestone.id}\n{row.milestone.name}",
            *stage,
            _rate_text(verdict.met),
            _rate_text(verdict.missing),
            str(verdict.counts.unknown),
            _difference_text(row),
            label,
        )
    return table


def _rate_text(rate: Rate) -> str:
    return "-" if rate.rate is None else f"{rate.rate:.0%} of {rate.deals}"


def _difference_text(row: MilestoneCalibration) -> str:
    verdict = row.verdict
    if verdict.difference is None or verdict.difference_low is None:
        return "-"
    assert verdict.difference_high is not None
    return (
        f"{verdict.difference * 100:+.0f} "
        f"({verdict.difference_low * 100:.0f} to {verdict.difference_high * 100:.0f})"
    )


def _stage_table(calibration: Calibration) -> Table:
    table = Table(
        title="Stages: deals that met the stage's required exits, and those that did not",
        title_justify="left",
    )
    for header in ("stage", "exits", "deals", "reached a later stage", "won", "median days"):
        table.add_column(header)
    for stage in calibration.stages:
        if not stage.deals:
            continue
        table.add_row(
            stage.stage_id,
            "met" if stage.exits_met else "not met",
            str(stage.deals),
            _share(stage.reached_next, stage.deals),
            _share(stage.won, stage.deals),
            "" if stage.median_days_in_stage is None else f"{stage.median_days_in_stage:g}",
        )
    return table


def _share(part: int, whole: int) -> str:
    return f"{part} ({part / whole:.0%})" if whole else "0"
