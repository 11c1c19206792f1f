"""Fuzzing the inputs a user hands dealgate: exports, rule packs and waiver files.

Properties, whatever the bytes: no exception but a located InputError (the CLI's exit 2), and
every row read is a deal or a rejection (the reconciliation balances). The expression parser
is fuzzed in test_expression_properties.py and the engines' agreement on random conditions and
deals in test_engine_agreement.py.

CI runs a bounded number of cases; a longer run (docs/reliability.md):

    DEALGATE_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/test_fuzz.py
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from command import dealgate
from dealgate.deals.source import Reading
from dealgate.errors import InputError
from dealgate.judging.waivers import load_waivers
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack

EXAMPLES = int(os.environ.get("DEALGATE_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PACK = load_pack("salesforce-default")

HEADER = [
    "Opportunity ID",
    "Opportunity Name",
    "Opportunity Owner",
    "Stage",
    "Amount",
    "Close Date",
    "Probability (%)",
    "Forecast Category",
]
# Cells as exports write them, and as they break: quotes, separators, line breaks, numbers in
# odd forms, non-ASCII, control characters, placeholders.
cells = st.one_of(
    st.sampled_from(
        [
            "",
            "Needs Analysis",
            "Negotiation/Review",
            "Closed Won",
            "120,000.00",
            "1e400",
            "-0",
            "NaN",
            "inf",
            "2026-11-27",
            "27/11/2026",
            "9999-99-99",
            "Commit",
            "TBD",
            "Müller",
            '"',
            ",",
            "\n",
            "\r\n",
            "\x00",
            "=cmd|' /C calc'!A0",
        ]
    ),
    st.text(max_size=30),
)
rows = st.lists(st.lists(cells, min_size=0, max_size=len(HEADER) + 2), max_size=12)


def _write_csv(folder: Path, body: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(body)
    path = folder / "export.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", errors="surrogatepass")
    return path


def _read_all(path: Path) -> tuple[int, int, int] | None:
    """(rows read, deals read, rows rejected), or None when the file cannot be used at all."""
    try:
        source = Reading().open(path, PACK)
        deals = list(source)
    except InputError:
        return None
    counts = source.mapper.reconciliation
    assert counts.deals_read == len(deals)
    return counts.rows_read, counts.deals_read, counts.rows_rejected


@FUZZ
@given(body=rows)
def test_every_row_of_a_well_formed_csv_is_a_deal_or_a_rejection(
    body: list[list[str]], tmp_path: Path
) -> None:
    try:
        path = _write_csv(tmp_path, body)
    except UnicodeEncodeError:  # a lone surrogate cannot be written as UTF-8 at all
        return
    read = _read_all(path)
    if read is None:
        return
    rows_read, deals_read, rejected = read
    # A record of only blank cells (empty, spaces, line breaks) holds nothing: not a row.
    assert rows_read == sum(1 for row in body if any(cell.strip() for cell in row))
    assert rows_read == deals_read + rejected


@FUZZ
@given(
    body=rows,
    damage=st.lists(
        st.tuples(st.integers(min_value=0), st.binary(min_size=1, max_size=4)), max_size=5
    ),
)
def test_damaged_bytes_give_a_balanced_reading_or_a_clear_refusal(
    body: list[list[str]], damage: list[tuple[int, bytes]], tmp_path: Path
) -> None:
    try:
        data = bytearray(_write_csv(tmp_path, body).read_bytes())
    except UnicodeEncodeError:
        return
    for at, bytes_ in damage:
        at %= len(data) + 1
        data[at:at] = bytes_
    path = tmp_path / "export.csv"
    path.write_bytes(bytes(data))
    read = _read_all(path)
    if read is not None:
        rows_read, deals_read, rejected = read
        assert rows_read == deals_read + rejected


# --- rule packs ----------------------------------------------------------------------------

BASE_PACK: dict[str, Any] = {
    "pack": "fuzzed",
    "forecast": {"Commit": "negotiate"},
    "probability_ceiling": {"qualify": 10, "negotiate": 80},
    "stages": [
        {
            "id": "qualify",
            "exit": [
                {
                    "id": "QUAL-PAIN",
                    "milestone": "Pain confirmed",
                    "require": "present(pain) and days_since(last_activity_date) <= 30",
                    "guidance": "Ask why now.",
                }
            ],
        },
        {"id": "negotiate"},
        {"id": "won", "terminal": "won"},
    ],
    "checks": [{"id": "HYG-AMOUNT", "milestone": "Amount set", "require": "amount > 0"}],
}
junk = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=20),
        st.sampled_from(["qualify", "won", "HYG-AMOUNT", "amount > ", "((", "present(", "10**9"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a YAML document a value sits."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[head] = _replace(document[head], tuple(rest), value)
    return copy


@FUZZ
@given(data=st.data())
def test_a_mutated_pack_loads_or_is_refused_with_its_place(data: Any, tmp_path: Path) -> None:
    path = data.draw(st.sampled_from(_paths(BASE_PACK)))
    mutated = _replace(BASE_PACK, path, data.draw(junk))
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / "fuzzed.yaml").write_text(yaml.safe_dump(mutated), encoding="utf-8")
    try:
        load_pack("fuzzed", PackCatalog([folder], include_bundled=False))
    except InputError as error:
        assert error.problems
        assert all(problem.message for problem in error.problems)


# --- waiver files ----------------------------------------------------------------------------

WAIVER = {"deal": "006*", "milestone": "HYG-AMOUNT", "reason": "Pilot", "expires": "2026-12-31"}


@FUZZ
@given(data=st.data())
def test_a_mutated_waiver_file_loads_or_is_refused_with_its_place(
    data: Any, tmp_path: Path
) -> None:
    document = {"waivers": [WAIVER]}
    path = data.draw(st.sampled_from(_paths(document)))
    mutated = _replace(document, path, data.draw(junk))
    file = tmp_path / "waivers.yaml"
    file.write_text(yaml.safe_dump(mutated), encoding="utf-8")
    try:
        waivers = load_waivers(file)
    except InputError as error:
        assert error.problems
    else:
        assert all(waiver.reason.strip() for waiver in waivers)


# --- the whole command -----------------------------------------------------------------------


@settings(
    max_examples=max(3, EXAMPLES // 10),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=rows, engine=st.sampled_from(["durable", "sql"]))
def test_the_audit_of_any_export_exits_0_1_or_2_without_a_traceback(
    body: list[list[str]], engine: str, tmp_path: Path
) -> None:
    try:
        _write_csv(tmp_path, body)
    except UnicodeEncodeError:
        return
    done = dealgate(
        "audit", "export.csv", "--engine", engine, "--as-of", "2026-11-27", "--format", "json",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode in (0, 1, 2), done.stderr
    assert "Traceback" not in done.stderr
