"""Hostile CSV exports (issue 14): each is read with nothing lost, or refused naming the line.

Every row read is a deal or a rejected row with its reason, a bad value is a data finding,
and the reconciliation stays balanced; the columnar route (DuckDB) gives the report the
Python route gives, or steps aside for it and says why with -v.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from command import dealgate
from dealgate.deals.profiles import HUBSPOT, detect_profile
from dealgate.deals.readers import _unique_headers
from dealgate.deals.source import open_deals
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack

AS_OF = ("--as-of", "2026-11-27")
HEADER = "Opportunity ID,Opportunity Name,Stage\n"
FIELD_LIMIT = 131_072  # Python's csv.field_size_limit(), the longest cell read
PYTHON_ROUTE = "reading: Python readers (columnar path not taken: "


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack("buyer-journey", PackCatalog(include_bundled=True, cwd=Path("/nonexistent")))


def _audit_json(path: Path, *options: str) -> tuple[dict[str, Any], int, str]:
    done = dealgate("audit", str(path), *AS_OF, "--format", "json", *options)
    assert "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout), done.returncode, done.stderr


def _same_on_both_routes(path: Path, reason: str, *options: str) -> str:
    """The CSV report of the columnar route (which steps aside, saying why) is the Python one."""
    asked = (
        "audit",
        str(path),
        *AS_OF,
        "--format",
        "csv",
        "-v",
        "--unmeasured-as-missing",
        *options,
    )
    sql = dealgate(*asked, "--engine", "sql")
    durable = dealgate(*asked, "--engine", "durable")
    assert PYTHON_ROUTE in sql.stderr, sql.stderr
    assert reason in sql.stderr, sql.stderr
    assert sql.stdout == durable.stdout
    assert sql.returncode == durable.returncode
    return sql.stdout


# -- 1. a quote left open ---------------------------------------------------------------


def test_an_unterminated_quote_rejects_its_row_and_reads_the_rows_it_swallowed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "open-quote.csv"
    path.write_text(
        HEADER + '0061,a,Needs Analysis\n0062,"b,Needs Analysis\n0063,c,Needs Analysis\n'
        "0064,d,Needs Analysis\n",
        encoding="utf-8",
    )
    document, code, _ = _audit_json(path)
    counts = document["reconciliation"]
    assert (counts["rows_read"], counts["deals_read"], counts["rows_rejected"]) == (4, 3, 1)
    assert counts["balanced"] is True
    (rejected,) = document["rejected_rows"]
    assert rejected["row"] == 3
    assert "quote opened on line 3" in rejected["reason"]
    assert "lines 4-5" in rejected["reason"]
    assert code == 0
    _same_on_both_routes(path, "unterminated quote")


def test_an_open_quote_past_csvs_field_limit_is_recovered_too(tmp_path: Path) -> None:
    """Beyond 131,072 characters csv stops mid-record; the swallowed rows are still read."""
    rows = [f"{n:06d},deal {n},Needs Analysis\n" for n in range(8000)]
    rows[10] = '000010,"deal 10,Needs Analysis\n'
    path = tmp_path / "open-quote-long.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    document, _, _ = _audit_json(path)
    counts = document["reconciliation"]
    assert (counts["rows_read"], counts["deals_read"], counts["rows_rejected"]) == (8000, 7999, 1)
    assert counts["balanced"] is True
    assert document["rejected_rows"][0]["row"] == 12


def test_a_quoted_cell_over_several_lines_is_still_one_cell(tmp_path: Path, pack: RulePack) -> None:
    path = tmp_path / "notes.csv"
    path.write_text(
        HEADER.replace("\n", ",Next Step\n")
        + '0061,a,Needs Analysis,"Call the CFO\nthen demo, pilot, legal"\n'
        + "0062,b,Needs Analysis,\n",
        encoding="utf-8",
    )
    source = open_deals(path, pack)
    deals = list(source)
    assert [d.deal.id for d in deals] == ["0061", "0062"]
    assert deals[0].deal.next_step == "Call the CFO\nthen demo, pilot, legal"
    assert source.mapper.rejected == []


# -- 2. one row of cp1252 in a UTF-8 file --------------------------------------------------


@pytest.mark.parametrize("rows", [20, 5_000], ids=["near-the-top", "past-the-first-megabyte"])
def test_a_stray_cp1252_row_is_read_by_fallback_with_a_finding(
    tmp_path: Path, pack: RulePack, rows: int
) -> None:
    filler = "x" * 250  # 5,000 rows make 1.3 MB: the stray row is past the sniffed megabyte
    lines = [f"{n:06d},Müller {n},Needs Analysis,{filler}\n".encode() for n in range(rows)]
    stray = rows - 2
    lines[stray] = f"{stray:06d},M\xfcller {stray},Needs Analysis,{filler}\n".encode("cp1252")
    path = tmp_path / "mixed.csv"
    path.write_bytes(HEADER.replace("\n", ",Next Step\n").encode() + b"".join(lines))
    assert (path.stat().st_size > 1024 * 1024) is (rows > 20)
    source = open_deals(path, pack)
    deals = list(source)
    assert len(deals) == rows
    assert deals[0].deal.name == "Müller 0"
    assert deals[stray].deal.name == f"Müller {stray}"
    assert deals[-1].deal.name == f"Müller {stray + 1}"
    (finding,) = [f for f in source.findings if "not UTF-8" in f.message]
    assert (finding.row, finding.column) == (stray + 2, "Opportunity Name")
    assert any("read as cp1252" in note for note in source.mapper.notes)
    document, code, said = _audit_json(path)
    assert document["reconciliation"]["balanced"] is True
    assert code in (0, 1)
    assert "read as cp1252" in said
    assert any(f["row"] == stray + 2 for f in document["data_findings"])


def test_a_cp1252_file_is_still_read_as_cp1252(tmp_path: Path, pack: RulePack) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes((HEADER + "0061,Müller,Needs Analysis\n").encode("cp1252"))
    source = open_deals(path, pack)
    assert [d.deal.name for d in source] == ["Müller"]
    assert source.table.encoding == "cp1252"
    assert source.findings[:1] == [] or "not UTF-8" not in source.findings[0].message


# -- 3. a cell over csv's field limit -------------------------------------------------------


def test_a_cell_over_the_field_limit_is_dropped_and_the_row_kept(
    tmp_path: Path, pack: RulePack
) -> None:
    long = "x" * (FIELD_LIMIT + 10)
    path = tmp_path / "long-cell.csv"
    path.write_text(
        HEADER.replace("\n", ",Next Step\n")
        + "0061,a,Needs Analysis,short\n"
        + f'0062,b,Needs Analysis,"{long}"\n'
        + "0063,c,Needs Analysis,short\n",
        encoding="utf-8",
    )
    source = open_deals(path, pack)
    deals = list(source)
    assert [d.deal.id for d in deals] == ["0061", "0062", "0063"]
    assert deals[1].deal.next_step is None
    (finding,) = [f for f in source.findings if "dropped" in f.message]
    assert (finding.row, finding.column) == (3, "Next Step")
    assert f"{FIELD_LIMIT + 10:,} characters" in finding.message
    _same_on_both_routes(path, "CSV Error")


def test_a_header_cell_over_the_field_limit_refuses_the_file(tmp_path: Path) -> None:
    path = tmp_path / "long-header.csv"
    path.write_text(f"Opportunity ID,{'H' * (FIELD_LIMIT + 1)}\n0061,a\n", encoding="utf-8")
    done = dealgate("audit", str(path), *AS_OF)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "a header cell is longer than 131,072 characters" in done.stderr
    assert "long-header.csv" in done.stderr


# -- 6. profile detection -------------------------------------------------------------------


def test_a_salesforce_header_wins_a_tie_with_a_canonical_one(tmp_path: Path) -> None:
    assert detect_profile(["Opportunity ID", "Stage", "Contacts"])[0].name == "salesforce"
    assert detect_profile(["id", "stage", "contacts"])[0].name == "canonical"
    path = tmp_path / "tie.csv"
    path.write_text("Opportunity ID,Stage,Contacts\n0061,Needs Analysis,\n", encoding="utf-8")
    document, code, _ = _audit_json(path)
    assert code in (0, 1)  # 1: the deal misses milestones the pack requires
    assert document["input"]["profile"] == "salesforce"


# -- 4, 5. headers in their thousands, a header line of megabytes --------------------------


def test_twenty_thousand_duplicate_headers_are_named_in_linear_time() -> None:
    headers = _unique_headers(["Stage"] * 20_000 + ["Stage (2)", ""])
    assert headers[:3] == ["Stage", "Stage (2)", "Stage (3)"]
    assert headers[19_999] == "Stage (20000)"
    assert headers[20_000] == "Stage (2) (2)"
    assert headers[-1] == "column 20002"
    assert len(set(headers)) == len(headers)


def test_a_header_line_of_ten_megabytes_is_refused_early(tmp_path: Path) -> None:
    path = tmp_path / "huge-header.csv"
    path.write_text(",".join(["Opportunity ID", *["h"] * 5_000_000]) + "\n0061\n")
    done = dealgate("audit", str(path), *AS_OF)
    assert done.returncode == 2
    assert "header line is longer than 1,048,576 characters" in done.stderr
    assert "Traceback" not in done.stderr


# -- 7. HubSpot's stage-history headers ----------------------------------------------------


def test_a_300_kb_hubspot_header_is_read_in_linear_time(tmp_path: Path) -> None:
    """Three stage-history headers of 120,000 characters (each under csv's field limit):
    the regex took 16 s for each (and ran several times per header); now milliseconds."""
    longs = ['Date entered "' + f"{letter} (" * 40_000 + '"' for letter in "abc"]
    quoted = ",".join(f'"{long.replace(chr(34), 2 * chr(34))}"' for long in longs)
    path = tmp_path / "hubspot.csv"
    path.write_text(f"Record ID,Deal Name,Deal Stage,{quoted}\n1,a,appointmentscheduled,,,\n")
    assert path.stat().st_size > 300_000
    started = time.monotonic()
    assert [HUBSPOT.stage_entered_of(long) for long in longs] == [long[14:-1] for long in longs]
    assert time.monotonic() - started < 10  # a generous bound: quadratic took minutes
    document, code, _ = _audit_json(path, "--rules", "hubspot-default")
    assert code in (0, 1)
    assert document["input"]["profile"] == "hubspot"
    for header in (
        'Date entered "Appointment Scheduled (Sales Pipeline)"',
        'Date entered "A (b) (c)"',
        'Date entered "x"',
        'Date entered ""',
        'Date entered "a\nb (c)"',
    ):
        match = HUBSPOT.stage_entered[1].fullmatch(header)
        assert HUBSPOT.stage_entered_of(header) == (match.group("stage") if match else None)


# -- 8. ten thousand columns ----------------------------------------------------------------


def test_ten_thousand_columns_audit_on_both_routes_alike(tmp_path: Path) -> None:
    extra = [f"Field {n}" for n in range(10_000 - 3)]
    path = tmp_path / "wide.csv"
    lines = [",".join(["Opportunity ID", "Opportunity Name", "Stage", *extra])]
    for n in range(20):
        lines.append(",".join([f"{n:04d}", f"deal {n}", "Needs Analysis", *["v"] * len(extra)]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = _same_on_both_routes(path, "10,000 columns, over the 1,000")
    assert re.search(r"^0000,", report, re.MULTILINE)


# -- numbers longer than any amount -------------------------------------------------------


def test_an_amount_of_5000_digits_is_missing_on_the_columnar_route_as_on_the_python_one(
    tmp_path: Path,
) -> None:
    # More than MAX_WHOLE_DIGITS (28) whole digits is not read, by the Python readers and by
    # DuckDB's macros alike (it used to be read as a number there, or to crash DuckDB and
    # step aside); 28 digits, and leading zeros, are read.
    path = tmp_path / "long-amounts.csv"
    path.write_text(
        "Opportunity ID,Opportunity Name,Stage,Amount,Close Date\n"
        f"0061,huge,Needs Analysis,{'9' * 5000},2026-12-20\n"
        f"0062,just over,Needs Analysis,${'1' + '0' * 28},2026-12-20\n"
        f"0063,longest,Needs Analysis,{'9' * 28},2026-12-20\n"
        f"0064,zeros,Needs Analysis,{'0' * 40}1200,2026-12-20\n"
        f'0065,grouped,Needs Analysis,"{"9" * 5000}.50 EUR",2026-12-20\n',
        encoding="utf-8",
    )
    asked = ("audit", str(path), *AS_OF, "--format", "csv", "--csv-rows", "finding", "-v")
    sql = dealgate(*asked, "--engine", "sql")
    durable = dealgate(*asked, "--engine", "durable")

    assert "reading: columnar (DuckDB reads and judges the CSV)" in sql.stderr, sql.stderr
    assert sql.stdout == durable.stdout
    assert sql.returncode == durable.returncode
    unread = {line.split(",")[0] for line in sql.stdout.splitlines() if "HYG-AMOUNT" in line}
    assert unread == {"0061", "0062", "0065"}
    report, _, _ = _audit_json(path)  # the Python route says why
    said = {f["deal_id"]: f["message"] for f in report["data_findings"]}
    assert set(said) == unread
    assert all("more than 28 digits is not read" in message for message in said.values())


# -- a stray cp1252 row in a side file (--teams, --contacts, a mapping's joins) -------------

PIPELINE = (
    "Opportunity ID,Opportunity Name,Stage,Opportunity Owner,Account Name\n"
    "0061,First,Needs Analysis,Sam Patel,Cancity\n"
    "0062,Second,Needs Analysis,Jörg Weiß,Isdom\n"
)


def _mixed(path: Path, lines: list[str], stray: int) -> Path:
    """A UTF-8 file whose line `stray` (0 = the header) is written in cp1252. The other
    lines hold more accented letters than it does, so the file is taken for UTF-8."""
    data = [line.encode("cp1252" if n == stray else "utf-8") for n, line in enumerate(lines)]
    path.write_bytes(b"".join(data))
    return path


def test_a_stray_cp1252_row_in_a_teams_file_is_a_data_finding(tmp_path: Path) -> None:
    export = tmp_path / "pipeline.csv"
    export.write_text(PIPELINE, encoding="utf-8")
    lines = ["Owner,Manager\n", "Sam Patel,Dana Müller\n", "Jörg Weiß,Zoë Brandt\n"]
    lines += [f"Rep {n},Günther Östlund\n" for n in range(3)]
    teams = _mixed(tmp_path / "teams.csv", lines, stray=2)

    document, _, _ = _audit_json(export, "--teams", str(teams))

    managers = {deal["id"]: deal["manager"] for deal in document["deals"]}
    assert managers == {"0061": "Dana Müller", "0062": "Zoë Brandt"}
    found = [f for f in document["data_findings"] if f["file"] == str(teams)]
    assert [(f["row"], f["message"]) for f in found] == [
        (3, "not UTF-8: read as cp1252 ('Jörg Weiß')"),
        (3, "not UTF-8: read as cp1252 ('Zoë Brandt')"),
    ]
    assert [f["column"] for f in found] == ["Owner", "Manager"]


def test_a_stray_cp1252_row_in_a_contact_roles_file_is_a_data_finding(
    tmp_path: Path, pack: RulePack
) -> None:
    export = tmp_path / "pipeline.csv"
    export.write_text(PIPELINE, encoding="utf-8")
    lines = [
        "OpportunityId,Contact: Full Name,Title,Role\n",
        "0061,Ana Lima,CFO,Economic Buyer\n",
        "0062,Renée Dubois,Directrice,Champion\n",
        "0061,Zoë Müller,Bereichsleiterin Einkäufe,Decision Maker\n",
    ]
    roles = _mixed(tmp_path / "roles.csv", lines, stray=2)

    source = open_deals(export, pack, contacts=roles)
    deals = {read.deal.id: read.deal for read in source}

    assert [c.name for c in deals["0062"].contacts] == ["Renée Dubois"]
    assert [c.name for c in deals["0061"].contacts] == ["Ana Lima", "Zoë Müller"]
    found = [f for f in source.findings if f.file == str(roles)]
    assert [(f.row, f.column, f.deal_id) for f in found] == [(3, "Contact: Full Name", "0062")]
    assert all(f.message.startswith("not UTF-8: read as cp1252") for f in found)


def test_a_stray_cp1252_row_in_a_joined_side_table_is_a_data_finding_of_its_deal(
    tmp_path: Path, pack: RulePack
) -> None:
    export = tmp_path / "pipeline.csv"
    export.write_text(PIPELINE, encoding="utf-8")
    lines = ["account,sector\n", "Cancity,Büroküche\n", "Isdom,Gesundheitsw\xe4chter\n"]
    _mixed(tmp_path / "accounts.csv", lines, stray=2)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "mapping: joined\nprofile: salesforce\njoins:\n  - file: accounts.csv\n"
        "    on: {Account Name: account}\n    columns: {sector: sector}\n",
        encoding="utf-8",
    )

    source = open_deals(export, pack, mapping=mapping)
    deals = {read.deal.id: read.deal for read in source}

    assert deals["0062"].custom["sector"] == "Gesundheitswächter"
    (finding,) = [f for f in source.findings if "not UTF-8" in f.message]
    assert (finding.file, finding.row, finding.deal_id) == (str(export), 3, "0062")
    assert finding.column == "accounts.csv:sector"
    assert finding.message.startswith("accounts.csv line 3: not UTF-8: read as cp1252")
