"""Stage semantics over the table of canonical deals: per deal, a flag per missing milestone.

The stage rules are not written here: `judging.semantics` decides them in Python for every
position a deal's stage can take (which milestones apply, the kind of each finding, the
gates of the evidence stage, what re-dates a deal), and this module writes its answers into
the SQL as sets of stage positions (`stage <= 3`, `stage BETWEEN 1 AND 2`) and CASE arms.
Statuses come from the compiled rule query (`engines.sql.compile_query`), as booleans. The
report's rows (per deal, or per finding) are read from the flags (`columnar/audit.py`).

Every query is a sqlglot tree, written out per dialect (only the JSON macros, DuckDB's own,
are text); where dialects differ, the `SqlDialect` strategy gives the node (joining texts).
Each plan must keep DuckDB's order-keeping batch sink (`columnar/audit.py`): no `IN` list
outside a WHERE (DuckDB plans one of five values or more as a hash join), no join, no window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.simplify import simplify

from dealgate.audit import AuditFilters
from dealgate.columnar.canonical import Unsupported, looked_up, texts_with_keys
from dealgate.deals.cell_language import Rule, inline_sql
from dealgate.deals.cell_rules import CLOSING_WINDOW
from dealgate.deals.mapper import stage_id_for
from dealgate.deals.profiles import Profile
from dealgate.engines.dialects import (
    DuckDB,
    SqlDialect,
    cast,
    dialect_named,
    func,
    is_null,
    lambda_,
)
from dealgate.engines.sql import compile_query
from dealgate.findings import Disposition, FindingKind
from dealgate.judging.semantics import Position
from dealgate.report.cell_writing import ReadPlanField, read_rules, sql_read_macros, writer
from dealgate.report.cell_writing import sql_macros as writing_macros
from dealgate.report.csv_layout import ID_SEPARATOR
from dealgate.rules.model import Milestone, RulePack

DEAL = "d"  # the alias of the deal in the judging steps


@dataclass(frozen=True)
class StageRow:
    """How a CRM stage text maps onto the pack, computed in Python for each distinct text."""

    crm: str
    stage_id: str | None
    position: int | None


def stage_rows(pack: RulePack, profile: Profile, texts: list[str]) -> list[StageRow]:
    """The pack stage each CRM stage text means, as the Python mapper decides it."""
    rows = []
    for text in texts:
        stage_id = stage_id_for(text, profile, pack)
        rows.append(StageRow(text, stage_id, pack.position(stage_id)))
    return rows


def staged_deals(rows: list[StageRow], canonical: str) -> exp.Select:
    """The canonical deals with the pack stage their CRM stage text means: its position
    (`stage`) and id (`dg_stage_id`), NULL for a text the pack does not know."""
    crm_stage = exp.column("dg_crm_stage", table="c")

    def by_text(values: list[exp.Expr]) -> exp.Expr:
        if not rows:
            return exp.null()
        return looked_up([_text(row.crm) for row in rows], values, crm_stage.copy())

    position = by_text([exp.null() if r.position is None else _number(r.position) for r in rows])
    stage_id = by_text([exp.null() if r.stage_id is None else _text(r.stage_id) for r in rows])
    return exp.select(
        exp.Column(this=exp.Star(), table=_alias("c")),
        _as(cast(position, "INTEGER"), "stage"),
        _as(cast(stage_id, "VARCHAR"), "dg_stage_id"),
        copy=False,
    ).from_(exp.alias_(exp.to_table(canonical), "c", table=True), copy=False)


class Judge:
    """The SQL that turns statuses into the exception list, for one pack and as-of date."""

    def __init__(
        self,
        pack: RulePack,
        filters: AuditFilters,
        keys: Mapping[str, str] | None = None,
        dialect: SqlDialect | None = None,
    ) -> None:
        self.pack = pack
        self.semantics = pack.semantics
        self.filters = filters
        self.keys = keys or {}  # every owner and manager text -> header_key (read_keys)
        self.dialect = dialect or DuckDB()
        self.milestones = list(self.semantics.milestones)

    def stage_in(self, positions: Iterable[Position]) -> exp.Expr:
        """Whether the deal's stage is one of these positions (None: a stage the pack does
        not know). The `stage` column holds a pack position or NULL, nothing else."""
        wanted = set(positions)
        if wanted >= set(self.semantics.positions):
            return exp.true()
        last = len(self.pack.stages) - 1
        stage = _stage()
        tests: list[exp.Expr] = []
        for low, high in _runs(sorted(p for p in wanted if p is not None)):
            if low == high:
                tests.append(exp.EQ(this=stage.copy(), expression=_number(low)))
            elif low == 0:
                tests.append(exp.LTE(this=stage.copy(), expression=_number(high)))
            elif high == last:
                tests.append(exp.GTE(this=stage.copy(), expression=_number(low)))
            else:
                tests.append(exp.Between(this=stage.copy(), low=_number(low), high=_number(high)))
        if not tests:
            return is_null(stage) if None in wanted else exp.false()
        # coalesce rather than `stage IS NULL OR ...`: DuckDB pushes an OR filter down as
        # it is, and the audit of 1M deals took 5 CPU-s more with one.
        return _coalesce(_any(*tests), exp.Boolean(this=None in wanted))

    def _positions(self, decide: Callable[[Position], bool]) -> list[Position]:
        return [p for p in self.semantics.positions if decide(p)]

    def _where(self, decide: Callable[[Position], bool]) -> exp.Expr:
        return self.stage_in(self._positions(decide))

    # -- which deals are audited -------------------------------------------------------

    def audited(self) -> exp.Expr:
        """The WHERE condition of an audited deal (closed and filtered ones are counted)."""
        filters = self.filters
        staged = self._positions(lambda p: filters.stage_exclusion(p, self.pack) is None)
        conditions = [] if set(staged) >= set(self.semantics.positions) else [self.stage_in(staged)]
        # compared by header_key: the spellings whose key is asked for ('' is a deal
        # without an owner or manager); an IN list, in the WHERE, where it is no join
        if filters.owners:
            conditions.append(self._one_of("owner", texts_with_keys(filters.owners, self.keys)))
        if filters.managers:
            conditions.append(self._one_of("manager", texts_with_keys(filters.managers, self.keys)))
        if filters.closing_after or filters.closing_before:
            conditions.append(_closing_window(filters))
        return _all(*conditions) if conditions else exp.true()

    def _one_of(self, column: str, spellings: list[str]) -> exp.Expr:
        """The deal's owner (or manager), '' for none, is one of these spellings (of
        canonical.texts_with_keys); none matches when there are none."""
        listed: list[exp.Expr] = [exp.Literal.string(text) for text in spellings]
        text = _coalesce(judged_column(column), exp.Literal.string(""))
        return _coalesce(exp.In(this=text, expressions=listed or [exp.null()]), exp.false())

    # -- per milestone -----------------------------------------------------------------

    def missing(self, milestone: Milestone) -> exp.Expr:
        """The milestone applies to the deal and is not met."""
        applies = self._where(lambda p: self.semantics.applies(milestone, p))
        return exp.paren(_all(applies, judged_column(unmet_column(milestone))), copy=False)

    def evidence(self) -> exp.Expr:
        """The evidence stage position: that of the first gate failed before the claimed
        stage, or the claimed stage's own."""
        claimed = _case(
            [
                (_number(position), exp.convert(self.semantics.claimed_evidence(position)))
                for position in self.semantics.positions
                if position is not None
            ],
            subject=judged_column("stage"),
        )
        gated = []
        for gate in self.semantics.gates:
            past = [p for p in self.semantics.positions if gate in self.semantics.gates_before(p)]
            if past:
                failing = _any(*(self.missing(m) for m in gate.required))
                gated.append((_all(self.stage_in(past), failing), _number(gate.reached)))
        return _case(gated, otherwise=claimed) if gated else claimed

    # -- the query ---------------------------------------------------------------------

    def exceptions_query(
        self, statuses: exp.Query, kept: list[exp.Expr] | None = None
    ) -> exp.Select:
        """`SELECT * FROM dg_exceptions` after CTEs judging every audited deal: the deals
        that need attention, each with one boolean column per milestone, true when it is
        missing. Callers choose their own columns of `dg_exceptions` (or `dg_deal_rows`).

        A deal's findings are its missing flags in the pack's order, which is already the
        order of assess (skipped exits of earlier stages, to-advance exits of its stage,
        then hygiene): no list of findings is built or sorted per deal. `kept` names the
        deal columns the judged rows keep (by default every one).
        """
        return (
            exp.select(exp.Star())
            .from_("dg_exceptions", copy=False)
            .with_("dg_statuses", as_=statuses, copy=False)
            .with_("dg_judged", as_=self._judged(kept), copy=False)
            .with_("dg_deal_rows", as_=self._deal_rows(), copy=False)
            .with_("dg_exceptions", as_=self._exceptions(), copy=False)
        )

    def _judged(self, kept: list[exp.Expr] | None) -> exp.Select:
        """Each audited deal of `dg_statuses`: its missing flags, evidence stage and whether
        it is re-dated."""
        flags = [
            _as(_coalesce(self.missing(m), exp.false()), missing_column(index))
            for index, m in enumerate(self.milestones)
        ]
        re_dating = [_coalesce(self.missing(m), exp.false()) for m in self.semantics.re_dating]
        re_dated = _any(*re_dating) if re_dating else exp.false()
        unstatused = [exp.to_identifier(unmet_column(m), quoted=True) for m in self.milestones]
        every_column = exp.Column(this=exp.Star(except_=unstatused), table=_alias(DEAL))
        return (
            exp.select(*(kept if kept is not None else [every_column]), *flags, copy=False)
            .select(_as(self.evidence(), "dg_evidence"), _as(re_dated, "dg_re_date"), copy=False)
            .from_(exp.alias_(exp.to_table("dg_statuses"), DEAL, table=True), copy=False)
            .where(self.audited(), copy=False)
        )

    def _deal_rows(self) -> exp.Select:
        """The judged deals with their inflation and evidence stage id."""
        inflation = _coalesce(
            exp.Sub(this=_stage(), expression=exp.column("dg_evidence")), _number(0)
        )
        return exp.select(
            exp.Star(),
            _as(inflation, "dg_inflation"),
            _as(self.stage_id(exp.column("dg_evidence")), "dg_evidence_id"),
        ).from_("dg_judged", copy=False)

    def _exceptions(self) -> exp.Select:
        """The deals that need attention: inflated, or with a missing milestone that fails."""
        inflated = exp.GT(this=exp.column("dg_inflation"), expression=_number(0))
        needs_attention = _any(inflated, *self._failing_findings())
        exceptions = exp.select(exp.Star()).from_("dg_deal_rows", copy=False)
        return exceptions.where(needs_attention, copy=False)

    def _failing_findings(self) -> list[exp.Expr]:
        """Per milestone: it is missing and fails --fail-on at the deal's stage."""
        return [_all(_flag(index), self.fails(m)) for index, m in enumerate(self.milestones)]

    def disposition(self) -> exp.Expr:
        """The disposition's text (Disposition.text, decided in Python for each evidence
        stage): re-date, re-stage to the evidence stage, or keep (semantics.disposition's
        order)."""
        re_stage = Disposition.RE_STAGE
        to_stage = _case(
            [(_text(stage.id), _text(re_stage.text(stage.id))) for stage in self.pack.stages],
            otherwise=_text(re_stage.text(None)),
            subject=exp.column("dg_evidence_id"),
        )
        inflated = exp.GT(this=exp.column("dg_inflation"), expression=_number(0))
        return _case(
            [
                (exp.column("dg_re_date"), _text(Disposition.RE_DATE.text(None))),
                (inflated, to_stage),
            ],
            otherwise=_text(Disposition.KEEP.text(None)),
        )

    def stage_id(self, position: exp.Expr | None = None) -> exp.Expr:
        """The id of the stage at a position column (by default the one the deal claims)."""
        arms = [(_number(stage.position), _text(stage.id)) for stage in self.pack.stages]
        return _case(arms, subject=position if position is not None else _stage())

    def kind(self, milestone: Milestone) -> exp.Expr:
        """The kind of a milestone's finding for the deal: skipped, to-advance or hygiene."""
        kinds = [k for k in FindingKind if k in self.semantics.kinds_possible(milestone)]
        *tested, otherwise = kinds
        if not tested:
            return _text(otherwise.value)
        arms = [(self.is_kind(milestone, kind), _text(kind.value)) for kind in tested]
        return _case(arms, otherwise=_text(otherwise.value))

    def is_kind(self, milestone: Milestone, kind: FindingKind) -> exp.Expr:
        """Whether the milestone's finding for the deal is of this kind."""
        return self._where(lambda p: self.semantics.kind(milestone, p) is kind)

    def fails(self, milestone: Milestone) -> exp.Expr:
        """Whether the milestone's finding for the deal fails --fail-on (at its severity)."""
        return self._where(lambda p: self.semantics.fails(milestone, p))

    def missing_ids(self, kind: FindingKind) -> exp.Expr:
        """The ids of a deal's missing milestones of one kind, in the pack's order."""
        ids = [
            _case([(_all(_flag(index), self.is_kind(m, kind)), cell(m.id))])
            for index, m in enumerate(self.milestones)
            if kind in self.semantics.kinds_possible(m)
        ]
        if not ids:
            return exp.null()
        joined = self.dialect.join_texts(ID_SEPARATOR, ids)
        return exp.Nullif(this=joined, expression=exp.Literal.string(""))

    def failing(self, severities: tuple[str, ...]) -> exp.Expr:
        """How many findings of a deal fail --fail-on at these severities."""
        counted = [
            _case([(_all(_flag(index), self.fails(m)), _number(1))], otherwise=_number(0))
            for index, m in enumerate(self.milestones)
            if m.severity.value in severities
        ]
        return _joined(exp.Add, counted) if counted else _number(0)

    def missing_indexes(self) -> exp.Expr:
        """The pack indexes of a deal's missing milestones, in order, to unnest: one row per
        finding (DuckDB's lists: the report is written by DuckDB only)."""
        items = [_case([(_flag(index), _number(index))]) for index in range(len(self.milestones))]
        present = exp.Not(this=is_null(exp.column("i")))
        return func("list_filter", exp.Array(expressions=items), lambda_("i", present))

    def finding_columns(self) -> dict[str, exp.Expr]:
        """Each finding column that depends on the milestone (`dg_m`, its index)."""

        def by_milestone(values: list[exp.Expr]) -> exp.Expr:
            arms = [(_number(index), value) for index, value in enumerate(values)]
            return _case(arms, subject=exp.column("dg_m"))

        return {
            "milestone_id": by_milestone([cell(m.id) for m in self.milestones]),
            "milestone": by_milestone([cell(m.milestone) for m in self.milestones]),
            "kind": by_milestone([self.kind(m) for m in self.milestones]),
            "severity": by_milestone([cell(m.severity.value) for m in self.milestones]),
            "read": by_milestone([self.read_json(i) for i in range(len(self.milestones))]),
            "guidance": by_milestone([cell(m.guidance) for m in self.milestones]),
        }

    # -- what a finding read, as JSON (report/cell_writing.py's rules, as macros) ---------

    def read_json(self, index: int) -> exp.Expr:
        """The call of milestone number `index`'s read macro (`read_macros`) on its fields."""
        _, fields = self._reads[index]
        return func(f"dg_{_read_rule(index)}", *(_read_argument(field) for field in fields))

    def read_macros(self) -> list[str]:
        """The macros writing what each milestone read, after the writing rules' own."""
        for milestone in self.milestones:
            for path, _ in milestone.read_plan:
                if "." in path:
                    raise Unsupported(f"a record field read by a milestone ({path})")
        rules = [rule for milestone_rules, _ in self._reads for rule in milestone_rules]
        return [*writing_macros(), *sql_read_macros(rules)]

    @cached_property
    def _reads(self) -> list[tuple[list[Rule], list[ReadPlanField]]]:
        """Each milestone's read rules and the fields they take (report/cell_writing.py)."""
        return [
            read_rules(self.pack, milestone, _read_rule(index))
            for index, milestone in enumerate(self.milestones)
        ]


def _read_rule(index: int) -> str:
    return f"read_{index}"


def _read_argument(field: ReadPlanField) -> exp.Expr:
    """The column a read macro takes for a field: a list shown by its length, its length."""
    if field.path == "stage":
        return exp.column("dg_crm_stage")
    column = exp.column(exp.to_identifier(field.path, quoted=True))
    return func("len", column) if field.shown_as == "count" else column


def _runs(positions: list[int]) -> list[tuple[int, int]]:
    """Sorted positions as runs of consecutive ones: [0, 1, 2, 5] -> [(0, 2), (5, 5)]."""
    runs: list[tuple[int, int]] = []
    for position in positions:
        if runs and runs[-1][1] == position - 1:
            runs[-1] = (runs[-1][0], position)
        else:
            runs.append((position, position))
    return runs


def missing_column(index: int) -> str:
    """The column telling whether the pack's milestone number `index` is missing."""
    return f"dg_missing {index}"


def unmet_column(milestone: Milestone) -> str:
    """The column telling whether a milestone is unmet, were it to apply (never a field's
    name)."""
    return f"dg_unmet {milestone.id}"


def statuses_query(
    pack: RulePack,
    as_of: date,
    *,
    table: str = "deals",
    dialect: str = "duckdb",
    kept: list[str] | None = None,
) -> exp.Select:
    """The deal columns kept (every one by default) and, beside them, whether the compiled
    query finds each milestone unmet: one pass over the deals, with no join back to them."""
    query = compile_query(pack, as_of, table, dialect)
    query.set("order", None)
    unmet = [
        _as(_unmet(column.this), unmet_column(milestone))
        for column, milestone in zip(query.expressions[1:], pack.milestones(), strict=True)
    ]
    strategy = dialect_named(dialect)
    columns = [strategy.deal_column(name) for name in kept] if kept is not None else [exp.Star()]
    query.set("expressions", [*columns, *unmet])
    return query


def _unmet(status: exp.Expr) -> exp.Expr:
    """A compiled status (a CASE giving 'n' not applicable, 'm' met or 'x' missing) as a
    boolean, true for 'x': comparing text per deal and milestone costs more than the rule."""
    case = status.copy()
    assert isinstance(case, exp.Case)
    for arm in case.args.get("ifs") or []:
        arm.set("true", exp.Boolean(this=arm.args["true"].name == "x"))
    case.set("default", exp.Boolean(this=case.args["default"].name == "x"))
    return case


def cell(text: str) -> exp.Expr:
    """A constant of the pack as the CSV report writes it: formula-safe, blank as NULL."""
    safe = writer("safe_text")(text)
    return _text(safe) if safe is not None else exp.null()


# -- small builders ------------------------------------------------------------------------


def _number(value: int) -> exp.Expr:
    return exp.Literal.number(value)


def _text(value: str) -> exp.Expr:
    return exp.Literal.string(value)


def _date(day: date) -> exp.Expr:
    return cast(_text(day.isoformat()), "DATE")


def _case(
    arms: Sequence[tuple[exp.Expr, exp.Expr]],
    otherwise: exp.Expr | None = None,
    subject: exp.Expr | None = None,
) -> exp.Case:
    """CASE [subject] WHEN test THEN value ... [ELSE otherwise] END, built in one go (adding
    arms one by one copies the CASE each time)."""
    ifs = [exp.If(this=test, true=value) for test, value in arms]
    return exp.Case(this=subject, ifs=ifs, default=otherwise)


def _all(*conditions: exp.Expr) -> exp.Expr:
    return exp.and_(*conditions, copy=False)


def _any(*conditions: exp.Expr) -> exp.Expr:
    return exp.or_(*conditions, copy=False)


def _coalesce(value: exp.Expr, otherwise: exp.Expr) -> exp.Expr:
    return exp.Coalesce(this=value, expressions=[otherwise])


def _as(value: exp.Expr, name: str) -> exp.Expr:
    """value AS name, the name quoted only when it must be (as columns refer to it)."""
    return exp.alias_(value, exp.to_identifier(name), copy=False)


def _alias(name: str) -> exp.Identifier:
    return exp.to_identifier(name)


def _closing_window(filters: AuditFilters) -> exp.Expr:
    """The deal's close date is in the window of --closing-after/--closing-before: the rule
    of cell_rules (as the Python route decides it), inlined, its DuckDB text read by sqlglot
    so that every dialect writes it, and simplified for the bounds given."""
    bounds = {"dg_after": filters.closing_after, "dg_before": filters.closing_before}
    text = inline_sql(CLOSING_WINDOW, {"d": "dg_close", "after": "dg_after", "before": "dg_before"})

    def bound(node: exp.Expr) -> exp.Expr:
        is_bound = isinstance(node, exp.Is) and isinstance(node.this, exp.Column)
        if is_bound and node.this.name in bounds:  # known when the statement is written
            return exp.Boolean(this=bounds[node.this.name] is None)
        if isinstance(node, exp.Column) and node.name in bounds:
            day = bounds[node.name]
            return _date(day) if day is not None else exp.null()
        if isinstance(node, exp.Column) and node.name == "dg_close":
            return judged_column("close_date")
        return node

    window: exp.Expr = simplify(sqlglot.parse_one(text, read="duckdb").transform(bound))
    return window


def judged_column(column: str) -> exp.Expr:
    """A column of the deal being judged (`d."column"`)."""
    return exp.column(exp.to_identifier(column, quoted=True), table=_alias(DEAL))


def _stage() -> exp.Expr:
    """The position of the deal's stage in the pack, a column of the table of deals (quoted
    as the schema writes it: unquoted, Snowflake would read STAGE)."""
    return exp.column(exp.to_identifier("stage", quoted=True))


def _flag(index: int) -> exp.Expr:
    """The judged deal's flag of the pack's milestone number `index`."""
    return exp.column(exp.to_identifier(missing_column(index)))


def _joined(operator: type[exp.Binary], operands: Sequence[exp.Expr]) -> exp.Expr:
    """a op b op c, left to right."""
    first, *rest = operands
    for operand in rest:
        first = operator(this=first, expression=operand)
    return first


def _concat(*texts: exp.Expr) -> exp.Expr:
    """Texts joined with `||` (NULL when one is NULL)."""
    return _joined(exp.DPipe, list(texts))
