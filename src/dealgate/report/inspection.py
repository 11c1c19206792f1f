"""The terminal view of `dealgate deals inspect`: one screen that explains the reading."""

from __future__ import annotations

from pathlib import PurePath

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from dealgate.deals.inspect import Inspection
from dealgate.report.coverage import coverage_text
from dealgate.report.terminal import Fitted

_KIND_STYLE = {"canonical": "green", "custom": "cyan", "stage_history": "blue", "ignored": "dim"}


def render_inspection(inspection: Inspection, *, finding_limit: int = 20) -> RenderableType:
    parts: list[RenderableType] = [_header(inspection), _columns(inspection)]
    parts.append(_keyed_by(inspection))
    if inspection.stages:
        parts.append(_stages(inspection))
    parts.append(_reconciliation(inspection))
    if inspection.rejected:
        parts.append(_rejected(inspection))
    parts.append(_findings(inspection, finding_limit))
    coverage = coverage_text(inspection.coverage.as_json())
    parts.append(
        Text(coverage.rstrip("\n"), "yellow")
        if coverage
        else Text(f"Coverage: the file supplies every field pack {inspection.pack_id} reads.")
    )
    return Group(*parts)


def _header(inspection: Inspection) -> Text:
    details = [inspection.format.upper()]
    if inspection.encoding:
        details.append(f"encoding {inspection.encoding}")
    if inspection.delimiter:
        shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}
        details.append(f"delimiter {shown.get(inspection.delimiter, inspection.delimiter)}")
    if inspection.sheet:
        details.append(f"sheet {inspection.sheet!r}")
    text = Text.assemble(("File ", "bold"), inspection.file, f"  ({', '.join(details)})\n")
    text.append("Profile ", "bold")
    text.append(inspection.profile, "magenta")
    text.append(f"  {inspection.profile_reason}\n")
    text.append("Pack ", "bold")
    text.append(f"{inspection.pack_id}  (stage names and declared field types come from it)")
    return text


def _columns(inspection: Inspection) -> RenderableType:
    table = Table(title="How each column is read", title_justify="left", expand=False)
    table.add_column("column")
    table.add_column("field")
    table.add_column("read as")
    table.add_column("why")
    # Too narrow for the table (field names would be cut): a block a column.
    folded = [Text("How each column is read", "italic")]
    for use in inspection.columns:
        style = _KIND_STYLE.get(use.kind, "")
        field = use.field or "-"
        if use.kind == "stage_history":
            field = f"stage_history ({use.field})"
        elif use.kind == "custom":
            field = f"custom: {use.field}"
        table.add_row(Text(use.header), Text(field, style), Text(use.type), Text(use.how))
        folded.append(
            Text.assemble((use.header, "bold"), " → ", (field, style), f"  ({use.type})")
            .append("\n    ")
            .append(use.how)
        )
    return Fitted(table, Text("\n").join(folded))


def _keyed_by(inspection: Inspection) -> Text:
    """How deals are keyed, then every note on the reading, each once."""
    text = Text("Deal id ", "bold")
    keyed = inspection.keyed_by
    if inspection.id_key is not None:
        text.append(inspection.id_key.joiner.join(keyed["columns"]), "magenta")
    elif keyed["columns"]:
        text.append(keyed["columns"][0], "magenta")
    else:
        text.append("no id column: a record without an id is rejected")
    for note in inspection.notes:
        text.append(f"\nnote: {note}", "yellow")
    return text


def _stages(inspection: Inspection) -> Table:
    table = Table(title=f"Stages, onto pack {inspection.pack_id}", title_justify="left")
    table.add_column("stage in the file")
    table.add_column("pack stage")
    table.add_column("deals", justify="right")
    for use in inspection.stages:
        stage = Text(use.stage_id) if use.stage_id else Text("not in the pack", "red")
        table.add_row(Text(use.crm_value), stage, f"{use.deals:,}")
    return table


def _reconciliation(inspection: Inspection) -> Text:
    counts = inspection.reconciliation
    text = Text.assemble(
        ("Reconciliation ", "bold"),
        f"rows read {counts.rows_read:,} = deals read {counts.deals_read:,} "
        f"+ rows rejected {counts.rows_rejected:,}  ",
    )
    text.append(
        "balanced" if counts.balanced else "NOT BALANCED",
        "green" if counts.balanced else "bold red",
    )
    return text


def _rejected(inspection: Inspection) -> Table:
    table = Table(title="Rejected rows", title_justify="left")
    table.add_column("where")
    table.add_column("reason")
    for row in inspection.rejected:
        where = ", ".join(
            part for part in (f"row {row.row}" if row.row else "", row.path or "") if part
        )
        table.add_row(Text(where or row.file), Text(row.reason))
    return table


def _findings(inspection: Inspection, limit: int) -> RenderableType:
    if not inspection.findings:
        return Text("Data findings: none", "green")
    counts = ", ".join(f"{issue} {count}" for issue, count in inspection.findings_by_issue.items())
    title = f"Data findings: {len(inspection.findings):,} ({counts})"
    table = Table(title=title, title_justify="left")
    table.add_column("row", justify="right")
    table.add_column("column")
    table.add_column("deal")
    table.add_column("finding")
    folded = [Text(title, "italic")]
    for finding in inspection.findings[:limit]:
        column = finding.path or finding.column or ""
        if finding.file != inspection.file:  # a side file's row (--contacts, --stage-history)
            column = f"{PurePath(finding.file).name}: {column}"
        where = ", ".join(
            part
            for part in (
                f"row {finding.row:,}" if finding.row else "",
                column,
                f"deal {finding.deal_id}" if finding.deal_id else "",
            )
            if part
        )
        folded.append(Text(where, "bold").append(f"\n    {finding.message}"))
        table.add_row(
            f"{finding.row:,}" if finding.row else "",
            Text(column),
            Text(finding.deal_id or ""),
            Text(finding.message),
        )
    if len(inspection.findings) > limit:
        rest = len(inspection.findings) - limit
        return Group(
            Fitted(table, Text("\n").join(folded)),
            Text(
                f"... and {rest:,} more: --limit 0 shows all, --format json gives them as data",
                "dim",
            ),
        )
    return Fitted(table, Text("\n").join(folded))
