"""What people read in a terminal: key values whole at 80 columns and in a pipe, the exception
list in the order that matters, CRM and pack text as typed, counts that agree."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from command import REPO, dealgate

SALESFORCE = (
    "examples/salesforce-opportunities.csv",
    "--contacts",
    "examples/salesforce-contact-roles.csv",
    "--teams",
    "examples/teams.csv",
    "--as-of",
    "2026-11-27",
    "--fail-on",
    "never",
)


def _money(amount: float | None, currency: str | None) -> str:
    if amount is None:
        return ""
    number = f"{amount:,.2f}".removesuffix(".00")
    return f"{currency} {number}" if currency else number


def _audit_json(*args: str) -> dict[str, Any]:
    run = dealgate("audit", *args, "--format", "json")
    assert run.returncode == 0, run.stderr
    document: dict[str, Any] = json.loads(run.stdout)
    return document


def _exceptions(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The deals the terminal lists: those needing attention (the JSON lists every deal)."""
    return [deal for deal in document["deals"] if deal["needs_attention"]]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[^\s,()]+", text))


def test_an_audit_at_80_columns_keeps_ids_amounts_and_milestone_ids_whole() -> None:
    document = _audit_json(*SALESFORCE)
    run = dealgate("audit", *SALESFORCE, "--limit", "0", columns=80)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    words = _words(run.stdout)
    one_line = "\n".join(lines)
    assert _exceptions(document)
    for deal in _exceptions(document):
        assert deal["id"] in words, deal["id"]
        assert _money(deal["amount"], deal["currency"]) in one_line, deal["id"]
        for finding in deal["findings"]:
            if finding["status"] == "missing" and finding["kind"] in ("skipped", "hygiene"):
                assert finding["milestone_id"] in words, (deal["id"], finding["milestone_id"])
    # Summary figures never break inside an amount: each is whole on one line.
    for key in ("pipeline_claimed", "pipeline_supported", "pipeline_at_risk"):
        for item in document["summary"][key]:
            assert _money(item["amount"], item["currency"]) in one_line, (key, item)


def test_rules_list_at_80_columns_keeps_pack_ids_and_paths_whole() -> None:
    run = dealgate("rules", "list", columns=80)
    assert run.returncode == 0, run.stderr
    assert max(len(line) for line in run.stdout.splitlines()) <= 80
    for pack in sorted((REPO / "rules").glob("*.yaml")):
        assert pack.stem in _words(run.stdout)
        assert f"rules/{pack.name}" in _words(run.stdout)


def _exception_ids(stdout: str, ids: list[str]) -> list[str]:
    """The deal ids in the order the table prints them."""
    found = {deal_id: stdout.find(deal_id) for deal_id in ids}
    return sorted((deal_id for deal_id, at in found.items() if at >= 0), key=found.__getitem__)


def test_the_exception_list_runs_currency_by_currency_largest_amount_first() -> None:
    document = _audit_json(*SALESFORCE)
    deals = {deal["id"]: deal for deal in _exceptions(document)}
    run = dealgate("audit", *SALESFORCE, "--limit", "0")
    assert run.returncode == 0, run.stderr
    shown = _exception_ids(run.stdout, list(deals))
    assert sorted(shown) == sorted(deals)
    keys = [
        (deals[i]["currency"] is None, deals[i]["currency"] or "", -(deals[i]["amount"] or 0))
        for i in shown
    ]
    assert keys == sorted(keys)
    assert len({key[1] for key in keys}) > 1  # the example has several currencies


def test_sort_file_keeps_the_export_order_and_json_never_changes_order() -> None:
    document = _audit_json(*SALESFORCE)
    in_file = [deal["id"] for deal in _exceptions(document)]
    run = dealgate("audit", *SALESFORCE, "--limit", "0", "--sort", "file")
    assert _exception_ids(run.stdout, in_file) == in_file
    sorted_json = _audit_json(*SALESFORCE, "--sort", "inflation")
    assert sorted_json["deals"] == document["deals"]


def test_sort_inflation_puts_the_most_inflated_deals_first() -> None:
    document = _audit_json(*SALESFORCE)
    deals = {deal["id"]: deal for deal in _exceptions(document)}
    run = dealgate("audit", *SALESFORCE, "--limit", "0", "--sort", "inflation")
    inflation = [deals[i]["inflation"] for i in _exception_ids(run.stdout, list(deals))]
    assert inflation == sorted(inflation, reverse=True)
    assert inflation[0] > 0


def test_the_limit_note_says_how_many_were_left_out_and_how_to_see_them() -> None:
    document = _audit_json(*SALESFORCE)
    total = len(_exceptions(document))
    run = dealgate("audit", *SALESFORCE, "--limit", "5")
    assert f"... {total - 5:,} more deals not shown: --limit 0 shows all {total:,}" in run.stdout


def test_an_unknown_sort_is_a_usage_error() -> None:
    run = dealgate("audit", *SALESFORCE, "--sort", "size")
    assert run.returncode == 2
    assert "Invalid value" in run.stderr


def _bracketed_pipeline(tmp_path: Path) -> Path:
    deal = yaml.safe_load((REPO / "examples/deals/globex-skipped.yaml").read_text("utf-8"))
    deal["name"] = "[bold]Globex[/bold] renewal [Q4]"
    deal["owner"] = "[red]Lars[/] Eriksson"
    deal["next_step_date"] = None  # a second required hygiene check missing
    deal["close_date"] = "2026-11-01"
    (tmp_path / "deal.yaml").write_text(yaml.safe_dump(deal), encoding="utf-8")
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump({"deals": [deal]}), encoding="utf-8")
    return tmp_path


def test_brackets_in_a_deal_name_and_owner_show_as_typed(tmp_path: Path) -> None:
    work = _bracketed_pipeline(tmp_path)
    check = dealgate("check", "deal.yaml", "--as-of", "2026-11-27", cwd=work)
    assert "[bold]Globex[/bold] renewal [Q4]" in check.stdout
    assert "owner [red]Lars[/] Eriksson" in check.stdout
    for columns in (200, 80):
        audit = dealgate(
            "audit", "pipeline.yaml", "--as-of", "2026-11-27", "--fail-on", "never",
            cwd=work, columns=columns,
        )  # fmt: skip
        assert audit.returncode == 0, audit.stderr
        assert "[red]Lars[/]" in audit.stdout, columns
        assert "[bold]Globex[/bold]" in audit.stdout, columns


def test_inspect_rules_test_and_list_show_bracketed_text_as_typed(tmp_path: Path) -> None:
    work = _bracketed_pipeline(tmp_path)
    (work / "export.csv").write_text(
        "Opportunity ID,Opportunity Name,Stage,Amount\n1,Globex,[bold]Won[/bold],[5]\n",
        encoding="utf-8",
    )
    inspected = dealgate("deals", "inspect", "export.csv", cwd=work, columns=200)
    assert inspected.returncode == 0, inspected.stderr
    assert "│ [bold]Won[/bold] " in inspected.stdout  # the stage as the file has it
    assert "unreadable amount '[5]'" in inspected.stdout
    assert "stage '[bold]Won[/bold]' is not a stage" in inspected.stdout
    (work / "cases.yaml").write_text(
        """\
pack: buyer-journey
as_of: 2026-11-27
cases:
  - name: "[bold]Globex[/bold] in [Q4] skips nothing"
    deal: {id: "[D-1]", stage: qualify, amount: 1000}
    missing: []
""",
        encoding="utf-8",
    )
    tested = dealgate("rules", "test", "cases.yaml", cwd=work)
    assert tested.returncode == 1, tested.stderr  # the deal lacks its hygiene fields
    assert "[bold]Globex[/bold] in [Q4] skips nothing" in tested.stdout
    (work / "rules").mkdir()
    (work / "rules" / "team.yaml").write_text(
        "pack: team\ntitle: Team [EMEA] process\nextends: [buyer-journey]\nstages: []\n",
        encoding="utf-8",
    )
    listed = dealgate("rules", "list", "--rules", "rules", cwd=work, columns=200)
    assert "Team [EMEA] process" in listed.stdout, listed.stdout


def test_rules_explain_prints_bracketed_guidance_as_typed() -> None:
    run = dealgate("rules", "explain", "VAL-EB-MET")
    assert run.returncode == 0, run.stderr
    assert "fund this in [quarter]?" in " ".join(re.sub(r"[│]", " ", run.stdout).split())


def test_rules_explain_takes_an_id_in_any_case_and_suggests_a_near_miss() -> None:
    assert "Economic buyer" in dealgate("rules", "explain", "val-eb-met").stdout
    run = dealgate("rules", "explain", "val-eb-mte")
    assert run.returncode == 2
    assert "did you mean 'VAL-EB-MET'?" in run.stderr


def test_rules_test_of_a_missing_file_says_so_and_exits_2(tmp_path: Path) -> None:
    run = dealgate("rules", "test", "nowhere.yaml", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip() == "nowhere.yaml: error: no such file or folder"


def test_rules_list_and_validate_count_milestones_alike() -> None:
    validated = dealgate("rules", "validate", "rules")
    listed = dealgate("rules", "list")
    for line in validated.stdout.splitlines():
        match = re.search(r"pack (\S+), (\d+) stages, (\d+) exit milestones, (\d+) hygiene", line)
        assert match, line
        pack, stages, milestones, checks = match.groups()
        row = next(r for r in listed.stdout.splitlines() if f"│ {pack} " in r)
        cells = [cell.strip() for cell in row.split("│")]
        assert cells[3:6] == [stages, milestones, checks], row


def test_by_owner_missing_required_counts_deals_not_findings(tmp_path: Path) -> None:
    work = _bracketed_pipeline(tmp_path)
    run = dealgate(
        "audit", "pipeline.yaml", "--as-of", "2026-11-27", "--fail-on", "never", cwd=work
    )
    row = next(line for line in run.stdout.splitlines() if "Eriksson" in line and "│" in line)
    cells = [cell.strip() for cell in row.split("│")]
    # manager, owner, deals, with skipped, missing required, at risk: one deal, so at most 1.
    assert (cells[3], cells[5]) == ("1", "1"), row
    as_json = dealgate(
        "audit", "pipeline.yaml", "--as-of", "2026-11-27", "--fail-on", "never",
        "--format", "json", cwd=work,
    )  # fmt: skip
    [owner] = [
        o for o in json.loads(as_json.stdout)["summary"]["by_owner"] if "Eriksson" in o["owner"]
    ]
    assert owner["deals_missing_required"] == 1 < owner["missing_required"]


def test_changes_since_a_baseline_at_80_columns_keep_moved_deal_ids_whole(tmp_path: Path) -> None:
    last_week = [
        arg.replace("2026-11-27", "2026-11-20") for arg in SALESFORCE[1:]
    ]  # the same options
    baseline = dealgate(
        "audit", str(REPO / "examples/salesforce-opportunities-last-week.csv"), *last_week,
        "--format", "json", "--output", str(tmp_path / "last-week.json"),
    )  # fmt: skip
    assert baseline.returncode == 0, baseline.stderr
    run = dealgate(
        "audit", *SALESFORCE, "--baseline", str(tmp_path / "last-week.json"),
        "--format", "json",
    )  # fmt: skip
    moved = json.loads(run.stdout)["changes"]["moved_without_milestones"]
    assert moved
    table = dealgate(
        "audit", *SALESFORCE, "--baseline", str(tmp_path / "last-week.json"), columns=80
    )
    words = _words(table.stdout)
    for move in moved:
        assert move["deal_id"] in words
        assert all(milestone_id in words for milestone_id in move["skipped"])
