"""The pre-forecast report as one self-contained HTML page (`dealgate audit --format html`).

It reads the audit's JSON document (report/audit_json.py), never the rules: the headline figures
and the changes since a baseline are written here as static HTML; the charts (Chart.js, inlined)
and the exception list, sortable and filterable, are drawn in the page by assets/report.js from
the same document, embedded as JSON. A Content-Security-Policy forbids every network request, so
the page opens the same on a laptop on a plane.
"""

from __future__ import annotations

import json
from decimal import Decimal
from html import escape
from importlib.resources import files
from typing import Any

from dealgate import __version__
from dealgate.findings import ISSUE_WORDS
from dealgate.judging.forecast import claim_label, unverifiable_label
from dealgate.report.coverage import coverage_headline, coverage_lines, unmeasured_count
from dealgate.report.figures import amounts_from_json, amounts_text
from dealgate.report.formats import FORMATS
from dealgate.report.listing import largest_deals, left_out_text

_ASSETS = files("dealgate.report") / "assets"
# The charting library and its heat-map chart type, vendored from npm (assets/vendor/README.md).
_VENDORED = ("vendor/chart.umd.min.js", "vendor/chartjs-chart-matrix.min.js")
_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
# The page lists at most this many deals (report/formats.py says why); the figures and charts
# still count every deal.
LISTED_DEALS = FORMATS["html"].lists_largest or 0
# The data findings and rejected rows the page lists at most, each; the JSON audit has them all.
LISTED_DATA_ROWS = 1000
# What the page's script reads of the audit (report.js): the rest is not embedded.
_EMBEDDED_KEYS = ("schema_version", "as_of", "pack", "engine", "input", "summary")


def render_html(document: dict[str, Any]) -> str:
    """The whole page; `document` is an audit JSON document, with `changes` when compared."""
    pack = document["pack"]
    title = f"Pipeline audit {document['as_of']}: {pack['title']}"
    listed, left_out = largest_deals(
        document.get("deals") or [], LISTED_DEALS, document.get("deals_left_out", 0)
    )
    page = {key: document[key] for key in _EMBEDDED_KEYS if key in document}
    page["deals"] = listed
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="generator" content="dealgate {escape(__version__)}">',
            f"<title>{escape(title)}</title>",
            f"<style>{_asset('report.css')}</style>",
            "</head>",
            "<body>",
            _header(document),
            _headline(document),
            _coverage(document.get("coverage")),
            _changes(document.get("changes"), _stage_names(document)),
            _asset("body.html").replace("<!-- list notice -->", _list_notice(listed, left_out)),
            _data_issues(document),
            f'<script id="audit-data" type="application/json">{_embedded(page)}</script>',
            *(f"<script>{_script(name)}</script>" for name in (*_VENDORED, "report.js")),
            "</body>",
            "</html>",
            "",
        ]
    )


def _coverage(section: dict[str, Any] | None) -> str:
    """What the input could not measure, said once, before any figure is read as a fault."""
    if section is None or not unmeasured_count(section):
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in coverage_lines(section))
    return (
        f'<section id="coverage" class="notice"><h2>Coverage</h2>'
        f"<p>{escape(coverage_headline(section))}</p><ul>{items}</ul></section>"
    )


def _list_notice(listed: list[dict[str, Any]], left_out: int) -> str:
    if not left_out:
        return ""
    text = escape(left_out_text(len(listed), left_out))
    for option in ("--format csv", "--format parquet"):
        text = text.replace(option, f"<code>{option}</code>")
    return f'<p id="list-notice" class="notice">{text}</p>'


def _asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")


def _script(name: str) -> str:
    text = _asset(name)
    if "</script" in text.lower():  # would end the inline script early
        raise ValueError(f"{name} holds '</script' and cannot be inlined")
    return text


def _embedded(document: dict[str, Any]) -> str:
    """JSON that cannot end its <script> element or open an HTML comment, whatever a deal
    name holds; JSON.parse reads the escapes back as the same characters."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _header(document: dict[str, Any]) -> str:
    pack, source = document["pack"], document.get("input") or {}
    counts = document.get("reconciliation") or {}
    balanced = "balanced" if counts.get("balanced") else "NOT BALANCED"
    return (
        "<header>"
        f"<h1>Pipeline audit <span class=dim>as of {escape(document['as_of'])}</span></h1>"
        f"<p class=dim>{escape(pack['title'])} [{escape(pack['id'])}] · "
        f"{escape(str(source.get('file', '')))} read as {escape(str(source.get('profile', '')))}"
        f" · engine {escape(str(document.get('engine', '')))}</p>"
        f'<p class=dim data-figure="reconciliation">Rows read {_count(counts, "rows_read")} = '
        f"deals read {_count(counts, 'deals_read')} + rejected {_count(counts, 'rows_rejected')};"
        f" deals read = audited {_count(counts, 'deals_audited')} + closed "
        f"{_count(counts, 'excluded_closed')} + filtered {_count(counts, 'excluded_filtered')} "
        f"<b>{balanced}</b></p>"
        "</header>"
    )


def _count(figures: dict[str, Any], key: str) -> str:
    return f"{int(figures.get(key) or 0):,}"


def _money(items: object) -> str:
    """Amounts per currency, one per line; never summed across currencies."""
    amounts = amounts_from_json(items)
    if not amounts:
        return "<span class=money>-</span>"
    return "".join(
        f"<span class=money>{escape(amounts_text({currency: amount}))}</span>"
        for currency, amount in sorted(amounts.items())
    )


def _card(figure: str, label: str, value: str, note: str = "", tone: str = "") -> str:
    return (
        f'<div class="card {tone}" data-figure="{figure}"><div class=label>{escape(label)}</div>'
        f"<div class=value>{value}</div><div class=note>{note}</div></div>"
    )


def _headline(document: dict[str, Any]) -> str:
    summary = document["summary"]
    audited = int(summary["deals_audited"])
    skipped = int(summary["deals_with_skipped_milestones"])
    at_risk = int(summary["deals_at_risk"])
    overdue = summary.get("overdue_steps") or {}
    late = sum(int(n) for n in overdue.values())
    sides = ", ".join(f"{escape(side)} {int(n):,}" for side, n in overdue.items())
    data = summary.get("data_findings") or {}
    issues = ", ".join(f"{escape(issue)} {int(n):,}" for issue, n in data.items())
    cards = [
        _card("deals_audited", "Deals audited", f"{audited:,}"),
        _card("pipeline_claimed", "Pipeline claimed", _money(summary["pipeline_claimed"])),
        _card(
            "pipeline_supported",
            "Supported by evidence",
            _money(summary.get("pipeline_supported")),
            "deals whose evidence reaches their stage",
        ),
        _card(
            "pipeline_at_risk",
            "Value at risk",
            _money(summary["pipeline_at_risk"]),
            f"{at_risk:,} deals ahead of their evidence",
            "bad" if at_risk else "good",
        ),
        *(_forecast_card(figures) for figures in summary.get("forecast") or []),
        _card(
            "deals_with_skipped_milestones",
            "Deals with skipped milestones",
            f"{skipped:,}",
            f"of {audited:,} audited",
            "bad" if skipped else "good",
        ),
        _card(
            "overdue_steps",
            "Overdue action plan steps",
            f"{late:,}",
            f"on {int(summary.get('deals_with_overdue_steps') or 0):,} deals"
            + (f" ({sides})" if sides else ""),
            "warn" if late else "good",
        ),
        _card(
            "data_findings",
            "Data findings",
            f"{sum(int(n) for n in data.values()):,}",
            issues or "every value read",
            "warn" if data else "good",
        ),
    ]
    return f'<section id="headline" class="cards">{"".join(cards)}</section>'


def _forecast_card(figures: dict[str, Any]) -> str:
    """'Commit without evidence': the deals whose evidence stops before the stage the pack
    asks for the category (or whose probability is above the ceiling of their evidence
    stage), and apart, those the input cannot verify."""
    category = figures.get("category")
    without = int(figures["without_evidence"])
    unverifiable = int(figures.get("unverifiable") or 0)
    kind = "" if category is None else f" {escape(category)}"
    note = f"{without:,} of {int(figures['deals']):,}{kind} deals"
    if category is None:
        note += " with a probability"
    if unverifiable:
        amounts = amounts_text(amounts_from_json(figures.get("unverifiable_amounts")))
        note += f"; {escape(unverifiable_label(category))}: {unverifiable:,} ({escape(amounts)})"
    return _card(
        "forecast_" + (category or "probability").lower().replace(" ", "_"),
        claim_label(category),
        _money(figures["without_evidence_amounts"]),
        note,
        "bad" if without else "warn" if unverifiable else "good",
    )


def _stage_names(document: dict[str, Any]) -> dict[str, str]:
    return {stage["id"]: stage["name"] for stage in document["pack"].get("stages") or []}


def _changes(changes: dict[str, Any] | None, stage_names: dict[str, str]) -> str:
    if not changes:
        return ""
    baseline = changes["baseline"]
    value, deals = changes["value_at_risk"], changes["deals_at_risk"]
    new, resolved = changes["new_findings"], changes["resolved_findings"]
    moved = changes["moved_without_milestones"]
    cards = [
        _card(
            "risk_then",
            f"Value at risk on {baseline['as_of']}",
            _money(value["then"]),
            f"{int(deals['then']):,} deals",
        ),
        _card(
            "risk_now",
            "Value at risk now",
            _money(value["now"]),
            f"{int(deals['now']):,} deals",
            _trend(value["then"], value["now"]),
        ),
        _card(
            "new_findings",
            "New findings",
            f"{len(new):,}",
            "skipped, hygiene or to-advance",
            "bad" if new else "good",
        ),
        _card("resolved_findings", "Resolved findings", f"{len(resolved):,}", "", "good"),
        _card(
            "moved_without_milestones",
            "Moved stage without their milestones",
            f"{len(moved):,}",
            "",
            "bad" if moved else "good",
        ),
    ]
    notes = "".join(f"<p class=note>note: {escape(note)}</p>" for note in changes["notes"])
    return (
        f'<section id="changes"><h2>Changes since {escape(baseline["as_of"])} '
        f"<span class=dim>({escape(baseline['file'])})</span></h2>"
        f'<div class="cards">{"".join(cards)}</div>{notes}'
        + _moves_table(moved, stage_names)
        + _findings_table("New findings", "new-findings", new)
        + _findings_table("Resolved findings", "resolved-findings", resolved)
        + "</section>"
    )


def _trend(then: object, now: object) -> str:
    """bad when any currency's value at risk grew, good when none did."""
    before, after = amounts_from_json(then), amounts_from_json(now)
    grew = any(amount > before.get(currency, Decimal(0)) for currency, amount in after.items())
    return "bad" if grew else "good"


def _moves_table(moves: list[dict[str, Any]], stage_names: dict[str, str]) -> str:
    if not moves:
        return ""

    def stage(stage_id: str) -> str:
        return escape(stage_names.get(stage_id, stage_id))

    rows = "".join(
        "<tr>"
        f"<td>{escape(str(m['deal_name'] or ''))} "
        f"<span class=dim>{escape(m['deal_id'])}</span></td>"
        f"<td>{escape(str(m['manager'] or '-'))}</td><td>{escape(str(m['owner'] or '-'))}</td>"
        f"<td>{stage(m['from_stage'])} → {stage(m['to_stage'])}</td>"
        f"<td>{escape(', '.join(m['skipped']))}</td></tr>"
        for m in moves
    )
    return (
        "<details open id=moved><summary>Moved stage without their milestones</summary>"
        "<table><thead><tr><th>Deal</th><th>Manager</th><th>Owner</th><th>Stage</th>"
        f"<th>Skipped</th></tr></thead><tbody>{rows}</tbody></table></details>"
    )


def _findings_table(title: str, element_id: str, changes: list[dict[str, Any]]) -> str:
    if not changes:
        return ""
    rows = "".join(
        "<tr>"
        f"<td>{escape(str(c['deal_name'] or ''))} "
        f"<span class=dim>{escape(c['deal_id'])}</span></td>"
        f"<td>{escape(str(c['owner'] or '-'))}</td>"
        f"<td>{escape(c['milestone_id'])} {escape(c['milestone'])}</td>"
        f"<td>{escape(c['kind'])}</td><td>{escape(c['severity'])}</td></tr>"
        for c in changes
    )
    return (
        f"<details id={element_id}><summary>{escape(title)} ({len(changes):,})</summary>"
        "<table><thead><tr><th>Deal</th><th>Owner</th><th>Milestone</th><th>Kind</th>"
        f"<th>Severity</th></tr></thead><tbody>{rows}</tbody></table></details>"
    )


def _data_issues(document: dict[str, Any]) -> str:
    """The data findings and the rejected rows, each where it was read: what to fix in the
    CRM before the figures can be trusted. Each list is capped at LISTED_DATA_ROWS."""
    findings = document.get("data_findings") or []
    rejected = document.get("rejected_rows") or []
    if not findings and not rejected:
        return ""
    finding_rows = [
        [
            str(f.get("file") or ""),
            _location(f),
            str(f.get("column") or ""),
            str(f.get("deal_id") or ""),
            ISSUE_WORDS.get(str(f.get("issue")), str(f.get("issue") or "")),
            str(f.get("message") or ""),
        ]
        for f in findings[:LISTED_DATA_ROWS]
    ]
    rejected_rows = [
        [str(r.get("file") or ""), _location(r), str(r.get("reason") or "")]
        for r in rejected[:LISTED_DATA_ROWS]
    ]
    return (
        '<section id="data-issues"><h2>Data to fix in the CRM</h2>'
        + _data_table(
            "Data findings",
            "data-findings",
            ["File", "Row", "Column", "Deal", "Kind", "Message"],
            finding_rows,
            len(findings),
        )
        + _data_table(
            "Rejected rows",
            "rejected-rows",
            ["File", "Row", "Why it was rejected"],
            rejected_rows,
            len(rejected),
        )
        + "</section>"
    )


def _location(item: dict[str, Any]) -> str:
    row, path = item.get("row"), item.get("path")
    return ", ".join(str(part) for part in (row, path) if part not in (None, ""))


def _data_table(
    title: str, element_id: str, header: list[str], rows: list[list[str]], total: int
) -> str:
    if not total:
        return ""
    left_out = total - len(rows)
    notice = (
        f'<p class="notice">The list holds the first {len(rows):,} of {total:,}; '
        f"{left_out:,} are left out of it. The whole list: <code>--format json</code>.</p>"
        if left_out
        else ""
    )
    head = "".join(f"<th>{escape(name)}</th>" for name in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(value)}</td>" for value in row) + "</tr>" for row in rows
    )
    return (
        f"<details open id={element_id}><summary>{escape(title)} ({total:,})</summary>{notice}"
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></details>"
    )
