"""The HTML report in a real headless Chromium (Debian's chromium and chromedriver, which
.ci/run installs): it loads with no console errors, every chart draws what the JSON audit says,
the filters narrow the exception list, a deal expands to its checklist. A screenshot is saved;
set DEALGATE_SCREENSHOT=docs/report.png to refresh the one in the README."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import running_in_ci

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# As the machine's notes advise: no background connections (the network is closed here).
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,2000",
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    binary = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        reason = "Chromium and chromedriver are not installed (.ci/run installs them)"
        if running_in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    try:
        yield chrome
    finally:
        chrome.quit()


def open_report(browser: WebDriver, path: Path) -> None:
    browser.get(path.as_uri())
    WebDriverWait(browser, 20).until(
        lambda b: b.execute_script("return document.body.dataset.ready") == "1"
    )


def errors(browser: WebDriver) -> list[dict[str, Any]]:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def chart(browser: WebDriver, canvas: str) -> dict[str, Any]:
    """A chart's labels and datasets as Chart.js holds them, and how much of its canvas is
    painted (the share of pixels that are not transparent)."""
    found: dict[str, Any] = browser.execute_script(
        """
        const canvas = document.getElementById(arguments[0]);
        const chart = Chart.getChart(canvas);
        const pixels = canvas.getContext('2d')
            .getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
        return {
            type: chart.config.type,
            labels: chart.data.labels || [],
            datasets: chart.data.datasets.map(d => ({label: d.label, data: d.data})),
            painted: painted / (pixels.length / 4),
        };
        """,
        canvas,
    )
    return found


def shown_deals(browser: WebDriver) -> list[str]:
    """The ids of the deals in the list, read in one go (the list is redrawn as filters change)."""
    ids: list[str] = browser.execute_script(
        "return Array.from(document.querySelectorAll('details.deal'), e => e.dataset.deal)"
    )
    return ids


def test_the_report_loads_cleanly_and_every_chart_draws_the_audit(
    browser: WebDriver, audited_examples: dict[str, Any], tmp_path: Path
) -> None:
    audited = audited_examples["salesforce"]
    summary = audited.json["summary"]
    open_report(browser, audited.html)
    assert errors(browser) == []

    stages = chart(browser, "chart-stages")
    labels = stages["labels"]
    open_stages = [s["name"] for s in audited.json["pack"]["stages"] if s["open"]]
    assert labels[: len(open_stages)] == open_stages
    claimed, evidence = (dataset["data"] for dataset in stages["datasets"])
    claimed_at = {s["name"]: s["deals"] for s in summary["by_stage"]}
    evidence_at = {s["name"]: s["deals"] for s in summary["by_evidence_stage"]}
    assert claimed == [claimed_at.get(name, 0) for name in labels]
    assert evidence == [evidence_at.get(name, 0) for name in labels]
    assert sum(claimed) == sum(evidence) == summary["deals_audited"]

    skipped = chart(browser, "chart-skipped")
    drawn = {
        label: value
        for dataset in skipped["datasets"]
        for label, value in zip(skipped["labels"], dataset["data"], strict=True)
        if value is not None
    }
    expected = {m["milestone_id"]: m["deals"] for m in summary["skipped_milestones"][:15]}
    assert drawn == expected

    heat = chart(browser, "chart-heatmap")
    assert heat["type"] == "matrix"
    cells = heat["datasets"][0]["data"]
    assert sum(cell["v"] for cell in cells) == sum(
        m["deals"] for m in summary["skipped_milestones"]
    )
    assert len(cells) == len(summary["by_owner"]) * len({c["x"] for c in cells})

    overdue = chart(browser, "chart-overdue")
    by_side = {d["label"]: sum(d["data"]) for d in overdue["datasets"]}
    assert by_side == {f"{side} steps": n for side, n in summary["overdue_steps"].items()}

    for name, figures in (("stages", stages), ("skipped", skipped), ("heat map", heat)):
        assert figures["painted"] > 0.02, f"the {name} chart drew next to nothing"
    assert overdue["painted"] > 0.01

    # The value measure shows one currency's pipeline per stage.
    Select(browser.find_element(By.ID, "stage-measure")).select_by_value("USD")
    by_value = chart(browser, "chart-stages")["datasets"][0]["data"]
    usd_at = {
        s["name"]: next((a["amount"] for a in s["claimed"] if a["currency"] == "USD"), 0)
        for s in summary["by_stage"]
    }
    assert by_value == pytest.approx([usd_at.get(name, 0) for name in labels])

    # The forecast question first: each category split into supported, unverifiable and
    # without evidence, by deals and by value in one currency.
    forecast = chart(browser, "chart-forecast")
    assert (
        forecast["labels"]
        == [f["category"] for f in summary["forecast"]]
        == [
            "Commit",
            "Best Case",
        ]
    )
    supported, unverifiable, without = (d["data"] for d in forecast["datasets"])
    assert without == [f["without_evidence"] for f in summary["forecast"]]
    assert unverifiable == [f["unverifiable"] for f in summary["forecast"]]
    assert [sum(n) for n in zip(supported, unverifiable, without, strict=True)] == [
        f["deals"] for f in summary["forecast"]
    ]
    assert forecast["painted"] > 0.02
    Select(browser.find_element(By.ID, "forecast-measure")).select_by_value("USD")
    usd = chart(browser, "chart-forecast")["datasets"][2]["data"]
    assert usd == pytest.approx(
        [
            next((a["amount"] for a in f["without_evidence_amounts"] if a["currency"] == "USD"), 0)
            for f in summary["forecast"]
        ]
    )

    moved = browser.find_elements(By.CSS_SELECTOR, "#moved tbody tr")
    assert len(moved) == len(audited.json["changes"]["moved_without_milestones"]) > 0

    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if target := os.environ.get("DEALGATE_SCREENSHOT"):
        shutil.copyfile(shot, target)


def exceptions(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The deals the exception list shows: those needing attention (the JSON lists all)."""
    return [deal for deal in document["deals"] if deal["needs_attention"]]


def test_filters_narrow_the_exception_list_and_a_deal_expands(
    browser: WebDriver, audited_examples: dict[str, Any]
) -> None:
    audited = audited_examples["salesforce"]
    deals = exceptions(audited.json)
    open_report(browser, audited.html)
    assert sorted(shown_deals(browser)) == sorted(d["id"] for d in deals)

    managers = Counter(d["manager"] for d in deals if d["manager"])
    manager = managers.most_common()[-1][0]  # the smallest team
    Select(browser.find_element(By.ID, "filter-manager")).select_by_value(manager)
    narrowed = shown_deals(browser)
    assert sorted(narrowed) == sorted(d["id"] for d in deals if d["manager"] == manager)
    assert 0 < len(narrowed) < len(deals)
    headings = browser.find_elements(By.CSS_SELECTOR, "#deal-groups section.manager")
    assert [h.get_attribute("data-manager") for h in headings] == [manager]
    shown = browser.find_element(By.ID, "shown").text
    assert shown == f"Showing {len(narrowed)} of {len(deals)} deals in the list"

    Select(browser.find_element(By.ID, "filter-manager")).select_by_index(0)
    browser.find_element(By.ID, "filter-risk").click()
    assert sorted(shown_deals(browser)) == sorted(d["id"] for d in deals if d["at_risk"])
    assert sum(d["at_risk"] for d in deals) == audited.json["summary"]["deals_at_risk"]
    browser.find_element(By.ID, "filter-risk").click()

    deal = next(d for d in deals if d["overdue_steps"] and d["at_risk"])
    search = browser.find_element(By.ID, "filter-text")
    search.send_keys(deal["id"])
    WebDriverWait(browser, 5).until(lambda b: shown_deals(b) == [deal["id"]])
    row = browser.find_element(By.CSS_SELECTOR, f'details.deal[data-deal="{deal["id"]}"]')
    row.find_element(By.TAG_NAME, "summary").click()
    checklist = row.find_elements(By.CSS_SELECTOR, "table.checklist > tbody > tr")
    assert len(checklist) == len(deal["findings"])
    first = deal["findings"][0]
    assert first["milestone_id"] in checklist[0].text
    assert first["guidance"][:40] in checklist[0].text
    late = row.find_elements(By.CSS_SELECTOR, "table.overdue tbody tr")
    assert len(late) == len(deal["overdue_steps"])
    search.clear()
    search.send_keys("no deal is called this")
    WebDriverWait(browser, 5).until(lambda b: shown_deals(b) == [])
    assert errors(browser) == []


def test_hostile_names_show_as_text(browser: WebDriver, tmp_path: Path) -> None:
    from report_inputs import audit_deals

    name = "<img src=x onerror=\"document.title='owned'\">"
    deals = [{"id": "D-1", "name": name, "owner": name, "stage": "Proposal"}]
    audit_deals(tmp_path, deals, "--format", "html", "--output", "r.html")
    open_report(browser, tmp_path / "r.html")
    assert browser.find_elements(By.CSS_SELECTOR, "#deal-groups img") == []
    assert name in browser.find_element(By.ID, "deal-groups").text
    assert browser.title != "owned"
    assert errors(browser) == []


def test_a_page_of_a_large_pipeline_lists_the_largest_deals_and_says_so(
    browser: WebDriver, audited_examples: dict[str, Any], tmp_path: Path
) -> None:
    from dealgate.report.audit_html import LISTED_DEALS, render_html

    document = audited_examples["salesforce"].json
    deals = [
        deal | {"id": f"{deal['id']}-{copy}"}
        for copy in range(LISTED_DEALS // len(exceptions(document)) + 2)
        for deal in exceptions(document)
    ]
    page = tmp_path / "large.html"
    page.write_text(render_html(document | {"deals": deals}), encoding="utf-8")
    open_report(browser, page)
    notice = browser.find_element(By.ID, "list-notice")
    assert notice.is_displayed()
    assert f"{len(deals) - LISTED_DEALS:,} are left out" in notice.text
    assert len(set(shown_deals(browser))) == LISTED_DEALS
    assert errors(browser) == []


WIDTHS = (1400, 800)  # a laptop, and half a screen beside the forecast call's slides


@contextmanager
def page_at_width(browser: WebDriver, path: Path, width: int) -> Iterator[None]:
    """The report opened in a window `width` pixels wide; the window is put back after."""
    browser.set_window_size(width, 2000)
    try:
        open_report(browser, path)
        yield
        assert errors(browser) == []
    finally:
        browser.set_window_size(1400, 2000)


def screenshot(browser: WebDriver, path: Path) -> None:
    """Saves what the window shows and prints where (pytest -s shows it)."""
    assert browser.save_screenshot(str(path)) and path.stat().st_size > 10_000
    print(f"screenshot: {path}")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_exception_list_has_column_headers_and_kinds_in_words(
    browser: WebDriver, audited_examples: dict[str, Any], tmp_path: Path, width: int
) -> None:
    audited = audited_examples["salesforce"]
    with page_at_width(browser, audited.html, width):
        heads = browser.find_elements(By.CSS_SELECTOR, "#deal-groups .deal-head")
        teams = {(d["manager"], d["owner"]) for d in exceptions(audited.json)}
        assert len(heads) == len(teams)
        assert heads[0].text.split("\n")[:3] == ["Deal", "Claimed stage → evidence", "Amount"]
        badges = browser.execute_script(
            "return Array.from(document.querySelectorAll('.badge'), b => b.textContent)"
        )
        assert any(text.endswith("skipped milestones") for text in badges), badges[:5]
        assert any(text.endswith(" to advance") for text in badges), badges[:5]
        assert not any(text.endswith((" skipped", " to-advance")) for text in badges)
        browser.execute_script("document.getElementById('exceptions').scrollIntoView()")
        screenshot(browser, tmp_path / f"exceptions-{width}.png")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_heat_map_names_its_stages_at_the_top(
    browser: WebDriver, audited_examples: dict[str, Any], tmp_path: Path, width: int
) -> None:
    with page_at_width(browser, audited_examples["salesforce"].html, width):
        axes = browser.execute_script(
            """
            const chart = Chart.getChart(document.getElementById('chart-heatmap'));
            return Object.values(chart.scales).filter(s => s.axis === 'x')
                .map(s => ({position: s.position, labels: s.getLabels()}));
            """
        )
        assert sorted(axis["position"] for axis in axes) == ["bottom", "top"]
        assert axes[0]["labels"] == axes[1]["labels"] != []
        browser.execute_script("document.getElementById('chart-heatmap').scrollIntoView()")
        screenshot(browser, tmp_path / f"heatmap-{width}.png")


@pytest.mark.parametrize("width", WIDTHS)
def test_an_opened_deal_shows_its_action_plan_as_a_table_beside_readable_guidance(
    browser: WebDriver, audited_examples: dict[str, Any], tmp_path: Path, width: int
) -> None:
    audited = audited_examples["salesforce"]
    deal, finding = next(
        (d, f)
        for d in audited.json["deals"]
        for f in d["findings"]
        if isinstance((f["read"] or {}).get("action_plan"), list) and f["read"]["action_plan"]
    )
    with page_at_width(browser, audited.html, width):
        browser.find_element(By.ID, "filter-text").send_keys(deal["id"])
        WebDriverWait(browser, 5).until(lambda b: shown_deals(b) == [deal["id"]])
        row = browser.find_element(By.CSS_SELECTOR, f'details.deal[data-deal="{deal["id"]}"]')
        browser.execute_script("arguments[0].open = true", row)
        line = row.find_elements(By.CSS_SELECTOR, "table.checklist > tbody > tr")[
            deal["findings"].index(finding)
        ]
        plan = line.find_element(By.CSS_SELECTOR, 'table.records[data-field="action_plan"]')
        steps = plan.find_elements(By.CSS_SELECTOR, ":scope > tbody > tr")
        assert len(steps) == len(finding["read"]["action_plan"])
        assert "{" not in plan.text and finding["read"]["action_plan"][0]["due"] in steps[0].text
        assert "due" in [th.text for th in plan.find_elements(By.TAG_NAME, "th")]
        widths = browser.execute_script(
            "return Array.from(arguments[0].querySelectorAll('td.guidance'),"
            " td => td.getBoundingClientRect().width)",
            row,
        )
        assert widths and min(widths) >= 280, widths
        # nothing to scroll sideways: the guidance is read whole at either width
        box = row.find_element(By.CSS_SELECTOR, "div.scroll")
        assert browser.execute_script(
            "return arguments[0].scrollWidth <= arguments[0].clientWidth", box
        )
        browser.execute_script("arguments[0].scrollIntoView()", row)
        screenshot(browser, tmp_path / f"deal-{width}.png")


@pytest.mark.parametrize("width", WIDTHS)
def test_data_findings_and_rejected_rows_are_listed_where_they_were_read(
    browser: WebDriver, audited_examples: dict[str, Any], tmp_path: Path, width: int
) -> None:
    audited = audited_examples["salesforce"]
    document = audited.json
    with page_at_width(browser, audited.html, width):
        findings = browser.find_elements(By.CSS_SELECTOR, "#data-findings tbody tr")
        assert len(findings) == len(document["data_findings"]) > 0
        first = document["data_findings"][0]
        cells = [
            td.get_attribute("textContent") for td in findings[0].find_elements(By.TAG_NAME, "td")
        ]
        assert cells[:4] == [first["file"], str(first["row"]), first["column"], first["deal_id"]]
        assert cells[5] == first["message"]
        kinds = {
            td.get_attribute("textContent")
            for td in browser.find_elements(By.CSS_SELECTOR, "#data-findings td:nth-child(5)")
        }
        assert "unreadable value" in kinds and not any("_" in kind for kind in kinds), kinds
        rejected = browser.find_elements(By.CSS_SELECTOR, "#rejected-rows tbody tr")
        assert len(rejected) == len(document["rejected_rows"]) > 0
        assert document["rejected_rows"][0]["reason"] in rejected[0].text
        browser.execute_script("document.getElementById('data-issues').scrollIntoView()")
        screenshot(browser, tmp_path / f"data-{width}.png")


def test_a_long_list_of_data_findings_is_capped_and_says_so(
    browser: WebDriver, audited_examples: dict[str, Any], tmp_path: Path
) -> None:
    from dealgate.report.audit_html import LISTED_DATA_ROWS, render_html

    document = audited_examples["salesforce"].json
    many = [
        finding | {"row": index}
        for index, finding in enumerate(document["data_findings"] * (LISTED_DATA_ROWS // 50))
    ]
    assert len(many) > LISTED_DATA_ROWS
    page = tmp_path / "data.html"
    page.write_text(render_html(document | {"data_findings": many}), encoding="utf-8")
    open_report(browser, page)
    rows = browser.find_elements(By.CSS_SELECTOR, "#data-findings tbody tr")
    assert len(rows) == LISTED_DATA_ROWS
    notice = browser.find_element(By.CSS_SELECTOR, "#data-findings .notice").text
    assert f"{len(many) - LISTED_DATA_ROWS:,} are left out" in notice
    assert errors(browser) == []


def test_the_calibration_page_draws_each_rate_where_its_figures_say(
    browser: WebDriver, tmp_path: Path
) -> None:
    """Each milestone's two dots sit at its win rates on the 0-100% axis, the met one to the
    right where deals meeting it win more; the page has no script and logs no error."""
    from command import REPO, dealgate

    page = tmp_path / "calibration.html"
    review = REPO / "tests" / "fixtures" / "review" / "salvirt-shape.csv"
    mapping = REPO / "examples" / "salvirt-review-mapping.yaml"
    result = dealgate(
        *("calibrate", "--review", str(review), "--review-mapping", str(mapping)),
        *("--format", "html", "--output", str(page)),
    )
    assert result.returncode == 0, result.stderr
    browser.get(page.as_uri())
    drawn = browser.execute_script(
        """
        return [...document.querySelectorAll('svg')].map(svg => {
          const ticks = [...svg.querySelectorAll('line[stroke="#e3e6eb"]')]
            .map(line => line.getBoundingClientRect().x);
          const dots = [...svg.querySelectorAll('circle')].map(dot => ({
            title: dot.querySelector('title').textContent,
            x: dot.getBoundingClientRect().x + dot.getBoundingClientRect().width / 2,
            width: dot.getBoundingClientRect().width,
          }));
          return {ticks, dots};
        });
        """
    )
    assert drawn and errors(browser) == []
    for chart in drawn:
        zero, hundred = chart["ticks"][0], chart["ticks"][-1]
        assert chart["dots"]
        for dot in chart["dots"]:
            won, deals = (
                int(part) for part in dot["title"].split("won ")[1].split(" (")[0].split(" of ")
            )
            expected = zero + (hundred - zero) * won / deals
            assert dot["width"] > 0 and abs(dot["x"] - expected) < 2, dot
