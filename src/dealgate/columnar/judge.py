"""Stage semantics over the table of canonical deals: per deal, a flag per missing milestone.

The stage rules are not written here: `judging.semantics` decides them in Python for every
position a deal's stage can take (which milestones apply, the kind of each finding, the
gates of the evidence stage, what re-dates a deal), and this module writes its answers into
the SQL as sets of stage positions (`stage <= 3`, `stage BETWEEN 1 AND 2`) and CASE arms.
Statuses come from the compiled rule query (`engines.sql.compile_query`), as booleans. The
report's rows (per deal, or per finding) are read from the flags (`columnar/audit.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlglot import exp

from dealgate.audit import AuditFilters
from dealgate.columnar.canonical import Unsupported, ident, literal, texts_with_keys
from dealgate.deals.mapper import stage_id_for
from dealgate.deals.profiles import Profile
from dealgate.engines.dialects import dialect_named
from dealgate.engines.sql import compile_query
from dealgate.findings import Disposition, FindingKind
from dealgate.judging.semantics import Position
from dealgate.report.csv_layout import ID_SEPARATOR, safe_cell
from dealgate.rules.model import Milestone, RulePack
from dealgate.rules.types import CANONICAL_FIELDS, NUMERIC, FieldType, Kind


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


class Judge:
    """The SQL that turns statuses into the exception list, for one pack and as-of date."""

    def __init__(
        self, pack: RulePack, filters: AuditFilters, keys: Mapping[str, str] | None = None
    ) -> None:
        self.pack = pack
        self.semantics = pack.semantics
        self.filters = filters
        self.keys = keys or {}  # every owner and manager text -> header_key (read_keys)
        self.milestones = list(self.semantics.milestones)

    def stage_in(self, positions: Iterable[Position]) -> str:
        """Whether the deal's stage is one of these positions (None: a stage the pack does
        not know). The `stage` column holds a pack position or NULL, nothing else."""
        wanted = set(positions)
        if wanted >= set(self.semantics.positions):
            return "true"
        last = len(self.pack.stages) - 1
        tests = []
        for low, high in _runs(sorted(p for p in wanted if p is not None)):
            if low == high:
                tests.append(f"stage = {low}")
            elif low == 0:
                tests.append(f"stage <= {high}")
            elif high == last:
                tests.append(f"stage >= {low}")
            else:
                tests.append(f"stage BETWEEN {low} AND {high}")
        unknown = "true" if None in wanted else "false"
        if not tests:
            return "stage IS NULL" if None in wanted else "false"
        # coalesce rather than `stage IS NULL OR ...`: DuckDB pushes an OR filter down as
        # it is, and the audit of 1M deals took 5 CPU-s more with one.
        return f"coalesce({' OR '.join(tests)}, {unknown})"

    def _where(self, decide: Callable[[Position], bool]) -> str:
        return self.stage_in(p for p in self.semantics.positions if decide(p))

    # -- which deals are audited -------------------------------------------------------

    def audited(self) -> str:
        """The WHERE condition of an audited deal (closed and filtered ones are counted)."""
        filters = self.filters
        staged = self._where(lambda p: filters.stage_exclusion(p, self.pack) is None)
        conditions = [] if staged == "true" else [staged]
        # compared by header_key: the spellings whose key is asked for ('' is a deal
        # without an owner or manager)
        if filters.owners:
            owners = texts_with_keys(filters.owners, self.keys)
            conditions.append(f"coalesce(coalesce(d.owner, '') IN ({owners}), false)")
        if filters.managers:
            managers = texts_with_keys(filters.managers, self.keys)
            conditions.append(f"coalesce(coalesce(d.manager, '') IN ({managers}), false)")
        if filters.closing_after:
            conditions.append(f"coalesce(d.close_date >= {_date(filters.closing_after)}, false)")
        if filters.closing_before:
            conditions.append(f"coalesce(d.close_date <= {_date(filters.closing_before)}, false)")
        return " AND ".join(conditions) or "true"

    # -- per milestone -----------------------------------------------------------------

    def missing(self, milestone: Milestone) -> str:
        """The milestone applies to the deal and is not met."""
        applies = self._where(lambda p: self.semantics.applies(milestone, p))
        return f"({applies} AND d.{ident(unmet_column(milestone))})"

    def evidence(self) -> str:
        """The evidence stage position: that of the first gate failed before the claimed
        stage, or the claimed stage's own."""
        arms = []
        for gate in self.semantics.gates:
            past = self.stage_in(
                p for p in self.semantics.positions if gate in self.semantics.gates_before(p)
            )
            if past == "false":
                continue
            failing = " OR ".join(self.missing(m) for m in gate.required)
            arms.append(f"WHEN {past} AND ({failing}) THEN {gate.reached}")
        claimed = " ".join(
            f"WHEN {position} THEN {self.semantics.claimed_evidence(position)}"
            for position in self.semantics.positions
            if position is not None
        )
        claimed_case = f"CASE d.stage {claimed} END"
        return f"CASE {' '.join(arms)} ELSE {claimed_case} END" if arms else claimed_case

    # -- the query ---------------------------------------------------------------------

    def findings_sql(self, statuses: str, kept: str | None = None) -> str:
        """CTEs judging every audited deal, down to `dg_exceptions`: the deals that need
        attention, each with one boolean column per milestone, true when it is missing.

        A deal's findings are its missing flags in the pack's order, which is already the
        order of assess (skipped exits of earlier stages, to-advance exits of its stage,
        then hygiene): no list of findings is built or sorted per deal. `kept` names the
        deal columns the judged rows keep (by default every one).
        """
        flags = ", ".join(
            f"coalesce({self.missing(m)}, false) AS {ident(missing_column(index))}"
            for index, m in enumerate(self.milestones)
        )
        re_dated = (
            " OR ".join(f"coalesce({self.missing(m)}, false)" for m in self.semantics.re_dating)
            or "false"
        )
        attention = " OR ".join(
            f"({ident(missing_column(index))} AND {self.fails(m)})"
            for index, m in enumerate(self.milestones)
        )
        statuses_columns = ", ".join(ident(unmet_column(m)) for m in self.milestones)
        kept = kept if kept is not None else f"d.* EXCLUDE ({statuses_columns})"
        return f"""
        dg_statuses AS ({statuses}),
        dg_judged AS (
          SELECT {kept}, {flags},
                 {self.evidence()} AS dg_evidence, {re_dated} AS dg_re_date
          FROM dg_statuses AS d
          WHERE {self.audited()}),
        dg_deal_rows AS (
          SELECT *, coalesce(stage - dg_evidence, 0) AS dg_inflation,
                 {self.stage_id("dg_evidence")} AS dg_evidence_id
          FROM dg_judged),
        dg_exceptions AS (
          SELECT * FROM dg_deal_rows WHERE dg_inflation > 0 OR {attention or "false"})"""

    def disposition(self) -> str:
        """The disposition's text (Disposition.text, decided in Python for each evidence
        stage): re-date, re-stage to the evidence stage, or keep (semantics.disposition's
        order)."""
        re_stage = Disposition.RE_STAGE
        to_stage = " ".join(
            f"WHEN {literal(stage.id)} THEN {literal(re_stage.text(stage.id))}"
            for stage in self.pack.stages
        )
        return (
            f"CASE WHEN dg_re_date THEN {literal(Disposition.RE_DATE.text(None))} "
            f"WHEN dg_inflation > 0 THEN CASE dg_evidence_id {to_stage} "
            f"ELSE {literal(re_stage.text(None))} END "
            f"ELSE {literal(Disposition.KEEP.text(None))} END"
        )

    def stage_id(self, position: str = "stage") -> str:
        """The id of the stage at a position column (by default the one the deal claims)."""
        arms = " ".join(
            f"WHEN {stage.position} THEN {literal(stage.id)}" for stage in self.pack.stages
        )
        return f"CASE {position} {arms} END"

    def kind(self, milestone: Milestone) -> str:
        """The kind of a milestone's finding for the deal: skipped, to-advance or hygiene."""
        kinds = [k for k in FindingKind if k in self.semantics.kinds_possible(milestone)]
        *tested, otherwise = kinds
        arms = " ".join(
            f"WHEN {self.is_kind(milestone, kind)} THEN {literal(kind.value)}" for kind in tested
        )
        return (
            f"CASE {arms} ELSE {literal(otherwise.value)} END" if arms else literal(otherwise.value)
        )

    def is_kind(self, milestone: Milestone, kind: FindingKind) -> str:
        """Whether the milestone's finding for the deal is of this kind."""
        return self._where(lambda p: self.semantics.kind(milestone, p) is kind)

    def fails(self, milestone: Milestone) -> str:
        """Whether the milestone's finding for the deal fails --fail-on (at its severity)."""
        return self._where(lambda p: self.semantics.fails(milestone, p))

    def missing_ids(self, kind: FindingKind) -> str:
        """The ids of a deal's missing milestones of one kind, in the pack's order."""
        ids = ", ".join(
            f"CASE WHEN {ident(missing_column(index))} AND {self.is_kind(m, kind)} "
            f"THEN {cell(m.id)} END"
            for index, m in enumerate(self.milestones)
            if kind in self.semantics.kinds_possible(m)
        )
        if not ids:
            return "NULL"
        return f"nullif(concat_ws({literal(ID_SEPARATOR)}, {ids}), '')"

    def failing(self, severities: tuple[str, ...]) -> str:
        """How many findings of a deal fail --fail-on at these severities."""
        counted = [
            f"CASE WHEN {ident(missing_column(index))} AND {self.fails(m)} THEN 1 ELSE 0 END"
            for index, m in enumerate(self.milestones)
            if m.severity.value in severities
        ]
        return " + ".join(counted) or "0"

    def missing_indexes(self) -> str:
        """The pack indexes of a deal's missing milestones, in order, to unnest: one row per
        finding."""
        items = ", ".join(
            f"CASE WHEN {ident(missing_column(index))} THEN {index} END"
            for index in range(len(self.milestones))
        )
        return f"list_filter([{items}], lambda i: i IS NOT NULL)"

    def finding_columns(self) -> dict[str, str]:
        """The SQL of each finding column that depends on the milestone (`dg_m`, its index)."""

        def by_milestone(values: list[str]) -> str:
            arms = " ".join(f"WHEN {index} THEN {value}" for index, value in enumerate(values))
            return f"CASE dg_m {arms} END"

        return {
            "milestone_id": by_milestone([cell(m.id) for m in self.milestones]),
            "milestone": by_milestone([cell(m.milestone) for m in self.milestones]),
            "kind": by_milestone([self.kind(m) for m in self.milestones]),
            "severity": by_milestone([cell(m.severity.value) for m in self.milestones]),
            "read": by_milestone([self.read_json(m) for m in self.milestones]),
            "guidance": by_milestone([cell(m.guidance) for m in self.milestones]),
        }

    # -- what a finding read, as JSON ----------------------------------------------------

    def read_json(self, milestone: Milestone) -> str:
        parts = []
        for path, item_fields in milestone.read_plan:
            key = literal('"' + path + '": ')
            parts.append(f"{key} || {self._json_of(path, item_fields)}")
        if not parts:
            return "'{}'"
        return "'{' || " + " || ', ' || ".join(parts) + " || '}'"

    def _json_of(self, path: str, item_fields: tuple[str, ...]) -> str:
        if path == "stage":
            return "dg_json_text(dg_crm_stage)"
        if "." in path:
            raise Unsupported(f"a record field read by a milestone ({path})")
        name = path
        field_type = self.pack.fields.get(name)
        declared = field_type.type if field_type is not None else CANONICAL_FIELDS.get(name)
        column = ident(name)
        if declared is not None and declared.kind is Kind.LIST:
            if not item_fields:
                return f"coalesce(CAST(len({column}) AS VARCHAR), 'null')"
            item_types = declared.fields
            members = " || ', ' || ".join(
                f"{literal(chr(34) + field + chr(34) + ': ')} || "
                f"{_json_scalar(f'x.{ident(field)}', item_types.get(field))}"
                for field in item_fields
            )
            return (
                f"CASE WHEN {column} IS NULL THEN 'null' ELSE '[' || array_to_string("
                f"list_transform({column}, lambda x: '{{' || {members} || '}}'), ', ') || ']' END"
            )
        return _json_scalar(column, declared)


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
        exp.alias_(_unmet(column.this), exp.to_identifier(unmet_column(milestone), quoted=True))
        for column, milestone in zip(query.expressions[1:], pack.milestones(), strict=True)
    ]
    strategy = dialect_named(dialect)
    columns = [strategy.deal_column(name) for name in kept] if kept is not None else [exp.Star()]
    query.set("expressions", [*columns, *unmet])
    return query


def statuses_sql(pack: RulePack, as_of: date) -> str:
    return statuses_query(pack, as_of).sql(dialect="duckdb")


def _unmet(status: exp.Expr) -> exp.Expr:
    """A compiled status (a CASE giving 'n' not applicable, 'm' met or 'x' missing) as a
    boolean, true for 'x': comparing text per deal and milestone costs more than the rule."""
    case = status.copy()
    assert isinstance(case, exp.Case)
    for arm in case.args.get("ifs") or []:
        arm.set("true", exp.Boolean(this=arm.args["true"].name == "x"))
    case.set("default", exp.Boolean(this=case.args["default"].name == "x"))
    return case


def cell(text: str) -> str:
    """A constant of the pack as the CSV report writes it: formula-safe, blank as NULL."""
    safe = safe_cell(text)
    return literal(str(safe)) if safe else "NULL"


def _json_scalar(value: str, field_type: FieldType | None) -> str:
    """A value as Python's json.dumps writes it (ensure_ascii; numbers as json_value)."""
    kind = field_type.kind if field_type is not None else Kind.ANY
    if kind is Kind.DATE:
        return f"coalesce('\"' || strftime({value}, '%Y-%m-%d') || '\"', 'null')"
    if kind in NUMERIC:
        return f"dg_json_number({value})"
    if kind is Kind.BOOLEAN:
        return f"CASE WHEN {value} IS NULL THEN 'null' WHEN {value} THEN 'true' ELSE 'false' END"
    return f"dg_json_text({value})"


def _date(day: date) -> str:
    return f"DATE {literal(day.isoformat())}"


def json_macros() -> list[str]:
    """JSON text as Python's json.dumps writes it: ASCII only, lower-case \\u escapes."""
    return [
        r"""CREATE OR REPLACE MACRO dg_json_char(ch) AS CASE
            WHEN ch = '"' THEN '\"'
            WHEN ch = '\' THEN '\\'
            WHEN ch = chr(10) THEN '\n'
            WHEN ch = chr(13) THEN '\r'
            WHEN ch = chr(9) THEN '\t'
            WHEN ch = chr(8) THEN '\b'
            WHEN ch = chr(12) THEN '\f'
            WHEN unicode(ch) < 32 THEN printf('\u%04x', unicode(ch))
            WHEN unicode(ch) < 128 THEN ch
            WHEN unicode(ch) < 65536 THEN printf('\u%04x', unicode(ch))
            ELSE printf('\u%04x\u%04x', 55296 + ((unicode(ch) - 65536) >> 10),
                        56320 + ((unicode(ch) - 65536) & 1023)) END""",
        r"""CREATE OR REPLACE MACRO dg_json_text(s) AS CASE
            WHEN s IS NULL THEN 'null'
            WHEN regexp_matches(s, '[^\x20-\x21\x23-\x5b\x5d-\x7f]')
              THEN '"' || array_to_string(
                     list_transform(string_split(s, ''), lambda ch: dg_json_char(ch)), '') || '"'
            ELSE '"' || s || '"' END""",
        """CREATE OR REPLACE MACRO dg_json_number(x) AS CASE
            WHEN x IS NULL THEN 'null'
            WHEN x = trunc(x) AND abs(x) < 1e38 THEN CAST(CAST(x AS HUGEINT) AS VARCHAR)
            ELSE CAST(x AS VARCHAR) END""",
        # str(Decimal) of the digits a money cell read: no leading zeros, 0 before a point
        r"""CREATE OR REPLACE MACRO dg_decimal_str(n) AS
            regexp_replace(regexp_replace(n, '^(-?)\.', '\10.'), '^(-?)0+(\d)', '\1\2')""",
    ]
