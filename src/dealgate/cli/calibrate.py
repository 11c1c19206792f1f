"""`dealgate calibrate`: which milestones predict wins (docs/calibration.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dealgate.cli import options
from dealgate.cli.console import deliver, fail, guarded, out, plain_text, refuse_to_replace_inputs
from dealgate.cli.options import (
    DEFAULT_PACK,
    AsOfOption,
    ContactsOption,
    EncodingOption,
    EngineOption,
    MappingOption,
    PackOption,
    ProfileOption,
    SheetOption,
    StageHistoryOption,
    TeamsOption,
    VerboseOption,
)

if TYPE_CHECKING:
    from dealgate.calibration.calibrate import Calibration

app = typer.Typer(add_completion=False)


class CalibrationFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    HTML = "html"


@app.command("calibrate")
def calibrate(
    snapshots: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Snapshots: audits saved with --format json --include-met (a glob works).",
            show_default=False,
        ),
    ] = None,
    outcomes: Annotated[
        Path | None,
        typer.Option(help="A current export: its won and lost deals are the outcomes."),
    ] = None,
    closed_deals: Annotated[
        Path | None,
        typer.Option(
            help="Calibrate from the closed deals of this export alone, as they stand today "
            "(open to leakage: fields filled in at the close)."
        ),
    ] = None,
    review: Annotated[
        Path | None,
        typer.Option(help="A win/loss review table: qualification answers and an outcome."),
    ] = None,
    review_mapping: Annotated[
        Path | None,
        typer.Option(help="With --review: which answers count as met, missing or unknown."),
    ] = None,
    rules: PackOption = DEFAULT_PACK,
    lead_days: Annotated[
        int,
        typer.Option(
            help="Each deal as its last snapshot at least this many days before it closed."
        ),
    ] = 14,
    accept_pack_changes: Annotated[
        bool,
        typer.Option(help="Read snapshots made with another version of the pack, by milestone id."),
    ] = False,
    confidence: Annotated[float, typer.Option(help="Confidence of the intervals.")] = 0.95,
    correction: Annotated[
        str, typer.Option(help="Correction for many milestones: bonferroni or none.")
    ] = "bonferroni",
    min_deals: Annotated[
        int, typer.Option(help="Fewest deals meeting, and missing, a milestone to judge it.")
    ] = 10,
    nearly_all: Annotated[
        float,
        typer.Option(help="Share of deals meeting (or missing) it that leaves no information."),
    ] = 0.95,
    recorded_at_least: Annotated[
        float, typer.Option(help="Share of deals it must be recorded on to be verifiable.")
    ] = 0.5,
    margin: Annotated[
        float,
        typer.Option(help="A difference within this many points (0.10: 10) is not predictive."),
    ] = 0.10,
    contacts: ContactsOption = None,
    stage_history: StageHistoryOption = None,
    teams: TeamsOption = None,
    mapping: MappingOption = None,
    profile: ProfileOption = None,
    sheet: SheetOption = None,
    encoding: EncodingOption = None,
    as_of: AsOfOption = None,
    engine: EngineOption = "auto",
    output_format: Annotated[CalibrationFormat, typer.Option("--format")] = CalibrationFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option(help="Write the calibration to this file (atomically).")
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """Which milestones predict wins: each milestone's win rate when met and when missing, with
    intervals and a plain verdict, from weekly snapshots and the outcomes (docs/calibration.md).

    Exit 0 when calibrated, 2 when an input cannot be used.
    """
    from dealgate.calibration.run import CalibrationRequest, run_calibration
    from dealgate.calibration.statistics import Correction, Thresholds
    from dealgate.deals.source import Reading

    sources = [
        name
        for name, given in (
            ("snapshots with --outcomes", bool(snapshots) or outcomes is not None),
            ("--closed-deals", closed_deals is not None),
            ("--review", review is not None or review_mapping is not None),
        )
        if given
    ]
    if len(sources) != 1:
        fail(
            "calibrate from one source: snapshots with --outcomes, --closed-deals or --review"
            + (f" (given: {', '.join(sources)})" if sources else ""),
            "see docs/calibration.md",
        )
    if (snapshots or outcomes is not None) and not (snapshots and outcomes is not None):
        fail(
            "snapshots and --outcomes go together: the snapshots say what each deal had, "
            "--outcomes how it ended"
        )
    if (review is None) != (review_mapping is None):
        fail("--review and --review-mapping go together")
    if lead_days < 0:
        fail(f"--lead-days {lead_days}: give 0 or more days")
    if correction not in tuple(Correction):
        fail(f"--correction {correction!r}: use bonferroni or none")
    thresholds = guarded(
        lambda: Thresholds(
            confidence, min_deals, nearly_all, recorded_at_least, margin, Correction(correction)
        )
    )
    inputs = {"--outcomes": outcomes, "--closed-deals": closed_deals, "--review": review}
    inputs |= {"--review-mapping": review_mapping, "--mapping": mapping, "--teams": teams}
    inputs |= {"--contacts": contacts, "--stage-history": stage_history}
    inputs |= {f"snapshot {p}": p for p in snapshots or []}
    if output is not None and str(output) == "-":
        output = None
    refuse_to_replace_inputs(output, inputs)
    if review is not None and review_mapping is not None:
        from dealgate.calibration.calibrate import from_review
        from dealgate.calibration.review import read_review

        data = guarded(lambda: read_review(review, review_mapping))
        result = from_review(data, thresholds)
    else:
        pack = options.pack(rules)
        export = closed_deals or outcomes
        request = CalibrationRequest(
            pack=pack,
            as_of=options.as_of(as_of),
            thresholds=thresholds,
            outcomes=outcomes,
            snapshots=tuple(snapshots or ()),
            closed_deals=closed_deals,
            reading=Reading(
                profile, mapping, teams, contacts, sheet, encoding, stage_history=stage_history
            ),
            engine=options.engine(engine, export, verbose, None, pack) if closed_deals else None,
            lead_days=lead_days,
            accept_pack_changes=accept_pack_changes,
        )
        result = guarded(lambda: run_calibration(request))
    if output_format is CalibrationFormat.TABLE and output is None:
        from dealgate.report.calibration import calibration_table

        out.print(calibration_table(result))
        return
    deliver(_render_calibration(result, output_format), output)


def _render_calibration(result: Calibration, output_format: CalibrationFormat) -> Iterable[str]:
    from dealgate.report.calibration import calibration_csv, calibration_json, calibration_table

    if output_format is CalibrationFormat.JSON:
        return [json.dumps(calibration_json(result), indent=2) + "\n"]
    if output_format is CalibrationFormat.CSV:
        return [calibration_csv(result)]
    if output_format is CalibrationFormat.HTML:
        from dealgate.report.calibration_html import calibration_html

        return [calibration_html(result)]
    return [plain_text(calibration_table(result))]
