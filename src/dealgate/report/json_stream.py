"""A JSON object read from a file key by key, the items of one of its arrays handed over one at
a time: a saved audit of a million deals is read without holding its deals, or its text
(report/saved_audit.py `stream_audit`).

Each value is decoded by the json module's own decoder (`raw_decode`), so what is accepted,
and each value decoded, is what `json.loads` gives; only the top-level object and the one
array are walked here. The file is read in blocks; a value cut by a block's end is decoded
again with the next (the buffer doubles, so a large value costs a few passes, not one per
block).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TextIO

BLOCK = 1 << 20  # characters read at a time
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class JsonSyntaxError(Exception):
    """Text that is no JSON, where json.loads would say so: message, line and column (from 1)."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message}: line {line} column {column}")
        self.message = message
        self.line = line
        self.column = column


class Abandon(Exception):
    """Reading stopped: the file is no JSON object, or `before_items` raised it. The caller
    reads the file another way."""


def read_object(
    stream: TextIO,
    items_of: str,
    each_item: Callable[[int, Any], None],
    before_items: Callable[[dict[str, Any]], None] = lambda keys: None,
    parse_constant: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """The top-level object of `stream`, its array under `items_of` given to `each_item`
    (index, item) in order rather than kept: the object returned has an empty list there.
    `before_items` sees the keys read before that array, and may raise Abandon; so does a
    file whose top level is no object."""
    return _Reader(stream, parse_constant).document(items_of, each_item, before_items)


class _Reader:
    def __init__(self, stream: TextIO, parse_constant: Callable[[str], Any] | None) -> None:
        self.stream = stream
        self.decoder = json.JSONDecoder(parse_constant=parse_constant)
        self.buffer = ""
        self.pos = 0
        self.eof = False
        self.lines_dropped = 0  # line ends in the text dropped from the buffer
        self.column_dropped = 0  # characters after the last line end dropped

    def document(
        self,
        items_of: str,
        each_item: Callable[[int, Any], None],
        before_items: Callable[[dict[str, Any]], None],
    ) -> dict[str, Any]:
        document: dict[str, Any] = {}
        if self._peek() != "{":
            raise Abandon
        self.pos += 1
        if self._peek() == "}":
            self.pos += 1
        else:
            while True:
                if self._peek() != '"':
                    raise self._error("Expecting property name enclosed in double quotes")
                key = self._value()
                self._expect(":", "Expecting ':' delimiter")
                if key == items_of and self._peek() == "[":
                    before_items(document)
                    self._items(each_item)
                    document[key] = []
                else:
                    document[key] = self._value()
                if self._after("}", "Expecting ',' delimiter"):
                    break
        if self._peek() != "":
            raise self._error("Extra data")
        return document

    def _items(self, each_item: Callable[[int, Any], None]) -> None:
        self.pos += 1  # the "["
        if self._peek() == "]":
            self.pos += 1
            return
        index = 0
        while True:
            each_item(index, self._value())
            index += 1
            if self._after("]", "Expecting ',' delimiter"):
                return

    def _after(self, closing: str, message: str) -> bool:
        """After a value: True at the closing bracket, False after a comma."""
        found = self._peek()
        if found not in (",", closing):
            raise self._error(message)
        self.pos += 1
        return found == closing

    def _expect(self, char: str, message: str) -> None:
        if self._peek() != char:
            raise self._error(message)
        self.pos += 1

    def _peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file)."""
        while True:
            self.pos = _WHITESPACE.match(self.buffer, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._more():
                return ""

    def _value(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as error:
                if self._more():
                    continue
                raise self._error(error.msg, error.pos) from None
            # a number at the buffer's end may go on in the next block: "1" of "12", and
            # "1" of "1.5" or "1e3" when the block ends after the "." or the "e"
            if len(self.buffer) - end <= 2 and self._more():
                continue
            self.pos = end
            return value

    def _more(self) -> bool:
        """Drop what was read, and read at least a block more (as much again as the buffer
        holds, so that a value decoded again is decoded a few times at most)."""
        if self.eof:
            return False
        kept = self.buffer[self.pos :]
        block = self.stream.read(max(BLOCK, len(kept)))
        if not block:  # the buffer stays as it is: an error's position is in it
            self.eof = True
            return False
        dropped = self.buffer[: self.pos]
        line_ends = dropped.count("\n")
        if line_ends:
            self.lines_dropped += line_ends
            self.column_dropped = len(dropped) - dropped.rfind("\n") - 1
        else:
            self.column_dropped += len(dropped)
        self.buffer = kept + block
        self.pos = 0
        return True

    def _error(self, message: str, at: int | None = None) -> JsonSyntaxError:
        at = self.pos if at is None else at
        line_start = self.buffer.rfind("\n", 0, at)
        line = self.lines_dropped + self.buffer.count("\n", 0, at) + 1
        column = at - line_start if line_start >= 0 else self.column_dropped + at + 1
        return JsonSyntaxError(message, line, column)
