"""The rep's checklist for one deal (`dealgate check`): what is missing, why, and how to get it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from dealgate.findings import DataFinding, Finding, FindingKind, Status
from dealgate.judging.assess import DealAssessment
from dealgate.judging.forecast import Standing, judge_forecast, judge_probability
from dealgate.report.figures import money_text
from dealgate.report.terminal import WholeAmounts
from dealgate.rules.model import RulePack, Severity, Stage

_MARK = {
    Status.MET: ("✓", "green"),
    Status.MISSING: ("✗", "red"),
    Status.WAIVED: ("~", "yellow"),
    Status.NOT_APPLICABLE: ("\u2013", "dim"),
    Status.UNMEASURED: ("?", "magenta"),
}


@dataclass(frozen=True)
class Readiness:
    """Whether the deal may advance, and the required milestones that stop it."""

    ready: bool
    blocking: tuple[Finding, ...]
    target: Stage | None  # the stage it would move to

    def sentence(self, assessment: DealAssessment) -> str:
        if assessment.stage is None:
            return (
                "Cannot judge readiness: the deal's stage is not a stage of the pack "
                "(only the hygiene checks ran)."
            )
        if not assessment.stage.is_open:
            return f"The deal is closed ({assessment.stage.name})."
        where = f" to {self.target.name}" if self.target else ""
        unmeasured = _unmeasured(assessment)
        if self.ready and unmeasured:
            return (
                f"Ready to advance{where}, {_milestones(unmeasured)} unmeasured: every "
                "required milestone the input can show is met."
            )
        if self.ready:
            return f"Ready to advance{where}: every required milestone is met."
        names = ", ".join(finding.milestone_id for finding in self.blocking)
        count = len(self.blocking)
        return (
            f"Not ready to advance{where}: {count} required milestone"
            f"{'s' if count > 1 else ''} missing ({names})."
        )


def _unmeasured(assessment: DealAssessment) -> int:
    return sum(1 for finding in assessment.findings if finding.status is Status.UNMEASURED)


def _milestones(count: int) -> str:
    return f"{count} milestone{'s' if count != 1 else ''}"


def readiness(assessment: DealAssessment, pack: RulePack, to_stage: Stage | None) -> Readiness:
    blocking = tuple(
        finding
        for finding in assessment.findings
        if finding.status is Status.MISSING
        and finding.severity == Severity.REQUIRED.value
        and finding.kind in (FindingKind.SKIPPED, FindingKind.TO_ADVANCE, FindingKind.HYGIENE)
    )
    target = to_stage
    if target is None and assessment.stage is not None and assessment.stage.is_open:
        following = [s for s in pack.open_stages if s.position > assessment.stage.position]
        target = following[0] if following else None
    ready = not blocking and assessment.stage is not None and assessment.stage.is_open
    return Readiness(ready, blocking, target)


def render_checklist(
    assessment: DealAssessment,
    pack: RulePack,
    as_of: date,
    ready: Readiness,
    data_findings: Sequence[DataFinding] = (),
) -> RenderableType:
    parts: list[RenderableType] = [WholeAmounts(_heading(assessment, pack, as_of))]
    sections = [
        (
            FindingKind.SKIPPED,
            "Skipped: milestones of earlier stages that are not met",
            "Skipped: none, every earlier stage's milestones are met",
        ),
        (FindingKind.TO_ADVANCE, _advance_title(assessment, ready), ""),
        (FindingKind.HYGIENE, "Hygiene", ""),
        (FindingKind.WAIVER, "Waivers", ""),
    ]
    for kind, title, empty in sections:
        findings = [finding for finding in assessment.findings if finding.kind is kind]
        if kind is FindingKind.SKIPPED and not any(
            finding.status is Status.MISSING for finding in findings
        ):
            if assessment.stage is not None and assessment.stage.position > 0 and empty:
                parts.append(Text(f"\n{empty}", "green"))
            findings = []
        if not findings:
            continue
        parts.append(Text(f"\n{title}", "bold underline"))
        parts += [_finding(finding) for finding in findings]
    if data_findings:
        parts.append(Text("\nData findings", "bold underline"))
        parts += [
            Padding(Text(f"! {finding.where}: {finding.message}", "yellow"), (0, 0, 0, 2))
            for finding in data_findings
        ]
    for judged in (judge_forecast(pack, assessment), judge_probability(pack, assessment)):
        if judged is not None:
            style = "green" if judged.standing is Standing.SUPPORTED else "bold yellow"
            parts.append(Text(f"\n{judged.line}", style))
    verdict = ready.sentence(assessment)
    parts.append(
        Text(
            f"\n{'✓' if ready.ready else '✗'} {verdict}",
            "bold green" if ready.ready else "bold red",
        )
    )
    return Group(*parts)


def _advance_title(assessment: DealAssessment, ready: Readiness) -> str:
    if assessment.stage is None:
        return "To advance"
    if ready.target is None:
        return f"To close: the exit milestones of {assessment.stage.name}"
    return f"To advance from {assessment.stage.name} to {ready.target.name}"


def _heading(assessment: DealAssessment, pack: RulePack, as_of: date) -> Text:
    deal = assessment.read.deal
    text = Text.assemble(("Deal  ", "bold"), (deal.name or deal.id, "bold cyan"))
    if deal.name:
        text.append(f"  ({deal.id})", "dim")
    facts = [
        part
        for part in (
            f"owner {deal.owner}" if deal.owner else "",
            money_text(deal.amount, deal.currency),
            f"closes {deal.close_date.isoformat()}" if deal.close_date else "",
        )
        if part
    ]
    if facts:
        text.append("\n      " + " · ".join(facts))
    text.append("\nStage ", "bold")
    if assessment.stage is None:
        text.append(f" {deal.stage or '(none)'}", "red")
        text.append("  not a stage of the pack", "red")
    else:
        text.append(f" {assessment.stage.name}")
        if deal.stage and deal.stage.strip().casefold() != assessment.stage.name.casefold():
            text.append(f"  (CRM: {deal.stage})", "dim")
        if assessment.evidence_stage is not None and assessment.stage.is_open:
            style = "red" if assessment.inflation else "green"
            text.append("   Evidence stage ", "bold")
            text.append(assessment.evidence_stage.name, style)
            if assessment.inflation:
                text.append(
                    f"  claims {assessment.inflation} stage"
                    f"{'s' if assessment.inflation > 1 else ''} more than its evidence",
                    "red",
                )
    text.append(f"\nPack  {pack.id} · as of {as_of.isoformat()}", "dim")
    return text


def _finding(finding: Finding) -> RenderableType:
    mark, style = _MARK[finding.status]
    line = Text.assemble(
        f"  {mark} ",
        ((finding.milestone_id), style),
        "  ",
        (finding.milestone, "bold" if finding.status is Status.MISSING else ""),
    )
    line.append(f"  [{finding.severity}]", "dim")
    if finding.status is Status.NOT_APPLICABLE:
        line.append("  not applicable", "dim")
    if finding.status is Status.UNMEASURED:
        line.append("  unmeasured: the input has no field it reads", "magenta")
    if finding.note:
        line.append(f"  {finding.note}", "yellow")
    if finding.status is not Status.MISSING:
        return line
    details: list[RenderableType] = [line]
    if finding.read:
        shown = ", ".join(f"{name} = {_shown(value)}" for name, value in finding.read)
        details.append(_indented(f"read: {shown}", "dim"))
    if finding.evidence:
        details.append(_indented(f"evidence: {finding.evidence}", ""))
    if finding.guidance:
        details.append(_indented(f"how: {finding.guidance}", "cyan"))
    return Group(*details)


def _indented(text: str, style: str) -> Padding:
    """Detail lines stay under their milestone when the terminal wraps them."""
    return Padding(Text(text, style), (0, 0, 0, 6))


def _shown(value: object) -> str:
    if value is None:
        return "(missing)"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return f"{len(value)} item{'s' if len(value) != 1 else ''}"
    return str(value)
