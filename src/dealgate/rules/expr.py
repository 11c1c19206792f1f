"""The expression language of `require` and `when`: tokens, tree, parser and printer.

Expressions are parsed by hand into a tree of frozen nodes that remember their span in
the source text. Nothing is ever passed to Python's `eval`. Printing a tree gives text
that parses back to the same tree (spans aside), which the property tests check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

MAX_EXPRESSION_LENGTH = 10_000
MAX_NESTING = 64
MAX_OPERATORS = 200  # keeps trees shallow enough for recursive printers and compilers
# Digits in one number constant. Engines compare numbers as 64-bit floats (15-17 significant
# digits); a longer constant means nothing more, and thousands of digits are no float at all
# (SQL cannot cast them, durable reads them as infinity), so they are refused where written.
MAX_NUMBER_DIGITS = 30

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "today"})
COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
ARITHMETIC = ("+", "-", "*", "/")


@dataclass(frozen=True)
class Span:
    """Character offsets [start, end) of a node in its expression text."""

    start: int
    end: int


class ExpressionError(Exception):
    """A syntax, name or type error inside one expression, with its span."""

    def __init__(self, message: str, span: Span, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint


# --- the tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class Expr:
    span: Span = field(default=Span(0, 0), compare=False, kw_only=True, repr=False)


@dataclass(frozen=True)
class Number(Expr):
    value: Decimal


@dataclass(frozen=True)
class String(Expr):
    value: str


@dataclass(frozen=True)
class DateLiteral(Expr):
    value: date


@dataclass(frozen=True)
class Boolean(Expr):
    value: bool


@dataclass(frozen=True)
class Today(Expr):
    """The audit's as-of date."""


@dataclass(frozen=True)
class FieldPath(Expr):
    """A dotted name: a field of the deal, or of a list item inside a condition."""

    parts: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class StageRef(Expr):
    """A stage id compared with the deal's stage; made by the checker, never by the parser."""

    stage_id: str


@dataclass(frozen=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True)
class Negate(Expr):
    operand: Expr


@dataclass(frozen=True)
class Logical(Expr):
    op: str  # "and" | "or"
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Compare(Expr):
    op: str  # one of COMPARISONS
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Arithmetic(Expr):
    op: str  # one of ARITHMETIC
    left: Expr
    right: Expr


@dataclass(frozen=True)
class InList(Expr):
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False


@dataclass(frozen=True)
class Call(Expr):
    function: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class ByStage(Expr):
    """A value chosen by the deal's stage: `by_stage(discover: 30, propose: 21, else: 45)`.

    `stages[i]` chooses `values[i]`; a deal in no listed stage gets `default`, or unknown
    when there is none. The parser gives bare names; the checker turns them into StageRefs.
    """

    stages: tuple[Expr, ...]
    values: tuple[Expr, ...]
    default: Expr | None = None


# --- tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, date, name, op, end
    text: str
    start: int
    end: int
    value: object = None


_DATE_LIKE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?![0-9A-Za-z_])")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")
_DIGITS = frozenset("0123456789")
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COUNTED = frozenset({*COMPARISONS, *ARITHMETIC, "(", "["})
_COUNTED_WORDS = frozenset({"and", "or", "not"})
_OPERATORS = (
    *("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",", "."),
    ":",  # only inside by_stage(stage: value, ...)
)
BY_STAGE = "by_stage"
BY_STAGE_DEFAULT = "else"


def tokenize(text: str) -> list[Token]:
    """Split expression text into tokens; raises ExpressionError at the first bad character."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char in " \t\r\n":
            position += 1
            continue
        token = _next_token(text, position)
        tokens.append(token)
        position = token.end
    tokens.append(Token("end", "", len(text), len(text)))
    return tokens


def _next_token(text: str, position: int) -> Token:
    char = text[position]
    date_match = _DATE_LIKE.match(text, position)
    if date_match:
        return _date_token(date_match.group(), position)
    if char in _DIGITS:
        match = _NUMBER.match(text, position)
        assert match is not None
        end = match.end()
        if end < len(text) and (
            text[end] in _NAME_START or text[end] in _DIGITS or text[end] == "."
        ):
            raise ExpressionError(
                f"malformed number '{text[position : end + 1]}'", Span(position, end + 1)
            )
        digits = sum(char in _DIGITS for char in match.group())
        if digits > MAX_NUMBER_DIGITS:
            raise ExpressionError(
                f"number with {digits:,} digits; a number has at most {MAX_NUMBER_DIGITS}",
                Span(position, end),
                "numbers are compared with about 16 significant digits",
            )
        return Token("number", match.group(), position, end, Decimal(match.group()))
    if char in _NAME_START:
        match = _NAME.match(text, position)
        assert match is not None
        return Token("name", match.group(), position, match.end())
    if char in "'\"":
        return _string_token(text, position)
    for operator in _OPERATORS:
        if text.startswith(operator, position):
            return Token("op", operator, position, position + len(operator))
    if char == "=":
        raise ExpressionError(
            "'=' is not an operator", Span(position, position + 1), "use '==' to compare"
        )
    if char in "&|!":
        word = {"&": "and", "|": "or", "!": "not"}[char]
        raise ExpressionError(
            f"'{char}' is not an operator", Span(position, position + 1), f"use '{word}'"
        )
    raise ExpressionError(f"unexpected character {char!r}", Span(position, position + 1))


def _date_token(text: str, start: int) -> Token:
    end = start + len(text)
    year, month, day = (int(part) for part in text.split("-"))
    if len(text) != 10:
        raise ExpressionError(
            f"'{text}' is not an ISO date", Span(start, end), "write dates as YYYY-MM-DD"
        )
    try:
        value = date(year, month, day)
    except ValueError:
        raise ExpressionError(f"'{text}' is not a calendar date", Span(start, end)) from None
    return Token("date", text, start, end, value)


def _string_token(text: str, start: int) -> Token:
    quote = text[start]
    chars: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text):
            chars.append(text[position + 1])
            position += 2
            continue
        if char == quote:
            return Token("string", text[start : position + 1], start, position + 1, "".join(chars))
        chars.append(char)
        position += 1
    raise ExpressionError("text is not closed", Span(start, len(text)), f"end it with {quote}")


# --- parser ---------------------------------------------------------------------------


def parse_expression(text: str) -> Expr:
    """Parse one expression; raises ExpressionError with the span of the first problem."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"expression longer than {MAX_EXPRESSION_LENGTH:,} characters", Span(0, len(text))
        )
    parser = _Parser(tokenize(text))
    if parser.peek().kind == "end":
        raise ExpressionError("empty expression", Span(0, len(text)), "write a condition")
    expression = parser.parse_or()
    token = parser.peek()
    if token.kind != "end":
        raise ExpressionError(
            f"unexpected '{token.text}'",
            Span(token.start, token.end),
            _hint_after_expression(token),
        )
    return expression


def _hint_after_expression(token: Token) -> str:
    if token.kind == "name" and token.text not in KEYWORDS:
        return "join conditions with 'and' or 'or'"
    if token.text == ")":
        return "this parenthesis closes nothing"
    return ""


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.operators = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        counted = _COUNTED if token.kind == "op" else _COUNTED_WORDS if token.kind == "name" else ()
        if token.text in counted:
            self.operators += 1
            if self.operators > MAX_OPERATORS:
                raise ExpressionError(
                    f"expression has more than {MAX_OPERATORS} operators",
                    Span(token.start, token.end),
                    "split it into several milestones",
                )
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def at_word(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "name" and token.text == word

    def at_op(self, *ops: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text in ops

    def expect_op(self, op: str, what: str) -> Token:
        token = self.peek()
        if not (token.kind == "op" and token.text == op):
            found = f"'{token.text}'" if token.kind != "end" else "the end"
            raise ExpressionError(
                f"expected '{op}' {what}, found {found}",
                Span(token.start, max(token.end, token.start + 1)),
            )
        return self.advance()

    def nested(self, parse: Callable[[], Expr], start: int) -> Expr:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExpressionError(
                f"expression nested more than {MAX_NESTING} levels deep", Span(start, start + 1)
            )
        try:
            return parse()
        finally:
            self.depth -= 1

    def parse_or(self) -> Expr:
        left = self.parse_and()
        while self.at_word("or"):
            self.advance()
            right = self.parse_and()
            left = Logical("or", left, right, span=Span(left.span.start, right.span.end))
        return left

    def parse_and(self) -> Expr:
        left = self.parse_not()
        while self.at_word("and"):
            self.advance()
            right = self.parse_not()
            left = Logical("and", left, right, span=Span(left.span.start, right.span.end))
        return left

    def parse_not(self) -> Expr:
        if self.at_word("not"):
            token = self.advance()
            operand = self.nested(self.parse_not, token.start)
            return Not(operand, span=Span(token.start, operand.span.end))
        return self.parse_comparison()

    def parse_comparison(self) -> Expr:
        left = self.parse_sum()
        if self.at_op(*COMPARISONS):
            op = self.advance().text
            right = self.parse_sum()
            if self.at_op(*COMPARISONS):
                token = self.peek()
                raise ExpressionError(
                    "comparisons cannot be chained",
                    Span(token.start, token.end),
                    "join two comparisons with 'and'",
                )
            return Compare(op, left, right, span=Span(left.span.start, right.span.end))
        negated = False
        if self.at_word("not") and self.peek(1).kind == "name" and self.peek(1).text == "in":
            self.advance()
            negated = True
        if self.at_word("in"):
            self.advance()
            items, end = self.parse_list()
            return InList(left, items, negated, span=Span(left.span.start, end))
        if negated:
            token = self.peek()
            raise ExpressionError("expected 'in' after 'not'", Span(token.start, token.end))
        return left

    def parse_list(self) -> tuple[tuple[Expr, ...], int]:
        self.expect_op("[", "to open the list after 'in'")
        items: list[Expr] = []
        while not self.at_op("]"):
            items.append(self.parse_or())
            if not self.at_op(","):
                break
            self.advance()
        end = self.expect_op("]", "to close the list").end
        return tuple(items), end

    def parse_sum(self) -> Expr:
        left = self.parse_product()
        while self.at_op("+", "-"):
            op = self.advance().text
            right = self.parse_product()
            left = Arithmetic(op, left, right, span=Span(left.span.start, right.span.end))
        return left

    def parse_product(self) -> Expr:
        left = self.parse_unary()
        while self.at_op("*", "/"):
            op = self.advance().text
            right = self.parse_unary()
            left = Arithmetic(op, left, right, span=Span(left.span.start, right.span.end))
        return left

    def parse_unary(self) -> Expr:
        if self.at_op("-"):
            token = self.advance()
            operand = self.nested(self.parse_unary, token.start)
            return Negate(operand, span=Span(token.start, operand.span.end))
        return self.parse_primary()

    def parse_primary(self) -> Expr:
        token = self.peek()
        span = Span(token.start, token.end)
        if token.kind == "number":
            self.advance()
            assert isinstance(token.value, Decimal)
            return Number(token.value, span=span)
        if token.kind == "string":
            self.advance()
            return String(str(token.value), span=span)
        if token.kind == "date":
            self.advance()
            assert isinstance(token.value, date)
            return DateLiteral(token.value, span=span)
        if token.kind == "name":
            return self.parse_name()
        if self.at_op("("):
            self.advance()
            inner = self.nested(self.parse_or, token.start)
            end = self.expect_op(")", "to close the parenthesis").end
            return _with_span(inner, Span(token.start, end))
        if token.kind == "end":
            raise ExpressionError(
                "expression ends too early",
                Span(token.start, token.start + 1),
                "something is missing at the end",
            )
        if self.at_op("["):
            raise ExpressionError("a list may only follow 'in'", span)
        raise ExpressionError(f"unexpected '{token.text}'", span)

    def parse_name(self) -> Expr:
        token = self.advance()
        span = Span(token.start, token.end)
        word = token.text
        if word in ("true", "false"):
            return Boolean(word == "true", span=span)
        if word == "today":
            return Today(span=span)
        if word in KEYWORDS:
            raise ExpressionError(f"'{word}' cannot start a value", span)
        if self.at_op("("):
            return self.parse_call(token)
        parts = [word]
        end = token.end
        while self.at_op("."):
            self.advance()
            part = self.peek()
            if part.kind != "name" or part.text in KEYWORDS:
                raise ExpressionError(
                    "expected a field name after '.'",
                    Span(part.start, max(part.end, part.start + 1)),
                )
            parts.append(self.advance().text)
            end = part.end
        return FieldPath(tuple(parts), span=Span(token.start, end))

    def parse_call(self, name: Token) -> Expr:
        if name.text == BY_STAGE:
            return self.parse_by_stage(name)
        self.advance()  # "("
        args: list[Expr] = []
        while not self.at_op(")"):
            if self.at_op("[") and args and name.text in ("contains_any", "contains"):
                token = self.peek()
                raise ExpressionError(
                    f"{name.text}() takes its phrases one by one, not as a list",
                    Span(token.start, token.end),
                    f"e.g. {name.text}(next_step, 'follow up', 'touch base')",
                )
            args.append(self.nested(self.parse_or, name.start))
            if not self.at_op(","):
                break
            self.advance()
        end = self.expect_op(")", f"to close {name.text}(...)").end
        return Call(name.text, tuple(args), span=Span(name.start, end))

    def parse_by_stage(self, name: Token) -> Expr:
        self.advance()  # "("
        stages: list[Expr] = []
        values: list[Expr] = []
        default: Expr | None = None
        while not self.at_op(")"):
            key = self.peek()
            key_span = Span(key.start, max(key.end, key.start + 1))
            after = self.peek(1)
            if key.kind != "name" or not (after.kind == "op" and after.text == ":"):
                raise ExpressionError(
                    f"{BY_STAGE}() takes 'stage: value' pairs",
                    key_span,
                    f"e.g. {BY_STAGE}(discover: 30, propose: 21, {BY_STAGE_DEFAULT}: 45)",
                )
            if default is not None:
                raise ExpressionError(
                    f"'{BY_STAGE_DEFAULT}:' must come last in {BY_STAGE}()", key_span
                )
            self.advance()
            self.advance()  # ":"
            value = self.nested(self.parse_or, name.start)
            if key.text == BY_STAGE_DEFAULT:
                default = value
            else:
                stages.append(FieldPath((key.text,), span=key_span))
                values.append(value)
            if not self.at_op(","):
                break
            self.advance()
        end = self.expect_op(")", f"to close {BY_STAGE}(...)").end
        span = Span(name.start, end)
        if not stages:
            raise ExpressionError(f"{BY_STAGE}() needs at least one 'stage: value' pair", span)
        return ByStage(tuple(stages), tuple(values), default, span=span)


def _with_span(node: Expr, span: Span) -> Expr:
    """The same node, spanning its parentheses too (so errors underline them)."""
    from dataclasses import replace

    return replace(node, span=span)


# --- printer --------------------------------------------------------------------------

_PRECEDENCE = {
    "or": 1,
    "and": 2,
    "not": 3,
    "compare": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "negate": 7,
    "atom": 8,
}


def to_text(node: Expr) -> str:
    """Print a tree as expression text that parses back to the same tree."""
    text, _ = _render(node)
    return text


def _render(node: Expr) -> tuple[str, int]:
    atom = _PRECEDENCE["atom"]
    match node:
        case Number(value=value):
            return format(value, "f"), atom
        case String(value=value):
            escaped = value.replace("\\", "\\\\").replace("'", "\\'")
            return f"'{escaped}'", atom
        case DateLiteral(value=value):
            return value.isoformat(), atom
        case Boolean(value=value):
            return ("true" if value else "false"), atom
        case Today():
            return "today", atom
        case FieldPath():
            return node.dotted, atom
        case StageRef(stage_id=stage_id):
            return stage_id, atom
        case Call(function=function, args=args):
            return f"{function}({', '.join(to_text(arg) for arg in args)})", atom
        case ByStage(stages=stages, values=values, default=default):
            pairs = [
                f"{to_text(key)}: {to_text(value)}"
                for key, value in zip(stages, values, strict=True)
            ]
            if default is not None:
                pairs.append(f"{BY_STAGE_DEFAULT}: {to_text(default)}")
            return f"{BY_STAGE}({', '.join(pairs)})", atom
        case Not(operand=operand):
            return f"not {_wrap(operand, _PRECEDENCE['not'])}", _PRECEDENCE["not"]
        case Negate(operand=operand):
            return f"-{_wrap(operand, _PRECEDENCE['negate'])}", _PRECEDENCE["negate"]
        case Logical(op=op, left=left, right=right):
            level = _PRECEDENCE[op]
            return f"{_wrap(left, level)} {op} {_wrap(right, level + 1)}", level
        case Arithmetic(op=op, left=left, right=right):
            level = _PRECEDENCE[op]
            return f"{_wrap(left, level)} {op} {_wrap(right, level + 1)}", level
        case Compare(op=op, left=left, right=right):
            level = _PRECEDENCE["compare"]
            return f"{_wrap(left, level + 1)} {op} {_wrap(right, level + 1)}", level
        case InList(operand=operand, items=items, negated=negated):
            level = _PRECEDENCE["compare"]
            keyword = "not in" if negated else "in"
            listed = ", ".join(to_text(item) for item in items)
            return f"{_wrap(operand, level + 1)} {keyword} [{listed}]", level
    raise TypeError(f"cannot print {type(node).__name__}")  # pragma: no cover


def _wrap(node: Expr, minimum: int) -> str:
    text, level = _render(node)
    return f"({text})" if level < minimum else text


def walk(node: Expr) -> list[Expr]:
    """Every node of a tree, parents before children."""
    found: list[Expr] = [node]
    match node:
        case Not(operand=operand) | Negate(operand=operand):
            found += walk(operand)
        case (
            Logical(left=left, right=right)
            | Compare(left=left, right=right)
            | Arithmetic(left=left, right=right)
        ):
            found += walk(left) + walk(right)
        case InList(operand=operand, items=items):
            found += walk(operand)
            for item in items:
                found += walk(item)
        case Call(args=args):
            for arg in args:
                found += walk(arg)
        case ByStage(stages=stages, values=values, default=default):
            for part in (*stages, *values, *(() if default is None else (default,))):
                found += walk(part)
    return found
