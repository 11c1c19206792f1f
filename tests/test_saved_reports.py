"""`dealgate report` reads a saved audit's deals one at a time (report/json_stream.py,
saved_audit.stream_audit) and keeps what each format shows (report/saved_reports.py): the
same reports as from the whole document, and the same messages for a file that is no audit.
Its memory is measured in docs/performance.md, not here."""

from __future__ import annotations

import io
import json
from datetime import date
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
        (lambda d: d["deals"][2500].update(id=5), "deals[2500].id"),  # a later batch
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


# -- what changed since a baseline, from slim deals ----------------------------------------


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Last week's audit (with and without met findings), this week's, and the version 1
    fixture: baselines and audits to compare."""
    folder = tmp_path_factory.mktemp("weeks")
    reading = (
        "--contacts",
        "examples/salesforce-contact-roles.csv",
        "--teams",
        "examples/teams.csv",
    )
    runs = {
        "last": ("examples/salesforce-opportunities-last-week.csv", "--as-of", "2026-11-20"),
        "last-met": (
            "examples/salesforce-opportunities-last-week.csv", "--as-of", "2026-11-20",
            "--include-met",
        ),
        "this": ("examples/salesforce-opportunities.csv", "--as-of", "2026-11-27"),
    }  # fmt: skip
    saved = {"v1": REPO / "tests" / "fixtures" / "audit-v1.json"}
    for name, run in runs.items():
        saved[name] = folder / f"{name}.json"
        result = dealgate(
            "audit", *run, *reading, "--format", "json", "--output", str(saved[name]),
            "--fail-on", "never",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    return saved


@pytest.mark.parametrize("baseline", ["v1", "last", "last-met"])
def test_slim_deals_compare_as_whole_ones(weeks: dict[str, Path], baseline: str) -> None:
    from dealgate.report.changes import compare, load_baseline, slim_deal

    then = load_audit(weeks[baseline], "baseline").data
    now = load_audit(weeks["this"], "audit").data
    whole = compare(then, now, "then.json").as_json()
    assert whole["new_findings"] and whole["resolved_findings"]  # something to compare
    slim = compare(
        then | {"deals": [slim_deal(deal) for deal in then["deals"]]},
        now | {"deals": [slim_deal(deal) for deal in now["deals"]]},
        "then.json",
    )
    assert slim.as_json() == whole
    streamed = compare(load_baseline(weeks[baseline]).data, now, "then.json")
    assert streamed.as_json() == whole


def test_an_audit_with_a_baseline_keeps_every_deal_slim_and_shows_what_the_whole_would(
    weeks: dict[str, Path], tmp_path: Path
) -> None:
    """`audit --baseline` keeps of each deal what its report shows, and every deal slim for
    the comparison: the same JSON as the document of every deal kept would give."""
    from dataclasses import replace

    from dealgate.application import AuditRequest, run_audit_request
    from dealgate.engines import get_engine
    from dealgate.report.audit_json import audit_json, audit_json_chunks, compared_document
    from dealgate.report.changes import compare, load_baseline
    from dealgate.rules.loader import load_pack

    request = AuditRequest(
        pipeline=REPO / "examples" / "salesforce-opportunities.csv",
        pack=load_pack("buyer-journey"),
        as_of=date(2026, 11, 27),
        engine=get_engine("durable"),
        format="json",
        deals_read_after=False,
        compare_changes=True,
    )
    previous = load_baseline(weeks["last"]).data
    streamed = run_audit_request(request).result
    assert streamed is not None and streamed.streamed is not None
    assert streamed.streamed.compared is not None
    changes = compare(previous, compared_document(streamed, False), "last.json").as_json()
    whole = run_audit_request(replace(request, deals_read_after=True, compare_changes=False))
    assert whole.result is not None
    document = audit_json(whole.result, False)
    document["changes"] = compare(previous, document, "last.json").as_json()
    expected = json.dumps(document, indent=2) + "\n"
    assert "".join(audit_json_chunks(streamed, False, changes)) == expected


@pytest.mark.parametrize("name", ["this", "v1"])
def test_the_deals_of_a_snapshot_are_given_typed_and_in_order(
    weeks: dict[str, Path], name: str
) -> None:
    """--history and calibrate keep a little of each deal as it is read (read_deals_of): the
    deals are those load_audit reads, in order, whatever the saved version."""
    from dealgate.report.saved_audit import Deal, read_deals_of

    given: list[Deal] = []
    document = read_deals_of(weeks[name], "snapshot", given.append)
    whole = load_audit(weeks[name], "snapshot")
    assert given and given == whole.audit.deals
    assert document.audit.as_of == whole.audit.as_of
