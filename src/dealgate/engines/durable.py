"""The durable engine: the rule model compiled into a durable_rules (Rete) ruleset.

How it uses durable_rules, and why (see docs/engines.md):
- One fact per deal, carrying only the slots the rules read: dates as day numbers, amounts
  as numbers, the stage as its position. What durable cannot express (arithmetic, day counts,
  list functions, comparisons of undeclared fields) is prepared in Python before the fact is
  asserted, with the three-valued evaluator of `dealgate.engines.values`.
- Conditions are compiled for three-valued logic: a milestone is missing when its `when` is
  TRUE and its `require` is NOT TRUE (false or unknown). Both are compiled to plain durable
  conditions by pushing negation down to the comparisons, where "not true" means "a side is
  absent, or the opposite comparison holds". Only comparisons of one kind are compiled.
- Rules fire for what is missing or not applicable, so the cost follows the findings.
- Every rule has the guard `kind == 'deal'`. Each deal's fact is asserted, its fired rules
  collected, and the fact retracted, in one session per run. (durable-rules 2.0.28 crashes
  with a segmentation fault in `delete_state` after some facts that matched no rule, so a
  session per deal deleted afterwards is not safe; retraction is, and is three times faster.)
  The engine's error codes are raised, never swallowed.
- Fired rules are read from the engine's action queue and dispatched to one-parameter
  Python actions; durable's Python wrapper (a Closure and a state update per action) is not
  used, as it doubles the cost per fired rule.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from dealgate.engines.base import (
    ApplicableMilestones,
    DealOutcomes,
    DealRequest,
    EngineUnavailable,
    Outcome,
    deal_values,
)
from dealgate.engines.kinds import deal_fields, static_kind
from dealgate.engines.values import Evaluator, Evaluators
from dealgate.errors import DealgateError
from dealgate.judging.semantics import Scope
from dealgate.rules.expr import (
    Arithmetic,
    Boolean,
    Call,
    Compare,
    DateLiteral,
    Expr,
    FieldPath,
    InList,
    Logical,
    Negate,
    Not,
    Number,
    StageRef,
    String,
    Today,
    to_text,
)
from dealgate.rules.model import Milestone, RulePack
from dealgate.rules.types import Kind

Condition = dict[str, Any]
ALWAYS: Condition = {"$always": True}
NEVER: Condition = {"$never": True}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_DURABLE_OP = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}
_NATIVE = frozenset({Kind.TEXT, Kind.NUMBER, Kind.MONEY, Kind.DATE, Kind.BOOLEAN, Kind.STAGE})
_counter = itertools.count()


class DurableError(DealgateError):
    """durable_rules reported an error; never swallowed."""


# How much one durable ruleset holds, measured with durable-rules 2.0.28 (docs/engines.md,
# "Limits of the durable engine"; scripts/durable_limits.py measures them again):
# - milestones of one stage (the rules that share its `lim` test): 128 compile in every shape
#   tried; 129 identical or `when`-guarded ones, or 130 of any kind, are refused with error 107
#   (ERR_RULE_EXISTS_LIMIT_EXCEEDED). The hygiene checks share one test (`hyg`) the same way.
# - stages with milestones: 512 compile in 0.1 s; with 513, `create_ruleset` never returns
#   (stopped after 60 s; it ignores SIGINT).
# A pack beyond them is refused before durable sees it, and `--engine auto` takes sql.
MAX_MILESTONES_PER_STAGE = 128
MAX_STAGES_WITH_MILESTONES = 500


def durable_limit(pack: RulePack) -> str:
    """Why one durable ruleset cannot hold the pack's milestones, or '' when it can."""
    groups = [
        (f"stage '{stage.id}' has {len(stage.exit)} milestones", len(stage.exit), " per stage")
        for stage in pack.stages
        if stage.exit
    ]
    if pack.checks:
        groups.append((f"the pack has {len(pack.checks)} hygiene checks", len(pack.checks), ""))
    for what, count, per in groups:
        if count > MAX_MILESTONES_PER_STAGE:
            return f"{what}; a durable ruleset holds at most {MAX_MILESTONES_PER_STAGE}{per}"
    if len(groups) > MAX_STAGES_WITH_MILESTONES:
        return (
            f"{len(groups)} stages have milestones (the hygiene checks count as one); a durable "
            f"ruleset holds at most {MAX_STAGES_WITH_MILESTONES}"
        )
    return ""


def durable_refusal(pack: RulePack, reason: str) -> str:
    """The message that refuses a pack beyond durable's limits."""
    return f"the durable engine cannot run pack '{pack.id}': {reason}; use --engine sql"


def _import_engine() -> Any:
    try:
        import durable_rules_engine  # the C core of durable-rules
    except ImportError as error:
        raise EngineUnavailable(
            "the durable engine needs the durable-rules package, which does not import here "
            f"({error}). On Python 3.13 and later build it with: "
            'CC="gcc -DPyEval_CallObject=PyObject_CallObject" '
            "pip install --no-cache-dir durable-rules ; or use --engine sql"
        ) from None
    return durable_rules_engine


# --- compiling conditions -------------------------------------------------------------


def _all(*conditions: Condition) -> Condition:
    if any(condition is NEVER for condition in conditions):
        return NEVER
    kept = [condition for condition in conditions if condition is not ALWAYS]
    if not kept:
        return ALWAYS
    flat: list[Condition] = []
    for condition in kept:
        flat.extend(condition.get("$and", [condition]))
    return flat[0] if len(flat) == 1 else {"$and": flat}


def _any(*conditions: Condition) -> Condition:
    if any(condition is ALWAYS for condition in conditions):
        return ALWAYS
    kept = [condition for condition in conditions if condition is not NEVER]
    if not kept:
        return NEVER
    flat: list[Condition] = []
    for condition in kept:
        flat.extend(condition.get("$or", [condition]))
    return flat[0] if len(flat) == 1 else {"$or": flat}


@dataclass(frozen=True)
class _Slot:
    """A fact property: a deal field, or a value or truth prepared in Python."""

    name: str
    node: Expr
    kind: Kind  # how the value is written into the fact
    truth: bool = False  # prepared as 1 (true), 0 (false), absent (unknown)


@dataclass
class _Term:
    constant: Any = None
    slot: str | None = None


@dataclass
class CompiledPack:
    """The durable ruleset of a pack for one as-of date, and how to build its facts."""

    pack: RulePack
    as_of: date
    rules: dict[str, Condition] = field(default_factory=dict)
    slots: dict[str, _Slot] = field(default_factory=dict)
    fired_outcome: dict[str, tuple[str, Outcome]] = field(default_factory=dict)
    # The slots each milestone's rules read.
    milestone_slots: dict[str, set[str]] = field(default_factory=dict)
    _facts: dict[Scope, _FactPlan] = field(default_factory=dict)

    @property
    def definition(self) -> dict[str, Any]:
        return {name: {"all": [{"m": condition}]} for name, condition in self.rules.items()}

    def fact(self, request: DealRequest, sid: str, values: dict[str, Any]) -> dict[str, Any]:
        """The deal as durable sees it: only the slots the rules read, in comparable form.

        Only the slots of the milestones that apply to the deal are written: every rule
        also tests `lim` or `hyg`, so a rule of a milestone that does not apply cannot
        fire whatever the other slots hold, and its slots need not be prepared.
        """
        scope = request.scope
        plan = self._facts.get(scope)
        if plan is None:
            plan = self._facts[scope] = self._fact_plan(request)
        fact: dict[str, Any] = {
            "kind": "deal",
            "sid": sid,
            "lim": scope.limit,
            "hyg": 1 if scope.hygiene else 0,
        }
        get = values.get
        for name, field_name, write in plan.fields:
            found = get(field_name)
            if found is not None:
                written = write(found)
                if written is not None:
                    fact[name] = written
        for name, evaluate, write in plan.prepared:
            found = evaluate(values, None)
            if found is not None:
                written = write(found)
                if written is not None:
                    fact[name] = written
        return fact

    def _fact_plan(self, request: DealRequest) -> _FactPlan:
        read: set[str] = set()
        for milestone in self.pack.milestones():
            if request.applies(milestone, self.pack):
                read |= self.milestone_slots.get(milestone.id, set())
        return _FactPlan(
            [slot for slot in self.field_slots if slot[0] in read],
            [slot for slot in self.prepared_slots if slot[0] in read],
        )

    @cached_property
    def field_slots(self) -> list[tuple[str, str, Callable[[Any], Any]]]:
        """Slots that are a deal field as it is: copied without evaluating anything."""
        return [
            (slot.name, _field_name(slot.node), _WRITERS.get(slot.kind, _write_text))
            for slot in self.slots.values()
            if _field_name(slot.node) and not slot.truth
        ]

    @cached_property
    def prepared_slots(self) -> list[tuple[str, Evaluator, Callable[[Any], Any]]]:
        """Slots computed by the three-valued evaluator before the fact is asserted."""
        compile_node = Evaluators(self.as_of, self.stage_positions)
        return [
            (
                slot.name,
                compile_node.truth(slot.node) if slot.truth else compile_node.value(slot.node),
                int if slot.truth else _WRITERS.get(slot.kind, _write_text),
            )
            for slot in self.slots.values()
            if slot.truth or not _field_name(slot.node)
        ]

    @cached_property
    def stage_positions(self) -> dict[str, int]:
        return {stage.id: stage.position for stage in self.pack.stages}


def _field_name(node: Expr) -> str:
    """The deal field a node is, when it is a plain one (`amount`, `deal.amount`); else ''."""
    if isinstance(node, FieldPath):
        parts = node.parts[1:] if node.parts[0] == "deal" else node.parts
        if len(parts) == 1 and len(node.parts) <= 2:
            return parts[0]
    return ""


@dataclass(frozen=True)
class _FactPlan:
    """The slots a fact carries for deals to which the same milestones apply."""

    fields: list[tuple[str, str, Callable[[Any], Any]]]
    prepared: list[tuple[str, Evaluator, Callable[[Any], Any]]]


# A value as the fact holds it, by the kind the rules compare it as; None when it is not of
# that kind. One writer per kind is chosen when the pack is compiled.
def _write_number(found: Any) -> Any:
    if not isinstance(found, int | Decimal) or isinstance(found, bool):
        return None
    number = _number(found)
    return None if math.isnan(number) else number


def _write_date(found: Any) -> Any:
    return found.toordinal() if isinstance(found, date) else None


def _write_boolean(found: Any) -> Any:
    return int(found) if isinstance(found, bool) else None


def _write_stage(found: Any) -> Any:
    return found if isinstance(found, int) else None


def _write_text(found: Any) -> Any:
    return found if isinstance(found, str) and found.strip() else None


_WRITERS: dict[Kind, Callable[[Any], Any]] = {
    Kind.NUMBER: _write_number,
    Kind.MONEY: _write_number,
    Kind.DATE: _write_date,
    Kind.BOOLEAN: _write_boolean,
    Kind.STAGE: _write_stage,
}


# Numbers are compared as the sql engine compares them, as 64-bit floats, and written for
# durable's JSON parser, which (measured, durable-rules 2.0.28) rejects exponent notation
# (`1e-05`: error 204) and reads integers into 64 bits, saturating beyond. So a whole number is
# written as an integer only while that is exact (below 2**53); every other number is written
# in positional form with a decimal point, with the shortest digits that give the float back.
_EXACT_INTEGER = 2**53
# A float too large for 64 bits: durable reads these digits as infinity, as DuckDB holds it.
_INFINITE = "1" + "0" * 400 + ".0"


def _number(found: int | Decimal) -> int | float:
    """A number as the engines compare it: a 64-bit float, kept an int when that is exact."""
    value = float(found)
    if value.is_integer() and abs(value) < _EXACT_INTEGER:
        return int(value)
    return value


def plain_number(value: float) -> str:
    """A float in positional notation that durable's parser reads back to the same float."""
    if math.isinf(value):
        return f"-{_INFINITE}" if value < 0 else _INFINITE
    text = repr(value)
    if "e" in text:
        text = format(Decimal(text), "f")
    return text if "." in text else f"{text}.0"


def to_json(value: Any, *, sort_keys: bool = False) -> str:
    """JSON as durable reads it: like json.dumps, with floats in positional notation."""
    if isinstance(value, float):
        return plain_number(value)
    if isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else value.items()
        return (
            "{"
            + ", ".join(
                f"{json.dumps(key)}: {to_json(item, sort_keys=sort_keys)}" for key, item in items
            )
            + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(to_json(item, sort_keys=sort_keys) for item in value) + "]"
    return json.dumps(value)


def _fact_json(fact: dict[str, Any]) -> str:
    """A fact as JSON; json.dumps is used while no float needs writing out by hand."""
    if any(type(value) is float and _by_hand(value) for value in fact.values()):
        return to_json(fact)
    return json.dumps(fact)


def _by_hand(value: float) -> bool:
    """Whether json.dumps, which writes a float as its repr, would write one durable cannot
    read: in exponent notation (from 1e16, below 1e-4) or not finite."""
    return not math.isfinite(value) or "e" in repr(value)


class _Compiler:
    def __init__(self, compiled: CompiledPack) -> None:
        self.compiled = compiled
        pack = compiled.pack
        self.fields = deal_fields(pack)
        self.positions = compiled.stage_positions
        self.names: dict[tuple[bool, str], str] = {}
        self.read: set[str] = set()  # the slots read since the last milestone began

    def slot(self, node: Expr, kind: Kind, *, as_truth: bool = False) -> str:
        """The fact property for a node; one per distinct expression."""
        key = (as_truth, to_text(node))
        name = self.names.get(key)
        if name is None:
            name = self.names[key] = f"s{len(self.names)}"
            self.compiled.slots[name] = _Slot(name, node, kind, as_truth)
        self.read.add(name)
        return name

    def kind(self, node: Expr) -> Kind:
        """Arithmetic and other computed values are prepared in Python, never compared natively."""
        if isinstance(node, Arithmetic | Negate):
            return Kind.ANY
        return static_kind(node, self.fields)

    def term(self, node: Expr) -> _Term:
        match node:
            case Number(value=number):
                return _Term(constant=_number(number))
            case String(value=text):
                return _Term(constant=text)
            case DateLiteral(value=day):
                return _Term(constant=day.toordinal())
            case Today():
                return _Term(constant=self.compiled.as_of.toordinal())
            case Boolean(value=flag):
                return _Term(constant=int(flag))
            case StageRef(stage_id=stage_id):
                return _Term(constant=self.positions[stage_id])
        return _Term(slot=self.slot(node, self.kind(node)))

    def native_comparison(self, node: Compare) -> bool:
        kinds = {self.kind(node.left), self.kind(node.right)}
        if not kinds <= _NATIVE:
            return False
        numeric = {Kind.NUMBER, Kind.MONEY}
        return len(kinds) == 1 or kinds <= numeric

    # T(node, want): the condition under which the node is definitely `want`.
    # N(node, want): its complement: the node is not `want` (the other value, or unknown).
    def holds(self, node: Expr, want: bool) -> Condition:
        match node:
            case Logical(op=op, left=left, right=right):
                both = (op == "and") == want
                parts = (self.holds(left, want), self.holds(right, want))
                return _all(*parts) if both else _any(*parts)
            case Not(operand=operand):
                return self.holds(operand, not want)
            case Boolean(value=flag):
                return ALWAYS if flag == want else NEVER
            case Call(function="present", args=(FieldPath() as path,)) if (
                self.kind(path) in _NATIVE
            ):
                name = self.slot(path, self.kind(path))
                return {"$ex": {name: 1}} if want else {"$nex": {name: 1}}
            case Compare(op=op, left=left, right=right) if self.native_comparison(node):
                return self.comparison(op if want else _NEGATE[op], left, right, strict=True)
            case InList(operand=operand, items=items, negated=negated) if self.native_in(node):
                is_member = want != negated
                return self.membership(operand, items, is_member, strict=True)
        name = self.slot(node, Kind.BOOLEAN, as_truth=True)
        return {name: int(want)}

    def fails(self, node: Expr, want: bool) -> Condition:
        match node:
            case Logical(op=op, left=left, right=right):
                both = (op == "and") == want
                parts = (self.fails(left, want), self.fails(right, want))
                return _any(*parts) if both else _all(*parts)
            case Not(operand=operand):
                return self.fails(operand, not want)
            case Boolean(value=flag):
                return NEVER if flag == want else ALWAYS
            case Call(function="present", args=(FieldPath() as path,)) if (
                self.kind(path) in _NATIVE
            ):
                name = self.slot(path, self.kind(path))
                return {"$nex": {name: 1}} if want else {"$ex": {name: 1}}
            case Compare(op=op, left=left, right=right) if self.native_comparison(node):
                return self.comparison(_NEGATE[op] if want else op, left, right, strict=False)
            case InList(operand=operand, items=items, negated=negated) if self.native_in(node):
                is_member = want != negated
                return self.membership(operand, items, not is_member, strict=False)
        name = self.slot(node, Kind.BOOLEAN, as_truth=True)
        return _any({"$nex": {name: 1}}, {name: int(not want)})

    def comparison(self, op: str, left: Expr, right: Expr, *, strict: bool) -> Condition:
        """strict: both sides present and `op` holds. Else: a side absent, or `op` holds."""
        a, b = self.term(left), self.term(right)
        if a.slot is None and b.slot is None:
            holds = _constant_compare(op, a.constant, b.constant)
            return ALWAYS if holds else NEVER
        if a.slot is None:
            a, b, op = b, a, _FLIP[op]
        assert a.slot is not None
        target = {"$m": b.slot} if b.slot is not None else b.constant
        test = {a.slot: target} if op == "==" else {_DURABLE_OP[op]: {a.slot: target}}
        slots = [slot for slot in (a.slot, b.slot) if slot is not None]
        if strict:
            return _all(*({"$ex": {slot: 1}} for slot in slots), test)
        return _any(*({"$nex": {slot: 1}} for slot in slots), test)

    def native_in(self, node: InList) -> bool:
        kind = self.kind(node.operand)
        constants = (Number, String, DateLiteral, Today, Boolean, StageRef)
        return kind in _NATIVE and all(
            isinstance(item, constants)
            and self.kind(item)
            in (
                {kind} | ({Kind.NUMBER, Kind.MONEY} if kind in (Kind.NUMBER, Kind.MONEY) else set())
            )
            for item in node.items
        )

    def membership(
        self, operand: Expr, items: tuple[Expr, ...], member: bool, *, strict: bool
    ) -> Condition:
        """With constant items: member (strict) / not member (not strict), and the reverse."""
        slot = self.slot(operand, self.kind(operand))
        values = [self.term(item).constant for item in items]
        equal = [{slot: item} for item in values]
        unequal = [{"$neq": {slot: item}} for item in values]
        if strict:
            return _all({"$ex": {slot: 1}}, _any(*equal) if member else _all(*unequal))
        return _any({"$nex": {slot: 1}}, _any(*equal) if member else _all(*unequal))


def _constant_compare(op: str, left: Any, right: Any) -> bool:
    return bool(
        {
            "==": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[op]
    )


def compile_pack(pack: RulePack, as_of: date) -> CompiledPack:
    """Two rules per milestone: `missing` (when TRUE, require NOT TRUE) and `not applicable`."""
    compiled = CompiledPack(pack, as_of)
    compiler = _Compiler(compiled)
    for milestone in pack.milestones():
        compiler.read = compiled.milestone_slots[milestone.id] = set()
        applies = _applicability(milestone, pack)
        when = milestone.when.tree if milestone.when is not None else None
        when_true = compiler.holds(when, True) if when is not None else ALWAYS
        missing = _all(
            {"kind": "deal"}, applies, when_true, compiler.fails(milestone.require.tree, True)
        )
        if missing is not NEVER:
            compiled.rules[f"{milestone.id}|missing"] = missing
            compiled.fired_outcome[f"{milestone.id}|missing"] = (milestone.id, Outcome.MISSING)
        if when is not None:
            not_applicable = _all({"kind": "deal"}, applies, compiler.fails(when, True))
            if not_applicable is not NEVER:
                compiled.rules[f"{milestone.id}|na"] = not_applicable
                compiled.fired_outcome[f"{milestone.id}|na"] = (
                    milestone.id,
                    Outcome.NOT_APPLICABLE,
                )
    return compiled


def _applicability(milestone: Milestone, pack: RulePack) -> Condition:
    """Scope.applies, read from the fact's `lim` and `hyg`."""
    if milestone.stage_id is None:
        return {"hyg": 1}
    return {"$gte": {"lim": pack.stage(milestone.stage_id).position}}


# --- running --------------------------------------------------------------------------


class DurableEngine:
    """Evaluates deals one fact and one session at a time."""

    name = "durable"

    def __init__(self) -> None:
        self._core = _import_engine()
        self._rulesets: dict[tuple[str, date], tuple[CompiledPack, int]] = {}

    def _ruleset(self, pack: RulePack, as_of: date) -> tuple[CompiledPack, int]:
        compiled = compile_pack(pack, as_of)
        definition = to_json(compiled.definition, sort_keys=True)
        # The rules name slots; what each slot holds is part of what the ruleset means, so
        # two packs whose rules look alike but whose slots differ never share a ruleset.
        slots = json.dumps(
            [
                (slot.name, to_text(slot.node), slot.kind.value, slot.truth)
                for slot in compiled.slots.values()
            ]
        )
        key = (definition + slots, as_of)
        if key not in self._rulesets:
            beyond = durable_limit(pack)
            if beyond:  # before durable is asked: it would refuse, or never return
                raise DurableError(durable_refusal(pack, beyond))
            # Ruleset names are process-wide in durable's core: a counter keeps them unique.
            name = f"dealgate-{pack.id}-{next(_counter)}"
            try:
                handle = self._core.create_ruleset(name, definition)
            except Exception as error:
                raise DurableError(f"durable_rules refused the compiled ruleset: {error}") from None
            self._rulesets[key] = (compiled, handle)
        return self._rulesets[key]

    def evaluate(
        self, pack: RulePack, requests: Iterable[DealRequest], as_of: date
    ) -> Iterator[DealOutcomes]:
        compiled, handle = self._ruleset(pack, as_of)
        session = f"run-{next(_counter)}"
        applicable = ApplicableMilestones(pack)
        for number, request in enumerate(requests):
            outcomes = dict.fromkeys(applicable(request), Outcome.MET)
            values = deal_values(request.read, pack)
            if outcomes:
                fact = compiled.fact(request, session, values)
                fact["n"] = number  # keeps two identical deals from being one fact
                self._run(handle, fact, _OutcomeAction(compiled, outcomes))
            yield DealOutcomes(request, outcomes, values)

    def _run(self, handle: int, fact: dict[str, Any], action: Callable[[str], None]) -> None:
        """Assert one deal's fact, dispatch every fired rule to the action, retract the fact."""
        core = self._core
        text = _fact_json(fact)
        code, state = self._call(core.assert_fact, handle, text, "assert a deal fact")
        try:
            if code == 0:
                self._drain(handle, state, action)
            elif code != 1:  # 1: no rule matched, nothing is missing
                raise DurableError(f"durable_rules returned code {code} for a deal fact")
        finally:
            code, state = self._call(core.retract_fact, handle, text, "retract a deal fact")
            if code == 0:
                self._drain(handle, state, lambda _: None)  # no rule reacts to a retraction

    def _drain(self, handle: int, state: int, action: Callable[[str], None]) -> None:
        core = self._core
        fired = self._call(core.start_action_for_state, handle, state, "start an action")
        while fired:
            action(_rule_name(fired[1]))
            following = self._call(
                core.complete_and_start_action, handle, state, "complete an action"
            )
            fired = (None, following) if following else None

    @staticmethod
    def _call(function: Callable[..., Any], handle: int, argument: Any, what: str) -> Any:
        try:
            return function(handle, argument)
        except Exception as error:  # durable_rules_engine.error carries the engine's code
            raise DurableError(f"durable_rules could not {what}: {error}") from None


def _rule_name(message: str) -> str:
    """The fired rule of an action message, `{"<rule>": {"m": {...}}}`, without parsing it all.

    Rule names are milestone ids and a suffix: they hold no quote, so the first quoted string
    is the name. One rule fires per action for single-condition rules like these.
    """
    start = message.index('"') + 1
    return message[start : message.index('"', start)]


@dataclass
class _OutcomeAction:
    """The one-parameter action every rule runs: record what the fired rule says."""

    compiled: CompiledPack
    outcomes: dict[str, Outcome]

    def __call__(self, rule_name: str) -> None:
        milestone_id, outcome = self.compiled.fired_outcome[rule_name]
        if milestone_id in self.outcomes:
            self.outcomes[milestone_id] = outcome
