"""The audit as Markdown: a summary and the exception list, to paste into a forecast doc."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dealgate.audit import AuditResult, FailOn, summarise
from dealgate.judging.assess import DealAssessment
from dealgate.report.audit_json import TextSpool
from dealgate.report.coverage import coverage_headline, coverage_lines, unmeasured_count
from dealgate.report.figures import amounts_text, money_text
from dealgate.report.json_report import attention_milestones, disposition_text
from dealgate.rules.model import RulePack

# Text from a CRM or a pack is shown as typed: a name like `<script>` or `*Q4*` must not turn
# into markup where the Markdown is rendered. CommonMark lets any ASCII punctuation be escaped
# with a backslash; these are the characters that start markup inline or inside a table.
_MARKUP = re.compile(r"([\\`*_\[\]<>|~&#!])")


def cell(value: object) -> str:
    """CRM or pack text for a Markdown line or table cell: markup escaped, one line."""
    text = str(value if value is not None else "")
    return _MARKUP.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")


def render_markdown(result: AuditResult, include_met: bool) -> str:
    return "".join(markdown_chunks(result, include_met))


def markdown_chunks(result: AuditResult, include_met: bool) -> Iterator[str]:
    """The Markdown: the summary, then the exception list, a line at a time (read back from
    the spool of an audit that wrote it as it judged, `MarkdownSpool`)."""
    summary = summarise(result)
    counts = result.reconciliation
    lines = [
        f"# Pipeline audit: {cell(result.pack.title)}",
        "",
        f"As of {result.as_of.isoformat()} · pack `{result.pack.id}` · {cell(result.file)} "
        f"({result.profile}) · engine {result.engine}",
        "",
        f"- Deals audited: **{counts.deals_audited}** of {counts.deals_read} read "
        f"({counts.excluded_closed} closed and {counts.excluded_filtered} filtered out; "
        f"{counts.rows_rejected} rows rejected)",
        f"- Deals with skipped milestones: **{summary.deals_with_skipped}**",
        f"- Pipeline claimed: **{amounts_text(summary.claimed)}**; at risk: "
        f"**{amounts_text(summary.at_risk)}** in {summary.deals_at_risk} deals",
        *(
            f"- {f.label}: **{f.without_evidence}** of {f.deals} deals, "
            f"**{amounts_text(f.without_evidence_amounts)}**; {f.unverifiable_label}: "
            f"{f.unverifiable} deals, {amounts_text(f.unverifiable_amounts)}"
            for f in summary.forecast
        ),
        f"- Data findings: {sum(summary.data_findings.values())}",
        "",
    ]
    coverage = result.coverage.as_json() if result.coverage else None
    if coverage is not None and unmeasured_count(coverage):
        lines += ["## Coverage", "", cell(coverage_headline(coverage)), ""]
        lines += [f"- {cell(line)}" for line in coverage_lines(coverage)]
        lines += [""]
    lines += [
        "## By claimed stage",
        "",
        "| stage | deals | claimed | at risk | deals at risk |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {cell(s.name)} | {s.deals} | {amounts_text(s.claimed)} | "
        f"{amounts_text(s.at_risk)} | {s.deals_at_risk} |"
        for s in summary.by_stage
    ]
    lines += [
        "",
        "## By manager and owner",
        "",
        "| manager | owner | deals | with skipped | missing required | at risk |",
        "|---|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {cell(o.manager or '-')} | {cell(o.owner or '-')} | {o.deals} | "
        f"{o.deals_with_skipped} | {o.deals_missing_required} | {amounts_text(o.at_risk)} |"
        for o in summary.by_owner
    ]
    if summary.forecast:
        lines += [
            "",
            "## Forecast against evidence by manager and owner",
            "",
            "| manager | owner | without evidence | amount | unverifiable | amount |",
            "|---|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {cell(o.manager or '-')} | {cell(o.owner or '-')} | "
            f"{o.forecast_without_evidence} | "
            f"{amounts_text(o.forecast_without_evidence_amounts)} | "
            f"{o.forecast_unverifiable} | {amounts_text(o.forecast_unverifiable_amounts)} |"
            for o in summary.by_owner
            if o.forecast_without_evidence or o.forecast_unverifiable
        ]
    lines += ["", "## Most often missing", "", "| milestone | kind | deals |", "|---|---|---:|"]
    lines += [
        f"| `{m.milestone_id}` {cell(m.milestone)} | {m.kind} | {m.deals} |"
        for m in summary.top_missing
    ]
    lines += [
        "",
        "## Exceptions",
        "",
        "| deal | owner | stage | evidence stage | amount | missing | disposition |",
        "|---|---|---|---|---:|---|---|",
    ]
    yield "\n".join(lines) + "\n"
    if result.streamed is not None and result.streamed.form == "markdown":
        yield from result.streamed.deals()
        return
    for assessment in result.exceptions(include_met):
        yield _exception_line(assessment)


def _exception_line(assessment: DealAssessment) -> str:
    deal = assessment.read.deal
    missing = ", ".join(attention_milestones(assessment))
    return (
        f"| {cell(deal.name or deal.id)} ({cell(deal.id)}) | {cell(deal.owner)} | "
        f"{cell(assessment.stage.name if assessment.stage else deal.stage)} | "
        f"{cell(assessment.evidence_stage.name if assessment.evidence_stage else '-')} | "
        f"{cell(money_text(deal.amount, deal.currency))} | {missing or '-'} | "
        f"{disposition_text(assessment)} |\n"
    )


class MarkdownSpool(TextSpool):
    """A Markdown audit's exception lines, written to a temporary file as the audit judges
    (the summary above them is written with the report)."""

    def __init__(self, include_met: bool, fail_on: FailOn) -> None:
        super().__init__("markdown", include_met, fail_on)

    def keep(self, assessment: DealAssessment, pack: RulePack) -> None:
        if self.listed(assessment):
            self.file.write(_exception_line(assessment))
