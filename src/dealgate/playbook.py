"""A resolved pack shown to people: a rich tree for the terminal, a Markdown playbook for reps."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from dealgate.rules.expr import to_text
from dealgate.rules.model import Milestone, RulePack, Stage

_VERIFIER = {"buyer": "the buyer", "seller": "the seller", "system": "the CRM"}


def pack_tree(pack: RulePack) -> Tree:
    """The resolved stages, milestones and checks of a pack as a rich tree."""
    heading = Text.assemble((pack.title, "bold"), "  ", (f"[{pack.id}]", "dim"))
    if pack.extends:
        heading.append(f"  extends {', '.join(pack.extends)}", "dim")
    tree = Tree(heading)
    for number, stage in enumerate(pack.open_stages, start=1):
        branch = tree.add(_stage_label(stage, number))
        for milestone in stage.exit:
            branch.add(_milestone_label(milestone))
    if pack.checks:
        hygiene = tree.add(Text("Hygiene checks (every open deal)", "bold"))
        for check in pack.checks:
            hygiene.add(_milestone_label(check))
    closed = ", ".join(f"{stage.name} ({stage.terminal})" for stage in pack.terminal_stages)
    if closed:
        tree.add(Text(f"Closed: {closed}", "dim"))
    return tree


def _stage_label(stage: Stage, number: int) -> Text:
    label = Text.assemble((f"{number}. {stage.name}", "bold cyan"), (f"  {stage.id}", "dim"))
    if stage.buyer_step:
        label.append(f"\n   buyer: {stage.buyer_step}", "italic")
    if stage.crm_names:
        label.append(f"\n   CRM: {', '.join(stage.crm_names)}", "dim")
    return label


def _milestone_label(milestone: Milestone) -> Text:
    style = "bold" if milestone.severity == "required" else ""
    label = Text.assemble(
        (milestone.id, "magenta"),
        "  ",
        (milestone.milestone, style),
        (f"  [{milestone.severity}, verified by {milestone.verified_by}]", "dim"),
    )
    label.append(f"\n{to_text(milestone.require.tree)}", "green")
    if milestone.when is not None:
        label.append(f"   when {to_text(milestone.when.tree)}", "yellow")
    return label


def explain(pack: RulePack, milestone: Milestone) -> RenderableType:
    """Everything about one milestone: where it applies, what it reads, how to meet it."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    # Every value is Text: guidance such as "fund this in [quarter]" is not rich markup.
    if milestone.stage_id is not None:
        stage = pack.stage(milestone.stage_id)
        table.add_row("Stage", Text(f"{stage.name} ({stage.id}): must be met to leave it"))
    else:
        table.add_row("Kind", "Hygiene check, for every open deal")
    table.add_row("Severity", Text(milestone.severity.value))
    table.add_row("Verified by", Text(_VERIFIER[milestone.verified_by.value]))
    table.add_row("Requires", Text(to_text(milestone.require.tree), "green"))
    if milestone.when is not None:
        table.add_row("Applies when", Text(to_text(milestone.when.tree), "yellow"))
    table.add_row("Reads", Text(", ".join(milestone.reads) or "(no deal field)"))
    if milestone.evidence:
        table.add_row("Evidence", Text(milestone.evidence))
    if milestone.guidance:
        table.add_row("How to get it", Text(milestone.guidance))
    table.add_row("Defined in", Text(f"pack {milestone.defined_in}, {milestone.location}"))
    title = Text.assemble((milestone.id, "magenta"), "  ", (milestone.milestone, "bold"))
    return Panel(Group(table), title=title, title_align="left")


def playbook_markdown(pack: RulePack) -> str:
    """The pack as a Markdown playbook a sales manager hands to a new rep."""
    lines = [f"# {pack.title}", ""]
    if pack.description:
        lines += [pack.description.strip(), ""]
    lines += [
        "Each stage of our sales process ends at sign posts: objective things the buyer said, "
        "did or signed, recorded in the CRM. Before you move a deal on, check that every "
        "required sign post of the stage is met, and that the deal passes the hygiene checks "
        "at the end. Under each sign post: how to get it, and the evidence that proves it.",
        "",
        "| # | Stage | Where the buyer is | To leave it |",
        "|---|---|---|---|",
    ]
    for number, stage in enumerate(pack.open_stages, start=1):
        required = sum(1 for milestone in stage.exit if milestone.severity == "required")
        lines.append(
            f"| {number} | [{stage.name}](#{_anchor(number, stage)}) | "
            f"{_cell(stage.buyer_step)} | {required} required, "
            f"{len(stage.exit) - required} recommended |"
        )
    lines.append("")
    for number, stage in enumerate(pack.open_stages, start=1):
        lines += _stage_section(stage, number)
    if pack.checks:
        lines += ["## Deal hygiene: every open deal, every week", ""]
        for check in pack.checks:
            lines += _milestone_section(check)
    closed = pack.terminal_stages
    if closed:
        lines += ["## Closing the deal", ""]
        for stage in closed:
            names = f" (CRM: {', '.join(stage.crm_names)})" if stage.crm_names else ""
            lines.append(f"- **{stage.name}**: closed {stage.terminal}{names}")
        lines.append("")
    lines += [
        f"*Generated by dealgate from rule pack `{pack.id}`"
        + (f", built on {', '.join(pack.lineage[:-1])}" if len(pack.lineage) > 1 else "")
        + ".*",
        "",
    ]
    return "\n".join(lines)


def _anchor(number: int, stage: Stage) -> str:
    return f"{number}-{stage.name}".lower().replace(" ", "-").replace("/", "")


def _stage_section(stage: Stage, number: int) -> list[str]:
    lines = [f"## {number}. {stage.name}", ""]
    if stage.buyer_step:
        lines += [f"**Where the buyer is:** {stage.buyer_step}", ""]
    if stage.description:
        lines += [stage.description.strip(), ""]
    if stage.crm_names:
        lines += [f"CRM stages: {', '.join(stage.crm_names)}", ""]
    if not stage.exit:
        return [*lines, "No exit milestones: move on when the next stage's work begins.", ""]
    lines += ["**Sign posts to leave this stage:**", ""]
    for milestone in stage.exit:
        lines += _milestone_section(milestone)
    return lines


def _milestone_section(milestone: Milestone) -> list[str]:
    flag = "Required" if milestone.severity == "required" else "Recommended"
    lines = [
        f"### {milestone.milestone}",
        "",
        f"`{milestone.id}` · {flag} · verified by {_VERIFIER[milestone.verified_by.value]}",
        "",
    ]
    if milestone.guidance:
        lines += [f"- **How to get it:** {milestone.guidance.strip()}"]
    if milestone.evidence:
        lines += [f"- **Evidence:** {milestone.evidence.strip()}"]
    lines += [f"- **Checked as:** `{to_text(milestone.require.tree)}`"]
    if milestone.when is not None:
        lines += [f"- **Applies when:** `{to_text(milestone.when.tree)}`"]
    return [*lines, ""]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def fields_markdown(pack: RulePack) -> str:
    """Which deal fields the pack's milestones read: what a team must export or map."""
    from dealgate.rules.types import CANONICAL_FIELDS

    readers: dict[str, list[str]] = {}
    items: dict[str, set[str]] = {}
    for milestone in pack.milestones():
        for path in milestone.reads:
            top, _, rest = path.partition(".")
            top = top.removesuffix("[]")
            readers.setdefault(top, [])
            if milestone.id not in readers[top]:
                readers[top].append(milestone.id)
            if rest and "[]" in path:
                items.setdefault(top, set()).add(rest)
    lines = ["| field | type | kind | read by |", "|---|---|---|---|"]
    for name in sorted(readers, key=lambda field: (field not in CANONICAL_FIELDS, field)):
        declared = pack.fields.get(name)
        if name in CANONICAL_FIELDS:
            kind, type_name = "canonical", str(CANONICAL_FIELDS[name])
        elif declared is not None:
            kind, type_name = f"custom: {declared.description}".rstrip(": "), str(declared.type)
        else:
            kind, type_name = "custom (undeclared)", "any"
        if name in items:
            type_name += f" ({', '.join(sorted(items[name]))})"
        lines.append(f"| `{name}` | {type_name} | {_cell(kind)} | {', '.join(readers[name])} |")
    return "\n".join(lines) + "\n"
