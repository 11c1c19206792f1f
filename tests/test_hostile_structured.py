"""Hostile JSON, JSONL, YAML, XLSX and Parquet inputs, through the real CLI (issue 14).

Nothing is lost and nothing crashes: a bad value is a data finding and its deal is audited, a
bad record is a rejected row with its reason, and a file that cannot be used at all exits 2
naming the file and the line or position. docs/reliability.md lists each case with its test.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from command import dealgate
from dealgate.deals.readers import EXCEL_MAX_ROWS, MAX_XLSX_PART_BYTES

AS_OF = "2026-11-27"
SHEET = "xl/worksheets/sheet1.xml"


def _deal(deal_id: Any, **fields: Any) -> dict[str, Any]:
    return {"id": deal_id, "name": f"Deal {deal_id}", "stage": "Qualify", **fields}


def _audit(work: Path, file: str, *args: str) -> tuple[int, dict[str, Any], str]:
    """Exit code, the JSON report (empty when none) and stderr of `dealgate audit`."""
    result = dealgate(
        "audit", file, "--as-of", AS_OF, "--format", "json", "--include-met", *args, cwd=work
    )
    assert "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.returncode, report, result.stderr


def _findings(report: dict[str, Any]) -> list[tuple[str | None, str | None, str]]:
    return [(f["deal_id"], f["column"], f["message"]) for f in report["data_findings"]]


def _ids(report: dict[str, Any]) -> list[str]:
    return [deal["id"] for deal in report["deals"]]


def _balanced(report: dict[str, Any], read: int, rejected: int) -> None:
    counts = report["reconciliation"]
    assert (counts["rows_read"], counts["rows_rejected"]) == (read, rejected)
    assert counts["balanced"]


# --- 1. nesting ------------------------------------------------------------------------


def test_json_document_nested_100000_levels_is_refused_with_its_position(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    code, _, stderr = _audit(tmp_path, "deep.json")
    assert code == 2
    assert "deep.json:1:65: error: JSON nested more than 64 levels deep" in stderr


def test_jsonl_line_nested_100000_levels_is_a_rejected_row(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    lines = [
        json.dumps(_deal("D-1")),
        f'{{"id": "D-2", "notes": {deep}}}',
        json.dumps(_deal("D-3")),
    ]
    (tmp_path / "deep.jsonl").write_text("\n".join(lines) + "\n")
    code, report, _ = _audit(tmp_path, "deep.jsonl")
    assert code in (0, 1)
    assert _ids(report) == ["D-1", "D-3"]
    _balanced(report, 3, 1)
    (rejected,) = report["rejected_rows"]
    assert rejected["row"] == 2
    assert "nests lists or records more than 64 levels deep" in rejected["reason"]


def test_json_record_nested_past_the_limit_is_rejected_and_the_others_read(
    tmp_path: Path,
) -> None:
    nested: Any = "x"
    for _ in range(100):  # deeper than 64, well within Python's own recursion limit
        nested = {"a": nested}
    deals = [_deal("D-1"), _deal("D-2", extra=nested)]
    (tmp_path / "deals.json").write_text(json.dumps(deals))
    code, report, _ = _audit(tmp_path, "deals.json")
    assert code in (0, 1)
    assert _ids(report) == ["D-1"]
    (rejected,) = report["rejected_rows"]
    assert rejected["path"] == "[1]"
    assert "more than 64 levels deep" in rejected["reason"]


# --- 2. integers too long to read ----------------------------------------------------------


@pytest.mark.parametrize("engine", ["durable", "sql"])
@pytest.mark.parametrize("digits", [400, 5000])
def test_json_integer_too_long_is_a_data_finding_and_the_deal_is_audited(
    tmp_path: Path, engine: str, digits: int
) -> None:
    huge = "9" * digits
    text = (
        f'[{{"id": "D-1", "name": "Acme", "stage": "Qualify", "amount": {huge}, '
        f'"close_date_pushes": {huge}, "probability": {huge}, "score": {huge}}},'
        f' {{"id": "D-2", "name": "Globex", "stage": "Qualify", "amount": 5}}]'
    )
    (tmp_path / "deals.json").write_text(text)
    code, report, _ = _audit(tmp_path, "deals.json", "--engine", engine)
    assert code in (0, 1)
    assert _ids(report) == ["D-1", "D-2"]
    too_long = "a number of more than 28 digits is not read: read as missing"
    found = _findings(report)
    for column in ("amount", "close_date_pushes", "probability", "score"):
        assert ("D-1", column, too_long) in found
    assert huge not in json.dumps(report)


@pytest.mark.parametrize("engine", ["durable", "sql"])
def test_csv_and_yaml_integers_too_long_are_data_findings(tmp_path: Path, engine: str) -> None:
    huge = "9" * 5000
    (tmp_path / "deals.csv").write_text(
        f"id,name,stage,amount,close_date_pushes\nD-1,Acme,Qualify,{huge},{'9' * 400}\n"
        "D-2,Globex,Qualify,5,1\n"
    )
    (tmp_path / "deals.yaml").write_text(
        f"- {{id: D-1, name: Acme, stage: Qualify, amount: {huge}}}\n"
        "- {id: D-2, name: Globex, stage: Qualify, amount: 5}\n"
    )
    for file, columns in (
        ("deals.csv", ("amount", "close_date_pushes")),
        ("deals.yaml", ("amount",)),
    ):
        code, report, _ = _audit(tmp_path, file, "--engine", engine)
        assert code in (0, 1), file
        assert _ids(report) == ["D-1", "D-2"]
        for column in columns:
            assert (
                "D-1",
                column,
                "a number of more than 28 digits is not read: read as missing",
            ) in (_findings(report))


# --- 4. infinities and NaN -------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["durable", "sql"])
def test_json_infinity_and_nan_are_data_findings_never_numbers(tmp_path: Path, engine: str) -> None:
    (tmp_path / "deals.json").write_text(
        '[{"id": "D-1", "name": "Acme", "stage": "Qualify", "amount": -Infinity,'
        ' "probability": NaN, "score": Infinity}, {"id": "D-2", "name": "Globex",'
        ' "stage": "Qualify", "amount": 5}]'
    )
    code, report, _ = _audit(tmp_path, "deals.json", "--engine", engine)
    assert code in (0, 1)
    assert _ids(report) == ["D-1", "D-2"]
    found = _findings(report)
    assert ("D-1", "amount", "-Infinity is not a number that can be read: read as missing") in found
    assert ("D-1", "probability", "NaN is not a number that can be read: read as missing") in found
    assert ("D-1", "score", "Infinity is not a number that can be read: read as missing") in found
    first = report["deals"][0]
    assert first["amount"] is None and first.get("probability") is None


def test_yaml_infinity_and_nan_are_data_findings(tmp_path: Path) -> None:
    (tmp_path / "deals.yaml").write_text(
        "- {id: D-1, name: Acme, stage: Qualify, amount: -.inf, probability: .nan}\n"
        "- {id: D-2, name: Globex, stage: Qualify, amount: 5}\n"
    )
    code, report, _ = _audit(tmp_path, "deals.yaml")
    assert code in (0, 1)
    assert _ids(report) == ["D-1", "D-2"]
    found = _findings(report)
    assert ("D-1", "amount", "-Infinity is not a number that can be read: read as missing") in found
    assert ("D-1", "probability", "NaN is not a number that can be read: read as missing") in found


# --- 5. Parquet values Python cannot hold ----------------------------------------------------


@pytest.mark.parametrize("engine", ["durable", "sql"])
def test_parquet_infinity_and_timestamps_past_year_9999_are_data_findings(
    tmp_path: Path, engine: str
) -> None:
    year_10000 = 253_402_300_800 * 1_000_000  # microseconds since 1970 at 10000-01-01
    pandas_min = -9_223_372_036_854_775_807  # pd.Timestamp.min, in nanoseconds
    table = pa.table(
        {
            "id": ["D-1", "D-2", "D-3"],
            "name": ["Acme", "Globex", "Initech"],
            "stage": ["Qualify"] * 3,
            "close_date": pa.array([year_10000, 0, None], pa.timestamp("us")),
            "created": pa.array([pandas_min, 0, None], pa.timestamp("ns")),
            "amount": [float("inf"), float("nan"), 5.0],
        }
    )
    pq.write_table(table, tmp_path / "deals.parquet")
    code, report, _ = _audit(tmp_path, "deals.parquet", "--engine", engine)
    assert code in (0, 1)
    assert _ids(report) == ["D-1", "D-2", "D-3"]
    found = _findings(report)
    assert (
        "D-1",
        "close_date",
        "timestamp[us] value '10000-01-01 00:00:00.000000' (date value out of range): "
        "read as missing",
    ) in found
    assert ("D-1", "amount", "Infinity is not a number that can be read: read as missing") in found
    assert ("D-2", "amount", "NaN is not a number that can be read: read as missing") in found
    # pandas' earliest timestamp is a date Python holds: read as that date (1677-09-21)
    assert not [f for f in found if f[1] == "created"]


# --- 3. bytes that are not UTF-8 in JSON Lines -------------------------------------------------


def test_jsonl_line_that_is_not_utf8_is_rejected_with_its_line(tmp_path: Path) -> None:
    lines = [
        json.dumps(_deal("D-1")).encode(),
        b'{"id": "D-2", "name": "Caf\xe9", "stage": "Qualify"}',
        json.dumps(_deal("D-3")).encode(),
    ]
    (tmp_path / "deals.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    code, report, _ = _audit(tmp_path, "deals.jsonl")
    assert code in (0, 1)
    assert _ids(report) == ["D-1", "D-3"]
    _balanced(report, 3, 1)
    (rejected,) = report["rejected_rows"]
    assert rejected["row"] == 2
    assert rejected["reason"].startswith("line 2 is not UTF-8 text (byte 27 of the line)")


def test_jsonl_file_that_is_not_utf8_at_all_is_refused_naming_the_line(tmp_path: Path) -> None:
    text = "\n".join(json.dumps(_deal(f"D-{n}")) for n in (1, 2)) + "\n"
    (tmp_path / "deals.jsonl").write_bytes(text.encode("utf-16"))
    code, _, stderr = _audit(tmp_path, "deals.jsonl")
    assert code == 2
    assert "deals.jsonl:1:1: error: line 1 is not UTF-8 text" in stderr


# --- 9. ids that are not ids -----------------------------------------------------------------


@pytest.mark.parametrize("engine", ["durable", "sql"])
def test_json_ids_that_are_lists_booleans_or_fractions_are_rejected(
    tmp_path: Path, engine: str
) -> None:
    deals = [_deal(["D-1"]), _deal(True), _deal(1.5), _deal({"a": 1}), _deal(42), _deal("D-6")]
    (tmp_path / "deals.json").write_text(json.dumps(deals))
    code, report, _ = _audit(tmp_path, "deals.json", "--engine", engine)
    assert code in (0, 1)
    assert _ids(report) == ["42", "D-6"]
    _balanced(report, 6, 4)
    reasons = {row["path"]: row["reason"] for row in report["rejected_rows"]}
    rule = "an id must be text or a whole number; no deal could be read"
    assert reasons == {
        "[0]": f"'id' is a list: {rule}",
        "[1]": f"'id' is a true/false value: {rule}",
        "[2]": f"'id' is the fraction 1.5: {rule}",
        # a record is flattened (id.a), as Salesforce's related records are: no id at all
        "[3]": "no usable deal id ('id' is missing or empty)",
    }


# --- 8. a YAML alias bomb ---------------------------------------------------------------------


def test_yaml_alias_bomb_of_a_few_hundred_bytes_is_refused_in_seconds(tmp_path: Path) -> None:
    lines = ["- id: D-1", "  name: Acme", "  stage: Qualify", '  a: &a ["lol", "lol", "lol",'
             ' "lol", "lol", "lol", "lol", "lol", "lol"]']  # fmt: skip
    previous = "a"
    for name in "bcdefghi":  # 9 ** 9 values, about 387 million, once expanded
        lines.append(f"  {name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    bomb = "\n".join(lines) + "\n"
    assert len(bomb) < 700
    (tmp_path / "bomb.yaml").write_text(bomb)
    started = time.monotonic()
    code, _, stderr = _audit(tmp_path, "bomb.yaml")
    assert time.monotonic() - started < 30
    assert code == 2
    assert "bomb.yaml:" in stderr and "aliases repeat more than 100,000 values" in stderr


# --- 6 and 7. broken and hostile workbooks ------------------------------------------------------


def _workbook() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["id", "name", "stage", "amount"])
    sheet.append(["D-1", "Acme", "Qualify", 100])
    sheet.append(["D-2", "Globex", "Qualify", 200])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rewritten(path: Path, part: str, change: Any, extra: dict[str, bytes] | None = None) -> None:
    """A real workbook with one part rewritten by `change`, and any extra parts."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_workbook())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            body = source.read(info.filename)
            target.writestr(info.filename, change(body) if info.filename == part else body)
        for name, body in (extra or {}).items():
            target.writestr(name, body)
    path.write_bytes(out.getvalue())


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'


@pytest.mark.parametrize("defused", ["True", "False"])
@pytest.mark.parametrize(("dtd", "entity"), [(BILLION_LAUGHS, b"&lol3;"), (XXE, b"&xxe;")])
def test_xlsx_with_xml_entities_is_refused_not_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, defused: str, dtd: bytes, entity: bytes
) -> None:
    # refused whether or not openpyxl is told to parse with defusedxml
    monkeypatch.setenv("OPENPYXL_DEFUSEDXML", defused)
    _rewritten(
        tmp_path / "deals.xlsx",
        SHEET,
        lambda xml: dtd + xml.replace(b"<v>100</v>", b"<v>" + entity + b"</v>"),
    )
    code, _, stderr = _audit(tmp_path, "deals.xlsx")
    assert code == 2
    assert (
        "deals.xlsx: error: workbook part xl/worksheets/sheet1.xml declares a DTD (<!DOCTYPE>); "
        "XML entities are refused" in stderr
    )
    assert "lollol" not in stderr


def test_openpyxl_parses_with_defusedxml() -> None:
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML is True


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda xml: xml.replace(b"</row>", b"</rowx>", 1), "deals.xlsx:1: error: sheet 'Sheet'"),
        (
            lambda xml: xml[: len(xml) * 2 // 3],
            "deals.xlsx:2: error: sheet 'Sheet' is broken at row 2: no element found",
        ),
        (
            lambda xml: xml.replace(b"<v>100</v>", b"<v>NaN</v>"),
            "deals.xlsx:2: error: sheet 'Sheet'",
        ),
    ],
    ids=["malformed", "truncated", "nan-cell"],
)
def test_broken_sheet_xml_exits_2_naming_file_and_row(
    tmp_path: Path, change: Any, where: str
) -> None:
    _rewritten(tmp_path / "deals.xlsx", SHEET, change)
    code, _, stderr = _audit(tmp_path, "deals.xlsx")
    assert code == 2
    assert where in stderr


def test_xlsx_infinite_number_cell_is_a_data_finding(tmp_path: Path) -> None:
    _rewritten(
        tmp_path / "deals.xlsx", SHEET, lambda xml: xml.replace(b"<v>100</v>", b"<v>1E999</v>")
    )
    code, report, _ = _audit(tmp_path, "deals.xlsx")
    assert code in (0, 1)
    assert _ids(report) == ["D-1", "D-2"]
    assert ("D-1", "amount", "Infinity is not a number that can be read: read as missing") in (
        _findings(report)
    )


def test_xlsx_part_unpacking_past_the_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    # a shared strings part of one huge string: 1 byte over the limit, a few hundred KB zipped
    size = MAX_XLSX_PART_BYTES + 1
    path = tmp_path / "deals.xlsx"
    _rewritten(path, SHEET, lambda xml: xml)
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/sharedStrings.xml", "w") as part,
    ):
        head = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
        part.write(head)
        chunk = b"x" * (1024 * 1024)
        left = size - len(head) - len(b"</t></si></sst>")
        while left > 0:
            part.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
        part.write(b"</t></si></sst>")
    assert path.stat().st_size < 2 * 1024 * 1024
    started = time.monotonic()
    code, _, stderr = _audit(tmp_path, "deals.xlsx")
    assert time.monotonic() - started < 30
    assert code == 2
    assert (
        f"deals.xlsx: error: workbook part xl/sharedStrings.xml unpacks to {size:,} bytes, "
        f"more than the {MAX_XLSX_PART_BYTES:,} read" in stderr
    )


def test_xlsx_rows_past_excels_last_row_are_refused_in_seconds(tmp_path: Path) -> None:
    far = b'<row r="30000000"><c r="A30000000" t="inlineStr"><is><t>D-9</t></is></c></row>'
    _rewritten(
        tmp_path / "deals.xlsx",
        SHEET,
        lambda xml: xml.replace(b"</sheetData>", far + b"</sheetData>"),
    )
    started = time.monotonic()
    code, _, stderr = _audit(tmp_path, "deals.xlsx")
    assert time.monotonic() - started < 30
    assert code == 2
    assert (
        f"deals.xlsx:{EXCEL_MAX_ROWS + 1}: error: sheet 'Sheet' has rows past Excel's last row"
        in stderr
    )


def test_xlsx_rows_past_a_wrong_dimension_are_read_not_dropped(tmp_path: Path) -> None:
    # the sheet says A1:D3, and holds a fourth row: openpyxl alone would stop at row 3
    far = (
        b'<row r="4"><c r="A4" t="inlineStr"><is><t>D-3</t></is></c>'
        b'<c r="C4" t="inlineStr"><is><t>Qualify</t></is></c></row>'
    )
    _rewritten(
        tmp_path / "deals.xlsx",
        SHEET,
        lambda xml: xml.replace(b"</sheetData>", far + b"</sheetData>"),
    )
    code, report, _ = _audit(tmp_path, "deals.xlsx")
    assert code in (0, 1)
    assert _ids(report) == ["D-1", "D-2", "D-3"]


def test_csv_cell_of_json_nested_too_deep_is_a_data_finding(tmp_path: Path) -> None:
    # past the recursion limit of any Python (3.13 reads 5,000 levels), within a CSV field's
    deep = "[" * 60_000 + "]" * 60_000
    (tmp_path / "deals.csv").write_text(
        f"id,name,stage,contacts\nD-1,Acme,Qualify,{deep}\nD-2,Globex,Qualify,\n"
    )
    code, report, _ = _audit(tmp_path, "deals.csv")
    assert code in (0, 1)
    assert _ids(report) == ["D-1", "D-2"]
    message = "unreadable list (nested too deeply, or a number too long); read as missing"
    assert ("D-1", "contacts", message) in _findings(report)
