"""Readers: each file format becomes headers plus a stream of raw records with positions.

Readers know formats, not CRMs: they sniff encodings and delimiters, keep line and row
numbers, and hand values over as the file holds them (text from CSV, typed cells from Excel
and Parquet, native values from JSON and YAML). Mapping onto the deal is the mapper's job.
"""

from __future__ import annotations

import codecs
import collections
import csv
import itertools
import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from dealgate.errors import InputError, Location, Problem, UsageError
from dealgate.yamlsafe import YamlDocument, YamlLimits, read_yaml_file

# A deal file may hold millions of values, but aliases may add at most MAX_ALIAS_VALUES more:
# a few hundred bytes of anchors can otherwise stand for gigabytes (docs/reliability.md).
MAX_ALIAS_VALUES = 100_000
DEAL_FILE_LIMITS = YamlLimits(
    max_bytes=256 * 1024 * 1024,
    max_depth=64,
    max_nodes=20_000_000,
    max_alias_values=MAX_ALIAS_VALUES,
)
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
_UNDECODED_RUN = re.compile("[\udc80-\udcff]+")
# A CSV cell longer than csv's own limit is dropped (a data finding); one longer than
# LONGEST_READ, or a header line longer than MAX_HEADER_CHARS, makes the file unusable.
FIELD_LIMIT = 131_072
LONGEST_READ = 16 * 1024 * 1024
MAX_HEADER_CHARS = 1024 * 1024


@dataclass(frozen=True)
class RawRecord:
    """One record as the file holds it, and where it is."""

    row: int | None  # CSV line (header = 1), sheet row, JSONL line, YAML line; None if unknown
    path: str | None  # JSON/YAML: e.g. deals[3]
    values: dict[str, Any]
    value_rows: dict[str, int] = field(default_factory=dict)  # YAML: line of each value
    note: str | None = None  # a problem with the row's shape, e.g. too many cells
    cell_notes: tuple[tuple[str, str], ...] = ()  # (header, a cell's problem): not UTF-8, ...


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
    """UTF-8 (with or without BOM), UTF-16 (as Excel's Unicode Text) or cp1252.

    A head that is UTF-8 but for a few stray bytes (one row pasted from a cp1252 tool) is
    UTF-8: its rows are read as UTF-8 and the stray bytes by fallback, each a data finding
    (`_fallback`). Only a head with more stray bytes than UTF-8 characters is cp1252.
    """
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
            text = head[: len(head) - 4].decode("utf-8", errors="surrogateescape")
            stray = len(_UNDECODED.findall(text))
            multibyte = sum(1 for char in text if char > "\x7f") - stray
            return "utf-8" if multibyte >= stray else "cp1252"
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
    first = stream.readline(MAX_HEADER_CHARS + 1)
    if len(first) > MAX_HEADER_CHARS:
        stream.close()
        raise _unusable(
            path,
            f"the header line is longer than {MAX_HEADER_CHARS:,} characters",
            "the first line must hold the column headers; is this a CSV export?",
            1,
        )
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
    try:
        cells = next(csv.reader([first], delimiter=delimiter))
    except csv.Error as error:
        stream.close()
        message = f"the header line cannot be read: {error}"
        if "field larger than field limit" in str(error):
            message = f"a header cell is longer than {FIELD_LIMIT:,} characters"
        raise _unusable(path, message, "the first line must hold the column headers", 1) from None
    headers = _unique_headers(cells)
    fallback = chosen.lower().replace("_", "-") in ("utf-8", "utf8") and encoding is None
    table = Table(str(path), "csv", headers, iter(()), chosen, delimiter)
    table.records = _csv_records(path, stream, headers, delimiter, chosen, table, fallback)
    return table


class _Lines:
    """The lines of a CSV stream as csv.reader takes them, kept a while behind the reader so
    that a record can be read again: a quote left open swallows the rows after it, and a
    cell over csv's limit stops the reader mid-record (see `_csv_records`).

    Lines are numbered as in the file (the header is line 1). The lines behind the reader
    are let go every few thousand records, so memory stays bounded.
    """

    def __init__(self, stream: Iterator[str], first: int, delimiter: str) -> None:
        self.delimiter = delimiter
        self._restart(stream, first)

    def _restart(self, source: Iterator[str], first: int) -> None:
        self._lead, self._lag = itertools.tee(source)
        self.reader = csv.reader(self._lead, delimiter=self.delimiter)
        self.base = first - 1  # the line before the reader's first
        self._lag_line = first  # the line the lag gives next

    @property
    def next_line(self) -> int:
        """The line after the last one the reader took."""
        return self.base + self.reader.line_num + 1

    def forget(self) -> None:
        """Let go of the lines the reader is past."""
        self._skip_to(self.next_line)

    def _skip_to(self, line: int) -> None:
        skipped = line - self._lag_line
        if skipped > 0:
            collections.deque(itertools.islice(self._lag, skipped), maxlen=0)
            self._lag_line = line

    def taken(self, start: int) -> list[str]:
        """The lines from `start` to the last one the reader took, as the file holds them."""
        self._skip_to(start)
        end = self.next_line
        lines = list(itertools.islice(self._lag, end - start))
        self._lag_line = end
        return lines

    def read_again(self, lines: list[str], first: int) -> None:
        """Read these lines (the first being line `first`) again, then the rest."""
        self._restart(itertools.chain(lines, self._lead), first)


def _csv_records(
    path: Path,
    stream: IO[str],
    headers: list[str],
    delimiter: str,
    encoding: str,
    table: Table,
    fallback: bool,
) -> Iterator[RawRecord]:
    width = len(headers)
    lines = _Lines(iter(stream), 2, delimiter)
    reader, base = lines.reader, lines.base
    fallen_back = count = 0
    following = 2  # the line the next record starts on
    with stream:
        while True:
            start = following
            long_cells = False
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                if "field larger than field limit" not in str(error):
                    raise _unusable(path, f"broken CSV: {error}", line=start) from None
                taken = lines.taken(start)
                if _swallowed_rows(taken[1:], width, delimiter):
                    yield _open_quote(start, len(taken))
                    lines.read_again(taken[1:], start + 1)
                    reader, base, following = lines.reader, lines.base, start + 1
                    continue
                cells = _read_long_record(path, lines, taken, start)
                reader, base = lines.reader, lines.base
                long_cells = True
            following = base + reader.line_num + 1
            count += 1
            if count & 4095 == 0:
                lines.forget()
            if following > start + 1 and _looks_swallowing(cells, width, delimiter):
                taken = lines.taken(start)
                if _damaged(taken, cells, width, delimiter):
                    yield _open_quote(start, len(taken))
                    lines.read_again(taken[1:], start + 1)
                    reader, base, following = lines.reader, lines.base, start + 1
                    continue
            notes: dict[str, str] = {}
            if _undecoded(cells):
                if not fallback:
                    raise _unusable(
                        path,
                        f"line {start} is not valid {encoding} text",
                        "pass --encoding cp1252 (or the file's encoding)",
                        start,
                    )
                cells = _fallback(cells, headers, notes)
                fallen_back += 1
            if long_cells:
                cells = _drop_long_cells(cells, headers, notes)
            if not notes and not any(cell.strip() for cell in cells):
                continue
            note = None
            if len(cells) > width:
                extra = [cell for cell in cells[width:] if cell.strip()]
                if extra:
                    note = f"row has {len(cells)} cells but the header has {width}"
            values = dict(zip(headers, cells, strict=False))
            if notes:
                yield RawRecord(start, None, values, note=note, cell_notes=tuple(notes.items()))
            else:
                yield RawRecord(start, None, values, note=note)
    if fallen_back:
        table.notes.append(
            f"{fallen_back} row(s) of {path.name} are not valid UTF-8: their stray bytes were "
            "read as cp1252, row by row, each a data finding (the other rows are UTF-8)"
        )


def _open_quote(start: int, taken: int) -> RawRecord:
    """The row whose open quote swallowed the rows after it: rejected, they are read again."""
    return RawRecord(
        start,
        None,
        {},
        note=(
            f"a quote opened on line {start} is not closed where its cell ends: it ran over "
            f"lines {start + 1}-{start + taken - 1}, which look like rows of their own and "
            "are read as such"
        ),
    )


def _row_width(line: str, delimiter: str) -> int:
    """How many cells a line holds read alone; 0 when it does not read alone."""
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:
        return 0


def _swallowed_rows(lines: list[str], width: int, delimiter: str) -> bool:
    """Whether lines a quoted cell ran over look like rows: one as wide as the header."""
    if width < 2:
        return False
    return any(_row_width(line, delimiter) >= width for line in lines if line.strip())


def _looks_swallowing(cells: list[str], width: int, delimiter: str) -> bool:
    """Whether a cell of a record over several lines holds lines that look like rows."""
    for cell in cells:
        lined = "\n" in cell or "\r" in cell
        if lined and _swallowed_rows(cell.splitlines()[1:], width, delimiter):
            return True
    return False


def _damaged(taken: list[str], cells: list[str], width: int, delimiter: str) -> bool:
    """Whether a record over several lines is one a quote left open made: its lines do not
    read as one record of CSV (csv's strict mode), or it holds a number of cells other than
    the header's. A record of proper CSV of the header's width is read as it is."""
    if len(cells) != width:
        return True
    try:
        list(csv.reader(taken, delimiter=delimiter, strict=True))
    except csv.Error:
        return True
    return False


def _read_long_record(path: Path, lines: _Lines, taken: list[str], start: int) -> list[str]:
    """The record starting at `start` that holds a cell over csv's limit, read again with a
    limit of LONGEST_READ characters (its long cells are then dropped, `_drop_long_cells`)."""
    lines.read_again(taken, start)
    limit = csv.field_size_limit()
    csv.field_size_limit(LONGEST_READ)
    try:
        return next(lines.reader)
    except (csv.Error, StopIteration):
        raise _unusable(
            path,
            f"the record of line {start} holds a cell longer than {LONGEST_READ:,} characters",
            "is a quote left open? each cell must end with the quote it starts with",
            start,
        ) from None
    finally:
        csv.field_size_limit(limit)


def _drop_long_cells(cells: list[str], headers: list[str], notes: dict[str, str]) -> list[str]:
    kept = []
    for index, cell in enumerate(cells):
        if len(cell) > FIELD_LIMIT:
            header = headers[index] if index < len(headers) else f"column {index + 1}"
            notes[header] = (
                f"a cell of {len(cell):,} characters, over the {FIELD_LIMIT:,} read: "
                "dropped (read as missing)"
            )
            cell = ""
        kept.append(cell)
    return kept


def _fallback(cells: list[str], headers: list[str], notes: dict[str, str]) -> list[str]:
    """A row of a UTF-8 file holding bytes that are not UTF-8: those bytes read as cp1252."""
    read = []
    for index, cell in enumerate(cells):
        if _UNDECODED.search(cell):
            cell = _UNDECODED_RUN.sub(_as_cp1252, cell)
            header = headers[index] if index < len(headers) else f"column {index + 1}"
            notes[header] = f"not UTF-8: read as cp1252 ('{cell[:40]}')"
        read.append(cell)
    return read


def _as_cp1252(match: re.Match[str]) -> str:
    raw = match.group().encode("utf-8", errors="surrogateescape")
    return raw.decode("cp1252", errors="replace")


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
    """Headers as given, blank ones named by position, a repeated one numbered: `Name (2)`.

    Linear: the names taken are a set, and each repeated name resumes its numbering."""
    headers: list[str] = []
    taken: set[str] = set()
    copies: dict[str, int] = {}
    for index, cell in enumerate(cells, start=1):
        name = cell.strip().lstrip("\ufeff") or f"column {index}"
        candidate = name
        if candidate in taken:
            copy = copies.get(name, 2)
            candidate = f"{name} ({copy})"
            while candidate in taken:
                copy += 1
                candidate = f"{name} ({copy})"
            copies[name] = copy + 1
        taken.add(candidate)
        headers.append(candidate)
    return headers


# --- Excel ----------------------------------------------------------------------------


# A workbook is a zip of XML parts. Each part is read only after these checks, so a hostile
# workbook costs bounded time and memory (docs/reliability.md):
MAX_XLSX_PART_BYTES = 256 * 1024 * 1024  # the uncompressed size of any one part
EXCEL_MAX_ROWS = 1_048_576  # Excel's last row: a sheet claiming rows past it is refused
_PROLOG_BYTES = 64 * 1024  # an XML part's declaration, comments and DTD come in these


def check_workbook_parts(path: Path, max_part_bytes: int = MAX_XLSX_PART_BYTES) -> None:
    """Refuse a workbook with a part too large to unpack, or XML declaring a DTD.

    A DTD is what entity expansion (the billion laughs) and external entities (XXE) need;
    spreadsheets never hold one, so any part that declares one is refused, whether or not
    openpyxl parses with defusedxml (it does when defusedxml is installed and
    OPENPYXL_DEFUSEDXML is not False).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.file_size > max_part_bytes:
                    raise _unusable(
                        path,
                        f"workbook part {info.filename} unpacks to {info.file_size:,} bytes, "
                        f"more than the {max_part_bytes:,} read",
                        "save the export as CSV",
                    )
                if info.filename.endswith((".xml", ".rels", ".vml")):
                    with archive.open(info) as part:
                        prolog = _xml_prolog(part)
                    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
                        raise _unusable(
                            path,
                            f"workbook part {info.filename} declares a DTD (<!DOCTYPE>); XML "
                            "entities are refused, as Excel never writes them",
                            "save the sheet again from Excel or export it as CSV",
                        )
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
        raise _unusable(path, f"not a readable Excel workbook: {error}") from None


def _xml_prolog(part: IO[bytes]) -> bytes:
    """The bytes of an XML part before its root element (where a DTD must stand)."""
    head = b""
    while len(head) < _PROLOG_BYTES:
        chunk = part.read(4096)
        if not chunk:
            break
        head += chunk
        match = _ROOT_START.search(head)
        if match:
            return head[: match.start()]
    return head


_ROOT_START = re.compile(rb"<[A-Za-z_]")


def _open_xlsx(path: Path, sheet: str | None) -> Table:
    import openpyxl  # heavy: only when an Excel file is read

    check_workbook_parts(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl and its XML parser raise many unrelated types
        raise _unusable(path, f"not a readable Excel workbook: {_first_line(error)}") from None
    if sheet is not None and sheet not in workbook.sheetnames:
        workbook.close()
        raise UsageError(f"{path}: no sheet '{sheet}' (sheets: {', '.join(workbook.sheetnames)})")
    worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    # The sheet's own <dimension> may be wrong (or hostile): openpyxl would stop at its last
    # row and drop the rows after it. Read every row the XML holds instead.
    worksheet.reset_dimensions()
    rows = _sheet_rows(path, worksheet)
    try:
        for _, cells in rows:
            if any(_filled(cell) for cell in cells):
                headers = _unique_headers(["" if cell is None else str(cell) for cell in cells])
                break
        else:
            raise _unusable(path, f"sheet '{worksheet.title}' has no header row")
    except InputError:
        workbook.close()
        raise
    return Table(
        str(path), "xlsx", headers, _xlsx_records(workbook, rows, headers), sheet=worksheet.title
    )


def _sheet_rows(path: Path, worksheet: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The rows of a sheet, numbered; a sheet whose XML breaks off or is malformed, or that
    runs past Excel's last row, is refused naming the row reached."""
    number = 0
    try:
        for number, cells in enumerate(worksheet.iter_rows(values_only=True), start=1):
            if number > EXCEL_MAX_ROWS:
                raise _unusable(
                    path,
                    f"sheet '{worksheet.title}' has rows past Excel's last row "
                    f"({EXCEL_MAX_ROWS:,})",
                    "save the sheet again from Excel",
                    number,
                )
            yield number, cells
    except InputError:
        raise
    except Exception as error:  # the XML parser, zip and openpyxl's cell reading
        raise _unusable(
            path,
            f"sheet '{worksheet.title}' is broken at row {number + 1}: {_first_line(error)}",
            "save the sheet again from Excel or export it as CSV",
            number + 1,
        ) from None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


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
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _unusable(
            path, f"the file is not UTF-8 text (byte {error.start})", "save it as UTF-8"
        ) from None
    try:
        data = load_json(text)
    except json.JSONDecodeError as error:
        raise _unusable(path, f"invalid JSON: {error}", line=error.lineno) from None
    except RecursionError:
        line, column = _deep_position(text)
        raise InputError(
            [
                Problem(
                    Location(str(path), line, column),
                    f"JSON nested more than {MAX_NESTING} levels deep",
                    "deal records hold values, lists and records a few levels deep",
                )
            ]
        ) from None
    records, prefix = _record_list(data, path)
    headers = _headers_of(records)
    return Table(str(path), "json", headers, _tree_records(records, prefix, None))


# Deal records nest a few levels (a list of contacts, a related record); a deeper one is
# rejected, as the YAML reader refuses it (DEAL_FILE_LIMITS). JSON text nested deeper than
# Python's recursion limit (about 1,000) makes the whole JSON file unusable.
MAX_NESTING = DEAL_FILE_LIMITS.max_depth
# Python refuses to read integers of more than 4,300 digits; longer ones are read as a Decimal,
# which the mapper reports as a number too large to read (normalise.MAX_WHOLE_DIGITS).
_LONGEST_INT = 4000
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def load_json(text: str) -> Any:
    """JSON with decimals exact and any integer length read; RecursionError when too deep."""
    return json.loads(text, parse_float=Decimal, parse_int=_json_int)


def _json_int(text: str) -> int | Decimal:
    return int(text) if len(text) <= _LONGEST_INT else Decimal(text)


def _deep_position(text: str, limit: int = MAX_NESTING) -> tuple[int, int]:
    """Line and column where JSON text first nests deeper than `limit`; (0, 0) if nowhere."""
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        char = token.group()[0]
        if char in "[{":
            depth += 1
            if depth > limit:
                offset = token.start()
                line = text.count("\n", 0, offset) + 1
                return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
        elif char in "]}":
            depth -= 1
    return 0, 0


def too_deep(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether lists and records nest deeper than `limit` in `value`, walked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


_TOO_DEEP = f"the record nests lists or records more than {MAX_NESTING} levels deep"


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
        if isinstance(record, dict) and not too_deep(record):
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
        if too_deep(record):
            yield RawRecord(row, path or None, {}, note=_TOO_DEEP)
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
    """JSON Lines, one record a line, in UTF-8: a line that is not UTF-8 text or not JSON is
    a rejected row; a first line that is not UTF-8 means the file is not, and is refused."""
    stream = path.open("rb")
    headers: dict[str, None] = {}
    # Headers come from the first records; later keys are still read, as custom fields.
    peeked: list[tuple[int, bytes]] = []
    for number, line in enumerate(stream, start=1):
        if line.strip():
            if not peeked:
                _first_line_text(path, stream, number, line)
            peeked.append((number, line))
            record = _jsonl_record(number, line)
            if isinstance(record, dict):
                headers.update(dict.fromkeys(flatten(record)))
        if len(peeked) >= 100:
            break
    return Table(str(path), "jsonl", list(headers), _jsonl_records(stream, peeked))


def _first_line_text(path: Path, stream: IO[bytes], number: int, line: bytes) -> None:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as error:
        stream.close()
        raise InputError(
            [
                Problem(
                    Location(str(path), number, error.start + 1),
                    f"line {number} is not UTF-8 text (byte {error.start + 1} of the line)",
                    "JSON Lines files are UTF-8: save it as UTF-8",
                )
            ]
        ) from None


def _jsonl_record(number: int, line: bytes) -> dict[str, Any] | RawRecord:
    """The record a line holds, or a rejected row saying why it holds none."""
    try:
        text = line.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as error:
        note = f"line {number} is not UTF-8 text (byte {error.start + 1} of the line)"
        return RawRecord(number, None, {}, note=note)
    try:
        record = load_json(text)
    except json.JSONDecodeError as error:
        return RawRecord(number, None, {}, note=f"invalid JSON: {error.msg}")
    except RecursionError:
        return RawRecord(number, None, {}, note=_TOO_DEEP)
    if not isinstance(record, dict):
        return RawRecord(number, None, {}, note="the line is not a JSON object")
    if too_deep(record):
        return RawRecord(number, None, {}, note=_TOO_DEEP)
    return record


def _jsonl_records(stream: IO[bytes], peeked: list[tuple[int, bytes]]) -> Iterator[RawRecord]:
    def numbered() -> Iterator[tuple[int, bytes]]:
        yield from peeked
        number = peeked[-1][0] if peeked else 0
        for line in stream:
            number += 1
            yield number, line

    with stream:
        for number, line in numbered():
            if not line.strip():
                continue
            record = _jsonl_record(number, line)
            if isinstance(record, RawRecord):
                yield record
            else:
                yield RawRecord(number, None, flatten(record))


# --- Parquet --------------------------------------------------------------------------


@dataclass(frozen=True)
class UnreadableValue:
    """A value the file holds that has no Python form, e.g. a Parquet timestamp in the year
    10000: the mapper reports it as an unreadable value of its deal and reads it as missing."""

    text: str
    reason: str

    def __str__(self) -> str:
        return self.text


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
            columns = {
                name: _arrow_column(column)
                for name, column in zip(batch.schema.names, batch.columns, strict=True)
            }
            for index in range(batch.num_rows):
                number += 1
                values = {name: _arrow_value(cells[index]) for name, cells in columns.items()}
                yield RawRecord(number, None, values)

    return Table(str(path), "parquet", headers, records())


def _arrow_column(column: Any) -> list[Any]:
    """A column's values in Python; a value Python cannot hold (a date past the year 9999)
    becomes an UnreadableValue, the rest of its column is read."""
    import pyarrow as arrow

    if arrow.types.is_timestamp(column.type) and column.type.unit == "ns":
        # Python's datetime has microseconds: nanoseconds are cut (dates are what is read)
        column = column.cast(arrow.timestamp("us", column.type.tz), safe=False)
    try:
        values: list[Any] = column.to_pylist()
        return values
    except (OverflowError, ValueError, arrow.ArrowException):
        pass
    cells: list[Any] = []
    for index in range(len(column)):
        try:
            cells.append(column[index].as_py())
        except (OverflowError, ValueError, arrow.ArrowException) as error:
            try:
                text = str(column.slice(index, 1).cast(arrow.string())[0].as_py())
            except (ValueError, arrow.ArrowException):
                text = f"({column.type} value)"
            cells.append(UnreadableValue(text, f"{column.type} value {text!r} ({error})"))
    return cells


def _arrow_value(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, datetime | date | Decimal | str | bool | int | UnreadableValue):
        return value
    if value is None:
        return value
    if isinstance(value, list):
        return [_arrow_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _arrow_value(item) for key, item in value.items()}
    return value
