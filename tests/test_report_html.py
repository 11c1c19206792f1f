"""The HTML report of the example exports: one self-contained file whose figures are the JSON
audit's. What the page draws is checked in a real browser (test_report_browser.py)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from dealgate.report.audit_html import LISTED_DEALS, render_html
from dealgate.report.figures import amounts_from_json, amounts_text
from report_inputs import AS_OF, audit_deals, dealgate


class ReportPage(HTMLParser):
    """The parts of the page a test reads: headline cards by data-figure, the embedded audit,
    and every attribute that could load something from elsewhere."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.cards: dict[str, dict[str, list[str]]] = {}  # figure -> label/value/note texts
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.links: list[str] = []
        self.csp = ""
        self._card: str | None = None
        self._parts: list[str] = []  # the class of each element open inside a card
        self._script: dict[str, str | None] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href", "action"):
            if found.get(name):
                self.links.append(f"{tag} {name}={found[name]}")
        if tag == "meta" and found.get("http-equiv") == "Content-Security-Policy":
            self.csp = found.get("content") or ""
        if tag == "script":
            self._script = found
        if self._card is not None:
            self._parts.append(found.get("class") or self._parts[-1])
        elif found.get("data-figure"):
            self._card, self._parts = str(found["data-figure"]), ["card"]
            self.cards[self._card] = {"label": [], "value": [], "note": [], "card": []}

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None
        if self._card is not None:
            self._parts.pop()
            if not self._parts:
                self._card = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self.scripts.append((self._script, data))
        elif self._card is not None and data.strip():
            part = self._parts[-1] if self._parts[-1] in ("label", "note", "card") else "value"
            self.cards[self._card][part].append(data.strip())

    def embedded_audit(self) -> dict[str, Any]:
        text = next(data for attrs, data in self.scripts if attrs.get("id") == "audit-data")
        loaded: dict[str, Any] = json.loads(text)
        return loaded


def page_of(path: Path) -> ReportPage:
    return ReportPage(path.read_text(encoding="utf-8"))


def money_lines(items: list[dict[str, Any]]) -> list[str]:
    amounts = amounts_from_json(items)
    return [amounts_text({currency: amounts[currency]}) for currency in sorted(amounts)] or ["-"]


@pytest.mark.parametrize("example", ["salesforce", "hubspot"])
def test_the_page_carries_the_json_audit_and_its_headline_figures(
    audited_examples: dict[str, Any], example: str
) -> None:
    audited = audited_examples[example]
    page = page_of(audited.html)
    document, summary = audited.json, audited.json["summary"]
    embedded = page.embedded_audit()
    # the deals needing attention, all of them under the page's limit; the document lists
    # every audited deal, so the page would grow with the deals that need nothing
    exceptions = [deal for deal in document["deals"] if deal["needs_attention"]]
    assert embedded["deals"] == exceptions and len(exceptions) < len(document["deals"])
    assert embedded["summary"] == document["summary"]
    assert embedded["pack"] == document["pack"]
    assert "audited_stages" not in embedded  # what the page's script does not read
    assert "list-notice" not in audited.html.read_text(encoding="utf-8")
    values = {figure: card["value"] for figure, card in page.cards.items()}
    notes = {figure: " ".join(card["note"]) for figure, card in page.cards.items()}
    assert values["deals_audited"] == [f"{summary['deals_audited']:,}"]
    for figure in ("pipeline_claimed", "pipeline_supported", "pipeline_at_risk"):
        assert values[figure] == money_lines(summary[figure]), figure
    assert (
        notes["pipeline_at_risk"] == f"{summary['deals_at_risk']:,} deals ahead of their evidence"
    )
    assert values["deals_with_skipped_milestones"] == [
        f"{summary['deals_with_skipped_milestones']:,}"
    ]
    assert notes["deals_with_skipped_milestones"] == f"of {summary['deals_audited']:,} audited"
    late = sum(summary["overdue_steps"].values())
    assert values["overdue_steps"] == [f"{late:,}"]
    assert notes["overdue_steps"].startswith(f"on {summary['deals_with_overdue_steps']:,} deals")
    assert values["data_findings"] == [f"{sum(summary['data_findings'].values()):,}"]
    counts = document["reconciliation"]
    reconciliation = " ".join(
        page.cards["reconciliation"]["card"] + page.cards["reconciliation"]["value"]
    )
    assert f"Rows read {counts['rows_read']:,}" in reconciliation
    assert reconciliation.endswith("balanced")


def test_the_page_shows_the_changes_since_last_week(audited_examples: dict[str, Any]) -> None:
    audited = audited_examples["salesforce"]
    changes = audited.json["changes"]
    page = page_of(audited.html)
    values = {figure: card["value"] for figure, card in page.cards.items()}
    assert values["new_findings"] == [f"{len(changes['new_findings']):,}"]
    assert values["resolved_findings"] == [f"{len(changes['resolved_findings']):,}"]
    moved = changes["moved_without_milestones"]
    assert values["moved_without_milestones"] == [f"{len(moved):,}"] != ["0"]
    assert values["risk_then"] == money_lines(changes["value_at_risk"]["then"])
    assert values["risk_now"] == money_lines(changes["value_at_risk"]["now"])
    text = audited.html.read_text(encoding="utf-8")
    assert all(move["deal_id"] in text for move in moved)


def test_the_summary_figures_add_up(audited_examples: dict[str, Any]) -> None:
    """What the charts draw is consistent: every audited deal is at one claimed stage and one
    evidence stage, and every skipped finding is in the heat map once."""
    summary = audited_examples["salesforce"].json["summary"]
    deals = audited_examples["salesforce"].json["deals"]
    audited = summary["deals_audited"]
    assert sum(s["deals"] for s in summary["by_stage"]) == audited
    assert sum(s["deals"] for s in summary["by_evidence_stage"]) == audited
    assert sum(o["deals"] for o in summary["by_owner"]) == audited
    skipped = [
        f
        for d in deals
        for f in d["findings"]
        if f["kind"] == "skipped" and f["status"] == "missing"
    ]
    assert sum(m["deals"] for m in summary["skipped_milestones"]) == len(skipped) > 0
    heat = sum(sum(o["skipped_by_stage"].values()) for o in summary["by_owner"])
    assert heat == len(skipped)
    steps = [s for d in deals for s in d["overdue_steps"]]
    assert sum(summary["overdue_steps"].values()) == len(steps) > 0
    assert all(s["days_overdue"] > 0 and s["due"] < AS_OF for s in steps)
    claimed = amounts_from_json(summary["pipeline_claimed"])
    supported = amounts_from_json(summary["pipeline_supported"])
    at_risk = amounts_from_json(summary["pipeline_at_risk"])
    assert all(supported.get(c, 0) + at_risk.get(c, 0) <= claimed[c] for c in claimed)


def test_the_page_loads_nothing_from_elsewhere(audited_examples: dict[str, Any]) -> None:
    page = page_of(audited_examples["salesforce"].html)
    assert page.links == []
    assert "default-src 'none'" in page.csp
    text = audited_examples["salesforce"].html.read_text(encoding="utf-8")
    assert not re.search(r"https?://(?!www\.w3\.org)", text.split("<script>")[0])
    vendored = files("dealgate.report") / "assets" / "vendor"
    for library in ("chart.umd.min.js", "chartjs-chart-matrix.min.js"):
        assert (vendored / library).read_text(encoding="utf-8") in text, library


def test_a_deal_name_cannot_end_the_data_or_run_markup(tmp_path: Path) -> None:
    hostile = '</script><script>alert(1)</script><!-- & "quotes"'
    deal = {"id": "D-1", "name": hostile, "owner": "<b>Jo</b>", "stage": "Proposal"}
    audit_deals(tmp_path, [deal | {"amount": 100}], "--format", "html", "--output", "r.html")
    page = page_of(tmp_path / "r.html")
    assert page.embedded_audit()["deals"][0]["name"] == hostile
    assert page.embedded_audit()["deals"][0]["owner"] == "<b>Jo</b>"
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "alert(1)</script>" not in text


def test_html_goes_to_standard_output_without_output(tmp_path: Path) -> None:
    result = audit_deals(tmp_path, [{"id": "D-1", "stage": "Qualification"}], "--format", "html")
    assert result.stdout.startswith("<!doctype html>")
    assert ReportPage(result.stdout).embedded_audit()["summary"]["deals_audited"] == 1


def test_report_renders_a_saved_audit_as_the_audit_does(audited_examples: dict[str, Any]) -> None:
    """`dealgate report audit.json` draws the same page from the saved JSON audit."""
    audited = audited_examples["salesforce"]
    folder = audited.html.parent
    saved = folder / "saved.json"
    document = dict(audited.json)
    changes = document.pop("changes")
    saved.write_text(json.dumps(document), encoding="utf-8")
    result = dealgate(
        "report",
        "saved.json",
        "--baseline",
        changes["baseline"]["file"],
        "--format",
        "html",
        "--output",
        "again.html",
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    assert (folder / "again.html").read_text(encoding="utf-8") == audited.html.read_text(
        encoding="utf-8"
    )
    workbook = dealgate("report", "saved.json", "--format", "xlsx", cwd=folder)
    assert workbook.returncode == 2 and "--output" in workbook.stderr
    other = dealgate("report", "missing.json", cwd=folder)
    assert other.returncode == 2 and "missing.json: error: audit file not found" in other.stderr


def test_a_huge_amount_is_a_data_finding_not_a_sum_or_a_crash(tmp_path: Path) -> None:
    # No deal is worth 1e308: more than MAX_WHOLE_DIGITS (deals/normalise.py) whole digits is
    # read as missing with a finding (issue 14), and the deal is still audited.
    deal = {"id": "B-1", "stage": "Proposal", "amount": 1e308, "currency": "USD"}
    document = json.loads(audit_deals(tmp_path, [deal], "--format", "json").stdout)
    assert document["summary"]["deals_audited"] == 1
    assert document["summary"]["pipeline_claimed"] == []
    [finding] = [f for f in document["data_findings"] if f["column"] == "amount"]
    assert (finding["deal_id"], finding["issue"]) == ("B-1", "unreadable")
    assert "more than 28 digits" in finding["message"]
    page = audit_deals(tmp_path, [deal], "--format", "html").stdout
    assert "B-1" in page


def test_a_pipeline_too_large_for_a_page_lists_its_largest_deals_and_says_so(
    audited_examples: dict[str, Any],
) -> None:
    """The page of 100k deals was 141 MB: past LISTED_DEALS the list keeps the largest amounts,
    in the audit's order, and the page says how many it left out and where the rest is."""
    document = audited_examples["salesforce"].json
    template = document["deals"][0]
    extra = 7
    deals = [
        template | {"id": f"D-{index}", "amount": (index * 7919) % 100_003}
        for index in range(LISTED_DEALS + extra)
    ]
    text = render_html(document | {"deals": deals})
    page = ReportPage(text)
    listed = page.embedded_audit()["deals"]
    assert len(listed) == LISTED_DEALS
    smallest_kept = min(deal["amount"] for deal in listed)
    left_out = [deal for deal in deals if deal["id"] not in {d["id"] for d in listed}]
    assert len(left_out) == extra
    assert all(deal["amount"] <= smallest_kept for deal in left_out)
    assert [d["id"] for d in listed] == [d["id"] for d in deals if d not in left_out]
    assert page.embedded_audit()["summary"] == document["summary"]
    notice = re.search(r'<p id="list-notice"[^>]*>(.*?)</p>', text, re.S)
    assert notice is not None
    assert f"{LISTED_DEALS:,} deals with the largest amounts of the {LISTED_DEALS + extra:,}" in (
        notice.group(1)
    )
    assert "--format csv" in notice.group(1)


def test_the_page_says_how_much_commit_has_no_evidence(audited_examples: dict[str, Any]) -> None:
    audited = audited_examples["salesforce"]
    page = page_of(audited.html)
    commit = next(f for f in audited.json["summary"]["forecast"] if f["category"] == "Commit")
    card = page.cards["forecast_commit"]
    assert card["label"] == ["Commit without evidence"]
    assert card["value"] == money_lines(commit["without_evidence_amounts"]) == ["USD 993,731.10"]
    assert " ".join(card["note"]) == f"11 of {commit['deals']:,} Commit deals"
    assert "forecast_best_case" in page.cards
