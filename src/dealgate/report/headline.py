"""The audit's headline, for a message (`audit --notify`): what the forecast call asks first.

Pipeline claimed, supported by evidence and at risk, each claim the pack judges against the
evidence (Commit without evidence), and the deals first on the exception list. The figures are
the summary's (`audit.summarise`) and the order the table's (report/ordering.py), so that a
message never says something the report does not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dealgate.audit import AuditResult, summarise
from dealgate.report.audit_markdown import cell as markdown_cell
from dealgate.report.figures import amounts_text, money_text
from dealgate.report.json_report import attention_milestones, disposition_text
from dealgate.report.ordering import ExceptionOrder, ordered
from dealgate.report.terminal import plural

TOP_EXCEPTIONS = 5


@dataclass(frozen=True)
class Headline:
    """A message's title and its body (Markdown, readable as plain text)."""

    title: str
    body: str


def audit_headline(
    result: AuditResult,
    manager: str | None = None,
    top: int = TOP_EXCEPTIONS,
    link: str | None = None,
) -> Headline:
    """The headline of an audit, or of one manager's team in it (`for_manager`'s result);
    with a link, where the whole report is."""
    summary = summarise(result)
    exceptions = ordered(result.exceptions(include_met=False), ExceptionOrder.AMOUNT)
    title = f"Pipeline audit: {result.pack.title}, as of {result.as_of.isoformat()}"
    if manager is not None:
        title += f", {manager}'s team"
    lines = [
        f"{markdown_cell(result.file)}: {plural(summary.deals_audited, 'deal')} audited "
        f"with pack {markdown_cell(result.pack.id)}",
        "",
        f"- Pipeline claimed: {amounts_text(summary.claimed)}",
        f"- Supported by evidence: {amounts_text(summary.supported)}",
        f"- At risk: {amounts_text(summary.at_risk)} in {plural(summary.deals_at_risk, 'deal')}",
        *(
            f"- {f.label}: {f.without_evidence} of {plural(f.deals, 'deal')}, "
            f"{amounts_text(f.without_evidence_amounts)}; {f.unverifiable_label}: "
            f"{plural(f.unverifiable, 'deal')}, {amounts_text(f.unverifiable_amounts)}"
            for f in summary.forecast
        ),
        "",
    ]
    if not exceptions:
        lines.append("No deal needs attention.")
    else:
        shown = exceptions[:top]
        lines.append(
            f"Needing attention: {plural(len(exceptions), 'deal')}; the first by amount "
            "(each currency in turn, largest first):"
        )
        for assessment in shown:
            deal = assessment.read.deal
            missing = ", ".join(attention_milestones(assessment)) or "nothing required"
            lines.append(
                f"- {markdown_cell(deal.name or deal.id)} ({markdown_cell(deal.id)}), "
                f"{markdown_cell(deal.owner or 'no owner')}, "
                f"{money_text(deal.amount, deal.currency) or 'no amount'}: missing {missing}; "
                f"{disposition_text(assessment)}"
            )
        if len(exceptions) > len(shown):
            lines.append(f"- and {len(exceptions) - len(shown)} more in the report")
    if link is not None:
        lines += ["", f"The report: {link}"]
    return Headline(title, "\n".join(lines) + "\n")


def managers(result: AuditResult) -> list[str | None]:
    """The managers of the audited deals, in the order first met; None for deals without."""
    return list(dict.fromkeys(assessment.read.deal.manager for assessment in result.assessments))


def for_manager(result: AuditResult, manager: str | None) -> AuditResult:
    """The audit restricted to one manager's deals: that team's section of the headline."""
    return replace(
        result,
        assessments=[a for a in result.assessments if a.read.deal.manager == manager],
    )
