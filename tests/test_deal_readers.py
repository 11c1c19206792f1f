"""Real files in real formats and encodings, read into canonical deals with positions."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dealgate.deals.model import ReadDeal
from dealgate.deals.source import DealSource, open_deals
from dealgate.errors import InputError, UsageError
from dealgate.findings import DataIssue
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack

SALESFORCE_REPORT = (
    "Opportunity ID,Opportunity Name,Account Name,Opportunity Owner,Stage,Amount,Close Date,"
    "Next Step,Economic Buyer Met On,Pain\n"
    '0065g00000AbCdEAAV,Acme - Platform,Acme,Ada Ng,Needs Analysis,"$12,500.00",12/15/2026,'
    "Demo with CFO,11/02/2026,Month-end close takes 9 days\n"
    "0065g00000AbCdXYZW,Globex - Renewal,Globex,Bo Li,Proposal/Price Quote,1.2k,next week,"
    "TBD,13/40/2026,\n"
)


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack("buyer-journey", PackCatalog(include_bundled=True, cwd=Path("/nonexistent")))


def _read(path: Path, pack: RulePack, **options: object) -> tuple[DealSource, list[ReadDeal]]:
    source = open_deals(path, pack, **options)  # type: ignore[arg-type]
    return source, list(source)


def _findings(source: DealSource) -> list[tuple[int | None, str | None, str]]:
    return [(f.row, f.column, f.message) for f in source.findings]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b""), ("utf-16-le", b"\xff\xfe")],
)
def test_salesforce_report_csv_in_every_encoding_excel_writes(
    tmp_path: Path, pack: RulePack, encoding: str, bom: bytes
) -> None:
    rows = list(csv.reader(io.StringIO(SALESFORCE_REPORT.replace("Acme -", "Acmé \u2013"))))
    delimiter = "\t" if encoding == "utf-16-le" else ","
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    text = buffer.getvalue()
    path = tmp_path / "report.csv"
    path.write_bytes(bom + text.encode(encoding))
    source, deals = _read(path, pack)
    assert source.profile.name == "salesforce"
    assert source.table.delimiter == ("\t" if encoding == "utf-16-le" else ",")
    first = deals[0].deal
    assert first.name == "Acmé \u2013 Platform"  # an en dash, in every encoding
    assert first.amount == Decimal("12500.00")
    assert first.currency == "USD"
    assert first.close_date == date(2026, 12, 15)
    assert first.custom["economic_buyer_met_on"] == date(2026, 11, 2)  # declared as a date
    assert first.custom["pain"] == "Month-end close takes 9 days"
    assert deals[0].stage_id == "discover"
    assert deals[0].location.line == 2


def test_bad_values_become_findings_with_row_and_column(tmp_path: Path, pack: RulePack) -> None:
    path = tmp_path / "report.csv"
    path.write_text(SALESFORCE_REPORT, encoding="utf-8")
    source, deals = _read(path, pack)
    assert len(deals) == 2
    second = deals[1].deal
    assert (second.amount, second.close_date, second.next_step) == (None, None, None)
    assert _findings(source) == [
        (3, "Amount", "unreadable amount '1.2k': read as missing"),
        (
            3,
            "Close Date",
            "unreadable date 'next week' (expected YYYY-MM-DD or M/D/YYYY): read as missing",
        ),
        (3, "Next Step", "placeholder 'TBD' read as missing"),
        (
            3,
            "Economic Buyer Met On",
            "'13/40/2026' is not a calendar date (read as M/D/YYYY): read as missing",
        ),
    ]
    assert {f.deal_id for f in source.findings} == {"0065g00000AbCdXYZW"}


def test_multi_line_cells_keep_the_starting_line_number(tmp_path: Path, pack: RulePack) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(
        "id;name;stage;next_step;close_date\n"
        'D-1;"Acme\nrenewal";qualify;"Call\nCFO";2026-12-01\n'
        "D-2;Globex;discover;Demo;someday\n",
        encoding="utf-8",
    )
    source, deals = _read(path, pack)
    assert source.table.delimiter == ";"
    assert source.profile.name == "canonical"
    assert [d.location.line for d in deals] == [2, 5]
    assert deals[0].deal.name == "Acme\nrenewal"
    assert _findings(source)[0][:2] == (5, "close_date")


def test_duplicate_ids_match_salesforce_15_and_18_character_forms(
    tmp_path: Path, pack: RulePack
) -> None:
    path = tmp_path / "dups.csv"
    path.write_text(
        "Opportunity ID,Opportunity Name,Stage\n"
        "0065g00000AbCdEAAV,Acme,Prospecting\n"
        ",No id,Prospecting\n"
        "0065g00000AbCdE,Acme again,Prospecting\n"
        "  N/A ,Placeholder id,Prospecting\n",
        encoding="utf-8",
    )
    source, deals = _read(path, pack)
    assert [d.deal.id for d in deals] == ["0065g00000AbCdEAAV", "0065g00000AbCdE"]
    duplicate = [f for f in source.findings if f.issue is DataIssue.DUPLICATE_ID]
    assert [(f.row, f.message) for f in duplicate] == [
        (4, "duplicate deal id '0065g00000AbCdE' (first at row 2); both are read")
    ]
    rejected = [(row.row, row.reason) for row in source.mapper.rejected]
    assert rejected == [
        (3, "no usable deal id (column 'Opportunity ID' is empty)"),
        (5, "no usable deal id (column 'Opportunity ID' is empty)"),
    ]
    counts = source.mapper.reconciliation
    assert (counts.rows_read, counts.deals_read, counts.rows_rejected) == (4, 2, 2)
    assert counts.balanced


def test_unknown_stage_is_a_finding_and_the_deal_is_kept(tmp_path: Path, pack: RulePack) -> None:
    path = tmp_path / "stages.csv"
    path.write_text("id,stage\nD-1,Stalled\nD-2,\nD-3,closedwon\n", encoding="utf-8")
    source, deals = _read(path, pack)
    assert [d.stage_id for d in deals] == [None, None, "closed_won"]
    assert _findings(source) == [
        (
            2,
            "stage",
            "stage 'Stalled' is not a stage of pack 'buyer-journey': only the hygiene checks apply",
        ),
        (3, "stage", "no stage: only the hygiene checks apply"),
    ]


def test_xlsx_typed_cells_first_sheet_or_named_sheet(tmp_path: Path, pack: RulePack) -> None:
    path = tmp_path / "pipeline.xlsx"
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes.append(["Exported from HubSpot"])
    deals_sheet = workbook.create_sheet("Deals")
    deals_sheet.append([])
    deals_sheet.append(
        [
            "Record ID",
            "Deal Name",
            "Deal Stage",
            "Amount",
            "Close Date",
            "Create Date",
            "Deal owner",
        ]
    )
    deals_sheet.append(
        [
            1234567,
            "Initech - Pilot",
            "Qualified To Buy",
            48000.5,
            datetime(2026, 12, 31, 0, 0),
            "2026-10-01 09:12",
            "Ada Ng",
        ]
    )
    deals_sheet.append([1234568, "Hooli", "contractsent", "TBD", None, None, None])
    workbook.save(path)
    with pytest.raises(InputError, match="no column is read as the deal id"):
        open_deals(path, pack)  # the first sheet holds notes, not deals
    source, deals = _read(path, pack, sheet="Deals")
    assert source.profile.name == "hubspot"
    assert [d.location.line for d in deals] == [3, 4]
    first = deals[0].deal
    assert first.id == "1234567"
    assert first.amount == Decimal("48000.5")
    assert first.close_date == date(2026, 12, 31)
    assert first.created_date == date(2026, 10, 1)
    assert [d.stage_id for d in deals] == ["discover", "contract"]
    assert _findings(source) == [(4, "Amount", "placeholder 'TBD' read as missing")]


def test_missing_sheet_is_a_usage_error(tmp_path: Path, pack: RulePack) -> None:
    path = tmp_path / "book.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(UsageError, match="no sheet 'Deals'"):
        open_deals(path, pack, sheet="Deals")


def test_salesforce_rest_json_with_nested_records(tmp_path: Path, pack: RulePack) -> None:
    path = tmp_path / "query.json"
    path.write_text(
        json.dumps(
            {
                "totalSize": 2,
                "done": True,
                "records": [
                    {
                        "attributes": {"type": "Opportunity"},
                        "Id": "006i000000EtpkyAAB",
                        "Name": "Edge SLA",
                        "Owner": {"attributes": {}, "Name": "Paula Gates"},
                        "Account": {"Name": "Edge"},
                        "StageName": "Negotiation/Review",
                        "Amount": 60000.0,
                        "Probability": 90,
                        "CloseDate": "2014-08-15",
                        "CreatedDate": "2013-12-20T04:13:07.000+0000",
                    },
                    {
                        "attributes": {"type": "Opportunity"},
                        "Name": "No id here",
                        "StageName": "Closed Won",
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    source, deals = _read(path, pack)
    assert source.profile.name == "salesforce"
    deal = deals[0].deal
    assert (deal.owner, deal.account, deal.amount) == ("Paula Gates", "Edge", Decimal("60000.0"))
    assert deal.created_date == date(2013, 12, 20)
    assert deals[0].path == "records[0]"
    assert [(r.path, r.reason) for r in source.mapper.rejected] == [
        ("records[1]", "no usable deal id ('Id' is missing or empty)")
    ]


def test_yaml_deal_files_give_lines_and_paths(tmp_path: Path, pack: RulePack) -> None:
    path = tmp_path / "deals.yaml"
    path.write_text(
        "deals:\n"
        "  - id: D-1\n"
        "    stage: validate\n"
        "    close_date: 2027-01-31\n"
        "    contacts:\n"
        "      - {name: Ada Ng, title: CFO, role: Economic Buyer, is_primary: yes}\n"
        "  - id: D-2\n"
        "    stage: discover\n"
        "    close_date: soon\n"
        "    champion_tested_on: 2026-10-01\n",
        encoding="utf-8",
    )
    source, deals = _read(path, pack)
    first = deals[0].deal
    assert first.contacts is not None and first.contacts[0].is_primary is True
    assert first.action_plan is None  # not given: unknown, not empty
    assert deals[1].deal.custom["champion_tested_on"] == date(2026, 10, 1)
    finding = source.findings[0]
    assert (finding.row, finding.path, finding.deal_id) == (9, "deals[1].close_date", "D-2")


def test_single_deal_yaml(tmp_path: Path, pack: RulePack) -> None:
    path = tmp_path / "deal.yaml"
    path.write_text("id: D-9\nstage: Negotiation/Review\namount: 50000\n", encoding="utf-8")
    _, deals = _read(path, pack)
    assert deals[0].deal.amount == Decimal(50000)
    assert deals[0].stage_id == "negotiate"


def test_jsonl_bad_line_is_rejected_not_fatal(tmp_path: Path, pack: RulePack) -> None:
    path = tmp_path / "deals.jsonl"
    path.write_text(
        '{"id": "D-1", "stage": "qualify"}\n{"id": "D-2", \n\n{"id": "D-3", "amount": "$5"}\n',
        encoding="utf-8",
    )
    source, deals = _read(path, pack)
    assert [d.deal.id for d in deals] == ["D-1", "D-3"]
    assert [(r.row, r.reason) for r in source.mapper.rejected] == [
        (
            2,
            "invalid JSON: Expecting property name enclosed in double quotes; no deal could "
            "be read",
        )
    ]
    assert deals[1].location.line == 4


def test_parquet_with_nested_lists(tmp_path: Path, pack: RulePack) -> None:
    path = tmp_path / "deals.parquet"
    table = pa.table(
        {
            "id": ["D-1", "D-2"],
            "stage": ["propose", "qualify"],
            "amount": [pa.scalar(Decimal("1200.50"), pa.decimal128(12, 2)).as_py(), None],
            "close_date": [date(2026, 12, 1), None],
            "contacts": [[{"name": "Ada", "role": "Champion"}], []],
        }
    )
    pq.write_table(table, path)
    source, deals = _read(path, pack)
    assert deals[0].deal.amount == Decimal("1200.50")
    assert deals[0].deal.contacts is not None and deals[0].deal.contacts[0].role == "Champion"
    assert deals[1].deal.contacts == []
    assert [d.location.line for d in deals] == [1, 2]
    assert source.findings == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("deals.xls", b"\xd0\xcf\x11\xe0", "the old Excel .xls format is not read"),
        ("deals.pdf", b"%PDF", "unknown file type '.pdf'"),
        ("deals.json", b"{not json", "invalid JSON"),
        ("deals.xlsx", b"not a zip", "not a readable Excel workbook"),
        ("deals.parquet", b"nope", "not a readable Parquet file"),
        ("deals.csv", b"\n\n", "the file is empty or its first line is blank"),
    ],
)
def test_unusable_files_are_input_errors(
    tmp_path: Path, pack: RulePack, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        list(open_deals(path, pack))


def test_utf8_file_with_a_bad_byte_deep_inside_names_the_line(
    tmp_path: Path, pack: RulePack
) -> None:
    path = tmp_path / "big.csv"
    rows = "".join(f"D-{n},qualify\n" for n in range(60_000))
    path.write_bytes(b"id,stage\n" + rows.encode() + b"D-x,caf\xe9\n")
    # sniffed as UTF-8: the stray byte is read as cp1252, a finding naming the line (issue 14)
    source, deals = _read(path, pack)
    assert deals[-1].deal.stage == "café"
    assert [(f.row, f.column) for f in source.findings if "not UTF-8" in f.message] == [
        (60002, "stage")
    ]
    with pytest.raises(InputError, match="line 60002 is not valid utf-8 text"):
        list(open_deals(path, pack, encoding="utf-8"))  # UTF-8 asked for: refused
    deals = list(open_deals(path, pack, encoding="cp1252"))
    assert deals[-1].deal.stage == "café"


def test_undeclared_yaml_values_are_read_in_the_languages_kinds(
    tmp_path: Path, pack: RulePack
) -> None:
    path = tmp_path / "deal.yaml"
    path.write_text(
        "id: D-1\nstage: discover\ndiscount: 12.5\nmet_at: 2026-01-01T23:30:00-05:00\n"
        "notes: [' call back ', 2.5, TBD]\n",
        encoding="utf-8",
    )
    source, deals = _read(path, pack)
    custom = deals[0].deal.custom
    assert custom["discount"] == Decimal("12.5")  # exact, as from JSON, XLSX and Parquet
    assert custom["met_at"] == date(2026, 1, 2)  # a datetime is its UTC date
    assert custom["notes"] == ["call back", Decimal("2.5"), None]
    assert [f.message for f in source.findings] == ["placeholder 'TBD' read as missing"]


def test_declared_lists_and_records_are_typed_item_by_item(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(
        "pack: typed\nfields:\n"
        "  stakeholders: {type: list, fields: {name: text, met_on: date, score: number}}\n"
        "  sponsor: {type: record, fields: {name: text, since: date}}\n"
        "stages: [{id: open}]\n",
        encoding="utf-8",
    )
    typed = load_pack(tmp_path / "pack.yaml", PackCatalog([tmp_path], include_bundled=False))
    path = tmp_path / "deals.csv"
    path.write_text(
        "id,stage,stakeholders,sponsor\n"
        'D-1,open,"[{""name"": ""TBD"", ""met_on"": ""2026-11-02"", ""score"": ""4""}]",'
        '"{""name"": ""Ada"", ""since"": ""someday""}"\n',
        encoding="utf-8",
    )
    source, deals = _read(path, typed)
    custom = deals[0].deal.custom
    assert custom["stakeholders"] == [{"met_on": date(2026, 11, 2), "score": Decimal(4)}]
    assert custom["sponsor"] == {"name": "Ada"}
    assert [(f.column, f.message) for f in source.findings] == [
        ("stakeholders", "placeholder 'TBD' read as missing"),
        ("sponsor", "unreadable date 'someday' (expected YYYY-MM-DD or M/D/YYYY): read as missing"),
    ]
