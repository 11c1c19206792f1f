"""The audit as JSON (one document) and JSON Lines (one deal per line)."""

from __future__ import annotations

import json
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from dealgate.audit import (
    AuditResult,
    AuditSummary,
    FailOn,
    StageFigures,
    StreamedDeals,
    SummaryTally,
    failing_findings,
    in_exception_list,
    needs_attention,
    summarise,
)
from dealgate.findings import json_value
from dealgate.judging.assess import DealAssessment
from dealgate.report.changes import slim_deal
from dealgate.report.figures import amounts_json
from dealgate.report.json_report import deal_json, forecast_json, probability_json
from dealgate.report.listing import LargestList
from dealgate.report.saved_audit import (
    DEALS_LISTED,
    FINDINGS_ALL,
    FINDINGS_NOT_MET,
    LARGEST_NEEDING_ATTENTION,
    SCHEMA_VERSION,
)
from dealgate.rules.model import RulePack

if TYPE_CHECKING:
    from dealgate.report.headline import HeadlineTally

LARGEST = "largest"  # the form of an audit that kept only the deals a page lists


def summary_json(summary: AuditSummary) -> dict[str, Any]:
    return {
        "deals_audited": summary.deals_audited,
        "deals_with_skipped_milestones": summary.deals_with_skipped,
        "deals_at_risk": summary.deals_at_risk,
        "pipeline_claimed": amounts_json(summary.claimed),
        "pipeline_at_risk": amounts_json(summary.at_risk),
        "pipeline_supported": amounts_json(summary.supported),
        "by_stage": [
            stage_json(s) | {"deals_at_risk": s.deals_at_risk, "at_risk": amounts_json(s.at_risk)}
            for s in summary.by_stage
        ],
        "by_evidence_stage": [stage_json(s) for s in summary.by_evidence_stage],
        "by_owner": [
            {
                "manager": o.manager,
                "owner": o.owner,
                "deals": o.deals,
                "deals_with_skipped_milestones": o.deals_with_skipped,
                "deals_at_risk": o.deals_at_risk,
                "missing_required": o.missing_required,  # findings, for older consumers
                "deals_missing_required": o.deals_missing_required,
                "claimed": amounts_json(o.claimed),
                "at_risk": amounts_json(o.at_risk),
                "skipped_by_stage": dict(sorted(o.skipped_by_stage.items())),
                "overdue_steps": dict(o.overdue_steps),
                "forecast_without_evidence": o.forecast_without_evidence,
                "forecast_without_evidence_amounts": amounts_json(
                    o.forecast_without_evidence_amounts
                ),
                "forecast_unverifiable": o.forecast_unverifiable,
                "forecast_unverifiable_amounts": amounts_json(o.forecast_unverifiable_amounts),
            }
            for o in summary.by_owner
        ],
        "top_missing": [
            {
                "milestone_id": m.milestone_id,
                "milestone": m.milestone,
                "kind": m.kind,
                "deals": m.deals,
            }
            for m in summary.top_missing
        ],
        "skipped_milestones": [
            {
                "milestone_id": m.milestone_id,
                "milestone": m.milestone,
                "stage_id": m.stage_id,
                "deals": m.deals,
            }
            for m in summary.skipped
        ],
        "overdue_steps": dict(summary.overdue_steps),
        "deals_with_overdue_steps": summary.deals_with_overdue_steps,
        "data_findings": summary.data_findings,
        "forecast": [
            {
                "claim": f.claim,
                "category": f.category,
                "required_stage_id": f.required_stage_id,
                "deals": f.deals,
                "claimed": amounts_json(f.claimed),
                "without_evidence": f.without_evidence,
                "without_evidence_amounts": amounts_json(f.without_evidence_amounts),
                "unverifiable": f.unverifiable,
                "unverifiable_amounts": amounts_json(f.unverifiable_amounts),
            }
            for f in summary.forecast
        ],
    }


def stage_json(figures: StageFigures) -> dict[str, Any]:
    return {
        "stage_id": figures.stage_id,
        "name": figures.name,
        "deals": figures.deals,
        "claimed": amounts_json(figures.claimed),
    }


def audit_deal_json(
    assessment: DealAssessment, include_met: bool, pack: RulePack
) -> dict[str, Any]:
    """A deal of the audit: its findings, whether it needs attention (audit.needs_attention: the
    exception list), whether its value is at risk, the late steps of its action plan, and its
    forecast category against its evidence."""
    return deal_json(assessment, include_met=include_met) | {
        "needs_attention": needs_attention(assessment),
        "at_risk": assessment.at_risk,
        "overdue_steps": [step.as_json() for step in assessment.overdue_steps],
        "forecast_category": assessment.read.deal.forecast_category,
        "forecast": forecast_json(pack, assessment),
        "probability_ceiling": probability_json(pack, assessment),
    }


def audited_stages(result: AuditResult) -> dict[str, str | None]:
    """Every audited deal's claimed stage, listed or not, so a later audit can tell what moved.

    None for an unknown stage, and for an id that rows at different stages share (a duplicate
    id, reported as a data finding): which of them moved cannot be told.
    """
    if result.streamed is not None:
        return result.streamed.audited_stages
    stages: dict[str, str | None] = {}
    for assessment in result.assessments:
        _note_stage(stages, assessment)
    return stages


def _note_stage(stages: dict[str, str | None], assessment: DealAssessment) -> None:
    stage = assessment.stage.id if assessment.stage else None
    if stages.get(assessment.deal_id, stage) != stage:
        stage = None
    stages[assessment.deal_id] = stage


def audit_json(result: AuditResult, include_met: bool) -> dict[str, Any]:
    """The audit's JSON shape (DESIGN.md), with the summary and the reconciliation; its
    version and what reads every version are in report/saved_audit.py. An audit that kept
    only the deals a page lists (`LargestDeals`) gives the document those are rendered from,
    which says so (`deals_listed`) and is never saved."""
    streamed = result.streamed
    if streamed is not None and streamed.form == LARGEST:
        document = _document(result, include_met, [])
        return listing_largest(document, list(streamed.listed), streamed.left_out)
    return _document(result, include_met, list(_deals(result, include_met)))


def listing_largest(
    document: dict[str, Any], deals: list[dict[str, Any]], left_out: int
) -> dict[str, Any]:
    """The document listing only the deals a page or a workbook lists (`LargestList`), and
    saying so: such a document is rendered, never saved."""
    document["deals"] = deals
    document["deals_listed"] = LARGEST_NEEDING_ATTENTION
    document["deals_left_out"] = left_out
    return document


def _deals(result: AuditResult, include_met: bool) -> Iterator[dict[str, Any]]:
    """Every audited deal, flagged, with its findings not met (all of them with include_met):
    a deal needing no attention still has its to-advance checklist, a rep's next steps."""
    return (audit_deal_json(a, include_met, result.pack) for a in result.assessments)


def compared_document(result: AuditResult, include_met: bool) -> dict[str, Any]:
    """The document what changed since a baseline reads (report/changes.py `compare`): with
    every deal slim when the audit kept them so (`DealTaker.compare_changes`), else the
    audit's own document."""
    streamed = result.streamed
    if streamed is not None and streamed.compared is not None:
        return _document(result, include_met, streamed.compared)
    return audit_json(result, include_met)


def audit_json_chunks(
    result: AuditResult, include_met: bool, changes: dict[str, Any] | None = None
) -> Iterator[str]:
    """The JSON document as `json.dumps(audit_json(...), indent=2)` writes it, and a line
    end, in chunks: the deals are made and written one at a time, never all held at once
    (and, for an audit that spooled them, read back from the spool). `changes`: what changed
    since a baseline, the document's last key."""
    document = _document(result, include_met, [])
    if changes is not None:
        document["changes"] = changes
    if result.streamed is not None and result.streamed.summary.deals_audited:
        return document_chunks(document, _spooled(result.streamed, "json"))
    return document_chunks(document, joined_deals(_deals(result, include_met)))


def document_chunks(document: dict[str, Any], deals_text: Iterable[str]) -> Iterator[str]:
    """`json.dumps(document, indent=2)` and a line end, in chunks, with the text of its
    `deals` list given in chunks (`joined_deals`, or a spool of it) rather than held."""
    marker = f"dealgate-deals-{uuid.uuid4()}"
    text = json.dumps(document | {"deals": [marker]}, indent=2) + "\n"
    head, _, tail = text.partition(f'"{marker}"')
    written = False
    for chunk in deals_text:
        if chunk:
            yield chunk if written else head + chunk
            written = True
    if written:
        yield tail
    else:  # json.dumps writes an empty list as []
        yield head.rstrip()[:-1] + "[]" + tail.lstrip()[1:]


def joined_deals(deals: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Deals as the indented document's `deals` list holds them, with the commas between."""
    for index, deal in enumerate(deals):
        yield listed_deal(deal, index)


def listed_deal(deal: dict[str, Any], index: int) -> str:
    """The text of the deal at `index` in the indented document's `deals` list, after the
    text of those before it."""
    return (_NEXT_DEAL if index else "") + _indented(deal)


_NEXT_DEAL = ",\n    "


def _indented(deal: dict[str, Any]) -> str:
    """A deal as it stands in the indented document's `deals` list."""
    return json.dumps(deal, indent=2).replace("\n", "\n    ")


def _spooled(streamed: StreamedDeals, form: str) -> Iterator[str]:
    if streamed.form != form:
        raise AssertionError(f"the deals were spooled as {streamed.form}, not {form}")
    return streamed.deals()


class DealTaker(ABC):
    """Where an audit's deals go as it judges them, instead of into its result: what the
    document counts over all of them (the summary, the failing findings, every deal's stage)
    is counted on the way, so the audit's memory does not grow with the pipeline.

    `run_audit(deals_to=taker.take)`, then `taker.finish(result)`."""

    form = ""

    def __init__(self, include_met: bool, fail_on: FailOn) -> None:
        self.include_met = include_met
        self.fail_on = fail_on
        self.failing = 0
        self.stages: dict[str, str | None] = {}
        self.tally: SummaryTally | None = None
        self.compared: list[dict[str, Any]] | None = None  # see compare_changes
        self.headlines: HeadlineTally | None = None  # see tell_headlines
        self._headlines_asked = False
        self._built: tuple[DealAssessment, dict[str, Any]] | None = None  # see deal_json

    def tell_headlines(self) -> None:
        """Count the headlines --notify sends (the whole audit's, each manager's team's),
        whatever the report keeps of the deals."""
        self._headlines_asked = True

    def compare_changes(self) -> None:
        """Keep every deal as what changed since a baseline reads it (`slim_deal`), whatever
        the report keeps of it."""
        self.compared = []

    def take(self, pack: RulePack) -> Callable[[DealAssessment], None]:
        """Where each deal the audit judges with `pack` (the judged pack) goes."""
        tally = self.tally = SummaryTally(pack)
        if self._headlines_asked:
            from dealgate.report.headline import HeadlineTally

            self.headlines = HeadlineTally(pack, summary=tally)  # the whole counted once

        def take(assessment: DealAssessment) -> None:
            tally.add(assessment)
            self.failing += len(failing_findings(assessment, self.fail_on))
            _note_stage(self.stages, assessment)
            self.keep(assessment, pack)
            if self.compared is not None:
                self.compared.append(slim_deal(self.deal_json(assessment, pack)))
            if self.headlines is not None:
                self.headlines.add(assessment)
            self._built = None

        return take

    @abstractmethod
    def keep(self, assessment: DealAssessment, pack: RulePack) -> None:
        """What the report needs of a deal, kept or written out."""

    def deal_json(self, assessment: DealAssessment, pack: RulePack) -> dict[str, Any]:
        """The deal as the JSON document lists it, built once for the report and the
        comparison with a baseline."""
        if self._built is None or self._built[0] is not assessment:
            self._built = (assessment, audit_deal_json(assessment, self.include_met, pack))
        return self._built[1]

    def listed(self, assessment: DealAssessment) -> bool:
        """Whether the report's exception list holds this deal (`AuditResult.exceptions`)."""
        return in_exception_list(assessment, self.include_met)

    def finish(self, result: AuditResult) -> AuditResult:
        """The result, with what was counted of its deals and what was kept of them."""
        if self.tally is None:
            raise AssertionError("the deals were never given to run_audit")
        summary = self.tally.summary(result.data_findings)
        shown, left_out = self.shown()
        result.streamed = StreamedDeals(
            summary,
            self.failing,
            self.stages,
            self.form,
            self.deals,
            self.close,
            shown,
            left_out,
            self.compared,
            self.headlines,
        )
        return result

    def deals(self) -> Iterator[Any]:
        """What was written out of the deals, read back once (nothing, by default)."""
        return iter(())

    def shown(self) -> tuple[tuple[Any, ...], int]:
        """What was kept for the report, and how many deals it leaves out (StreamedDeals)."""
        return (), 0

    def close(self) -> None:
        """Nothing left behind, on every way out (a taker that keeps no file has none)."""
        return None


class SpoolFile:
    """Text written to a temporary file, as given (no line end is translated: CSV's are
    \r\n, JSON's \n), and read back once in blocks of a megabyte; the file is deleted when it
    has been read back, or when the spool is closed."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115

    def write(self, text: str) -> int:
        return self.file.write(text)

    def blocks(self) -> Iterator[str]:
        self.file.flush()
        self.file.seek(0)
        try:
            while block := self.file.read(1 << 20):
                yield block
        finally:
            self.close()

    def close(self) -> None:
        self.file.close()


class TextSpool(DealTaker):
    """A report's text, written to a temporary file as the audit judges the deals."""

    def __init__(self, form: str, include_met: bool, fail_on: FailOn) -> None:
        super().__init__(include_met, fail_on)
        self.form = form
        # Closed by deals() or close(), which the application calls on every way out.
        self.file = SpoolFile()

    def deals(self) -> Iterator[str]:
        """The text as it was spooled, in blocks of a megabyte."""
        return self.file.blocks()

    def close(self) -> None:
        self.file.close()


class DealSpool(TextSpool):
    """A JSON or JSON Lines audit's deals, spooled as the audit judges them."""

    def __init__(self, form: str, include_met: bool, fail_on: FailOn) -> None:
        if form not in ("json", "jsonl"):
            raise ValueError(f"a deal spool writes json or jsonl, not {form}")
        super().__init__(form, include_met, fail_on)
        self.written = 0

    def keep(self, assessment: DealAssessment, pack: RulePack) -> None:
        deal = self.deal_json(assessment, pack)
        if self.form == "jsonl":
            self.file.write(json.dumps(deal) + "\n")
        else:
            self.file.write(listed_deal(deal, self.written))
        self.written += 1


class LargestDeals(DealTaker):
    """The deals an HTML page or a workbook lists, kept as the audit judges them: at most
    `limit` of those needing attention, the largest amounts first (report/listing.py), and
    how many others there were. The page of a million deals then holds what it shows."""

    form = LARGEST

    def __init__(self, limit: int, include_met: bool, fail_on: FailOn) -> None:
        super().__init__(include_met, fail_on)
        self.largest = LargestList(limit)

    def keep(self, assessment: DealAssessment, pack: RulePack) -> None:
        if needs_attention(assessment):
            self.largest.offer(
                json_value(assessment.read.deal.amount),
                lambda: self.deal_json(assessment, pack),
            )

    def shown(self) -> tuple[tuple[Any, ...], int]:
        listed, left_out = self.largest.shown()
        return tuple(listed), left_out


def _document(result: AuditResult, include_met: bool, deals: list[Any]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "as_of": result.as_of.isoformat(),
        "pack": {
            "id": result.pack.id,
            "hash": result.pack.content_hash(),
            "title": result.pack.title,
            "stages": [
                {"id": stage.id, "name": stage.name, "open": stage.is_open}
                for stage in result.pack.stages
            ],
        },
        "engine": result.engine,
        "input": {"file": result.file, "profile": result.profile},
        "coverage": result.coverage.as_json() if result.coverage is not None else None,
        "summary": summary_json(summarise(result)),
        "reconciliation": result.reconciliation.as_json(),
        "deals": deals,
        "deals_listed": DEALS_LISTED,
        "findings_listed": FINDINGS_ALL if include_met else FINDINGS_NOT_MET,
        "audited_stages": audited_stages(result),
        "rejected_rows": [
            {"file": row.file, "row": row.row, "path": row.path, "reason": row.reason}
            for row in result.rejected
        ],
        "data_findings": [finding.as_json() for finding in result.data_findings],
        "waivers": [
            finding.as_json() | {"deal": finding.deal_id} for finding in result.waiver_findings
        ],
    }


def jsonl_lines(result: AuditResult, include_met: bool) -> Iterator[str]:
    """One deal per line, as in the JSON document's `deals`: every audited deal, flagged."""
    if result.streamed is not None:
        yield from _spooled(result.streamed, "jsonl")
        return
    for deal in _deals(result, include_met):
        yield json.dumps(deal) + "\n"
