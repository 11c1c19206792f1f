"""The pipeline audit: every deal judged, and the figures sales ops brings to the forecast call."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dealgate.deals.mapper import RejectedRow
from dealgate.deals.model import Deal, ReadDeal, construct
from dealgate.deals.normalise import cell_rule
from dealgate.deals.profiles import header_key
from dealgate.deals.source import DealSource
from dealgate.engines.base import DealRequest, Engine
from dealgate.errors import UsageError
from dealgate.findings import DataFinding, Finding, FindingKind, Status
from dealgate.judging.action_plan import UNASSIGNED, overdue_steps
from dealgate.judging.assess import DealAssessment, assess, request_for, with_waivers
from dealgate.judging.coverage import Coverage, Supply, measure
from dealgate.judging.forecast import (
    RANK,
    Standing,
    claim_label,
    judge_forecast,
    judge_probability,
    unverifiable_label,
    worse_standing,
)
from dealgate.judging.semantics import ATTENTION_KINDS, FAILING_KINDS, Position
from dealgate.judging.waivers import WaiverBook
from dealgate.money import NO_CURRENCY, Amounts
from dealgate.rules.model import RulePack, Stage

if TYPE_CHECKING:
    from dealgate.report.headline import HeadlineTally


class FailOn(StrEnum):
    REQUIRED = "required"
    RECOMMENDED = "recommended"
    NEVER = "never"

    @property
    def severities(self) -> tuple[str, ...]:
        """The severities of the missing findings that fail the audit."""
        return {
            FailOn.REQUIRED: ("required",),
            FailOn.RECOMMENDED: ("required", "recommended"),
            FailOn.NEVER: (),
        }[self]


@dataclass(frozen=True)
class AuditFilters:
    """Which deals are audited; the others are counted as excluded, never lost."""

    owners: tuple[str, ...] = ()
    managers: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()  # pack stage ids
    closing_after: date | None = None  # inclusive
    closing_before: date | None = None  # inclusive
    include_closed: bool = False

    def stage_exclusion(self, position: Position, pack: RulePack) -> str | None:
        """Why a deal at this stage is not audited: 'closed', 'filtered' (--stage) or None.
        Decided per stage position, for the Python route and the columnar judge alike."""
        if pack.semantics.is_closed(position) and not self.include_closed:
            return "closed"
        if self.stages and (position is None or pack.stages[position].id not in self.stages):
            return "filtered"
        return None

    def exclusion(self, read: ReadDeal, pack: RulePack) -> str | None:
        """Why a deal is not audited: 'closed' or 'filtered'; None when it is audited."""
        by_stage = self.stage_exclusion(pack.position(read.stage_id), pack)
        if by_stage is not None:
            return by_stage
        deal = read.deal
        if self.owners and header_key(deal.owner or "") not in {header_key(o) for o in self.owners}:
            return "filtered"
        if self.managers and header_key(deal.manager or "") not in {
            header_key(m) for m in self.managers
        }:
            return "filtered"
        if (self.closing_after or self.closing_before) and not cell_rule("closing_window")(
            deal.close_date, self.closing_after, self.closing_before
        ):
            return "filtered"
        return None

    @property
    def by_value(self) -> bool:
        """Whether deals are chosen by owner, manager or stage: values a file may not hold."""
        return bool(self.owners or self.managers or self.stages)

    def check_values(self, tally: FilterTally, pack: RulePack, file: str) -> list[str]:
        """Notes on the --owner, --manager and --stage values whose deals are all closed;
        raises FilterMatchesNothing for a value no deal of the file has, closed ones included.
        The one decision of both routes: a typo must not pass as a quiet week."""
        owners: dict[str, _Matched] = {}
        managers: dict[str, _Matched] = {}
        stages: dict[str, _Matched] = {}
        for (owner, manager, position), deals in tally.deals.items():
            opened = 0 if pack.semantics.is_closed(position) else deals
            _count(owners, header_key(owner or ""), owner or "", deals, opened)
            _count(managers, header_key(manager or ""), manager or "", deals, opened)
            if position is not None:
                stage_id = pack.stages[position].id
                _count(stages, stage_id, stage_id, deals, opened)
        stages = {stage.id: stages[stage.id] for stage in pack.stages if stage.id in stages}
        problems: list[str] = []
        notes: list[str] = []
        asked = [
            ("--owner", {value: header_key(value) for value in self.owners}, owners),
            ("--manager", {value: header_key(value) for value in self.managers}, managers),
            ("--stage", {value: value for value in self.stages}, stages),
        ]
        for option, keys, seen in asked:
            for value, key in keys.items():
                matched = seen.get(key)
                if matched is None:
                    problems.append(f"{option} {value!r} {_unmatched(option, key, seen, file)}")
                elif not matched.open and not self.include_closed:
                    notes.append(
                        f"{option} {value!r} matched {_deals(matched.deals)} in {file}, none "
                        "open: nothing to audit (--include-closed audits closed deals)"
                    )
        if problems:
            raise FilterMatchesNothing("; ".join(problems))
        return notes


class FilterMatchesNothing(UsageError):
    """An --owner, --manager or --stage value that no deal of the input has (exit code 2)."""


@dataclass
class FilterTally:
    """The deals read per owner, manager and stage position as read (closed ones too):
    what AuditFilters.check_values holds the --owner, --manager and --stage values to."""

    deals: Counter[tuple[str | None, str | None, Position]] = field(default_factory=Counter)

    def add(
        self, owner: str | None, manager: str | None, position: Position, deals: int = 1
    ) -> None:
        self.deals[(owner, manager, position)] += deals


@dataclass
class _Matched:
    spellings: Counter[str] = field(default_factory=Counter)
    deals: int = 0
    open: int = 0

    @property
    def spelling(self) -> str:
        """The most frequent way the file writes the value (the first of them by text)."""
        return min(self.spellings.items(), key=lambda item: (-item[1], item[0]))[0]


def _count(seen: dict[str, _Matched], key: str, spelling: str, deals: int, opened: int) -> None:
    matched = seen.setdefault(key, _Matched())
    matched.spellings[spelling] += deals
    matched.deals += deals
    matched.open += opened


def _deals(count: int) -> str:
    return f"{count} deal" if count == 1 else f"{count} deals"


def _unmatched(option: str, key: str, seen: dict[str, _Matched], file: str) -> str:
    """Why a filter value matches no deal, with the file's own values as a hint."""
    if option == "--stage":
        # a stage of the pack (the CLI said so): the stages the file has help, not spelling
        at = f"its deals are at: {_listed(seen)}" if seen else "no deal is at a known stage"
        return f"matches no deal in {file} ({at})"
    known = {k: matched.spelling for k, matched in seen.items() if k}  # '': none given
    if option == "--manager" and not known:
        return (
            f"matches no deal: no deal in {file} has a manager (give --teams FILE of owners "
            "and their managers, or export a manager column)"
        )
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    if close:
        hint = f"did you mean {known[close[0]]!r}?"
    elif known:
        hint = f"its {option[2:]}s: {_listed(sorted(known.values(), key=str.casefold))}"
    else:
        hint = f"no deal has an {option[2:]}"
    return f"matches no deal in {file} ({hint})"


def _listed(values: Iterable[str], most: int = 5) -> str:
    values = list(values)
    more = f" and {len(values) - most} more" if len(values) > most else ""
    return ", ".join(values[:most]) + more


@dataclass
class Reconciliation:
    """rows read = deals read + rows rejected; deals read = deals audited + deals excluded."""

    rows_read: int = 0
    rows_rejected: int = 0
    deals_read: int = 0
    deals_audited: int = 0
    excluded_closed: int = 0
    excluded_filtered: int = 0

    @property
    def deals_excluded(self) -> int:
        return self.excluded_closed + self.excluded_filtered

    @property
    def balanced(self) -> bool:
        return (
            self.rows_read == self.deals_read + self.rows_rejected
            and self.deals_read == self.deals_audited + self.deals_excluded
        )

    def as_json(self) -> dict[str, object]:
        return {
            "rows_read": self.rows_read,
            "rows_rejected": self.rows_rejected,
            "deals_read": self.deals_read,
            "deals_audited": self.deals_audited,
            "deals_excluded": self.deals_excluded,
            "excluded_closed": self.excluded_closed,
            "excluded_filtered": self.excluded_filtered,
            "balanced": self.balanced,
        }


@dataclass
class AuditResult:
    pack: RulePack
    as_of: date
    engine: str
    file: str
    profile: str
    assessments: list[DealAssessment]
    data_findings: list[DataFinding]
    rejected: list[RejectedRow]
    reconciliation: Reconciliation
    waiver_findings: list[Finding] = field(default_factory=list)
    coverage: Coverage | None = None  # what the input could not measure
    notes: list[str] = field(default_factory=list)  # filter values whose deals all closed
    streamed: StreamedDeals | None = None  # the deals were written out, not kept

    def failing(self, fail_on: FailOn) -> list[Finding]:
        """Skipped and hygiene findings missing at or above the threshold (waived ones pass)."""
        self._kept("the failing findings")
        return [f for assessment in self.assessments for f in failing_findings(assessment, fail_on)]

    def exceptions(self, include_met: bool) -> list[DealAssessment]:
        """The deals that need attention (all audited deals with include_met)."""
        self._kept("the exceptions")
        return [a for a in self.assessments if in_exception_list(a, include_met)]

    def _kept(self, what: str) -> None:
        if self.streamed is not None:
            raise AssertionError(f"{what} of an audit written out deal by deal were not kept")


@dataclass(frozen=True)
class StreamedDeals:
    """What an audit whose deals were written out as they were judged (report/audit_json.py
    `DealSpool`), not kept, still knows: everything counted over all of them."""

    summary: AuditSummary
    failing: int  # findings failing the audit's --fail-on
    audited_stages: dict[str, str | None]
    # How the deals were written (report/audit_json.py `DealTaker`): json (the document's
    # list), jsonl, csv, markdown, junit (the report's text), parquet (Arrow record batches of
    # its rows), or only those a report lists (largest, first).
    form: str
    deals: Callable[[], Iterator[Any]]  # their text (or record batches), read back once
    discard: Callable[[], None]  # the spool, unread
    # The deals a report for people shows, kept as they were judged, and how many others
    # there were: form "largest", the documents of the deals an HTML page or a workbook
    # lists (report/audit_json.py `LargestDeals`); form "first", the assessments of the
    # terminal table's rows (report/audit_table.py `FirstExceptions`); form "parquet", the
    # milestones the findings name (`ParquetSpool`); form "junit", the root's counts of test
    # cases and failures (`JunitSpool`).
    listed: tuple[Any, ...] = ()
    left_out: int = 0
    # With --baseline: every deal as what changed since reads it (report/changes.py
    # `slim_deal`), in the audit's order.
    compared: list[dict[str, Any]] | None = None
    # With --notify: the headlines' figures, the whole audit's and each manager's team's
    # (report/headline.py `HeadlineTally`).
    headlines: HeadlineTally | None = None


def failing_findings(assessment: DealAssessment, fail_on: FailOn) -> list[Finding]:
    """A deal's skipped and hygiene findings missing at or above the threshold."""
    severities = fail_on.severities
    if not severities:
        return []
    return [
        finding
        for finding in assessment.findings
        if finding.status is Status.MISSING
        and finding.severity in severities
        and finding.kind in FAILING_KINDS
    ]


def in_exception_list(assessment: DealAssessment, include_met: bool) -> bool:
    """Whether a deal is listed by the reports of exceptions: when it needs attention, or
    always with include_met."""
    return include_met or needs_attention(assessment)


def needs_attention(assessment: DealAssessment) -> bool:
    return assessment.inflation > 0 or any(
        finding.status is Status.MISSING and finding.kind in ATTENTION_KINDS
        for finding in assessment.findings
    )


def run_audit(
    source: DealSource,
    pack: RulePack,
    engine: Engine,
    as_of: date,
    filters: AuditFilters = AuditFilters(),
    waivers: WaiverBook | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    include_met: bool = False,
    unmeasured_as_missing: bool = False,
    supply: Supply | None = None,
    kept_fields: tuple[str, ...] = (),
    deals_to: Callable[[RulePack], Callable[[DealAssessment], None]] | None = None,
) -> AuditResult:
    """Read, filter, evaluate and assess every deal of a source.

    Each assessed deal keeps only the fields reports show (`slim`), and `kept_fields` (the
    stage history calibration reads).

    Met findings carry the values they read only with include_met, as only then are they shown.
    Milestones reading fields the source does not supply are unmeasured (judging/coverage.py),
    or missing with unmeasured_as_missing. `supply` overrides what the source's headers say it
    supplies. With `deals_to` (given the judged pack, where each deal goes), every assessed
    deal is handed over and not kept: `assessments` is then empty, and `streamed` is for the
    caller to fill (report/audit_json.py `DealSpool`).
    Raises FilterMatchesNothing for an --owner, --manager or --stage value no deal has.
    """
    supplied = supply if supply is not None else source.supply
    coverage = measure(pack, supplied, as_missing=unmeasured_as_missing)
    pack = coverage.judged_pack
    each = deals_to(pack) if deals_to is not None else None
    counts = Reconciliation()
    tally = FilterTally() if filters.by_value else None

    def requests() -> Iterator[DealRequest]:
        for read in source:
            if tally is not None:
                deal = read.deal
                tally.add(deal.owner, deal.manager, pack.position(read.stage_id))
            exclusion = filters.exclusion(read, pack)
            if exclusion == "closed":
                counts.excluded_closed += 1
            elif exclusion == "filtered":
                counts.excluded_filtered += 1
            else:
                yield request_for(read, pack)

    assessments = []
    audited = 0
    for number, evaluated in enumerate(engine.evaluate(pack, requests(), as_of), start=1):
        assessment = assess(pack, evaluated, detail=include_met, as_of=as_of)
        if waivers is not None:
            assessment = with_waivers(pack, assessment, waivers)
        late = assessment.overdue_steps
        if assessment.stage is None or assessment.stage.is_open:
            late = overdue_steps(assessment.read.deal, as_of)
        # The findings hold what they read; the rest of the deal is not reported again.
        assessment = replace(
            assessment, overdue_steps=late, read=slim(assessment.read, kept_fields)
        )
        audited += 1
        if each is not None:
            each(assessment)
        else:
            assessments.append(assessment)
        if progress is not None and number % 1000 == 0:
            progress(number)
    read_counts = source.mapper.reconciliation
    counts.rows_read = read_counts.rows_read
    counts.rows_rejected = read_counts.rows_rejected
    counts.deals_read = read_counts.deals_read
    counts.deals_audited = audited
    notes = [] if tally is None else filters.check_values(tally, pack, source.table.file)
    return AuditResult(
        pack=pack,
        as_of=as_of,
        engine=engine.name,
        file=source.table.file,
        profile=source.profile.name,
        assessments=assessments,
        data_findings=source.findings,
        rejected=list(source.mapper.rejected),
        reconciliation=counts,
        waiver_findings=(
            waivers.unmatched() + waivers.too_broad(audited) if waivers is not None else []
        ),
        coverage=coverage,
        notes=notes,
    )


def slim(read: ReadDeal, also: tuple[str, ...] = ()) -> ReadDeal:
    """A deal with only the fields reports show (and `also`), so an audit of a large pipeline
    stays small."""
    shown = read.deal.__dict__  # pydantic keeps a model's field values here
    kept = {name: shown[name] for name in (*REPORTED_FIELDS, *also)}
    return construct(ReadDeal, {**read.__dict__, "deal": construct(Deal, kept)})


REPORTED_FIELDS = (
    "id",
    "name",
    "account",
    "owner",
    "manager",
    "stage",
    "amount",
    "currency",
    "close_date",
    "forecast_category",  # judged against the evidence (judging/forecast.py)
    "probability",  # against the ceiling of the evidence stage (judging/forecast.py)
)


# --- the summary ----------------------------------------------------------------------


def _add(amounts: Amounts, assessment: DealAssessment) -> None:
    deal = assessment.read.deal
    if deal.amount is not None:
        key = deal.currency or NO_CURRENCY
        amounts[key] = amounts.get(key, Decimal(0)) + deal.amount


@dataclass
class StageFigures:
    stage_id: str | None
    name: str
    deals: int = 0
    deals_at_risk: int = 0
    claimed: Amounts = field(default_factory=dict)
    at_risk: Amounts = field(default_factory=dict)


@dataclass
class OwnerFigures:
    manager: str | None
    owner: str | None
    deals: int = 0
    deals_with_skipped: int = 0
    deals_at_risk: int = 0
    missing_required: int = 0  # findings: required skipped or hygiene milestones missing
    deals_missing_required: int = 0  # deals with at least one of those findings
    claimed: Amounts = field(default_factory=dict)
    at_risk: Amounts = field(default_factory=dict)
    skipped_by_stage: Counter[str] = field(default_factory=Counter)  # stage id -> findings
    overdue_steps: Counter[str] = field(default_factory=Counter)  # buyer/seller/unassigned
    # Deals claiming more than their evidence shows by category or probability (the worse of
    # the two), and those unverifiable.
    forecast_without_evidence: int = 0
    forecast_without_evidence_amounts: Amounts = field(default_factory=dict)
    forecast_unverifiable: int = 0
    forecast_unverifiable_amounts: Amounts = field(default_factory=dict)


@dataclass
class ForecastFigures:
    """One claim the pack judges against the evidence: a forecast category it gives a
    requirement, or (category None) the probability against the ceilings of the evidence
    stages. Its deals, those the evidence does not support, and those the input cannot
    verify (per currency)."""

    category: str | None  # None: the probability row
    required_stage_id: str | None
    deals: int = 0
    claimed: Amounts = field(default_factory=dict)
    without_evidence: int = 0
    without_evidence_amounts: Amounts = field(default_factory=dict)
    unverifiable: int = 0
    unverifiable_amounts: Amounts = field(default_factory=dict)

    @property
    def claim(self) -> str:
        return "category" if self.category is not None else "probability"

    @property
    def label(self) -> str:
        return claim_label(self.category)

    @property
    def unverifiable_label(self) -> str:
        return unverifiable_label(self.category)


@dataclass
class MissingFigure:
    milestone_id: str
    milestone: str
    kind: str
    deals: int


@dataclass
class SkippedFigure:
    """How many audited deals skipped one exit milestone of an earlier stage."""

    milestone_id: str
    milestone: str
    stage_id: str
    deals: int


@dataclass
class AuditSummary:
    deals_audited: int
    deals_with_skipped: int
    deals_at_risk: int
    claimed: Amounts
    at_risk: Amounts
    supported: Amounts  # deals at a known stage whose evidence reaches it
    by_stage: list[StageFigures]
    by_evidence_stage: list[StageFigures]  # `claimed` holds the value of the deals there
    by_owner: list[OwnerFigures]
    top_missing: list[MissingFigure]
    skipped: list[SkippedFigure]  # every skipped milestone, most skipped first
    overdue_steps: Counter[str]  # buyer/seller/unassigned -> late action plan steps
    deals_with_overdue_steps: int
    data_findings: dict[str, int]
    # Per category the pack gives a requirement, highest (Commit) first, then the probability
    # when the pack states ceilings (judging/forecast.py).
    forecast: list[ForecastFigures] = field(default_factory=list)


def summarise(result: AuditResult, top: int = 10) -> AuditSummary:
    """Claimed, supported and at-risk pipeline by stage and by manager/owner, what is most
    missed and skipped, and the late steps of the action plans."""
    if result.streamed is not None:
        return result.streamed.summary
    tally = SummaryTally(result.pack)
    for assessment in result.assessments:
        tally.add(assessment)
    return tally.summary(result.data_findings, top)


class SummaryTally:
    """The summary counted deal by deal as the audit judges them, so that an audit whose deals
    are written out as they come (report/audit_json.py `DealSpool`) need not keep them."""

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        self.deals = 0
        self.stages: dict[str | None, StageFigures] = {}
        self.evidence: dict[str | None, StageFigures] = {}
        self.owners: dict[tuple[str | None, str | None], OwnerFigures] = {}
        self.missing: Counter[tuple[str, str]] = Counter()
        self.skipped: Counter[tuple[str, str]] = Counter()
        self.titles: dict[str, str] = {}
        self.claimed: Amounts = {}
        self.supported: Amounts = {}
        self.at_risk: Amounts = {}
        self.overdue: Counter[str] = Counter()
        self.with_skipped = self.risky = self.with_overdue = 0
        requirements = pack.forecast_requirements
        self.forecast = {
            category: ForecastFigures(category, requirements[category])
            for category in reversed(RANK)  # Commit first: the forecast call's first question
            if category in requirements
        }
        self.probability = ForecastFigures(None, None) if pack.probability_ceiling else None

    def add(self, assessment: DealAssessment) -> None:
        """Count one audited deal."""
        self.deals += 1
        deal = assessment.read.deal
        figures = _stage_figures(self.stages, assessment.stage)
        owner = self.owners.setdefault(
            (deal.manager, deal.owner), OwnerFigures(deal.manager, deal.owner)
        )
        for target in (figures, owner):
            target.deals += 1
            _add(target.claimed, assessment)
        _add(self.claimed, assessment)
        landed = _stage_figures(self.evidence, assessment.evidence_stage)
        landed.deals += 1
        _add(landed.claimed, assessment)
        if assessment.stage is not None and assessment.inflation == 0:
            _add(self.supported, assessment)
        skipped_here = assessment.missing(FindingKind.SKIPPED)
        self.with_skipped += bool(skipped_here)
        owner.deals_with_skipped += bool(skipped_here)
        required_missing = sum(
            1
            for f in assessment.missing(FindingKind.SKIPPED, FindingKind.HYGIENE)
            if f.severity == "required"
        )
        owner.missing_required += required_missing
        owner.deals_missing_required += bool(required_missing)
        for finding in skipped_here:
            owner.skipped_by_stage[finding.stage_id or ""] += 1
            self.skipped[(finding.milestone_id, finding.stage_id or "")] += 1
        if assessment.at_risk:
            self.risky += 1
            for target in (figures, owner):
                target.deals_at_risk += 1
                _add(target.at_risk, assessment)
            _add(self.at_risk, assessment)
        for finding in assessment.missing():
            self.missing[(finding.milestone_id, finding.kind.value)] += 1
            self.titles[finding.milestone_id] = finding.milestone
        judged = judge_forecast(self.pack, assessment)
        if judged is not None:
            _count_claim(self.forecast[judged.category], judged.standing, assessment)
        judged_probability = judge_probability(self.pack, assessment)
        if judged_probability is not None and self.probability is not None:
            _count_claim(self.probability, judged_probability.standing, assessment)
        _count_owner_claim(owner, worse_standing(judged, judged_probability), assessment)
        self.with_overdue += bool(assessment.overdue_steps)
        for step in assessment.overdue_steps:
            self.overdue[step.side] += 1
            owner.overdue_steps[step.side] += 1

    def summary(self, data_findings: Iterable[DataFinding], top: int = 10) -> AuditSummary:
        """The summary of the deals counted so far."""
        order = {stage.id: stage.position for stage in self.pack.stages}

        def in_pack_order(figures: dict[str | None, StageFigures]) -> list[StageFigures]:
            return sorted(figures.values(), key=lambda s: order.get(s.stage_id or "", len(order)))

        issues = Counter(finding.issue.value for finding in data_findings)
        titles = self.titles
        return AuditSummary(
            deals_audited=self.deals,
            deals_with_skipped=self.with_skipped,
            deals_at_risk=self.risky,
            claimed=self.claimed,
            at_risk=self.at_risk,
            supported=self.supported,
            by_stage=in_pack_order(self.stages),
            by_evidence_stage=in_pack_order(self.evidence),
            by_owner=sorted(self.owners.values(), key=lambda o: (o.manager or "~", o.owner or "~")),
            top_missing=[
                MissingFigure(milestone_id, titles[milestone_id], kind, count)
                for (milestone_id, kind), count in self.missing.most_common(top)
            ],
            skipped=[
                SkippedFigure(milestone_id, titles[milestone_id], stage_id, count)
                for (milestone_id, stage_id), count in sorted(
                    self.skipped.items(),
                    key=lambda item: (-item[1], order.get(item[0][1], 0), item[0][0]),
                )
            ],
            overdue_steps=Counter(
                {side: self.overdue[side] for side in OVERDUE_SIDES if self.overdue[side]}
            ),
            deals_with_overdue_steps=self.with_overdue,
            data_findings=dict(issues.most_common()),
            forecast=[
                *self.forecast.values(),
                *([self.probability] if self.probability else []),
            ],
        )


def _count_claim(figures: ForecastFigures, standing: Standing, assessment: DealAssessment) -> None:
    figures.deals += 1
    _add(figures.claimed, assessment)
    if standing is Standing.WITHOUT_EVIDENCE:
        figures.without_evidence += 1
        _add(figures.without_evidence_amounts, assessment)
    elif standing is Standing.UNVERIFIABLE:
        figures.unverifiable += 1
        _add(figures.unverifiable_amounts, assessment)


def _count_owner_claim(
    owner: OwnerFigures, standing: Standing | None, assessment: DealAssessment
) -> None:
    """A deal counts once per owner, by the worse of its category and probability."""
    if standing is Standing.WITHOUT_EVIDENCE:
        owner.forecast_without_evidence += 1
        _add(owner.forecast_without_evidence_amounts, assessment)
    elif standing is Standing.UNVERIFIABLE:
        owner.forecast_unverifiable += 1
        _add(owner.forecast_unverifiable_amounts, assessment)


OVERDUE_SIDES = ("buyer", "seller", UNASSIGNED)


def _stage_figures(figures: dict[str | None, StageFigures], stage: Stage | None) -> StageFigures:
    key = stage.id if stage else None
    if key not in figures:
        figures[key] = StageFigures(key, stage.name if stage else "(unknown stage)")
    return figures[key]
