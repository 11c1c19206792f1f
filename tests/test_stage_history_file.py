"""--stage-history: Salesforce's OpportunityHistory export as each deal's stage history."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from command import dealgate
from dealgate.deals.model import ReadDeal
from dealgate.deals.normalise import salesforce_suffix as _salesforce_suffix
from dealgate.deals.source import DealSource, open_deals
from dealgate.errors import InputError
from dealgate.findings import DataIssue
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PIPELINE = "examples/salesforce-opportunities.csv"
HISTORY = "examples/salesforce-opportunity-history.csv"
AS_OF = "2026-11-27"
# HYG-STAGE-MOVED of the deals examples/salesforce-opportunity-history.csv holds, as of AS_OF
# (README of examples/): stuck when the last stage change is more than 90 days old.
STAGE_MOVED = {
    "0065g000003WTmlAAG": "missing",  # Needs Analysis since 14 Jul; later rows are amount edits
    "0065g000003WTo6AAG": "met",  # 15-character id in the file; Negotiation/Review on 24 Nov
    "0065g000003WTt8AAG": "missing",  # Negotiation/Review since 10 Aug; a close date push since
    "0065g000003WTu2AAG": "met",  # back to Value Proposition on 22 Oct, Proposal again 28 Oct
    "0065g000003WTvfAAG": "met",  # Needs Analysis on 20 Oct
    "0065g000003WU3KAAW": "met",  # Proposal/Price Quote on 4 Nov; one row's date unreadable
}


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack("buyer-journey", PackCatalog(cwd=Path("/nonexistent")))


def _read(path: Path, pack: RulePack, **options: Path) -> tuple[DealSource, list[ReadDeal]]:
    source = open_deals(path, pack, **options)  # type: ignore[arg-type]
    return source, list(source)


def _data_loader_export(path: Path, changes: list[tuple[str, str, str]]) -> Path:
    """An OpportunityHistory export as Data Loader writes it: (OpportunityId, CreatedDate,
    StageName) of each row, the other fields filled in as an amount edit would leave them."""
    lines = [
        '"Id","OpportunityId","CreatedById","CreatedDate","StageName","Amount",'
        '"ExpectedRevenue","CloseDate","Probability","ForecastCategory","SystemModstamp",'
        '"IsDeleted"'
    ]
    for number, (deal, created, stage) in enumerate(changes, start=1):
        lines.append(
            f'"0085g00000K{number:04d}","{deal}","0055g00000Ar7QpAAJ","{created}","{stage}",'
            f'"30000.0","6000.0","2027-01-29","20.0","Pipeline","{created}","false"'
        )
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def _pipeline(tmp_path: Path) -> Path:
    pipeline = tmp_path / "pipeline.csv"
    pipeline.write_text(
        "Opportunity ID,Opportunity Name,Stage,Close Date\n"
        "0065g00000AbCdEAAV,Acme,Proposal/Price Quote,1/29/2027\n"
        "0065g00000ZZZZZAAA,Globex,Prospecting,3/31/2027\n",
        encoding="utf-8",
    )
    return pipeline


def test_a_data_loader_export_gives_each_deal_its_stage_changes_in_date_order(
    tmp_path: Path, pack: RulePack
) -> None:
    acme = "0065g00000AbCdEAAV"
    history = _data_loader_export(
        tmp_path / "OpportunityHistory.csv",
        [
            # out of date order, as an export sorted by something else would be
            (acme, "2026-10-01T09:00:00.000+0000", "Needs Analysis"),
            ("0065g00000AbCdE", "2026-09-03T23:59:59.000+0000", "Prospecting"),
            # an amount edit: the stage is unchanged, so it is no stage change
            (acme, "2026-10-20T10:00:00.000+0000", "needs analysis"),
            (acme, "2026-11-03T14:22:05.000+0000", "Proposal/Price Quote"),
            # moved back, and on again: both moves are kept
            (acme, "2026-11-10T08:00:00.000+0000", "Needs Analysis"),
            (acme, "2026-11-20T08:00:00.000+0000", "Proposal/Price Quote"),
        ],
    )
    source, deals = _read(_pipeline(tmp_path), pack, stage_history=history)
    first, second = (read.deal for read in deals)
    assert [(change.stage, change.entered_on) for change in first.stage_history or []] == [
        ("Prospecting", date(2026, 9, 3)),  # the 15-character id joins the same deal
        ("Needs Analysis", date(2026, 10, 1)),
        ("Proposal/Price Quote", date(2026, 11, 3)),
        ("Needs Analysis", date(2026, 11, 10)),
        ("Proposal/Price Quote", date(2026, 11, 20)),
    ]
    assert second.stage_history == []  # history was exported; this deal has none
    assert source.findings == []
    assert source.stage_changes is not None
    assert source.supply.fields >= {"stage_history"}
    (note,) = [note for note in source.mapper.notes if "stage history" in note]
    assert "6 rows read = 5 stage changes of 1 deals + 1 repeating the stage before" in note
    assert "replaces" not in note  # a Salesforce report has no stage history of its own


def test_a_report_of_opportunity_history_reads_by_its_labels(
    tmp_path: Path, pack: RulePack
) -> None:
    history = tmp_path / "history-report.csv"
    history.write_text(
        "Opportunity ID,Opportunity Name,Stage,Amount,Created Date\n"
        "0065g00000AbCdE,Acme,Qualification,30000,9/3/2026 4:05 PM\n"
        "0065g00000AbCdE,Acme,Proposal/Price Quote,30000,2026-11-03\n",
        encoding="utf-8",
    )
    _, deals = _read(_pipeline(tmp_path), pack, stage_history=history)
    assert [(c.stage, c.entered_on) for c in deals[0].deal.stage_history or []] == [
        ("Qualification", date(2026, 9, 3)),
        ("Proposal/Price Quote", date(2026, 11, 3)),
    ]


def test_a_json_export_of_opportunity_history_reads_as_the_csv_does(
    tmp_path: Path, pack: RulePack
) -> None:
    history = tmp_path / "history.json"
    history.write_text(
        json.dumps(
            [
                {
                    "OpportunityId": "0065g00000ZZZZZAAA",
                    "StageName": "Prospecting",
                    "CreatedDate": "2026-11-02T10:00:00.000+0000",
                }
            ]
        ),
        encoding="utf-8",
    )
    _, deals = _read(_pipeline(tmp_path), pack, stage_history=history)
    assert [(c.stage, c.entered_on) for c in deals[1].deal.stage_history or []] == [
        ("Prospecting", date(2026, 11, 2))
    ]


def test_rows_for_unknown_deals_and_unusable_rows_are_findings_and_every_row_is_counted(
    tmp_path: Path, pack: RulePack
) -> None:
    acme, unknown = "0065g00000AbCdEAAV", "0065g00000NOPEXYZ"
    history = _data_loader_export(
        tmp_path / "OpportunityHistory.csv",
        [
            (acme, "2026-10-01T09:00:00.000+0000", "Needs Analysis"),
            (unknown, "2026-10-02T09:00:00.000+0000", "Prospecting"),
            (unknown, "2026-10-09T09:00:00.000+0000", "Qualification"),
            (acme, "31/10/2026", "Proposal/Price Quote"),
            ("", "2026-10-03T09:00:00.000+0000", "Prospecting"),
            (acme, "2026-10-04T09:00:00.000+0000", ""),
        ],
    )
    source, deals = _read(_pipeline(tmp_path), pack, stage_history=history)
    assert [c.stage for c in deals[0].deal.stage_history or []] == ["Needs Analysis"]
    found = [(Path(f.file).name, f.row, f.column, f.issue) for f in source.findings]
    assert found == [
        ("OpportunityHistory.csv", 5, "CreatedDate", DataIssue.UNREADABLE),
        ("OpportunityHistory.csv", 6, "OpportunityId", DataIssue.MISSING_ID),
        ("OpportunityHistory.csv", 7, "StageName", DataIssue.UNREADABLE),
        ("OpportunityHistory.csv", 3, "OpportunityId", DataIssue.UNKNOWN_DEAL),
    ]
    unknown = source.findings[-1]
    assert unknown.deal_id == "0065g00000NOPEXYZ" and "(lines 3, 4)" in unknown.message
    assert "'31/10/2026' is not a calendar date" in source.findings[0].message
    assert source.stage_changes is not None
    tally = source.stage_changes.account(source.mapper._seen, "pipeline.csv")
    assert (tally.rows_read, tally.changes, tally.repeats, tally.unknown_deal) == (6, 1, 0, 2)
    assert tally.left_out == 3 and tally.balanced


def test_the_history_file_wins_over_hubspot_date_entered_columns(
    tmp_path: Path, pack: RulePack
) -> None:
    pipeline = tmp_path / "hubspot.csv"
    pipeline.write_text(
        'Record ID,Deal Name,Deal Stage,Date entered "Appointment Scheduled (Sales Pipeline)"\n'
        "101,Initech,appointmentscheduled,2026-05-01 10:00\n",
        encoding="utf-8",
    )
    history = tmp_path / "history.csv"
    history.write_text(
        "OpportunityId,StageName,CreatedDate\n"
        "101,appointmentscheduled,2026-05-01\n"
        "101,qualifiedtobuy,2026-06-01\n"
        "101,appointmentscheduled,2026-11-20\n",
        encoding="utf-8",
    )
    source, deals = _read(pipeline, pack, stage_history=history)
    assert [c.entered_on for c in deals[0].deal.stage_history or []] == [
        date(2026, 5, 1),
        date(2026, 6, 1),
        date(2026, 11, 20),  # a move back, which the columns cannot show
    ]
    assert any("replaces the export's own stage history" in note for note in source.mapper.notes)


def test_a_history_file_without_a_stage_column_is_refused_naming_its_columns(
    tmp_path: Path,
) -> None:
    history = tmp_path / "history.csv"
    history.write_text("OpportunityId,Stage_Nme,CreatedDate\n0065g00000AbCdE,x,2026-11-01\n")
    result = dealgate("audit", PIPELINE, "--stage-history", str(history), "--as-of", AS_OF)
    assert result.returncode == 2
    assert f"{history}:1: error: a stage history file needs a column StageName" in result.stderr
    assert "its columns: OpportunityId, Stage_Nme, CreatedDate" in result.stderr
    assert "did you mean 'Stage_Nme'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_report_keyed_by_deal_names_cannot_take_a_history_file(
    tmp_path: Path, pack: RulePack
) -> None:
    pipeline = tmp_path / "report.csv"
    pipeline.write_text("Opportunity Name,Stage\nAcme,Prospecting\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"stage history \(--stage-history\) joins deals by"):
        open_deals(pipeline, pack, stage_history=EXAMPLES / "salesforce-opportunity-history.csv")


def _stage_moved(report: dict[str, object]) -> dict[str, str]:
    deals = report["deals"]
    assert isinstance(deals, list)
    return {
        deal["id"]: finding["status"]
        for deal in deals
        for finding in deal["findings"]
        if finding["milestone_id"] == "HYG-STAGE-MOVED" and deal["id"] in STAGE_MOVED
    }


@pytest.mark.parametrize("pack", ["buyer-journey", "salesforce-default"])
@pytest.mark.parametrize("engine", ["durable", "sql"])
def test_the_example_history_makes_stuck_deals_measurable_on_both_engines(
    engine: str, pack: str
) -> None:
    result = dealgate(
        "audit", PIPELINE, "--stage-history", HISTORY, "--contacts",
        "examples/salesforce-contact-roles.csv", "--as-of", AS_OF, "--format", "json",
        "--include-met", "--engine", engine, "--rules", pack,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert (report["engine"], report["pack"]["id"]) == (engine, pack)
    assert _stage_moved(report) == STAGE_MOVED
    # deals without a row have an empty history: the check does not apply to them
    others = {
        finding["status"]
        for deal in report["deals"]
        if deal["id"] not in STAGE_MOVED and deal["stage"] != "Closed Won"
        for finding in deal["findings"]
        if finding["milestone_id"] == "HYG-STAGE-MOVED"
    }
    assert others == {"not_applicable"}
    assert "stage_history" not in {f["field"] for f in report["coverage"]["lacking_fields"]}
    history_findings = [
        (f["row"], f["column"], f["issue"]) for f in report["data_findings"] if f["file"] == HISTORY
    ]
    assert history_findings == [
        (31, "CreatedDate", "unreadable"),
        (20, "OpportunityId", "unknown_deal"),
    ]
    assert (
        "36 rows read = 30 stage changes of 7 deals + 3 repeating the stage before" in result.stderr
    )


def _csv_audits(*args: str) -> tuple[str, str, str]:
    """The per-finding CSV report of `--engine sql` (the columnar route when it can) and of
    `--engine durable` (the Python readers), identical, with what each said on stderr."""
    options = ("--as-of", AS_OF, "--format", "csv", "--csv-rows", "finding", "-v")
    runs = [dealgate("audit", *args, *options, "--engine", engine) for engine in ("sql", "durable")]
    sql, durable = runs
    assert sql.stdout == durable.stdout
    assert sql.returncode == durable.returncode, sql.stderr
    return sql.stdout, sql.stderr, durable.stderr


def _notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("note: stage history")]


def test_the_columnar_route_reads_the_example_history_as_the_python_readers_do() -> None:
    report, columnar, python = _csv_audits(PIPELINE, "--stage-history", HISTORY)
    assert "reading: columnar" in columnar
    assert _notes(columnar) == _notes(python) != []
    rows = csv.DictReader(io.StringIO(report))
    flagged = {row["deal_id"] for row in rows if row["milestone_id"] == "HYG-STAGE-MOVED"}
    assert flagged == {deal for deal, status in STAGE_MOVED.items() if status == "missing"}


def test_the_columnar_route_sorts_collapses_and_joins_history_rows_as_python_does(
    tmp_path: Path,
) -> None:
    pipeline = tmp_path / "pipeline.csv"
    pipeline.write_text(
        "Opportunity ID,Opportunity Name,Stage,Close Date,Amount\n"
        "0065g00000AbCdEAAV,Acme,Proposal/Price Quote,1/29/2027,1000\n"
        "0065g00000FgHiJAAV,Globex,Needs Analysis,1/29/2027,1000\n"
        "0065g00000KlMnOAAV,Initech,Needs Analysis,1/29/2027,1000\n",
        encoding="utf-8",
    )
    acme, globex = "0065g00000AbCdEAAV", "0065g00000FgHiJ"  # Globex by its 15-character id
    history = _data_loader_export(
        tmp_path / "OpportunityHistory.csv",
        [
            (acme, "2026-07-01T09:00:00.000+0000", "Needs Analysis"),
            (acme, "2026-06-03T23:59:59.000-0800", "Prospecting"),  # 4 Jun in UTC
            (
                acme,
                "2026-07-20T10:00:00.000+0000",
                "NEEDS  analysis",
            ),  # a repeat, differently cased
            (acme, "2026-07-25T10:00:00.000+0000", "Proposal/Price Quote"),
            (acme, "2026-07-25T11:00:00.000+0000", "Needs Analysis"),  # back, the same day
            (acme, "2026-08-01T08:00:00.000+0000", "Proposal/Price Quote"),
            (globex, "2026-05-05T08:00:00.000+0000", "Needs Analysis"),
            (globex, "5/32/2026", "Qualification"),  # unreadable: left out
            ("0065g00000NOPEXYZ", "2026-05-05T08:00:00.000+0000", "Prospecting"),
            ("", "2026-05-05T08:00:00.000+0000", "Prospecting"),
        ],
    )
    report, columnar, python = _csv_audits(str(pipeline), "--stage-history", str(history))
    assert "reading: columnar" in columnar
    assert _notes(columnar) == _notes(python)
    assert "10 rows read = 6 stage changes of 2 deals + 1 repeating" in _notes(python)[0]
    stuck = {
        row["deal_id"]: json.loads(row["read"])["stage_history"]
        for row in csv.DictReader(io.StringIO(report))
        if row["milestone_id"] == "HYG-STAGE-MOVED"
    }
    assert stuck == {
        "0065g00000AbCdEAAV": [
            {"entered_on": day}
            for day in ("2026-06-04", "2026-07-01", "2026-07-25", "2026-07-25", "2026-08-01")
        ],
        "0065g00000FgHiJAAV": [{"entered_on": "2026-05-05"}],
    }  # Initech has no row: its history is empty, and the check does not apply


def test_a_history_file_the_columnar_route_cannot_read_is_read_the_python_way(
    tmp_path: Path,
) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["OpportunityId", "StageName", "CreatedDate"])
    sheet.append(["0065g000003WTmlAAG", "Needs Analysis", "2026-07-14T10:45:09.000+0000"])
    history = tmp_path / "history.xlsx"
    workbook.save(history)
    report, columnar, _ = _csv_audits(PIPELINE, "--stage-history", str(history))
    assert "columnar path not taken: history.xlsx is xlsx, not CSV or Parquet" in columnar
    assert "0065g000003WTmlAAG" in {
        row["deal_id"]
        for row in csv.DictReader(io.StringIO(report))
        if row["milestone_id"] == "HYG-STAGE-MOVED"
    }


def test_without_the_history_file_coverage_says_how_salesforce_supplies_it() -> None:
    result = dealgate("audit", PIPELINE, "--as-of", AS_OF, "--format", "json")
    lacking = {f["field"]: f for f in json.loads(result.stdout)["coverage"]["lacking_fields"]}
    assert lacking["stage_history"]["milestones"] == ["HYG-STAGE-MOVED"]
    assert "--stage-history FILE" in lacking["stage_history"]["how"]


def test_deals_inspect_names_the_history_file_of_each_finding() -> None:
    result = dealgate(
        "deals", "inspect", PIPELINE, "--stage-history", HISTORY, "--limit", "0"
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "salesforce-opportunity-history.csv: CreatedDate" in result.stdout
    assert "36 rows read = 30 stage changes of 7 deals" in " ".join(result.stdout.split())


def test_the_crm_mapping_page_lists_every_header_a_history_file_is_read_by() -> None:
    from dealgate.deals.opportunity_history import HISTORY_COLUMNS

    page = (ROOT / "docs" / "crm-mapping.md").read_text(encoding="utf-8")
    section = page.split("### Stage history from Salesforce")[1].split("\n## ")[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("| the "))
    listed = {header.casefold() for header in re.findall(r"`([^`]+)`", table)}
    for aliases in HISTORY_COLUMNS.values():
        assert set(aliases) <= listed, set(aliases) - listed


def test_rules_validate_against_an_export_counts_the_history_file_as_supplying_it() -> None:
    pack = "rules/buyer-journey.yaml"
    without = dealgate("rules", "validate", pack, "--against", PIPELINE)
    assert without.returncode == 1 and "stage_history (HYG-STAGE-MOVED)" in without.stdout
    contacts = ("--contacts", "examples/salesforce-contact-roles.csv")
    given = dealgate(
        "rules", "validate", pack, "--against", PIPELINE, *contacts, "--stage-history", HISTORY
    )
    assert given.returncode == 0, given.stdout + given.stderr
    assert "supplies every field pack buyer-journey reads" in given.stdout


def test_init_from_a_salesforce_export_keeps_the_stuck_deal_check_with_the_history(
    tmp_path: Path,
) -> None:
    folder, plain_folder = tmp_path / "with" / "rules", tmp_path / "without" / "rules"
    export = str(ROOT / PIPELINE)
    result = dealgate(
        "init", "--dir", str(folder), "--from", export, "--stage-history", str(ROOT / HISTORY)
    )
    assert result.returncode == 0, result.stderr
    assert "HYG-STAGE-MOVED" not in (folder / "my-team.yaml").read_text(encoding="utf-8")
    plain = dealgate("init", "--dir", str(plain_folder), "--from", export)
    assert plain.returncode == 0, plain.stderr
    assert "HYG-STAGE-MOVED" in (plain_folder / "my-team.yaml").read_text(encoding="utf-8")


# Deal ids in both of Salesforce's forms, stages spelt as reps and admins spell them (a key
# that casefolds alike, ß and SS), and dates as exports write them, unreadable ones included.
_SHORTS = ("0065g00000AbCdE", "0065g00000xYz12", "a0B5g00000QqQqq")
_IDS = [form for short in _SHORTS for form in (short, short + _salesforce_suffix(short))]
_STAGES = ("Prospecting", " prospecting ", "Needs  Analysis", "needs analysis", "Straße", "STRASSE")
_DATES = (
    "2026-09-01T09:00:00.000+0000",
    "2026-09-01T23:30:00.000-0800",  # 2 Sep in UTC
    "9/2/2026 9:05 AM",
    "2026-09-02",
    "2026-08-15",
    "31/12/2026",  # unreadable in a month-first export
    "",
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_columnar_history_is_the_python_readers_history(
    data: st.DataObject, tmp_path: Path, pack: RulePack
) -> None:
    import duckdb

    from dealgate.columnar.canonical import CanonicalQuery, Export, install
    from dealgate.deals.profiles import CANONICAL
    from dealgate.engines.sql import ROW

    deals = data.draw(st.lists(st.sampled_from(_IDS), min_size=1, max_size=4))
    rows = data.draw(
        st.lists(
            st.tuples(st.sampled_from(_IDS), st.sampled_from(_STAGES), st.sampled_from(_DATES)),
            max_size=12,
        )
    )
    export = tmp_path / "deals.csv"
    export.write_text("id\n" + "".join(f"{deal}\n" for deal in deals), encoding="utf-8")
    history = tmp_path / "history.csv"
    with history.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows([["OpportunityId", "StageName", "CreatedDate"], *rows])
    _, read = _read(export, pack, profile="canonical", stage_history=history)  # type: ignore[arg-type]
    expected = [
        (deal.deal.id, [(c.stage, c.entered_on) for c in deal.deal.stage_history or []])
        for deal in read
    ]
    query = CanonicalQuery(
        pack,
        CANONICAL,
        Export(export, ["id"]),
        None,
        Export(history, ["OpportunityId", "StageName", "CreatedDate"]),
    )
    connection = duckdb.connect()
    install(connection)
    query.read_keys(connection)
    joined = connection.execute(
        f"{query.sql()} SELECT id, stage_history FROM dg_deals ORDER BY {ROW}"
    ).fetchall()
    assert [
        (deal, [(c["stage"], c["entered_on"]) for c in changes]) for deal, changes in joined
    ] == expected
