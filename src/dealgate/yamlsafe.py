"""Safe YAML loading that keeps line numbers and refuses hostile documents.

PyYAML's safe loader expands aliases and recurses on nesting without limit, so an
alias bomb or a deeply nested document can exhaust memory or the stack. Here the
event stream is scanned first (iteratively) for depth and size, and the node graph
is then turned into plain values with a budget on the number of nodes produced,
which also bounds alias expansion.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dealgate.errors import InputError, Location, Problem

try:  # the C parser is much faster; fall back to pure Python where libyaml is absent
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

YamlPath = tuple[str | int, ...]

# Only the tags of plain data; anything else (!!python/object, !custom, !!binary) is refused.
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
)


@dataclass(frozen=True)
class YamlLimits:
    """Bounds that keep a hostile document from costing unbounded time or memory."""

    max_bytes: int = 4 * 1024 * 1024
    max_depth: int = 64
    max_nodes: int = 200_000
    # Values an alias may add beyond those written: a deal file may be large (max_nodes) and
    # still be refused in a moment when a few hundred bytes of aliases repeat it to gigabytes.
    max_alias_values: int | None = None


PACK_LIMITS = YamlLimits()


@dataclass(frozen=True)
class TextSegment:
    """One source line of a scalar's text: where it starts and how many characters it has."""

    line: int
    column: int
    length: int


@dataclass(frozen=True)
class NodeInfo:
    """Where a value stands in the file; for text, where each of its lines stands."""

    location: Location
    segments: tuple[TextSegment, ...] = ()


@dataclass
class YamlDocument:
    """Plain Python values of one YAML document, with the position of every value and key."""

    file: str
    value: Any
    values: dict[YamlPath, NodeInfo] = field(default_factory=dict)
    keys: dict[YamlPath, Location] = field(default_factory=dict)

    def location(self, path: YamlPath) -> Location:
        """The position of the value at `path`, or of its nearest enclosing value."""
        for end in range(len(path), -1, -1):
            info = self.values.get(path[:end])
            if info is not None:
                return info.location
        return Location(self.file, 1, 1)

    def key_location(self, path: YamlPath) -> Location:
        """The position of the key that names `path`, else of the value."""
        return self.keys.get(path) or self.location(path)

    def text_location(self, path: YamlPath, offset: int) -> Location:
        """The position of character `offset` inside the scalar text at `path`.

        A scalar written over several lines is its lines joined by one character (a newline
        in a `|` block, a space when folded), so the offset is walked line by line. Blank
        lines inside a folded block shift the result slightly; the line stays right.
        """
        info = self.values.get(path)
        if info is None or not info.segments:
            return self.location(path)
        start = 0
        for segment in info.segments:
            if offset <= start + segment.length:
                return Location(self.file, segment.line, segment.column + offset - start)
            start += segment.length + 1
        last = info.segments[-1]
        return Location(self.file, last.line, last.column + last.length)


def read_yaml_file(
    path: Path, limits: YamlLimits = PACK_LIMITS, *, display: str | None = None
) -> YamlDocument:
    """Read and parse one YAML file; every problem is an InputError with a position."""
    name = display or str(path)
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise _problem(
                name,
                0,
                0,
                f"file is {size:,} bytes, more than the {limits.max_bytes:,} allowed",
                "split it into smaller files",
            )
        raw = path.read_bytes()
    except OSError as error:
        raise _problem(name, 0, 0, f"cannot read file: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _problem(
            name, 0, 0, f"file is not UTF-8 text (byte {error.start})", "save it as UTF-8"
        ) from None
    return parse_yaml(text, name, limits)


def parse_yaml(text: str, file: str, limits: YamlLimits = PACK_LIMITS) -> YamlDocument:
    """Parse YAML text holding a single document into values with positions."""
    if len(text.encode("utf-8")) > limits.max_bytes:
        raise _problem(file, 0, 0, f"document is larger than {limits.max_bytes:,} bytes")
    try:
        written = _scan_events(text, file, limits)
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = f"invalid YAML: {error.problem or error.context or 'syntax error'}"
        raise _problem(file, line, column, message, _yaml_hint(text, mark)) from None
    except yaml.YAMLError as error:
        raise _problem(file, 0, 0, f"invalid YAML: {error}") from None
    if len(nodes) > 1:
        second = nodes[1]
        raise _problem(
            file,
            second.start_mark.line + 1,
            1,
            "file holds more than one YAML document",
            "keep one document per file",
        )
    document = YamlDocument(file=file, value=None)
    if nodes and nodes[0] is not None:
        builder = _ValueBuilder(document, limits, text.splitlines(), written)
        document.value = builder.build(nodes[0], (), 0)
    return document


def _scan_events(text: str, file: str, limits: YamlLimits) -> int:
    """Refuse deep nesting and huge node counts before any node tree is built; the number
    of values written (an alias counts as one)."""
    depth = 0
    count = 0
    events: Iterator[yaml.Event] = yaml.parse(text, Loader=_Loader)
    for event in events:
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limits.max_depth:
                raise _problem(
                    file,
                    *_position(event.start_mark),
                    f"nesting deeper than {limits.max_depth} levels",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if isinstance(event, yaml.NodeEvent):
            count += 1
            if count > limits.max_nodes:
                raise _problem(
                    file,
                    *_position(event.start_mark),
                    f"more than {limits.max_nodes:,} values in one document",
                )
    return count


class _ValueBuilder:
    """Turns a composed node graph into plain values, recording positions as it goes."""

    def __init__(
        self, document: YamlDocument, limits: YamlLimits, lines: list[str], written: int = 0
    ) -> None:
        self.document = document
        self.limits = limits
        self.lines = lines
        self.produced = 0
        self.constructor = _Loader("")
        extra = limits.max_alias_values
        self.budget = limits.max_nodes if extra is None else min(limits.max_nodes, written + extra)

    def build(self, node: yaml.Node, path: YamlPath, depth: int) -> Any:
        self.produced += 1
        mark = node.start_mark
        if self.produced > self.budget or depth > self.limits.max_depth:
            what = (
                f"more than {self.limits.max_nodes:,} values once aliases are expanded"
                if self.produced > self.limits.max_nodes
                else f"aliases repeat more than {self.limits.max_alias_values:,} values"
                if self.produced > self.budget
                else f"nesting deeper than {self.limits.max_depth} levels through aliases"
            )
            raise _problem(
                self.document.file,
                mark.line + 1,
                mark.column + 1,
                what,
                "avoid anchors and aliases that repeat large parts",
            )
        location = Location(self.document.file, mark.line + 1, mark.column + 1)
        if node.tag not in _PLAIN_TAGS:
            raise _problem(
                self.document.file,
                mark.line + 1,
                mark.column + 1,
                f"YAML tag '{node.tag}' is not allowed",
                "write plain values, lists and mappings",
            )
        if isinstance(node, yaml.MappingNode):
            self.document.values[path] = NodeInfo(location)
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            self.document.values[path] = NodeInfo(location)
            return [
                self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)
            ]
        self.document.values[path] = NodeInfo(location, self._segments(node))
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError):
            # e.g. a timestamp-looking value that is no calendar date: keep the text as written
            return str(node.value)

    def _segments(self, node: yaml.Node) -> tuple[TextSegment, ...]:
        """Where each line of a scalar's text stands in the source."""
        style = getattr(node, "style", None)
        start, end = node.start_mark, node.end_mark
        last_line = end.line if end.column > 0 else end.line - 1
        if style in ("|", ">"):
            lines = self.lines[start.line + 1 : last_line + 1]
            while lines and not lines[-1].strip():
                lines.pop()
            first = next((line for line in lines if line.strip()), "")
            indent = len(first) - len(first.lstrip(" "))
            return tuple(
                TextSegment(start.line + 2 + index, indent + 1, max(len(line) - indent, 0))
                for index, line in enumerate(lines)
            )
        quote = 1 if style in ("'", '"') else 0
        if last_line <= start.line:
            return (TextSegment(start.line + 1, start.column + 1 + quote, len(str(node.value))),)
        first_text = self.lines[start.line][start.column + quote :].rstrip()
        segments = [TextSegment(start.line + 1, start.column + 1 + quote, len(first_text))]
        for number in range(start.line + 1, last_line + 1):
            line = self.lines[number]
            indent = len(line) - len(line.lstrip(" "))
            segments.append(TextSegment(number + 1, indent + 1, len(line.strip())))
        return tuple(segments)

    def _mapping(self, node: yaml.MappingNode, path: YamlPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_mark = key_node.start_mark
            if not isinstance(key_node, yaml.ScalarNode):
                raise _problem(
                    self.document.file,
                    key_mark.line + 1,
                    key_mark.column + 1,
                    "a key must be a plain name, not a list or mapping",
                )
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _problem(
                    self.document.file,
                    key_mark.line + 1,
                    key_mark.column + 1,
                    "merge keys ('<<') are not supported",
                    "write the keys out",
                )
            key = str(key_node.value)
            if key in result:
                raise _problem(
                    self.document.file,
                    key_mark.line + 1,
                    key_mark.column + 1,
                    f"duplicate key '{key}'",
                    "each key may appear once",
                )
            self.document.keys[(*path, key)] = Location(
                self.document.file, key_mark.line + 1, key_mark.column + 1
            )
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result


def _position(mark: Any) -> tuple[int, int]:
    """1-based (line, column) of a YAML mark; (0, 0) when the parser gave none."""
    return (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)


def _yaml_hint(text: str, mark: yaml.Mark | None) -> str:
    """by_stage(stage: value) holds ': ', which YAML reads as a key inside a plain value."""
    if mark is None:
        return ""
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    if "by_stage(" in line:
        return "quote a condition with by_stage(stage: value), or fold it with '>-'"
    return ""


def _problem(file: str, line: int, column: int, message: str, hint: str = "") -> InputError:
    return InputError([Problem(Location(file, line, column), message, hint)])
