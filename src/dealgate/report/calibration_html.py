"""A calibration as one self-contained HTML page for a sales leader: per stage, a chart of each
milestone's win rate when met and when missing, with its interval, and the verdict in words.

The charts are inline SVG drawn here, so the page opens with no script and no network.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape

from dealgate.calibration.calibrate import Calibration, MilestoneCalibration
from dealgate.calibration.statistics import Rate, StageConversion, Verdict

_WIDTH = 720  # of a chart, in SVG units
_LABEL = 260  # left part of a chart: the milestone's name
_ROW = 34  # height of a milestone's row
_MET, _MISSING = "#1b7f3b", "#8a8f98"
_VERDICT_CLASS = {
    Verdict.PREDICTIVE: "good",
    Verdict.INVERSE: "bad",
    Verdict.NOT_PREDICTIVE: "flat",
}

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; color: #1d2330; max-width: 1000px; margin: 2em auto;
  padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { margin-top: 2em; font-size: 1.2em; }
.lead { color: #4a5160; } .warning { background: #fff4d6; border-left: 4px solid #d9a400;
  padding: .5em .8em; margin: .6em 0; }
table { border-collapse: collapse; width: 100%; margin: .8em 0; font-size: .92em; }
th, td { text-align: left; padding: .35em .5em; border-bottom: 1px solid #e3e6eb;
  vertical-align: top; }
th { background: #f5f6f8; } .num { text-align: right; white-space: nowrap; }
.verdict { font-weight: 600; white-space: nowrap; } .good { color: #1b7f3b; }
.bad { color: #b42318; } .flat { color: #9a6700; } .leak { color: #b42318; font-size: .9em; }
.key span { display: inline-block; width: 1em; height: .6em; margin: 0 .3em 0 1em; }
svg text { font: 12px system-ui, sans-serif; fill: #1d2330; }
"""


def calibration_html(calibration: Calibration) -> str:
    """The whole page."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Which milestones predict wins: {escape(calibration.pack_id or '')}</title>",
            f"<style>{_STYLE}</style></head><body>",
            *_headline(calibration),
            *_sections(calibration),
            *_stages(calibration.stages, calibration.stage_names),
            "</body></html>",
            "",
        ]
    )


def _headline(calibration: Calibration) -> Iterator[str]:
    yield "<h1>Which milestones predict wins</h1>"
    yield (
        f'<p class="lead">From {escape(calibration.method)}: {escape(calibration.source)}. '
        f"{calibration.deals_calibrated} closed deals: {calibration.deals_won} won, "
        f"{calibration.deals_lost} lost"
        + (
            f", each as it stood {calibration.lead_days} or more days before it closed."
            if calibration.lead_days is not None
            else "."
        )
        + "</p>"
    )
    if calibration.not_calibrated:
        parts = ", ".join(
            f"{deals} {escape(reason)}"
            for reason, deals in sorted(calibration.not_calibrated.items())
        )
        yield f'<p class="lead">Not calibrated: {parts}.</p>'
    for warning in calibration.warnings:
        yield f'<p class="warning">{escape(warning)}</p>'
    for note in calibration.notes:
        yield f'<p class="lead">{escape(note)}</p>'
    level = min((row.verdict.confidence for row in calibration.milestones), default=0.95)
    yield (
        '<p class="lead">Each chart shows, per milestone, the share of deals won among those '
        "that met it and among those that missed it; the bars are the range the true rate is "
        f"likely in ({level:.2%} intervals, widened for the number of milestones compared). "
        "Where the bars overlap a lot, the data cannot tell the two apart."
        '<span class="key"><span style="background:'
        f'{_MET}"></span>met<span style="background:{_MISSING}"></span>missing</span></p>'
    )


def _sections(calibration: Calibration) -> Iterator[str]:
    """One section per stage (then hygiene checks, or a review's attributes)."""
    groups: dict[str, list[MilestoneCalibration]] = {}
    for row in calibration.milestones:
        stage_id = row.milestone.stage_id
        title = (
            f"Stage: {calibration.stage_names.get(stage_id, stage_id)}"
            if stage_id
            else ("Hygiene checks" if calibration.pack_id else "Review answers")
        )
        groups.setdefault(title, []).append(row)
    for title, rows in groups.items():
        yield f"<h2>{escape(title)}</h2>"
        charted = [row for row in rows if row.verdict.met.deals or row.verdict.missing.deals]
        if charted:
            yield _chart(charted, title)
        yield from _verdict_table(rows)


def _chart(rows: list[MilestoneCalibration], title: str) -> str:
    height = _ROW * len(rows) + 24
    parts = [
        f'<svg role="img" aria-label="Win rate when met and when missing: {escape(title)}" '
        f'viewBox="0 0 {_WIDTH} {height}" width="100%">'
    ]
    span = _WIDTH - _LABEL - 20
    for tick in range(0, 101, 25):
        x = _LABEL + span * tick / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 18}" stroke="#e3e6eb"/>'
            f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle">{tick}%</text>'
        )
    for number, row in enumerate(rows):
        top = number * _ROW
        parts.append(
            f'<text x="0" y="{top + 20}">{escape(_short(row.milestone.name or row.milestone.id))}'
            f"<title>{escape(row.milestone.id)}: {escape(row.verdict.reason)}</title></text>"
        )
        parts.extend(_bar(row.verdict.met, top + 11, span, _MET, "met"))
        parts.extend(_bar(row.verdict.missing, top + 23, span, _MISSING, "missing"))
    parts.append("</svg>")
    return "".join(parts)


def _bar(rate: Rate, y: int, span: float, colour: str, what: str) -> Iterator[str]:
    if rate.rate is None or rate.low is None or rate.high is None:
        return
    low, high, point = (_LABEL + span * value for value in (rate.low, rate.high, rate.rate))
    yield (
        f'<line x1="{low:.1f}" y1="{y}" x2="{high:.1f}" y2="{y}" stroke="{colour}" '
        f'stroke-width="3" stroke-linecap="round"/>'
        f'<circle cx="{point:.1f}" cy="{y}" r="4.5" fill="{colour}">'
        f"<title>{what}: won {rate.won} of {rate.deals} ({rate.rate:.0%})</title></circle>"
    )


def _short(name: str, most: int = 38) -> str:
    return name if len(name) <= most else name[: most - 1] + "…"


def _verdict_table(rows: list[MilestoneCalibration]) -> Iterator[str]:
    yield (
        "<table><thead><tr><th>Milestone</th><th>Verdict</th>"
        '<th class="num">Met</th><th class="num">Missing</th><th class="num">Unknown</th>'
        "<th>Why</th></tr></thead><tbody>"
    )
    for row in rows:
        verdict, counts = row.verdict, row.verdict.counts
        css = _VERDICT_CLASS.get(verdict.verdict, "")
        leak = (
            f'<div class="leak">leaking: {row.leaking} deal(s) met it with a date after their '
            "close</div>"
            if row.leaking
            else ""
        )
        yield (
            f"<tr><td><strong>{escape(row.milestone.name)}</strong><br>"
            f"<small>{escape(row.milestone.id)}</small></td>"
            f'<td class="verdict {css}">{escape(verdict.verdict.value)}{leak}</td>'
            f'<td class="num">{counts.met}</td><td class="num">{counts.missing}</td>'
            f'<td class="num">{counts.unknown}</td><td>{escape(verdict.reason)}</td></tr>'
        )
    yield "</tbody></table>"


def _stages(stages: tuple[StageConversion, ...], names: dict[str, str]) -> Iterator[str]:
    shown = [stage for stage in stages if stage.deals]
    if not shown:
        return
    yield "<h2>Stages: deals that met the stage's required exits, and those that did not</h2>"
    yield (
        '<table><thead><tr><th>Stage</th><th>Required exits</th><th class="num">Deals</th>'
        '<th class="num">Reached a later stage</th><th class="num">Won</th>'
        '<th class="num">Median days in stage</th></tr></thead><tbody>'
    )
    for stage in shown:
        days = "" if stage.median_days_in_stage is None else f"{stage.median_days_in_stage:g}"
        yield (
            f"<tr><td>{escape(names.get(stage.stage_id, stage.stage_id))}</td>"
            f"<td>{'met' if stage.exits_met else 'not met'}</td>"
            f'<td class="num">{stage.deals}</td>'
            f'<td class="num">{_share(stage.reached_next, stage.deals)}</td>'
            f'<td class="num">{_share(stage.won, stage.deals)}</td>'
            f'<td class="num">{days}</td></tr>'
        )
    yield "</tbody></table>"


def _share(part: int, whole: int) -> str:
    return f"{part} ({part / whole:.0%})"
