"""Name and type checking of parsed expressions against the deal fields a pack knows.

The checker returns a rewritten tree: a bare name compared with the deal's stage becomes a
`StageRef`, so engines never have to guess whether a name is a field or a stage id. It also
records every deal field a condition reads, which engines use to build small facts and the
docs use to say which CRM fields each milestone needs.

Every problem of a condition is reported, not just the first: the sides of `and`/`or` are
checked apart, and a name or value that is a slip of a known one (spelling.py, domains.py)
is an error, where otherwise it would silently never match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from dealgate.errors import did_you_mean
from dealgate.rules.domains import DEAL_FIELD_DOMAINS, YES_NO, Domain
from dealgate.rules.expr import (
    BY_STAGE,
    Arithmetic,
    Boolean,
    ByStage,
    Call,
    Compare,
    DateLiteral,
    Expr,
    ExpressionError,
    FieldPath,
    InList,
    Logical,
    Negate,
    Not,
    Number,
    StageRef,
    String,
    Today,
    parse_expression,
)
from dealgate.rules.spelling import slip_of
from dealgate.rules.types import (
    ANY,
    BOOLEAN,
    DATE,
    MONEY,
    NUMBER,
    NUMERIC,
    TEXT,
    FieldType,
    Kind,
)

# name -> (smallest, largest) number of arguments
FUNCTIONS: Mapping[str, tuple[int, int]] = {
    "present": (1, 1),
    "days_since": (1, 1),
    "days_until": (1, 1),
    "count": (1, 2),
    "any": (2, 2),
    "all": (2, 2),
    "length": (1, 1),
    "lower": (1, 1),
    "contains": (2, 2),
    "starts_with": (2, 2),
    "contains_any": (2, 1 + 50),
}
# Functions of one text and then phrases written as text literals.
TEXT_FUNCTIONS = frozenset({"length", "lower", "contains", "starts_with", "contains_any"})

DEAL_PREFIX = "deal"


@dataclass(frozen=True)
class CheckedCondition:
    """A `require` or `when` condition: its text, typed tree and the deal fields it reads."""

    text: str
    tree: Expr
    reads: tuple[str, ...]


@dataclass(frozen=True)
class Scope:
    """What names mean where an expression is checked."""

    deal_fields: Mapping[str, FieldType]
    stage_ids: Sequence[str]
    strict: bool  # the pack declares its fields: unknown names are errors
    item: FieldType | None = None  # inside count/any/all: the list's item type
    item_path: str = ""  # how reads inside the list are recorded, e.g. "contacts[]"


class ConditionErrors(ExpressionError):
    """Every problem found in one condition; as an ExpressionError it is the first of them."""

    def __init__(self, errors: Sequence[ExpressionError]) -> None:
        ordered = sorted(errors, key=lambda error: error.span.start)
        super().__init__(ordered[0].message, ordered[0].span, ordered[0].hint)
        self.errors = tuple(ordered)


def check_condition(text: str, scope: Scope) -> CheckedCondition:
    """Parse and check one condition; raises ConditionErrors with every problem found."""
    tree = parse_expression(text)
    checker = _Checker(text)
    checked, _ = checker.condition(tree, scope)
    if checker.errors:
        raise ConditionErrors(checker.errors)
    return CheckedCondition(text, checked, tuple(sorted(checker.reads)))


@dataclass
class _Checker:
    text: str
    reads: set[str] = field(default_factory=set)
    errors: list[ExpressionError] = field(default_factory=list)

    def condition(self, node: Expr, scope: Scope) -> tuple[Expr, FieldType]:
        """Check a part that must be a condition; its problems are recorded, not raised, so
        the other side of an `and` is checked too."""
        try:
            checked, kind = self.check(node, scope)
            self.require_condition(checked, kind)
        except ExpressionError as error:
            self.errors.append(error)
            return node, BOOLEAN
        return checked, BOOLEAN

    def quote(self, node: Expr) -> str:
        return f"'{self.text[node.span.start : node.span.end]}'"

    def fail(self, node: Expr, message: str, hint: str = "") -> ExpressionError:
        return ExpressionError(message, node.span, hint)

    def require_condition(self, node: Expr, found: FieldType) -> None:
        if found.kind in (Kind.BOOLEAN, Kind.ANY):
            return
        hints = {
            Kind.LIST: "use count(...), any(...) or all(...)",
            Kind.TEXT: "use present(...) to ask that it is filled in",
            Kind.DATE: "compare it, e.g. with today",
        }
        hint = hints.get(found.kind, "compare it with a value")
        raise self.fail(node, f"{self.quote(node)} is {found}, not a condition", hint)

    def check(self, node: Expr, scope: Scope) -> tuple[Expr, FieldType]:
        match node:
            case Number():
                return node, NUMBER
            case String():
                return node, TEXT
            case DateLiteral() | Today():
                return node, DATE
            case Boolean():
                return node, BOOLEAN
            case FieldPath():
                return node, self.resolve(node, scope)
            case Not(operand=operand):
                checked, _ = self.condition(operand, scope)
                return replace(node, operand=checked), BOOLEAN
            case Logical(left=left, right=right):
                checked_left, _ = self.condition(left, scope)
                checked_right, _ = self.condition(right, scope)
                return replace(node, left=checked_left, right=checked_right), BOOLEAN
            case Negate(operand=operand):
                checked, kind = self.check(operand, scope)
                if kind.kind not in NUMERIC | {Kind.ANY}:
                    raise self.fail(node, f"cannot negate {self.quote(operand)}: it is {kind}")
                return replace(node, operand=checked), kind
            case Arithmetic():
                return self.arithmetic(node, scope)
            case Compare():
                return self.compare(node, scope)
            case InList():
                return self.in_list(node, scope)
            case Call():
                return self.call(node, scope)
            case ByStage():
                return self.by_stage(node, scope)
        raise self.fail(node, f"unexpected {type(node).__name__}")  # pragma: no cover

    # --- names ---------------------------------------------------------------------

    def resolve(self, path: FieldPath, scope: Scope) -> FieldType:
        parts = path.parts
        if parts[0] == DEAL_PREFIX:
            if len(parts) == 1:
                raise self.fail(path, "'deal' needs a field name", "write deal.<field>")
            return self.resolve_in(path, parts[1:], scope.deal_fields, scope.strict, "")
        if scope.item is not None:
            if scope.item.is_open:
                self.reads.add(f"{scope.item_path}.{path.dotted}")
                return ANY
            return self.resolve_in(
                path, parts, scope.item.fields, scope.strict, scope.item_path + "."
            )
        return self.resolve_in(path, parts, scope.deal_fields, scope.strict, "")

    def resolve_in(
        self,
        path: FieldPath,
        parts: Sequence[str],
        fields: Mapping[str, FieldType],
        strict: bool,
        prefix: str,
    ) -> FieldType:
        self.reads.add(prefix + ".".join(parts))
        current: FieldType | None = None
        available = fields
        for index, part in enumerate(parts):
            if current is not None and current.kind not in (Kind.RECORD, Kind.ANY):
                owner = ".".join(parts[:index])
                raise self.fail(path, f"'{owner}' is {current} and has no field '{part}'")
            if current is not None and (current.kind is Kind.ANY or current.is_open):
                return ANY
            found = available.get(part)
            if found is None:
                where = "deal field" if not prefix else "list item field"
                name = ".".join(parts[: index + 1])
                if strict:
                    hint = did_you_mean(part, available) or "declare it under 'fields:'"
                    raise self.fail(path, f"unknown {where} '{name}'", hint)
                # An undeclared custom field, unless it is a slip of a known one.
                meant = slip_of(part, available)
                if meant is not None:
                    where = "field" if not prefix else where
                    self.errors.append(
                        self.fail(path, f"unknown {where} '{name}'", f"did you mean '{meant}'?")
                    )
                return ANY
            current = found
            available = found.fields
        assert current is not None
        return current

    def is_stage_field(self, node: Expr, scope: Scope) -> bool:
        if not isinstance(node, FieldPath):
            return False
        parts = node.parts
        if parts[0] == DEAL_PREFIX:
            parts = parts[1:]
        elif scope.item is not None:
            return False
        if len(parts) != 1:
            return False
        found = scope.deal_fields.get(parts[0])
        return found is not None and found.kind is Kind.STAGE

    def stage_ref(self, node: Expr, scope: Scope) -> StageRef:
        if isinstance(node, String):
            raise self.fail(
                node,
                "compare the stage with a stage id written bare, not text",
                f"write stage == {node.value.strip().lower().replace(' ', '_')}",
            )
        if not (isinstance(node, FieldPath) and len(node.parts) == 1):
            raise self.fail(node, f"{self.quote(node)} is not a stage id")
        stage_id = node.parts[0]
        if stage_id not in scope.stage_ids:
            hint = did_you_mean(stage_id, scope.stage_ids) or (
                "stages: " + ", ".join(scope.stage_ids)
            )
            raise self.fail(node, f"unknown stage '{stage_id}'", hint)
        return StageRef(stage_id, span=node.span)

    # --- operators -----------------------------------------------------------------

    def arithmetic(self, node: Arithmetic, scope: Scope) -> tuple[Expr, FieldType]:
        left, left_type = self.check(node.left, scope)
        right, right_type = self.check(node.right, scope)
        rebuilt = replace(node, left=left, right=right)
        kinds = {left_type.kind, right_type.kind}
        if Kind.ANY in kinds and kinds <= NUMERIC | {Kind.ANY, Kind.DATE}:
            return rebuilt, ANY
        if kinds <= NUMERIC:
            if node.op == "/" and kinds == {Kind.MONEY}:
                return rebuilt, NUMBER
            return rebuilt, MONEY if Kind.MONEY in kinds else NUMBER
        if Kind.DATE in kinds:
            if node.op == "-" and left_type.kind is right_type.kind is Kind.DATE:
                return rebuilt, NUMBER  # days between two dates
            if node.op in "+-" and left_type.kind is Kind.DATE and right_type.kind is Kind.NUMBER:
                return rebuilt, DATE
            if node.op == "+" and left_type.kind is Kind.NUMBER and right_type.kind is Kind.DATE:
                return rebuilt, DATE
        raise self.fail(
            node,
            f"cannot compute {left_type} {node.op} {right_type}",
            "arithmetic works on numbers, money and dates (date - date, date + days)",
        )

    def compare(self, node: Compare, scope: Scope) -> tuple[Expr, FieldType]:
        if self.is_stage_field(node.left, scope) and not self.is_stage_field(node.right, scope):
            left, _ = self.check(node.left, scope)
            return replace(node, left=left, right=self.stage_ref(node.right, scope)), BOOLEAN
        if self.is_stage_field(node.right, scope) and not self.is_stage_field(node.left, scope):
            right, _ = self.check(node.right, scope)
            return replace(node, left=self.stage_ref(node.left, scope), right=right), BOOLEAN
        left, left_type = self.check(node.left, scope)
        right, right_type = self.check(node.right, scope)
        if node.op in ("==", "!="):
            self.value_in_domain(node.left, left_type, node.right, scope)
            self.value_in_domain(node.right, right_type, node.left, scope)
            self.lowered_text(node.left, node.right)
            self.lowered_text(node.right, node.left)
        self.comparable(node, node.op, left_type, right_type)
        return replace(node, left=left, right=right), BOOLEAN

    def value_in_domain(self, field: Expr, found: FieldType, value: Expr, scope: Scope) -> None:
        """A text compared with a field dealgate normalises must be a value it reads into."""
        if not isinstance(value, String):
            return
        domain = self.domain(field, found, scope)
        meant = domain.slip(value.value) if domain is not None else None
        if domain is not None and meant is not None:
            raise self.fail(
                value,
                f"'{value.value}' is never {domain.what} after reading",
                f"did you mean {meant}?",
            )

    def lowered_text(self, text: Expr, value: Expr) -> None:
        """A text with capitals never equals or is found in lower(...): an error, where it
        would silently never match."""
        is_lowered = isinstance(text, Call) and text.function == "lower"
        if is_lowered and isinstance(value, String) and value.value != value.value.lower():
            raise self.fail(
                value,
                f"'{value.value}' has capitals and never matches {self.quote(text)}",
                f"write '{value.value.lower()}'",
            )

    def domain(self, node: Expr, found: FieldType, scope: Scope) -> Domain | None:
        if found.kind is Kind.BOOLEAN:
            return YES_NO
        if not isinstance(node, FieldPath):
            return None
        parts = node.parts
        if parts[0] == DEAL_PREFIX:
            parts = parts[1:]
        elif scope.item is not None:
            return None
        return DEAL_FIELD_DOMAINS.get(parts[0]) if len(parts) == 1 else None

    def comparable(self, node: Expr, op: str, left: FieldType, right: FieldType) -> None:
        kinds = {left.kind, right.kind}
        for kind in (Kind.LIST, Kind.RECORD):
            if kind in kinds:
                if kind is Kind.LIST:
                    raise self.fail(
                        node, "cannot compare a list", "use count(...), any(...) or all(...)"
                    )
                raise self.fail(node, "cannot compare a record", "compare one of its fields")
        if Kind.ANY in kinds:
            return
        same = left.kind is right.kind or kinds <= NUMERIC
        if not same:
            raise self.fail(
                node, f"cannot compare {left} with {right}", _comparison_hint(left, right)
            )
        if op not in ("==", "!=") and left.kind in (Kind.TEXT, Kind.BOOLEAN):
            raise self.fail(
                node, f"{left} cannot be ordered with '{op}'", "use == or != (or 'in [...]')"
            )

    def in_list(self, node: InList, scope: Scope) -> tuple[Expr, FieldType]:
        if self.is_stage_field(node.operand, scope):
            operand, _ = self.check(node.operand, scope)
            items: tuple[Expr, ...] = tuple(self.stage_ref(item, scope) for item in node.items)
            return replace(node, operand=operand, items=items), BOOLEAN
        operand, operand_type = self.check(node.operand, scope)
        checked: list[Expr] = []
        for item in node.items:
            checked_item, item_type = self.check(item, scope)
            self.value_in_domain(node.operand, operand_type, item, scope)
            self.lowered_text(node.operand, item)
            self.comparable(item, "==", operand_type, item_type)
            checked.append(checked_item)
        return replace(node, operand=operand, items=tuple(checked)), BOOLEAN

    # --- functions -----------------------------------------------------------------

    def call(self, node: Call, scope: Scope) -> tuple[Expr, FieldType]:
        arity = FUNCTIONS.get(node.function)
        if arity is None:
            hint = did_you_mean(node.function, FUNCTIONS) or ("functions: " + ", ".join(FUNCTIONS))
            raise self.fail(node, f"unknown function '{node.function}'", hint)
        low, high = arity
        if not low <= len(node.args) <= high:
            wanted = (
                str(low)
                if low == high
                else f"{low} or {high}"
                if high == low + 1
                else f"{low} to {high}"
            )
            raise self.fail(
                node,
                f"{node.function}() takes {wanted} argument"
                f"{'' if wanted == '1' else 's'}, not {len(node.args)}",
            )
        if node.function == "present":
            return self.present(node, scope)
        if node.function in ("days_since", "days_until"):
            arg, arg_type = self.check(node.args[0], scope)
            if arg_type.kind not in (Kind.DATE, Kind.ANY):
                raise self.fail(
                    node.args[0],
                    f"{node.function}() needs a date; {self.quote(node.args[0])} is {arg_type}",
                )
            return replace(node, args=(arg,)), NUMBER
        if node.function in TEXT_FUNCTIONS:
            return self.text_function(node, scope)
        return self.list_function(node, scope)

    def text_function(self, node: Call, scope: Scope) -> tuple[Expr, FieldType]:
        """length/lower of a text; contains/starts_with/contains_any of a text and phrases
        written as text literals (so every engine compares with constants)."""
        target, *phrases = node.args
        checked, found = self.check(target, scope)
        if found.kind not in (Kind.TEXT, Kind.ANY):
            raise self.fail(
                target, f"{node.function}() needs text; {self.quote(target)} is {found}"
            )
        for phrase in phrases:
            if not isinstance(phrase, String):
                raise self.fail(
                    phrase,
                    f"{node.function}() takes the phrase as text in quotes",
                    f"e.g. {node.function}(next_step, 'demo')",
                )
            if not phrase.value:
                raise self.fail(phrase, "an empty phrase is found in every text")
            self.lowered_text(target, phrase)
        result = {"length": NUMBER, "lower": TEXT}.get(node.function, BOOLEAN)
        return replace(node, args=(checked, *phrases)), result

    def by_stage(self, node: ByStage, scope: Scope) -> tuple[Expr, FieldType]:
        """Stage ids of the pack, each once; values of one type, which is the result's."""
        self.reads.add("stage")
        stages: list[Expr] = []
        seen: set[str] = set()
        for key in node.stages:
            ref = self.stage_ref(key, scope)
            if ref.stage_id in seen:
                raise self.fail(key, f"stage '{ref.stage_id}' is given twice in {BY_STAGE}()")
            seen.add(ref.stage_id)
            stages.append(ref)
        parts = [*node.values, *(() if node.default is None else (node.default,))]
        checked: list[Expr] = []
        result: FieldType | None = None
        for part in parts:
            value, found = self.check(part, scope)
            checked.append(value)
            if found.kind in (Kind.LIST, Kind.RECORD):
                raise self.fail(
                    part, f"{BY_STAGE}() gives single values; {self.quote(part)} is {found}"
                )
            if found.kind is Kind.ANY:
                # Every engine must know the type of the value it chooses (SQL's CASE).
                raise self.fail(
                    part,
                    f"{BY_STAGE}() needs values of a known type;"
                    f" {self.quote(part)} is not declared",
                    "declare the field under 'fields:', or write the value",
                )
            if result is None:
                result = found
            elif found.kind is not result.kind:
                if {found.kind, result.kind} <= NUMERIC:
                    result = MONEY if Kind.MONEY in (found.kind, result.kind) else NUMBER
                    continue
                raise self.fail(
                    part,
                    f"{BY_STAGE}() values must be of one type: {self.quote(part)} is {found},"
                    f" an earlier value is {result}",
                )
        assert result is not None
        default = checked[len(node.values)] if node.default is not None else None
        rebuilt = replace(
            node, stages=tuple(stages), values=tuple(checked[: len(node.values)]), default=default
        )
        return rebuilt, result

    def present(self, node: Call, scope: Scope) -> tuple[Expr, FieldType]:
        arg = node.args[0]
        if not isinstance(arg, FieldPath):
            raise self.fail(arg, "present() takes a field name", "e.g. present(next_step)")
        self.check(arg, scope)
        return node, BOOLEAN

    def list_function(self, node: Call, scope: Scope) -> tuple[Expr, FieldType]:
        target = node.args[0]
        if not isinstance(target, FieldPath):
            raise self.fail(
                target, f"{node.function}() takes a list field first", "e.g. count(contacts)"
            )
        _, list_type = self.check(target, scope)
        if list_type.kind not in (Kind.LIST, Kind.ANY):
            raise self.fail(
                target, f"{node.function}() needs a list; {self.quote(target)} is {list_type}"
            )
        if len(node.args) == 1:
            return node, NUMBER
        item_path = self.item_path(target, scope)
        item_type = list_type if list_type.kind is Kind.LIST else ANY
        inner = Scope(scope.deal_fields, scope.stage_ids, scope.strict, item_type, item_path)
        condition, condition_type = self.check(node.args[1], inner)
        self.require_condition(condition, condition_type)
        result = NUMBER if node.function == "count" else BOOLEAN
        return replace(node, args=(target, condition)), result

    def item_path(self, target: FieldPath, scope: Scope) -> str:
        if target.parts[0] == DEAL_PREFIX:
            return ".".join(target.parts[1:]) + "[]"
        if scope.item is not None:
            return f"{scope.item_path}.{target.dotted}[]"
        return f"{target.dotted}[]"


def _comparison_hint(left: FieldType, right: FieldType) -> str:
    kinds = {left.kind, right.kind}
    if Kind.DATE in kinds and Kind.TEXT in kinds:
        return "write dates bare as YYYY-MM-DD, without quotes"
    if kinds & NUMERIC and Kind.TEXT in kinds:
        return "write numbers without quotes"
    return ""
