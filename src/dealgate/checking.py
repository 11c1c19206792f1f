"""The application layer of `dealgate check`: a request to check one deal becomes a run.

The CLI parses and checks the options and builds a `CheckRequest`; `read_deals` reads the file
and measures what it supplies, `check_deal` chooses the deal (--id), judges it through the
stage asked for (--to) and says whether it may advance. The CLI renders the run.

It imports only what a check of one deal runs (tests/test_startup.py): never the audit, the
SQL engine or the reports of a pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from dealgate.errors import UsageError, did_you_mean

if TYPE_CHECKING:
    from dealgate.deals.model import ReadDeal
    from dealgate.deals.source import DealSource, Reading
    from dealgate.engines.base import Engine
    from dealgate.findings import DataFinding
    from dealgate.judging.assess import DealAssessment
    from dealgate.judging.coverage import Coverage
    from dealgate.judging.waivers import WaiverBook
    from dealgate.report.checklist import Readiness
    from dealgate.rules.model import RulePack, Stage


@dataclass(frozen=True)
class CheckRequest:
    """Everything a check of one deal was asked for, checked by the command that asks."""

    file: Path  # a deal file, an export, or what a live source read
    named: str  # the file or the live source as the user named it, in messages
    pack: RulePack
    as_of: date
    engine: Engine
    reading: Reading
    live: bool = False  # a CRM's record: a field it does not give is unmeasured
    deal_id: str | None = None  # --id: a CRM id or a deal's name
    to: str | None = None  # --to: a stage id or CRM name
    waivers: WaiverBook | None = None
    unmeasured_as_missing: bool = False  # the strict reading of coverage


@dataclass(frozen=True)
class DealsRead:
    """The deals of the file, and what it supplies for the milestones to read."""

    source: DealSource
    deals: list[ReadDeal]
    coverage: Coverage


@dataclass(frozen=True)
class CheckRun:
    """What a check found: the deal judged, and whether it may advance."""

    pack: RulePack  # the pack as judged: unmeasured milestones set apart
    assessment: DealAssessment
    to_stage: Stage | None
    readiness: Readiness
    findings: list[DataFinding]  # the data findings of the file and of this deal
    coverage: Coverage


def read_deals(request: CheckRequest) -> DealsRead:
    """The deals of the file and its coverage; UsageError when it holds no deal with an id."""
    from dealgate.deals.source import with_history
    from dealgate.judging.coverage import Supply, measure

    source = request.reading.open(request.file, request.pack)
    deals = list(source)
    if not deals:
        rows = source.mapper.reconciliation.rows_read
        if not rows:
            raise UsageError(f"{request.named} holds no deal")
        # a deal without an id is rejected as it is read
        records = "1 record" if rows == 1 else f"{rows} records"
        raise _refused(
            f"no record in {request.named} has a deal id ({records} read), so there is no deal "
            "to check",
            "give each deal an `id`, or name an export's id column with --mapping; then "
            "choose a deal with --id ID or --id NAME",
        )
    # A deal written by hand: a key the rep left out is missing, and they are asked for it.
    # A deal of an export: a field it has no column for is unmeasured.
    # A live deal is the CRM's record: a field it does not give is unmeasured, as in an export.
    exported = len(deals) > 1 or source.table.format in ("csv", "xlsx", "parquet") or request.live
    supply = source.supply if exported else Supply.complete(request.named)
    if not exported and source.history is not None:
        supply = with_history(supply, source.history)
    coverage = measure(request.pack, supply, as_missing=request.unmeasured_as_missing)
    return DealsRead(source, deals, coverage)


def check_deal(request: CheckRequest, read: DealsRead) -> CheckRun:
    """The deal --id names (or the file's one deal) judged through --to, waivers applied.

    Raises UsageError when --id names no deal or several, or --to no later stage."""
    from dealgate.judging.assess import assess, request_for, with_waivers
    from dealgate.report.checklist import readiness

    pack = read.coverage.judged_pack
    deal = _one_deal(read.deals, request.deal_id, request.named)
    to_stage = _to_stage(pack, request.to, deal.stage_id)
    deal_request = request_for(deal, pack, to_stage)
    [evaluated] = list(request.engine.evaluate(pack, [deal_request], request.as_of))
    assessment = assess(pack, evaluated, as_of=request.as_of)
    if request.waivers is not None:  # a waived milestone counts as met, for readiness too
        assessment = with_waivers(pack, assessment, request.waivers)
    findings = [f for f in read.source.findings if f.deal_id in (None, deal.deal.id)]
    ready = readiness(assessment, pack, to_stage)
    return CheckRun(pack, assessment, to_stage, ready, findings, read.coverage)


def stage_named(pack: RulePack, name: str, option: str) -> Stage:
    """The pack stage a stage id or CRM name given as `option` (--to, the audit's --stage)
    means; UsageError for none."""
    stage = pack.match_stage(name)
    if stage is None:
        raise _refused(
            f"{option} {name!r} is not a stage of pack {pack.id}",
            did_you_mean(name, [s.id for s in pack.stages]),
        )
    return stage


def _one_deal(deals: list[ReadDeal], asked: str | None, file: str) -> ReadDeal:
    """The deal to check: the one --id means, or the file's only deal."""
    if asked is not None:
        deals = _deals_chosen(deals, asked, file)
    if len(deals) != 1:
        shown = ", ".join(read.deal.id for read in deals[:5])
        more = f", and {len(deals) - 5} more" if len(deals) > 5 else ""
        raise _refused(
            f"{file} holds {len(deals)} deals; choose one with --id",
            f"ids: {shown}{more}" if deals else "",
        )
    return deals[0]


def _deals_chosen(deals: list[ReadDeal], asked: str, file: str) -> list[ReadDeal]:
    """The deals --id means: by CRM id, else by name (case ignored); UsageError when none is,
    or when a name is several deals'."""
    from dealgate.deals.normalise import deal_key
    from dealgate.deals.profiles import header_key

    by_id = [read for read in deals if deal_key(read.deal.id) == deal_key(asked)]
    if by_id:
        return by_id
    by_name = [read for read in deals if header_key(read.deal.name or "") == header_key(asked)]
    if len(by_name) > 1:
        ids = ", ".join(read.deal.id for read in by_name)
        raise UsageError(
            f"{len(by_name)} deals in {file} are named {asked!r}; choose one by its id: {ids}"
        )
    if not by_name:
        known = [read.deal.id for read in deals] + [read.deal.name or "" for read in deals]
        raise _refused(
            f"no deal with id '{asked}' in {file}, nor by that name", did_you_mean(asked, known)
        )
    return by_name


def _to_stage(pack: RulePack, to: str | None, current: str | None) -> Stage | None:
    """The stage of --to; UsageError when it is not after the deal's stage."""
    if to is None:
        return None
    stage = stage_named(pack, to, "--to")
    if current is not None and stage.position <= pack.stage(current).position:
        raise UsageError(f"--to {stage.id} is not after the deal's stage {current}")
    return stage


def _refused(message: str, hint: str) -> UsageError:
    """A usage error with a hint, as the CLI prints it: `message (hint)`."""
    return UsageError(f"{message} ({hint})" if hint else message)
