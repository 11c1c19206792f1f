"""The columnar audit (DuckDB from the CSV file to the CSV report) writes, byte for byte, the
report the Python path writes, and exits the same way.

Each case runs the real command twice, `--engine sql` (which takes the columnar path for a
CSV report, and says so with -v) and `--engine durable` (the Python readers and the durable
engine), on the example exports and on a file made to hold every awkward thing a CRM export
can: formula-like names, quotes and line breaks in cells, non-ASCII and astral characters,
placeholders, every money and date form, unknown, closed and blank stages, rows without an
id, duplicate ids, and 18-character ids matched by their 15-character form in contact roles.
"""

from __future__ import annotations

import csv
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
COLUMNAR = "reading: columnar (DuckDB reads and judges the CSV)"
READ_AGAIN = "the Python readers read it again for its rejected rows and data findings"

HEADERS = [
    "Opportunity ID",
    "Opportunity Name",
    "Account Name",
    "Opportunity Owner",
    "Stage",
    "Amount",
    "Opportunity Currency",
    "Close Date",
    "Probability (%)",
    "Next Step",
    "Next Step Date",
    "Last Activity",
    "Push Count",
    "Pain",
    "Metrics",
    "Economic Buyer",
    "Champion",
    "Competitors",
    "Security Review Required",
    "Security Review Done On",
    "Action Plan",
    "Region Note",
]
PLAN = (
    '[{"milestone": "Pilot", "owner_side": "buyer", "owner": "Ann", "due": "2026-12-01"},'
    ' {"milestone": "Legal", "owner_side": "vendor", "due": "12/20/2026", "extra": 1}, 3]'
)
ROWS = [
    [
        "0065g000003WTmlAAG",
        '=HYPERLINK("x")',
        "Acme",
        "Sam Patel",
        "Needs Analysis",
        "$12,500.00",
        "",
        "12/15/2026",
        "20",
        'Call "the" CFO\nthen demo',
        "12/1/2026",
        "11/20/2026",
        "1",
        "Invoices keyed by hand — 22% rework 𝄞",
        "",
        "N/A",
        "tbd",
        "",
        "",
        "",
        PLAN,
        "+1 custom",
    ],
    [
        "0065g000003WTml",
        "Dup short id",
        "Acme",
        "Olivia Brooks",
        "Prospecting",
        "(001,200)",
        "",
        "2026-11-30",
        "140",
        "-",
        "",
        "",
        "2.5",
        "",
        "",
        "",
        "",
        "",
        "maybe",
        "",
        "not json",
        "@home",
    ],
    [
        "",
        "No id row",
        "Nobody",
        "Sam Patel",
        "Prospecting",
        "100",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        "006A",
        "Stalled deal",
        "Initrode",
        "Aisha Mensah",
        "Stalled",
        "EUR 9.000,50",
        "",
        "31/12/2026",
        "0.5",
        "Follow up",
        "next week",
        "yesterday",
        "",
        "Pain, with comma",
        "x",
        "Jo",
        "Kim",
        "Zuora; status quo",
        "",
        "",
        "",
        "",
    ],
    [
        "006B",
        "Closed one",
        "Globex",
        "Sam Patel",
        "Closed Won",
        "5000",
        "USD",
        "10/1/2026",
        "100",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        "006C",
        "Blank stage",
        "Globex",
        "Olivia Brooks",
        "",
        "£8,500",
        "",
        "1/5/2027",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "[]",
        "",
    ],
    [
        "006D",
        "Late stage\ttab",
        "Umbrella",
        "Sam Patel",
        "Negotiation/Review",
        "-500 USD",
        "",
        "2027-01-31T23:30:00-05:00",
        "90",
        "Send contract",
        "2026-12-02",
        "2026-11-26",
        "0",
        "Cost",
        "10% saving",
        "Ira",
        "Lee",
        "none",
        "Yes",
        "2026-11-01",
        "",
        "",
    ],
    [
        "006E",
        "Proposal",
        "Hooli",
        "Nobody Known",
        "Proposal/Price Quote",
        "41234.57",
        "CAD",
        "3/3/2027",
        "60",
        "Proposal review",
        "12/3/2026",
        "11/25/2026",
        "3",
        "Pain",
        "Metric",
        "Eve",
        "Max",
        "BigCo",
        "no",
        "",
        "",
        "",
    ],
    [  # a tiny amount (never 1E-7) and a DEL in a value a finding reads (json.dumps escapes it)
        "006F",
        "Tiny",
        "Initech",
        "Sam Patel",
        "Needs Analysis",
        "0.0000001",
        "USD",
        "2027-02-01",
        "20",
        "Call\x7fback",
        "2026-01-05",
        "2026-11-20",
        "0",
        "Pain\x7f",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    [  # a stage text with quotes, which the stage map of the SQL holds as a literal
        "006G",
        "Quoted stage",
        "Initech",
        "Sam Weiß",
        'Buyer\'s "Call"',
        "5000",
        "us'd",
        "2027-02-01",
        "20",
        "",
        "",
        "2026-11-20",
        "0",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
]
ROLES = [
    ["OpportunityId", "Contact: Full Name", "Title", "Role", "IsPrimary", "Contact: Last Activity"],
    ["0065g000003WTml", "Brendan Keller", "Head of Billing", "Economic Buyer", "true", "8/7/2026"],
    ["0065g000003WTmlAAG", "Imani Hansen", "VP Finance", "Champion", "false", "10/10/2026"],
    ["006D", "Ira", "CFO", "Economic Buyer", "yes", "not a date"],
    ["006Z", "Nobody", "", "", "", ""],
    ["", "No deal", "", "", "", ""],
]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(rows)
    return path


@pytest.fixture(scope="module")
def tricky(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("columnar")
    return _write(folder / "tricky.csv", [HEADERS, *ROWS]), _write(folder / "roles.csv", ROLES)


def _audit(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "dealgate", "audit", *args),
            *("--as-of", "2026-11-27", "--format", "csv", "-v"),
        ],
        capture_output=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def _data_notice(stderr: str) -> list[str]:
    """The lines of the "Data:" notice (report/data_notice.py) on stderr."""
    lines = itertools.dropwhile(lambda line: not line.startswith("Data: "), stderr.splitlines())
    headline = next(lines, None)
    if headline is None:
        return []
    return [headline, *itertools.takewhile(lambda line: line.startswith("  - "), lines)]


def _same_report(*args: str, columnar: bool = True) -> bytes:
    """Both CSV layouts, identical on both routes; the report per finding is returned."""
    reports = {}
    for rows in ("deal", "finding"):
        layout = ("--csv-rows", rows)
        sql = _audit(*args, *layout, "--engine", "sql")
        durable = _audit(*args, *layout, "--engine", "durable")
        said = sql.stderr.decode()
        assert (COLUMNAR in said) is columnar, said
        assert sql.stdout == durable.stdout
        assert sql.returncode == durable.returncode, said
        # the rows rejected and the data findings, which a CSV report does not list
        assert _data_notice(said) == _data_notice(durable.stderr.decode()), said
        reports[rows] = sql.stdout
    per_deal = reports["deal"].decode().splitlines()
    assert per_deal[0].endswith(",skipped,hygiene,to_advance,waived")
    return reports["finding"]


SALESFORCE = [
    str(EXAMPLES / "salesforce-opportunities.csv"),
    *("--contacts", str(EXAMPLES / "salesforce-contact-roles.csv")),
    *("--teams", str(EXAMPLES / "teams.csv")),
]


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["--rules", "salesforce-default"],
        ["--owner", "Sophie Müller", "--closing-after", "2026-Q4"],
        ["--manager", "Dana Whitfield", "--stage", "Needs Analysis", "--include-closed"],
        ["--closing-before", "2026-12-31", "--fail-on", "recommended"],
    ],
    ids=["default", "salesforce-default", "owner-quarter", "manager-stage-closed", "before"],
)
def test_salesforce_example(options: list[str]) -> None:
    report = _same_report(*SALESFORCE, *options)
    assert report.startswith(b"deal_id,deal_name,")


@pytest.mark.parametrize("pack", ["hubspot-default", "buyer-journey"])
def test_hubspot_example_with_stage_history(pack: str) -> None:
    _same_report(str(EXAMPLES / "hubspot-deals.csv"), "--rules", pack)


def test_every_awkward_cell(tricky: tuple[Path, Path]) -> None:
    deals, roles = tricky
    # counted as missing, the awkward cells of the sparse export are read out in findings
    report = _same_report(
        str(deals), "--contacts", str(roles), "--teams", str(EXAMPLES / "teams.csv"),
        "--unmeasured-as-missing",
    )  # fmt: skip
    text = report.decode()
    assert "'=HYPERLINK" in text  # formula-safe, as the Python path writes it
    assert "\\ud834\\udd1e" in text  # an astral character in the read values, as json.dumps
    assert "\r\n" in text


def test_fail_on_never_and_no_roles(tricky: tuple[Path, Path]) -> None:
    deals, _ = tricky
    _same_report(str(deals), "--fail-on", "never")


def test_what_the_columnar_path_does_not_read_goes_the_python_way(
    tricky: tuple[Path, Path], tmp_path: Path
) -> None:
    deals, _ = tricky
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers: []\n", encoding="utf-8")
    _same_report(str(deals), "--waivers", str(waivers), columnar=False)
    _same_report(str(deals), "--include-met", columnar=False)
    ragged = _write(tmp_path / "ragged.csv", [HEADERS, ROWS[0], [*ROWS[1], "extra cell"]])
    _same_report(str(ragged), columnar=False)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        (EXAMPLES / "hubspot-deals.csv").read_text("utf-8").encode("cp1252", "replace")
    )
    _same_report(str(latin), columnar=False)


def test_a_parquet_export_of_text_columns(tricky: tuple[Path, Path], tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as parquet

    _, roles = tricky
    columns = {header: [row[index] or None for row in ROWS] for index, header in enumerate(HEADERS)}
    text = tmp_path / "tricky.parquet"
    parquet.write_table(pa.table(columns), text)
    _same_report(str(text), "--contacts", str(roles))
    typed = tmp_path / "typed.parquet"
    parquet.write_table(pa.table({**columns, "Push Count": list(range(1, len(ROWS) + 1))}), typed)
    _same_report(str(typed), "--contacts", str(roles), columnar=False)


@pytest.mark.parametrize("rows", ["deal", "finding"])
def test_a_large_report_keeps_the_file_order(tmp_path: Path, rows: str) -> None:
    """DuckDB reads and judges in parallel: the report still lists the deals in file order
    (an IN list planned as a join once put rows of 1M deals out of place)."""
    import duckdb

    export = tmp_path / "large.csv"
    duckdb.connect().execute(
        "COPY (SELECT 'D-' || lpad(CAST(i AS VARCHAR), 7, '0') AS id, 'Deal ' || i AS name, "
        "CASE WHEN i % 3 = 0 THEN 'Negotiation/Review' ELSE 'Needs Analysis' END AS stage, "
        "'2026-01-01' AS close_date FROM range(200000) AS t(i)) "
        f"TO '{export}' (FORMAT csv, HEADER true)"
    )
    audited = _audit(str(export), "--engine", "sql", "--csv-rows", rows, "--fail-on", "never")
    assert COLUMNAR in audited.stderr.decode(), audited.stderr
    ids = [line.split(",", 1)[0] for line in audited.stdout.decode().splitlines()[1:]]
    assert len(ids) >= 200000
    assert ids == sorted(ids)


def test_a_plan_that_would_lose_the_file_order_is_refused() -> None:
    """The columnar route runs only a plan DuckDB writes in order; one with a join (as an
    IN list of five values outside a WHERE becomes) sends the audit the Python way."""
    import duckdb

    from dealgate.columnar.audit import _check_order
    from dealgate.columnar.canonical import Unsupported

    for threads in (1, 2):  # at one thread DuckDB plans no batch sink: asked at two
        connection = duckdb.connect(config={"threads": threads})
        connection.execute("CREATE TABLE deals AS SELECT range AS id FROM range(10)")
        _check_order(connection, "CREATE TABLE kept AS SELECT id, id < 5 AS early FROM deals")
        with pytest.raises(Unsupported, match="order"):
            _check_order(connection, "CREATE TABLE lost AS SELECT id IN (1, 2, 3, 4, 5) FROM deals")
        assert connection.execute("SELECT current_setting('threads')").fetchone() == (threads,)


def test_one_thread_writes_the_same_report(tmp_path: Path) -> None:
    """A machine of one core (or DuckDB at one thread) still takes the columnar route."""
    from datetime import date

    from dealgate.audit import AuditFilters, FailOn
    from dealgate.columnar.audit import ColumnarRequest, run_columnar_audit
    from dealgate.rules.catalog import PackCatalog
    from dealgate.rules.loader import load_pack

    pack = load_pack("buyer-journey", PackCatalog(cwd=Path("/nonexistent")))
    reports = []
    for threads in (1, None):
        request = ColumnarRequest(
            pipeline=EXAMPLES / "salesforce-opportunities.csv",
            pack=pack,
            as_of=date(2026, 11, 27),
            filters=AuditFilters(),
            fail_on=FailOn.REQUIRED,
            threads=threads,
        )
        report = tmp_path / f"threads-{threads}.csv"
        run_columnar_audit(request, report)
        reports.append(report.read_bytes())
    assert reports[0] == reports[1] and reports[0].count(b"\n") > 1


def test_mapped_texts_with_quotes_and_case_read_alike(
    tricky: tuple[Path, Path], tmp_path: Path
) -> None:
    """The maps the SQL looks texts up in (the pack stage of a stage text, a value map, the
    manager of an owner) hold texts with quotes and match them by key, as the mapper does."""
    deals, _ = tricky
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "mapping: quoted\n"
        "profile: salesforce\n"
        "stages:\n"
        "  'Buyer''s \"Call\"': discover\n"
        "values:\n"
        "  currency: {'us''d': USD}\n"
        "managers:\n"
        "  'SAM WEISS': 'Dana O''Neil'\n",
        encoding="utf-8",
    )
    report = _same_report(str(deals), "--mapping", str(mapping)).decode()
    quoted = [line for line in report.splitlines() if line.startswith("006G,")]
    assert quoted and all(",discover," in line for line in quoted), quoted
    assert all("Dana O'Neil" in line and ",5000,USD," in line for line in quoted), quoted


# A clean export in the columns a Salesforce report gives, and one problem at a time: the
# columnar route reads no data findings, so it must see each case and have the Python readers
# say what they report, as the Python route says it.
PLAIN = [
    ["Opportunity ID", "Opportunity Name", "Opportunity Owner", "Stage", "Amount", "Close Date",
     "Next Step", "Action Plan"],
    ["0065g000003WTmlAAG", "Acme - Renewal", "Sam Patel", "Needs Analysis", "1000", "12/31/2026",
     "Call", ""],
    ["0065g000003WToCAAW", "Beta - New", "Ana Ruiz", "Prospecting", "2000", "1/15/2027",
     "Demo", ""],
]  # fmt: skip
ONE_PROBLEM = {  # (column, the second deal's cell)
    "placeholder": ("Next Step", "TBD"),
    "unreadable date": ("Close Date", "31/31/2026"),
    "unreadable amount": ("Amount", "lots"),
    "no id": ("Opportunity ID", ""),
    "placeholder id": ("Opportunity ID", "N/A"),
    "the 15-character form of the first id": ("Opportunity ID", "0065g000003WTml"),
    "no stage": ("Stage", ""),
    "unknown stage": ("Stage", "Stalled"),
    "action plan not a list of records": ("Action Plan", '[{"step": "Demo"}, 3]'),
}


@pytest.mark.parametrize("problem", [None, *ONE_PROBLEM])
def test_rejected_rows_and_data_findings_are_said_on_both_routes(
    problem: str | None, tmp_path: Path
) -> None:
    rows = [list(row) for row in PLAIN]
    if problem is not None:
        column, cell = ONE_PROBLEM[problem]
        rows[2][PLAIN[0].index(column)] = cell
    export = _write(tmp_path / "opportunities.csv", rows)
    _same_report(str(export))
    said = _audit(str(export), "--engine", "sql").stderr.decode()
    assert (READ_AGAIN in said) is (problem is not None), said
    if problem is not None:
        assert _data_notice(said), said
