"""Readers: each file format becomes headers plus a stream of raw records with positions.

Readers know formats, not CRMs: they sniff encodings and delimiters, keep line and row
numbers, and hand values over as the file holds them (text from CSV, typed cells from Excel
and Parquet, native values from JSON and YAML). Mapping onto the deal is the mapper's job.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from dealgate.errors import InputError, Location, Problem, UsageError
from dealgate.yamlsafe import YamlDocument, YamlLimits, read_yaml_file

DEAL_FILE_LIMITS = YamlLimits(max_bytes=256 * 1024 * 1024, max_depth=64, max_nodes=20_000_000)
SNIFF_BYTES = 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
FORMATS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".yaml": "yaml", ".yml": "yaml",
    ".parquet": "parquet", ".pq": "parquet",
}  # fmt: skip
LIST_FIELDS = ("contacts", "action_plan", "stage_history")
_UNDECODED = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class RawRecord:
    """One record as the file holds it, and where it is."""

    row: int | None  # CSV line (header = 1), sheet row, JSONL line, YAML line; None if unknown
    path: str | None  # JSON/YAML: e.g. deals[3]
    values: dict[str, Any]
    value_rows: dict[str, int] = field(default_factory=dict)  # YAML: line of each value
    note: str | None = None  # a problem with the row's shape, e.g. too many cells


@dataclass
class Table:
    """A file opened for reading: what it is and its records, streamed."""

    file: str
    format: str
    headers: list[str]
    records: Iterator[RawRecord]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)  # said once, when its records are read


def open_table(path: Path, *, sheet: str | None = None, encoding: str | None = None) -> Table:
    """Open a deal file by its extension; raises InputError when it cannot be read at all."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise _unusable(path, "the old Excel .xls format is not read", "save it as .xlsx or CSV")
    kind = FORMATS.get(suffix)
    if kind is None:
        raise _unusable(
            path,
            f"unknown file type '{suffix}'",
            "use .csv, .xlsx, .json, .jsonl, .yaml or .parquet",
        )
    if sheet is not None and kind != "xlsx":
        raise UsageError("--sheet applies to .xlsx files only")
    if kind == "csv":
        return _open_csv(path, encoding)
    if kind == "xlsx":
        return _open_xlsx(path, sheet)
    openers = {
        "json": _open_json,
        "jsonl": _open_jsonl,
        "yaml": _open_yaml,
        "parquet": _open_parquet,
    }
    return openers[kind](path)


def _unusable(path: Path, message: str, hint: str = "", line: int = 0) -> InputError:
    return InputError([Problem(Location(str(path), line), message, hint)])


# --- CSV ------------------------------------------------------------------------------


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (as Excel's Unicode Text) or cp1252."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if sample and sample.count(0) > len(sample) // 4:
        odd_nuls = sample[1::2].count(0)
        return "utf-16-le" if odd_nuls > sample[0::2].count(0) else "utf-16-be"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut at the end of the sample
            return "cp1252"
    return "utf-8"


def sniff_delimiter(line: str) -> str:
    """The delimiter used most often outside quotes in the header line."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _open_csv(path: Path, encoding: str | None) -> Table:
    with path.open("rb") as raw:
        head = raw.read(SNIFF_BYTES)
    chosen = encoding or detect_encoding(head)
    try:
        codecs.lookup(chosen)
    except LookupError:
        raise UsageError(f"unknown encoding '{chosen}'") from None
    # Undecodable bytes become surrogates, so the row that holds one can be named exactly.
    stream = path.open("r", encoding=chosen, errors="surrogateescape", newline="")
    first = stream.readline()
    if _UNDECODED.search(first):
        stream.close()
        raise _unusable(path, f"the header line is not {chosen} text", "pass --encoding", 1)
    if not first.strip():
        stream.close()
        raise _unusable(
            path,
            "the file is empty or its first line is blank",
            "the first line must hold the column headers",
            1,
        )
    delimiter = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(first)
    headers = _unique_headers(next(csv.reader([first], delimiter=delimiter)))
    records = _csv_records(path, stream, headers, delimiter, chosen)
    return Table(str(path), "csv", headers, records, chosen, delimiter)


def _csv_records(
    path: Path, stream: IO[str], headers: list[str], delimiter: str, encoding: str
) -> Iterator[RawRecord]:
    reader = csv.reader(stream, delimiter=delimiter)
    consumed = 1  # the header line
    with stream:
        while True:
            start = consumed + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise _unusable(path, f"broken CSV: {error}", line=start) from None
            consumed = reader.line_num + 1
            if _undecoded(cells):
                raise _unusable(
                    path,
                    f"line {start} is not valid {encoding} text",
                    "pass --encoding cp1252 (or the file's encoding)",
                    start,
                )
            if not any(cell.strip() for cell in cells):
                continue
            note = None
            if len(cells) > len(headers):
                extra = [cell for cell in cells[len(headers) :] if cell.strip()]
                if extra:
                    note = f"row has {len(cells)} cells but the header has {len(headers)}"
            values = dict(zip(headers, cells, strict=False))
            yield RawRecord(start, None, values, note=note)


def _undecoded(cells: list[str]) -> bool:
    """Whether a row holds bytes the encoding could not decode (surrogates, see _open_csv).

    Encoding the row as UTF-8 fails exactly when it holds a surrogate, and is far cheaper
    than searching it with a pattern; the pattern confirms only the rare row that fails.
    """
    text = "".join(cells)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _UNDECODED.search(text) is not None
    return False


def _unique_headers(cells: list[str]) -> list[str]:
    headers: list[str] = []
    for index, cell in enumerate(cells, start=1):
        name = cell.strip().lstrip("\ufeff") or f"column {index}"
        candidate, copy = name, 2
        while candidate in headers:
            candidate, copy = f"{name} ({copy})", copy + 1
        headers.append(candidate)
    return headers


# --- Excel ----------------------------------------------------------------------------


def _open_xlsx(path: Path, sheet: str | None) -> Table:
    import openpyxl  # heavy: only when an Excel file is read
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        raise _unusable(path, f"not a readable Excel workbook: {error}") from None
    if sheet is not None and sheet not in workbook.sheetnames:
        workbook.close()
        raise UsageError(f"{path}: no sheet '{sheet}' (sheets: {', '.join(workbook.sheetnames)})")
    worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    rows = enumerate(worksheet.iter_rows(values_only=True), start=1)
    for _, cells in rows:
        if any(_filled(cell) for cell in cells):
            headers = _unique_headers(["" if cell is None else str(cell) for cell in cells])
            break
    else:
        workbook.close()
        raise _unusable(path, f"sheet '{worksheet.title}' has no header row")
    return Table(
        str(path), "xlsx", headers, _xlsx_records(workbook, rows, headers), sheet=worksheet.title
    )


def _xlsx_records(
    workbook: Any, rows: Iterator[tuple[int, tuple[Any, ...]]], headers: list[str]
) -> Iterator[RawRecord]:
    try:
        for number, cells in rows:
            if not any(_filled(cell) for cell in cells):
                continue
            values = {header: _cell(cell) for header, cell in zip(headers, cells, strict=False)}
            yield RawRecord(number, None, values)
    finally:
        workbook.close()


def _filled(cell: Any) -> bool:
    return cell is not None and (not isinstance(cell, str) or bool(cell.strip()))


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


# --- JSON, JSONL, YAML ----------------------------------------------------------------


def _open_json(path: Path) -> Table:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        line = getattr(error, "lineno", 0)
        raise _unusable(path, f"invalid JSON: {error}", line=line) from None
    records, prefix = _record_list(data, path)
    headers = _headers_of(records)
    return Table(str(path), "json", headers, _tree_records(records, prefix, None))


def _open_yaml(path: Path) -> Table:
    document = read_yaml_file(path, DEAL_FILE_LIMITS)
    records, prefix = _record_list(document.value, path)
    headers = _headers_of(records)
    return Table(str(path), "yaml", headers, _tree_records(records, prefix, document))


def _record_list(data: Any, path: Path) -> tuple[list[Any], str]:
    """One deal, a list of deals, `{deals: [...]}` or Salesforce's `{records: [...]}`."""
    if isinstance(data, list):
        return data, ""
    if isinstance(data, dict):
        for key in ("deals", "records"):
            if isinstance(data.get(key), list):
                return data[key], key
        return [data], "."
    raise _unusable(path, "expected one deal, a list of deals, or {deals: [...]}")


def _headers_of(records: list[Any]) -> list[str]:
    headers: dict[str, None] = {}
    for record in records:
        if isinstance(record, dict):
            headers.update(dict.fromkeys(flatten(record)))
    return list(headers)


def _tree_records(
    records: list[Any], prefix: str, document: YamlDocument | None
) -> Iterator[RawRecord]:
    for index, record in enumerate(records):
        path = "" if prefix == "." else f"{prefix}[{index}]"
        yaml_path: tuple[str | int, ...] = (
            () if prefix == "." else ((prefix, index) if prefix else (index,))
        )
        row = document.location(yaml_path).line if document else None
        if not isinstance(record, dict):
            yield RawRecord(row, path or None, {}, note="the record is not a mapping")
            continue
        value_rows = {}
        if document is not None:
            for key in record:
                value_rows[key] = document.location((*yaml_path, key)).line
        yield RawRecord(row, path or None, flatten(record), value_rows)


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested related records (`Owner: {Name: ...}`) become `Owner.Name`; lists stay lists."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes" and isinstance(value, dict):
            continue  # Salesforce REST metadata
        name = f"{prefix}{key}"
        if isinstance(value, dict) and key not in LIST_FIELDS:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _open_jsonl(path: Path) -> Table:
    stream = path.open("r", encoding="utf-8-sig")
    headers: dict[str, None] = {}
    # Headers come from the first records; later keys are still read, as custom fields.
    peeked: list[tuple[int, str]] = []
    for number, line in enumerate(stream, start=1):
        if line.strip():
            peeked.append((number, line))
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                headers.update(dict.fromkeys(flatten(record)))
        if len(peeked) >= 100:
            break
    return Table(str(path), "jsonl", list(headers), _jsonl_records(stream, peeked))


def _jsonl_records(stream: IO[str], peeked: list[tuple[int, str]]) -> Iterator[RawRecord]:
    def numbered() -> Iterator[tuple[int, str]]:
        yield from peeked
        number = peeked[-1][0] if peeked else 0
        for line in stream:
            number += 1
            yield number, line

    with stream:
        for number, line in numbered():
            if not line.strip():
                continue
            try:
                record = json.loads(line, parse_float=Decimal)
            except json.JSONDecodeError as error:
                yield RawRecord(number, None, {}, note=f"invalid JSON: {error.msg}")
                continue
            if not isinstance(record, dict):
                yield RawRecord(number, None, {}, note="the line is not a JSON object")
                continue
            yield RawRecord(number, None, flatten(record))


# --- Parquet --------------------------------------------------------------------------


def _open_parquet(path: Path) -> Table:
    import pyarrow.parquet as parquet  # heavy: only when a Parquet file is read

    try:
        source = parquet.ParquetFile(path)
    except Exception as error:  # pyarrow raises several unrelated types for a bad file
        raise _unusable(path, f"not a readable Parquet file: {error}") from None
    headers = list(source.schema_arrow.names)

    def records() -> Iterator[RawRecord]:
        number = 0
        for batch in source.iter_batches(batch_size=65_536):
            for values in batch.to_pylist():
                number += 1
                yield RawRecord(number, None, {key: _arrow_value(v) for key, v in values.items()})

    return Table(str(path), "parquet", headers, records())


def _arrow_value(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, datetime | date | Decimal | str | bool | int) or value is None:
        return value
    if isinstance(value, list):
        return [_arrow_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _arrow_value(item) for key, item in value.items()}
    return value
