"""Hostile or malformed YAML is refused with a clear, positioned error in bounded time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dealgate.errors import InputError
from dealgate.yamlsafe import YamlLimits, parse_yaml, read_yaml_file

ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _error(text: str, limits: YamlLimits | None = None) -> str:
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "pack.yaml", limits or YamlLimits())
    assert len(caught.value.problems) == 1
    return str(caught.value.problems[0])


def test_alias_bomb_is_refused_quickly() -> None:
    started = time.perf_counter()
    message = _error(ALIAS_BOMB)
    # Correctness, not speed, is asserted; the bound only catches a runaway expansion.
    assert time.perf_counter() - started < 30
    assert "more than 200,000 values once aliases are expanded" in message


def test_recursive_alias_is_refused() -> None:
    message = _error("a: &a [*a]\n")
    assert message.startswith("pack.yaml:1:")


def test_very_deep_nesting_is_refused_before_building_nodes() -> None:
    block = "".join("  " * level + "- \n" for level in range(100)) + "  " * 100 + "- x\n"
    assert _error(block) == "pack.yaml:65:129: error: nesting deeper than 64 levels"
    flow = "[" * 100_000 + "]" * 100_000
    assert "nesting" in _error(flow)


def test_huge_document_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("x: " + "a" * 5_000_000, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_yaml_file(big)
    assert "more than the 4,194,304 allowed" in str(caught.value)


def test_syntax_error_has_line_and_column() -> None:
    assert _error("stages:\n  - id: a\n   bad: [\n") == (
        "pack.yaml:3:4: error: invalid YAML: did not find expected '-' indicator"
    )


def test_duplicate_keys_are_an_error_not_a_silent_overwrite() -> None:
    assert _error("pack: a\npack: b\n") == (
        "pack.yaml:2:1: error: duplicate key 'pack' (each key may appear once)"
    )


def test_two_documents_in_one_file_are_refused() -> None:
    assert _error("pack: a\n---\npack: b\n") == (
        "pack.yaml:3:1: error: file holds more than one YAML document (keep one document per file)"
    )


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("title: Café\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_yaml_file(latin)


def test_positions_of_values_and_keys_are_kept() -> None:
    document = parse_yaml("pack: x\nstages:\n  - id: qualify\n    name: Qualify\n", "p.yaml")
    assert str(document.location(("stages", 0, "name"))) == "p.yaml:4:11"
    assert str(document.key_location(("stages", 0, "name"))) == "p.yaml:4:5"


def test_columns_inside_quoted_and_block_scalars() -> None:
    text = "a: 'x > 1'\nb: |\n  first\n    second\n"
    document = parse_yaml(text, "p.yaml")
    assert str(document.text_location(("a",), 2)) == "p.yaml:1:7"
    assert str(document.text_location(("b",), 8)) == "p.yaml:4:5"


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("a: !!python/object:os.system {}\n", "tag:yaml.org,2002:python/object:os.system"),
        ("a: !custom x\n", "!custom"),
        ("a: !!binary aGk=\n", "tag:yaml.org,2002:binary"),
    ],
)
def test_tags_beyond_plain_data_are_refused(text: str, tag: str) -> None:
    assert _error(text) == (
        f"pack.yaml:1:4: error: YAML tag '{tag}' is not allowed "
        "(write plain values, lists and mappings)"
    )


def test_plain_scalars_map_columns_directly() -> None:
    document = parse_yaml("require: stage >= evalute\n", "p.yaml")
    assert str(document.text_location(("require",), 9)) == "p.yaml:1:19"


def test_columns_inside_folded_and_multi_line_plain_scalars() -> None:
    text = (
        "folded: >-\n"
        "  present(action_plan_agreed_on)\n"
        "  and any(action_plan, owner_sid == 'buyer')\n"
        "plain: present(pain)\n"
        "  and presnt(x)\n"
    )
    document = parse_yaml(text, "p.yaml")
    value = document.value["folded"]
    offset = value.index("owner_sid")
    assert str(document.text_location(("folded",), offset)) == "p.yaml:3:24"
    offset = document.value["plain"].index("presnt")
    assert str(document.text_location(("plain",), offset)) == "p.yaml:5:7"
