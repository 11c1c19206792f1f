"""`dealgate report` reads a saved audit's deals one at a time (report/json_stream.py,
saved_audit.stream_audit) and keeps what each format shows (report/saved_reports.py): the
same reports as from the whole document, and the same messages for a file that is no audit.
Its memory is measured in docs/performance.md, not here."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from command import REPO, dealgate
from dealgate.errors import InputError
from dealgate.report import json_stream
from dealgate.report.formats import DOCUMENT_FORMATS, FORMATS, render_document
from dealgate.report.json_stream import JsonSyntaxError, read_object
from dealgate.report.saved_audit import load_audit
from dealgate.report.saved_reports import render_saved

# -- the reader against json.loads ---------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)
documents = st.dictionaries(
    st.sampled_from(["a", "deals", "b", "c"]), values, max_size=4
) | st.fixed_dictionaries({"deals": st.lists(values, max_size=6)})


def _read(text: str) -> tuple[dict[str, Any], list[Any]]:
    items: list[Any] = []
    document = read_object(io.StringIO(text), "deals", lambda index, item: items.append(item))
    return document, items


@settings(max_examples=300, deadline=None)
@given(
    document=documents,
    indent=st.sampled_from([None, 1, 2]),
    block=st.integers(1, 40),
    cut=st.integers(0, 10_000),
    corrupt=st.booleans(),
)
def test_the_reader_reads_what_json_loads_reads_and_fails_where_it_fails(
    document: dict[str, Any], indent: int | None, block: int, cut: int, corrupt: bool
) -> None:
    """At any block size, on any object, cut short or with a character changed: the same
    values, or the same message at the same line and column."""
    text = json.dumps(document, indent=indent)
    if corrupt and text:
        at = cut % len(text)
        text = text[:at] + "]" + text[at + 1 :]
    elif corrupt:
        text = text[: cut % (len(text) + 1)]
    saved = json_stream.BLOCK
    json_stream.BLOCK = block
    try:
        try:
            expected = json.loads(text)
        except json.JSONDecodeError as error:
            if not text.lstrip().startswith("{"):
                return  # no object: the loader reads the file whole instead (Abandon)
            with pytest.raises(JsonSyntaxError) as raised:
                _read(text)
            assert (raised.value.message, raised.value.line, raised.value.column) == (
                error.msg,
                error.lineno,
                error.colno,
            )
            return
        if not isinstance(expected, dict):
            return
        found, items = _read(text)
    finally:
        json_stream.BLOCK = saved
    streamed = "deals" in expected and isinstance(expected["deals"], list)
    assert items == (expected["deals"] if streamed else [])
    assert found == ({**expected, "deals": []} if streamed else expected)


# -- the reports ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's audit, its deals repeated under new ids until more need attention than
    the HTML page lists: the page and the workbook leave some out."""
    folder = tmp_path_factory.mktemp("saved")
    audit = folder / "audit.json"
    result = dealgate(
        "audit", "examples/salesforce-opportunities.csv", "--as-of", "2026-11-27",
        "--format", "json", "--output", str(audit), "--fail-on", "never",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(audit.read_text(encoding="utf-8"))
    deals = document["deals"]
    needing = sum(1 for deal in deals if deal["needs_attention"])
    copies = FORMATS["html"].lists_largest // needing + 2  # type: ignore[operator]
    document["deals"] = [
        deal | {"id": f"{deal['id']}-{copy}", "amount": (deal["amount"] or 0) + copy}
        for copy in range(copies)
        for deal in deals
    ]
    large = folder / "large.json"
    large.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return large


def _bytes(rendered: Any) -> bytes:
    return rendered if isinstance(rendered, bytes) else "".join(rendered).encode()


@pytest.mark.parametrize("name", DOCUMENT_FORMATS)
def test_each_format_renders_what_the_whole_document_renders(saved: Path, name: str) -> None:
    whole = render_document(name, load_audit(saved, "audit").data)
    streamed = render_saved(saved, name)
    if name == "xlsx":
        _same_workbook(_bytes(whole), _bytes(streamed))
    elif name == "parquet":
        _same_parquet(_bytes(whole), _bytes(streamed))
    else:
        assert _bytes(streamed) == _bytes(whole)
    if name == "html":  # the page says it leaves deals out
        assert "are left out of it" in _bytes(streamed).decode()


def _same_workbook(whole: bytes, streamed: bytes) -> None:
    import openpyxl

    first = openpyxl.load_workbook(io.BytesIO(whole), read_only=True)
    second = openpyxl.load_workbook(io.BytesIO(streamed), read_only=True)
    assert first.sheetnames == second.sheetnames
    for name in first.sheetnames:
        rows = [[cell.value for cell in row] for row in first[name].iter_rows()]
        assert rows == [[cell.value for cell in row] for row in second[name].iter_rows()], name


def _same_parquet(whole: bytes, streamed: bytes) -> None:
    import pyarrow.parquet as parquet

    first = parquet.read_table(io.BytesIO(whole))
    second = parquet.read_table(io.BytesIO(streamed))
    assert first.num_rows > 0 and first.equals(second)
    assert first.schema.metadata == second.schema.metadata


def test_an_earlier_version_is_read_whole_and_upgraded() -> None:
    v1 = REPO / "tests" / "fixtures" / "audit-v1.json"
    expected = render_document("json", load_audit(v1, "audit").data)
    assert _bytes(render_saved(v1, "json")) == _bytes(expected)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda d: d["deals"][3]["findings"][0].update(kind=5), "deals[3].findings[0].kind"),
        (lambda d: d["summary"].update(deals_audited="x"), "summary.deals_audited"),
        (lambda d: d.update(schema_version=99), "saved by a later dealgate"),
    ],
)
def test_a_wrong_audit_is_named_as_when_read_whole(
    saved: Path, tmp_path: Path, change: Any, said: str
) -> None:
    document = json.loads(saved.read_text(encoding="utf-8"))
    change(document)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(document, indent=2), encoding="utf-8")
    with pytest.raises(InputError) as whole:
        load_audit(wrong, "audit")
    with pytest.raises(InputError) as streamed:
        render_saved(wrong, "html")
    assert said in str(streamed.value.problems[0])
    assert [str(p) for p in streamed.value.problems] == [str(p) for p in whole.value.problems]
