"""The audit's headline, for a message (`audit --notify`): what the forecast call asks first.

Pipeline claimed, supported by evidence and at risk, each claim the pack judges against the
evidence (Commit without evidence), and the deals first on the exception list. The figures are
the summary's (`audit.summarise`) and the order the table's (report/ordering.py), so that a
message never says something the report does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dealgate.audit import AuditResult, SummaryTally, in_exception_list
from dealgate.report.audit_markdown import cell as markdown_cell
from dealgate.report.figures import amounts_text, money_text
from dealgate.report.json_report import attention_milestones, disposition_text
from dealgate.report.ordering import ExceptionOrder, FirstRows
from dealgate.report.terminal import plural

if TYPE_CHECKING:
    from dealgate.judging.assess import DealAssessment
    from dealgate.rules.model import RulePack

TOP_EXCEPTIONS = 5


@dataclass(frozen=True)
class Headline:
    """A message's title and its body (Markdown, readable as plain text)."""

    title: str
    body: str


class TeamTally:
    """What a headline reads of a set of deals (the whole audit, or a manager's team),
    counted deal by deal: their summary, how many need attention, and the first of those by
    amount."""

    def __init__(self, pack: RulePack, summary: SummaryTally | None = None) -> None:
        """`summary`: one counted elsewhere over the same deals (the audit's own, in
        `DealTaker.take`), read here and not counted again."""
        self.counts_summary = summary is None
        self.tally = summary if summary is not None else SummaryTally(pack)
        self.first = FirstRows(TOP_EXCEPTIONS, ExceptionOrder.AMOUNT)

    def add(self, assessment: DealAssessment) -> None:
        if self.counts_summary:
            self.tally.add(assessment)
        if in_exception_list(assessment, include_met=False):
            self.first.add(assessment)


class HeadlineTally:
    """The headlines of an audit counted as it judges (`DealTaker.tell_headlines`, for
    --notify): the whole audit's, and each manager's team's, in the order first met."""

    def __init__(self, pack: RulePack, summary: SummaryTally | None = None) -> None:
        """`summary`: the whole audit's, when the audit counts it already."""
        self.pack = pack
        self.whole = TeamTally(pack, summary)
        self.teams: dict[str | None, TeamTally] = {}

    def add(self, assessment: DealAssessment) -> None:
        self.whole.add(assessment)
        manager = assessment.read.deal.manager
        team = self.teams.get(manager)
        if team is None:
            team = self.teams[manager] = TeamTally(self.pack)
        team.add(assessment)


def headline_tally(result: AuditResult) -> HeadlineTally:
    """The headlines' figures: counted as the audit judged, or now from its deals."""
    if result.streamed is not None and result.streamed.headlines is not None:
        return result.streamed.headlines
    tally = HeadlineTally(result.pack)
    for assessment in result.assessments:
        tally.add(assessment)
    return tally


def audit_headline(
    result: AuditResult,
    team: TeamTally,
    manager: str | None = None,
    link: str | None = None,
) -> Headline:
    """The headline of an audit, or of one manager's team in it (`team`: the whole audit's
    tally, or the team's, of `headline_tally`); with a link, where the whole report is."""
    summary = team.tally.summary(result.data_findings)
    shown = team.first.first()
    needing = team.first.seen
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
    if not needing:
        lines.append("No deal needs attention.")
    else:
        lines.append(
            f"Needing attention: {plural(needing, 'deal')}; the first by amount "
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
        if needing > len(shown):
            lines.append(f"- and {needing - len(shown)} more in the report")
    if link is not None:
        lines += ["", f"The report: {link}"]
    return Headline(title, "\n".join(lines) + "\n")
