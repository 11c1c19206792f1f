"""The audit in the terminal: headline figures, where the risk sits, and the exception list."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from dealgate.audit import AuditResult, AuditSummary, FailOn, summarise
from dealgate.judging.assess import DealAssessment
from dealgate.money import Amounts
from dealgate.report.audit_json import DealTaker
from dealgate.report.changes import Changes
from dealgate.report.coverage import coverage_text
from dealgate.report.figures import amounts_text, json_amounts_text, money_text
from dealgate.report.json_report import attention_milestones, disposition_text
from dealgate.report.ordering import ExceptionOrder, FirstRows, ordered
from dealgate.report.terminal import Fitted, WholeAmounts, joined, plain, plural
from dealgate.rules.model import RulePack


def render_audit_table(
    result: AuditResult,
    include_met: bool,
    limit: int = 50,
    changes: Changes | None = None,
    order: ExceptionOrder | None = None,
) -> RenderableType:
    order = order or ExceptionOrder.AMOUNT
    summary = summarise(result)
    parts: list[RenderableType] = [WholeAmounts(_headline(result, summary))]
    coverage = coverage_text(result.coverage.as_json() if result.coverage else None)
    if coverage:
        parts.append(Text(coverage.rstrip("\n"), "yellow"))
    if changes is not None:
        parts += _changes(changes, limit, {stage.id: stage.name for stage in result.pack.stages})
    parts += [_by_stage(summary), _by_owner(summary)]
    if summary.top_missing:
        parts.append(_top_missing(summary))
    parts.append(_exceptions(result, include_met, limit, order))
    if result.waiver_findings:
        parts.append(Text("Waivers to clean up", "bold underline"))
        parts += [
            Text(f"  ! {f.deal_id} {f.milestone_id}: {f.note}", "yellow")
            for f in result.waiver_findings
        ]
    return Group(*parts)


def _headline(result: AuditResult, summary: AuditSummary) -> Text:
    counts = result.reconciliation
    text = Text.assemble(
        ("Pipeline audit  ", "bold"),
        result.pack.title,
        (f"  [{result.pack.id}] as of {result.as_of.isoformat()}", "dim"),
    )
    text.append(f"\n{result.file} read as {result.profile}; engine {result.engine}\n", "dim")
    text.append("Reconciliation ", "bold")
    text.append(
        f"rows read {counts.rows_read:,} = deals read {counts.deals_read:,} + rejected "
        f"{counts.rows_rejected:,}; deals read = audited {counts.deals_audited:,} + "
        f"closed {counts.excluded_closed:,} + filtered {counts.excluded_filtered:,}  "
    )
    text.append(
        "balanced" if counts.balanced else "NOT BALANCED",
        "green" if counts.balanced else "bold red",
    )
    text.append("\nDeals with skipped milestones ", "bold")
    text.append(
        f"{summary.deals_with_skipped:,} of {summary.deals_audited:,}",
        "red" if summary.deals_with_skipped else "green",
    )
    text.append("\nPipeline claimed ", "bold")
    text.append(amounts_text(summary.claimed))
    text.append("   supported by evidence ", "bold")
    text.append(amounts_text(summary.supported))
    text.append("   at risk ", "bold")
    text.append(
        f"{amounts_text(summary.at_risk)} ({summary.deals_at_risk:,} deals)",
        "red" if summary.deals_at_risk else "green",
    )
    for figures in summary.forecast:
        text.append(f"\n{figures.label} ", "bold")
        text.append(
            f"{figures.without_evidence:,} of {figures.deals:,} deals"
            + (f", {amounts_text(figures.without_evidence_amounts)}" if figures.deals else ""),
            "red" if figures.without_evidence else "green",
        )
        if figures.unverifiable:
            text.append(f"   {figures.unverifiable_label} ", "bold")
            text.append(
                f"{figures.unverifiable:,} deals, {amounts_text(figures.unverifiable_amounts)}",
                "yellow",
            )
    late = sum(summary.overdue_steps.values())
    text.append("\nOverdue action plan steps ", "bold")
    sides = ", ".join(f"{side} {n:,}" for side, n in summary.overdue_steps.items())
    text.append(
        f"{late:,} on {summary.deals_with_overdue_steps:,} deals" + (f" ({sides})" if late else ""),
        "red" if late else "",
    )
    issues = ", ".join(f"{issue} {count}" for issue, count in summary.data_findings.items())
    text.append("\nData findings ", "bold")
    text.append(f"{sum(summary.data_findings.values()):,}" + (f" ({issues})" if issues else ""))
    return text


def _by_stage(summary: AuditSummary) -> Table:
    table = Table(title="Pipeline by claimed stage", title_justify="left")
    for column in ("stage", "deals", "claimed", "at risk", "deals at risk"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for stage in summary.by_stage:
        table.add_row(
            plain(stage.name),
            f"{stage.deals:,}",
            WholeAmounts(Text(amounts_text(stage.claimed))),
            WholeAmounts(Text(amounts_text(stage.at_risk), "red" if stage.at_risk else "")),
            f"{stage.deals_at_risk:,}",
        )
    return table


def _by_owner(summary: AuditSummary) -> Table:
    table = Table(title="By manager and owner", title_justify="left")
    columns: tuple[str, ...] = (
        "manager",
        "owner",
        "deals",
        "with skipped",
        "missing required",
        "at risk",
    )
    if summary.forecast:
        columns += ("forecast without evidence", "forecast unverifiable")
    for column in columns:
        table.add_column(column, justify="left" if column in ("manager", "owner") else "right")
    for owner in summary.by_owner:
        cells: list[str | Text | WholeAmounts] = [
            plain(owner.manager or "-"),
            plain(owner.owner or "-"),
            f"{owner.deals:,}",
            f"{owner.deals_with_skipped:,}",
            f"{owner.deals_missing_required:,}",
            WholeAmounts(Text(amounts_text(owner.at_risk))),
        ]
        if summary.forecast:
            cells += [
                WholeAmounts(
                    Text(
                        _deals_and_amounts(
                            owner.forecast_without_evidence,
                            owner.forecast_without_evidence_amounts,
                        )
                    )
                ),
                WholeAmounts(
                    Text(
                        _deals_and_amounts(
                            owner.forecast_unverifiable, owner.forecast_unverifiable_amounts
                        )
                    )
                ),
            ]
        table.add_row(*cells)
    return table


def _deals_and_amounts(deals: int, amounts: Amounts) -> str:
    return f"{deals:,}: {amounts_text(amounts)}" if deals else "-"


def _top_missing(summary: AuditSummary) -> Table:
    table = Table(title="Most often missing", title_justify="left")
    table.add_column("milestone", overflow="fold")
    table.add_column("kind", no_wrap=True)
    table.add_column("deals", justify="right")
    for missing in summary.top_missing:
        table.add_row(
            plain(f"{missing.milestone_id}  {missing.milestone}"),
            plain(missing.kind),
            f"{missing.deals:,}",
        )
    return table


def _exceptions(
    result: AuditResult, include_met: bool, limit: int, order: ExceptionOrder
) -> RenderableType:
    streamed = result.streamed
    if streamed is not None and streamed.form == FIRST:  # kept as judged (FirstExceptions)
        rows, count = list(streamed.listed), len(streamed.listed) + streamed.left_out
    else:
        rows = ordered(result.exceptions(include_met), order)
        count = len(rows)
    title = "All audited deals" if include_met else "Exceptions: deals that need attention"
    title = f"{title} ({count:,}), by {order.value}"
    table = Table(title=title, title_justify="left")
    for column in ("deal", "name", "owner", "stage", "evidence", "amount", "missing"):
        key = column in ("deal", "amount")
        table.add_column(column, justify="right" if column == "amount" else "left", no_wrap=key)
    table.add_column("disposition")
    folded: list[RenderableType] = []
    for assessment in rows[: limit or None]:
        deal = assessment.read.deal
        missing = attention_milestones(assessment)
        stage = assessment.stage.name if assessment.stage else f"{deal.stage or '-'} (unknown)"
        evidence = plain(
            assessment.evidence_stage.name if assessment.evidence_stage else "-",
            "red" if assessment.inflation else "",
        )
        amount = money_text(deal.amount, deal.currency)
        disposition = plain(disposition_text(assessment))
        table.add_row(
            plain(deal.id),
            plain(deal.name),
            plain(deal.owner or "-"),
            plain(stage),
            evidence,
            WholeAmounts(Text(amount)),
            plain(", ".join(missing) or "-"),
            disposition,
        )
        # Too narrow for the table: one block per deal, every value whole.
        head = joined([plain(deal.id, "bold"), Text(amount), plain(deal.name)], "  ")
        detail = joined(
            [
                plain(f"owner {deal.owner or '-'}"),
                plain(f"claimed {stage}"),
                Text("evidence ").append_text(evidence),
                plain(f"missing {', '.join(missing) or '-'}"),
                disposition,
            ]
        )
        folded += [WholeAmounts(head), Padding(WholeAmounts(detail), (0, 0, 0, 4))]
    parts: list[RenderableType] = [Fitted(table, Group(Text(title, "italic"), *folded))]
    if limit and count > limit:
        left_out = count - limit
        parts.append(
            Text(
                f"... {plural(left_out, 'more deal')} not shown: --limit 0 shows all "
                f"{count:,}, or use --format csv / json",
                "dim",
            )
        )
    return Group(*parts)


def _changes(changes: Changes, limit: int, stage_names: dict[str, str]) -> list[RenderableType]:
    """Since the baseline: value at risk then and now, findings new and resolved, moves."""
    text = Text.assemble(
        (f"Changes since {changes.baseline_as_of}", "bold underline"),
        (f"  ({changes.baseline_file})", "dim"),
    )
    text.append("\nValue at risk ", "bold")
    text.append(
        f"then {json_amounts_text(changes.at_risk_then)} "
        f"({changes.deals_at_risk_then:,} deals), now "
        f"{json_amounts_text(changes.at_risk_now)} "
        f"({changes.deals_at_risk_now:,} deals)"
    )
    text.append("\nSkipped and hygiene findings ", "bold")
    text.append(f"{len(changes.new):,} new", "red" if changes.new else "")
    text.append(", ")
    text.append(f"{len(changes.resolved):,} resolved", "green" if changes.resolved else "")
    text.append(
        f"; deals new to the audit {changes.deals_new_to_audit:,}, "
        f"no longer audited {changes.deals_no_longer_audited:,}"
    )
    for note in changes.notes:
        text.append(f"\nnote: {note}", "yellow")
    parts: list[RenderableType] = [WholeAmounts(text)]
    moved = changes.moved_without_milestones
    if moved:
        title = f"Moved stage without their milestones ({len(moved):,})"
        table = Table(title=title, title_justify="left")
        for column in ("deal", "name", "owner", "from", "to", "skipped"):
            table.add_column(column, no_wrap=column == "deal")
        folded: list[RenderableType] = [Text(title, "italic")]  # too narrow: a block a deal
        for move in moved[: limit or None]:
            cells = (
                plain(move.owner or "-"),
                plain(stage_names.get(move.from_stage, move.from_stage)),
                plain(stage_names.get(move.to_stage, move.to_stage)),
                plain(", ".join(move.skipped)),
            )
            table.add_row(plain(move.deal_id), plain(move.deal_name), *cells)
            folded.append(joined([plain(move.deal_id, "bold"), plain(move.deal_name)], "  "))
            detail = Text.assemble(
                f"owner {cells[0].plain} · from {cells[1].plain} to {cells[2].plain}"
                f" · skipped {cells[3].plain}"
            )
            folded.append(Padding(detail, (0, 0, 0, 4)))
        parts.append(Fitted(table, Group(*folded)))
    return parts


FIRST = "first"  # the form of an audit that kept only the rows the table shows


class FirstExceptions(DealTaker):
    """The exception rows the terminal table shows, kept as the audit judges: the first
    `limit` in the order asked for (ties in file order), and how many others there were, so
    the table of a million deals does not hold them all. `limit` 0 keeps every row."""

    form = FIRST

    def __init__(self, limit: int, order: ExceptionOrder, include_met: bool, fail_on: FailOn):
        super().__init__(include_met, fail_on)
        self.rows = FirstRows(limit, order)

    def keep(self, assessment: DealAssessment, pack: RulePack) -> None:
        if self.listed(assessment):
            self.rows.add(assessment)

    def shown(self) -> tuple[tuple[Any, ...], int]:
        listed = tuple(self.rows.first())
        return listed, self.rows.seen - len(listed)
