"""Terminal layout that keeps key values whole: amounts never wrap inside, wide tables fold.

Rich wraps text at any whitespace, the no-break space included, so an amount such as
`EUR 2,302,625.49` can break after its currency code, and a table too wide for the terminal
squeezes its columns until ids and amounts are cut. These renderables avoid both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.text import Text

# An amount as money_text writes it: a currency code, one space, the number.
_AMOUNT = re.compile(r"\b[A-Z]{3} (?=-?\d)")
# Stands in for the space inside an amount while rich wraps: width 1 and not whitespace.
_GLUE = "\ue000"


def _glued(text: Text) -> Text:
    glued = text.copy()
    glued.plain = _AMOUNT.sub(lambda match: match[0][:-1] + _GLUE, text.plain)
    return glued


class WholeAmounts:
    """A text that wraps like any other, except never inside an amount."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = _glued(self.text).wrap(
            console,
            options.max_width,
            justify=self.text.justify or options.justify or "default",
            overflow="fold",
            no_wrap=False,
        )
        for line in lines:
            line.plain = line.plain.replace(_GLUE, " ")
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, _glued(self.text))


def plain(value: str | None, style: str = "") -> Text:
    """Text from a CRM or a pack shown as typed: never read as rich markup."""
    return Text(value or "", style)


class Fitted:
    """The wide layout when it fits the width; otherwise the narrow one (rows folded)."""

    def __init__(self, wide: RenderableType, narrow: RenderableType) -> None:
        self.wide = wide
        self.narrow = narrow

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        needed = Measurement.get(console, options.update_width(10**6), self.wide).maximum
        yield self.wide if needed <= options.max_width else self.narrow


def joined(parts: Iterable[Text], separator: str = " · ") -> Text:
    """The non-empty parts in one text."""
    return Text(separator).join(part for part in parts if part.plain)


def plural(count: int, noun: str) -> str:
    """`1 row`, `58,800 rows`: the count with thousands separators, the noun agreeing."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
