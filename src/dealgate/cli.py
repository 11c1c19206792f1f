"""The command line: parse arguments, call the library, turn errors into messages and exit codes.

Exit codes: 0 fine, 1 a check or an audit found failures, 2 a usage error or an input (rule
pack, file) that cannot be used at all, or an output that cannot be written, 4 a notification
not delivered with `audit --notify-required`; dealgate/entry.py adds 3 (an internal error),
130 (Ctrl-C), 141 (standard output closed: `| head`) and 143 (SIGTERM).
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from dealgate import __version__
from dealgate.errors import DealgateError, InputError, did_you_mean
from dealgate.report.csv_layout import CsvRows
from dealgate.report.formats import (
    BASELINE_FORMATS,
    DOCUMENT_FORMATS,
    FORMATS,
    render_document,
    render_result,
)
from dealgate.report.ordering import ExceptionOrder
from dealgate.report.terminal import plural
from dealgate.rules.catalog import BUNDLED, PackCatalog, pack_files
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack, Stage

if TYPE_CHECKING:
    from dealgate.audit import AuditResult
    from dealgate.deals.history import HistoryRequest
    from dealgate.deals.model import ReadDeal
    from dealgate.deals.source import Reading
    from dealgate.engines.base import Engine
    from dealgate.live import LiveSource
    from dealgate.notify import NotifyRequest

DEFAULT_PACK = "buyer-journey"


class _Commands(TyperGroup):
    """The command group, telling a closed standard output from a failing audit."""

    def invoke(self, ctx: Any) -> Any:  # click's Context, which newer typers vendor
        # Click turns BrokenPipeError into exit 1, the code of an audit that found failures;
        # dealgate/entry.py exits 141 (128 + SIGPIPE) for it, quietly, as Unix tools do.
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            from dealgate.entry import OutputClosed

            raise OutputClosed from None


app = typer.Typer(
    name="dealgate",
    cls=_Commands,
    help="Objective stage exit criteria for sales pipelines: check a deal, audit a pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
rules_app = typer.Typer(
    help="Rule packs: list, show, validate, explain and test them.", no_args_is_help=True
)
app.add_typer(rules_app, name="rules")
deals_app = typer.Typer(help="Deal files: see how dealgate reads an export.", no_args_is_help=True)
app.add_typer(deals_app, name="deals")


class _Console(Console):
    """A rich console that leaves a closed pipe to dealgate/entry.py (exit 141), where rich
    would exit 1, the code of an audit that found failures."""

    def on_broken_pipe(self) -> None:
        from dealgate.entry import OutputClosed

        self.quiet = True
        raise OutputClosed


out = _Console(highlight=False)
# Lines that name a file and a position are never wrapped, so editors and CI can parse them.
line_out = _Console(highlight=False, soft_wrap=True)
err = _Console(stderr=True, highlight=False, soft_wrap=True)

RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Extra pack file or folder to search first (repeatable)."),
]

T = TypeVar("T")


class DataFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


PackOption = Annotated[
    str, typer.Option("--rules", help="Rule pack: a bundled or ./rules pack id, or a file.")
]
ProfileOption = Annotated[
    str | None,
    typer.Option(help="CRM profile: salesforce, hubspot or canonical (default: detected)."),
]
MappingOption = Annotated[
    Path | None, typer.Option(help="Mapping file for any other CRM (docs/crm-mapping.md).")
]
TeamsOption = Annotated[
    Path | None, typer.Option(help="CSV or XLSX with Owner and Manager columns.")
]
ContactsOption = Annotated[
    Path | None,
    typer.Option(
        help="Contact roles joined by opportunity id (Salesforce OpportunityContactRole)."
    ),
]
StageHistoryOption = Annotated[
    Path | None,
    typer.Option(
        "--stage-history",
        help="Stage changes joined by opportunity id (Salesforce OpportunityHistory); "
        "replaces the export's own stage history.",
    ),
]
SheetOption = Annotated[str | None, typer.Option(help="XLSX sheet (default: the first).")]
HistoryOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--history",
        help="A saved JSON audit of an earlier day (repeatable): close-date pushes and stage "
        "changes since then (docs/history.md).",
    ),
]
WaiversOption = Annotated[Path | None, typer.Option(help="Approved exceptions (YAML).")]
EncodingOption = Annotated[
    str | None, typer.Option(help="CSV encoding (default: sniffed: UTF-8, UTF-16 or cp1252).")
]


SaveOption = Annotated[
    Path | None,
    typer.Option(
        "--save",
        metavar="FILE",
        help="With a live source (sf:, hubspot:): keep what was read as JSON Lines, a file "
        "dealgate reads back with the same findings.",
    ),
]
WhereOption = Annotated[
    str | None,
    typer.Option(
        "--where",
        metavar="SOQL",
        help="With sf:: a SOQL condition the opportunities must meet, e.g. "
        "\"Type = 'New Business'\".",
    ),
]
TimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        help="With a live source: how long to wait for each answer of the CRM (default 30).",
    ),
]
TargetOrgOption = Annotated[
    str | None,
    typer.Option(
        "--target-org",
        help="With sf: and no SF_ACCESS_TOKEN: the Salesforce CLI's org, by alias or user "
        "name (default: SF_TARGET_ORG, else sf's default org).",
    ),
]


def _live_input(
    context: typer.Context,
    argument: Path,
    pack: RulePack,
    *,
    save: Path | None,
    where: str | None,
    timeout: float | None,
    target_org: str | None,
    owners: tuple[str, ...] = (),
    stages: tuple[str, ...] = (),
) -> tuple[Path, LiveSource] | None:
    """For a live source (`sf:ID`, `hubspot:`): read it and save it (--save, else a
    temporary file, removed when the command ends); the file to read as an export and the
    source. None for a file, which the live options do not apply to."""
    import os

    from dealgate.live import Limits, LiveRequest, fields_to_read, live_source, saved_read

    live = live_source(str(argument))
    if live is None:
        options = (
            ("--save", save),
            ("--where", where),
            ("--timeout", timeout),
            ("--target-org", target_org),
        )
        given = [option for option, value in options if value is not None]
        if given:
            _fail(
                f"{', '.join(given)}: for a live source (sf:, hubspot:), not a file",
                "docs/live-crm.md",
            )
        return None
    if where is not None and live.crm != "salesforce":
        _fail("--where is a SOQL condition, for sf: only", "filter with --owner and --stage")
    if where is not None and live.deal_id is not None:
        _fail(f"--where filters the pipeline (sf:), not the one deal {live.label} names")
    if timeout is not None and not timeout > 0:
        _fail(f"--timeout {timeout:g}: give a number of seconds above 0")
    try:
        import httpx  # noqa: F401 (the optional crm extra)
    except ImportError:
        _fail(f"reading {live.label} needs httpx", "pip install 'dealgate[crm]'")
    environment = dict(os.environ)
    if target_org is not None:
        environment["SF_TARGET_ORG"] = target_org
    fields = fields_to_read(pack)
    request = LiveRequest(
        live,
        fields,
        owners,
        stages,
        where,
        stage_history="stage_history" in fields,
        limits=Limits(timeout) if timeout is not None else Limits(),
        environment=environment,
    )
    path, read = _guarded(lambda: context.with_resource(saved_read(request, save)))
    for note in read.notes:
        err.print(f"note: {note}", markup=False, style="dim")
    if save is not None:
        err.print(
            f"saved {plural(len(read.records), 'deal')} of {live.label} to {save}", markup=False
        )
    return path, live


def _pack(reference: str) -> RulePack:
    """The pack a check or audit uses: by id (./rules, then bundled) or by file."""
    path = Path(reference)
    extra = [path.parent] if path.suffix in (".yaml", ".yml") else []
    return _guarded(lambda: load_pack(reference, PackCatalog(extra)))


EngineOption = Annotated[
    str,
    typer.Option(
        help="Rule engine: durable, sql, spark, or auto (durable for small inputs, sql for "
        "large ones; whichever imports when the other cannot; never spark).",
        show_default=True,
    ),
]
UnmeasuredOption = Annotated[
    bool,
    typer.Option(
        "--unmeasured-as-missing",
        help="Count milestones reading fields the input does not supply as missing, "
        "not as unmeasured (the strict reading).",
    ),
]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Say which engine runs, and why, on stderr.")
]
SparkMasterOption = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        metavar="URL",
        help="With --engine spark: the Spark master (default local[*], Spark in this process).",
    ),
]


def _engine(
    name: str,
    input_file: Path | None = None,
    verbose: bool = False,
    spark_master: str | None = None,
    pack: RulePack | None = None,
) -> Engine:
    from dealgate.engines import EngineUnavailable, choose_engine

    if spark_master is not None and name != "spark":
        _fail("--spark-master is for --engine spark")
    size = input_file.stat().st_size if input_file is not None and input_file.is_file() else None
    try:
        choice = choose_engine(name, size, spark_master=spark_master, pack=pack)
    except EngineUnavailable as error:
        _fail(f"{error}")
    if verbose:
        err.print(f"engine: {choice.engine.name} ({choice.reason})", markup=False)
    return choice.engine


class ShowFormat(StrEnum):
    TREE = "tree"
    MARKDOWN = "markdown"
    FIELDS = "fields"


def _guarded(action: Callable[[], T]) -> T:
    """Run a command body; a problem with the input becomes a message and exit code 2."""
    try:
        return action()
    except InputError as error:
        _print_problems(error)
        raise typer.Exit(2) from None
    except DealgateError as error:
        _fail(str(error))


def _print_problems(error: InputError) -> None:
    for problem in error.problems:
        err.print(str(problem), markup=False, style="red")


def _fail(message: str, hint: str = "") -> NoReturn:
    """A usage error: the message (and a hint) on stderr, exit code 2."""
    err.print(f"error: {message}" + (f" ({hint})" if hint else ""), markup=False, style="red")
    raise typer.Exit(2)


def _stage_named(pack: RulePack, name: str, option: str) -> Stage:
    """The pack stage a stage id or CRM name given on the command line means."""
    stage = pack.match_stage(name)
    if stage is None:
        _fail(
            f"{option} {name!r} is not a stage of pack {pack.id}",
            did_you_mean(name, [s.id for s in pack.stages]),
        )
    return stage


def _catalog(rules: list[Path] | None) -> PackCatalog:
    return PackCatalog(rules or [])


def _shown_path(path: Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dealgate {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """dealgate: objective, verifiable milestones for every stage of a sales process."""
    import os

    from dealgate.entry import TEST_CRASH

    if os.environ.get(TEST_CRASH) == "1":  # a test hook (docs/reliability.md), not a feature
        raise RuntimeError(f"{TEST_CRASH}=1 asked for a crash")


# --- rules ----------------------------------------------------------------------------


@rules_app.command("list")
def rules_list(rules: RulesOption = None) -> None:
    """List the rule packs found: --rules paths, ./rules, then the bundled packs."""
    from rich.table import Table

    from dealgate.report.terminal import Fitted

    catalog = _catalog(rules)
    title = "Packs: open stages, their exit milestones, and hygiene checks"
    # Pack ids and paths are keys: they never wrap; titles and statuses fold instead.
    table = Table(title=title, title_justify="left")
    for column in ("pack", "title", "stages", "milestones", "checks", "from", "status"):
        numeric = column in ("stages", "milestones", "checks")
        table.add_column(
            column, justify="right" if numeric else "left", no_wrap=column in ("pack", "from")
        )
    folded: list[Text] = [Text(title, "italic")]  # too narrow for the table: a block a pack
    for entry in catalog.entries():
        where = "bundled" if entry.origin == BUNDLED else _shown_path(entry.path)
        counts = ["", "", ""]
        name = Text(entry.title)
        if entry.problem:
            name, status = Text(""), Text(entry.problem, "red")
        else:
            try:
                pack = load_pack(entry.path, catalog)
            except InputError as error:
                status = Text(plural(len(error.problems), "error"), "red")
                status.append(f": dealgate rules validate {entry.path}")
            else:
                stages, milestones, checks = _pack_counts(pack)
                counts = [f"{stages:,}", f"{milestones:,}", f"{checks:,}"]
                name, status = Text(pack.title), Text("ok", "green")
        table.add_row(Text(entry.pack_id), name, *counts, Text(where), status)
        block = Text.assemble((entry.pack_id, "bold"), "  ", status, "  ", where)
        if counts[0]:
            block.append(
                f"\n    {plural(int(counts[0]), 'stage')}, "
                f"{plural(int(counts[1]), 'exit milestone')}, "
                f"{plural(int(counts[2]), 'hygiene check')}"
            )
        if name.plain:
            block.append("\n    ").append_text(name)
        folded.append(block)
    out.print(Fitted(table, Text("\n").join(folded)))


def _pack_counts(pack: RulePack) -> tuple[int, int, int]:
    """Open stages, exit milestones of those stages, hygiene checks: as list and validate say."""
    return (
        len(pack.open_stages),
        sum(len(stage.exit) for stage in pack.open_stages),
        len(pack.checks),
    )


@rules_app.command("show")
def rules_show(
    pack: Annotated[str, typer.Argument(help="Pack id or path to a pack file.")] = DEFAULT_PACK,
    output_format: Annotated[
        ShowFormat,
        typer.Option(
            "--format",
            help="tree for the terminal; markdown prints a playbook for reps; fields lists "
            "the deal fields the milestones read (what to export or map).",
        ),
    ] = ShowFormat.TREE,
    rules: RulesOption = None,
) -> None:
    """Show a pack resolved: its stages, exit milestones and hygiene checks."""
    from dealgate.playbook import fields_markdown, pack_tree, playbook_markdown

    resolved = _guarded(lambda: load_pack(pack, _catalog(rules)))
    if output_format is ShowFormat.MARKDOWN:
        typer.echo(playbook_markdown(resolved))
    elif output_format is ShowFormat.FIELDS:
        typer.echo(fields_markdown(resolved), nl=False)
    else:
        out.print(pack_tree(resolved))


@rules_app.command("validate")
def rules_validate(
    paths: Annotated[list[Path], typer.Argument(help="Pack files or folders of packs.")],
    rules: RulesOption = None,
    against: Annotated[
        Path | None,
        typer.Option(
            help="A real export: say which milestones of each pack it cannot measure "
            "(exit 1 when any cannot be measured at all)."
        ),
    ] = None,
    mapping: MappingOption = None,
    contacts: ContactsOption = None,
    stage_history: StageHistoryOption = None,
    teams: TeamsOption = None,
    profile: ProfileOption = None,
    sheet: SheetOption = None,
    encoding: EncodingOption = None,
) -> None:
    """Validate rule packs; every error is printed as file:line:col. Exit 2 if any is invalid.

    With --against EXPORT (and the options an audit of it takes), also what each pack cannot
    measure on that export: exit 1 when a milestone cannot be measured at all.
    """
    from dealgate.deals.source import Reading

    if against is None and any(
        option is not None
        for option in (mapping, contacts, stage_history, teams, profile, sheet, encoding)
    ):
        _fail(
            "--mapping, --contacts, --stage-history, --teams, --profile, --sheet and --encoding "
            "apply to --against"
        )
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += pack_files(path)
        elif path.exists():
            files.append(path)
        else:
            err.print(f"{path}: error: no such file or folder", markup=False, style="red")
            raise typer.Exit(2)
    if not files:
        err.print("error: no pack files (*.yaml, *.yml) found", style="red")
        raise typer.Exit(2)
    catalog = _catalog([*(rules or []), *paths])
    failed = unmeasurable = 0
    for file in files:
        try:
            pack = load_pack(file, catalog)
        except InputError as error:
            failed += 1
            _print_problems(error)
            continue
        stages, milestones, checks = _pack_counts(pack)
        line_out.print(
            Text.assemble(
                ("ok", "green"),
                f" {file}: pack {pack.id}, {plural(stages, 'stage')}, "
                f"{plural(milestones, 'exit milestone')}, {plural(checks, 'hygiene check')}",
            )
        )
        if against is not None:
            reading = Reading(
                profile, mapping, teams, contacts, sheet, encoding, stage_history=stage_history
            )
            unmeasurable += _coverage_of(pack, against, reading)
    if failed:
        err.print(
            f"{failed:,} of {plural(len(files), 'pack file')} "
            f"{'has errors' if failed == 1 else 'have errors'}",
            style="red",
            markup=False,
        )
        raise typer.Exit(2)
    if unmeasurable:
        raise typer.Exit(1)


def _coverage_of(pack: RulePack, export: Path, reading: Reading) -> int:
    """What a pack cannot measure on an export, printed; how many milestones it cannot
    measure at all. Reads the export's columns (and side files), not its rows."""
    from dealgate.judging.coverage import measure
    from dealgate.report.coverage import coverage_text

    source = _guarded(lambda: reading.open(export, pack))
    coverage = measure(pack, source.supply)
    text = coverage_text(coverage.as_json())
    if not text:
        line_out.print(f"   {export} supplies every field pack {pack.id} reads", markup=False)
        return 0
    line_out.print("\n".join(f"   {line}" for line in text.rstrip("\n").splitlines()), markup=False)
    return sum(1 for entry in coverage.unmeasured if not entry.partly)


@rules_app.command("explain")
def rules_explain(
    milestone_id: Annotated[str, typer.Argument(help="A milestone or check id, e.g. QUAL-PAIN.")],
    pack: Annotated[
        str | None,
        typer.Option(help="Pack to look in (default: the default pack, then every pack found)."),
    ] = None,
    rules: RulesOption = None,
) -> None:
    """Explain one milestone: where it applies, what it reads, the evidence and the guidance."""
    from dealgate.playbook import explain

    catalog = _catalog(rules)
    candidates = [pack] if pack else [DEFAULT_PACK, *catalog.ids()]
    known: set[str] = set()
    for reference in candidates:
        try:
            resolved = load_pack(reference, catalog)
        except InputError:
            if pack:
                raise
            continue
        ids = {milestone.id for milestone in resolved.milestones()}
        # Ids are typed from memory: `val-eb-met` is VAL-EB-MET.
        matching = [known_id for known_id in ids if known_id.casefold() == milestone_id.casefold()]
        if matching:
            out.print(explain(resolved, resolved.milestone(matching[0])))
            return
        known |= ids
    _fail(f"no milestone '{milestone_id}'", did_you_mean(milestone_id.upper(), known))


@rules_app.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of the pack format, for editor completion and checking."""
    from dealgate.rules.spec import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


@rules_app.command("test")
def rules_test(
    path: Annotated[
        Path, typer.Argument(help="A rules folder, its tests/ folder or one case file.")
    ] = Path("rules"),
    rules: RulesOption = None,
    engine: EngineOption = "auto",
    verbose: VerboseOption = False,
    spark_master: SparkMasterOption = None,
) -> None:
    """Run a team's test cases (rules/tests/*.yaml): each deal's missing milestones, as expected.

    Exit 0 when every case passes, 1 when one fails, 2 when a file cannot be used.
    """
    from dealgate.rule_tests import run_cases, summary
    from dealgate.rules.cases import find_case_files, load_case_file

    if not path.exists():
        err.print(f"{path}: error: no such file or folder", markup=False, style="red")
        raise typer.Exit(2)
    files = find_case_files(path)
    if not files:
        _fail(f"no test case files under {path}")
    search = [path if path.is_dir() else path.parent.parent, *(rules or [])]
    catalog = _catalog(search)
    chosen = _engine(engine, verbose=verbose, spark_master=spark_master)
    unusable = 0
    results = []
    for file in files:
        try:
            case_file = load_case_file(file, catalog)
        except InputError as error:
            unusable += 1
            _print_problems(error)
            continue
        line_out.print(Text.assemble((str(file), "bold"), f"  pack {case_file.pack.id}"))
        runner = chosen
        if engine == "auto" and chosen.name == "durable":  # unless the pack is beyond durable
            runner = _engine(engine, verbose=False, spark_master=spark_master, pack=case_file.pack)
        for result in _guarded(partial(run_cases, case_file, runner)):
            results.append(result)
            _print_case(result)
    if unusable:
        raise typer.Exit(2)
    passed, failed = summary(results)
    style = "green" if not failed else "red"
    out.print(Text(f"{passed:,} passed, {failed:,} failed", style))
    if failed:
        raise typer.Exit(1)


def _print_case(result: object) -> None:
    from dealgate.rule_tests import CaseResult

    assert isinstance(result, CaseResult)
    mark = Text("PASS", "green") if result.passed else Text("FAIL", "red")
    # Case names, ids and messages come from the team's files: Text, never markup.
    line_out.print(Text.assemble("  ", mark, f"  {result.case.name}"))
    for milestone_id in result.unexpected:
        line_out.print(
            Text.assemble("        ", (f"+ {milestone_id}", "red"), "  missing, but not expected")
        )
    for milestone_id in result.not_found:
        line_out.print(
            Text.assemble(
                "        ",
                (f"- {milestone_id}", "red"),
                "  expected missing, but met or not applicable",
            )
        )
    for claim, expected, found in result.standing_mismatches:
        line_out.print(
            Text.assemble(
                "        ",
                (f"~ {claim}", "red"),
                f"  expected {expected}, but {found or 'not judged'}",
            )
        )
    for finding in result.data_findings:
        line_out.print(
            Text.assemble("        ", ("data", "yellow"), f" {finding.where}: {finding.message}")
        )


# --- check ----------------------------------------------------------------------------


def _as_of(value: str | None) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"--as-of {value!r} is not a date (YYYY-MM-DD)")


AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="The date deals are judged on (YYYY-MM-DD; default today, UTC)."),
]


@app.command("check")
def check(
    context: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="A deal file (YAML/JSON), a pipeline with --id, or a CRM's deal: "
            "sf:OPPORTUNITY_ID, hubspot:DEAL_ID."
        ),
    ],
    deal_id: Annotated[
        str | None,
        typer.Option("--id", help="The deal to check in a file of several: its id or its name."),
    ] = None,
    rules: PackOption = DEFAULT_PACK,
    to: Annotated[
        str | None,
        typer.Option("--to", help="Check through this stage (id or CRM name), not just the next."),
    ] = None,
    as_of: AsOfOption = None,
    engine: EngineOption = "auto",
    spark_master: SparkMasterOption = None,
    profile: ProfileOption = None,
    mapping: MappingOption = None,
    teams: TeamsOption = None,
    contacts: ContactsOption = None,
    stage_history: StageHistoryOption = None,
    sheet: SheetOption = None,
    encoding: EncodingOption = None,
    output_format: Annotated[DataFormat, typer.Option("--format")] = DataFormat.TABLE,
    waivers: WaiversOption = None,
    history: HistoryOption = None,
    unmeasured_as_missing: UnmeasuredOption = False,
    verbose: VerboseOption = False,
    save: SaveOption = None,
    where: WhereOption = None,
    timeout: TimeoutOption = None,
    target_org: TargetOrgOption = None,
) -> None:
    """A rep's self-check of one deal before advancing it: what is missing, why, how to get it.

    The deal may be read straight from the CRM: `sf:OPPORTUNITY_ID`, `hubspot:DEAL_ID`
    (docs/live-crm.md).

    Exit 0 when the deal is ready to advance, 1 when a required milestone is missing.
    """
    from dealgate.deals.source import Reading, with_history
    from dealgate.judging.assess import assess, request_for, with_waivers
    from dealgate.judging.coverage import Supply, measure
    from dealgate.report.checklist import readiness, render_checklist
    from dealgate.report.coverage import coverage_text
    from dealgate.report.json_report import deal_json, forecast_json, probability_json

    pack = _pack(rules)
    day = _as_of(as_of)
    chosen = _engine(engine, verbose=verbose, spark_master=spark_master, pack=pack)
    book = None
    if waivers is not None:  # imported only when asked for: a rep's check starts fast
        from dealgate.waivers import WaiverBook, load_waivers

        book = WaiverBook(_guarded(lambda: load_waivers(waivers)), day)
    live = _live_input(
        context, file, pack, save=save, where=where, timeout=timeout, target_org=target_org
    )
    named = str(file)
    if live is not None:
        file, named, profile = live[0], live[1].label, profile or live[1].crm
    reading = Reading(
        profile,
        mapping,
        teams,
        contacts,
        sheet,
        encoding,
        stage_history=stage_history,
        history=_history(history, day),
        label=named if live is not None else None,
    )
    source = _guarded(lambda: reading.open(file, pack))
    reads = _guarded(lambda: list(source))
    if not reads:
        rows = source.mapper.reconciliation.rows_read
        if not rows:
            _fail(f"{named} holds no deal")
        # a deal without an id is rejected as it is read
        records = "1 record" if rows == 1 else f"{rows} records"
        _fail(
            f"no record in {named} has a deal id ({records} read), so there is no deal to check",
            "give each deal an `id`, or name an export's id column with --mapping; then "
            "choose a deal with --id ID or --id NAME",
        )
    # A deal written by hand: a key the rep left out is missing, and they are asked for it.
    # A deal of an export: a field it has no column for is unmeasured.
    # A live deal is the CRM's record: a field it does not give is unmeasured, as in an export.
    exported = (
        len(reads) > 1 or source.table.format in ("csv", "xlsx", "parquet") or live is not None
    )
    supply = source.supply if exported else Supply.complete(named)
    if not exported and source.history is not None:
        supply = with_history(supply, source.history)
    if verbose and source.history is not None:
        for detail in source.history.notes:
            err.print(f"history: {detail}", markup=False)
    coverage = measure(pack, supply, as_missing=unmeasured_as_missing)
    pack = coverage.judged_pack
    if deal_id is not None:
        reads = _deals_chosen(reads, deal_id, named)
    if len(reads) != 1:
        shown = ", ".join(read.deal.id for read in reads[:5])
        more = f", and {len(reads) - 5} more" if len(reads) > 5 else ""
        _fail(
            f"{named} holds {len(reads)} deals; choose one with --id",
            f"ids: {shown}{more}" if reads else "",
        )
    read = reads[0]
    to_stage = _to_stage(pack, to, read.stage_id)
    [evaluated] = _guarded(
        lambda: list(chosen.evaluate(pack, [request_for(read, pack, to_stage)], day))
    )
    assessment = assess(pack, evaluated, as_of=day)
    if book is not None:  # a waived milestone counts as met, for readiness and the forecast
        assessment = with_waivers(pack, assessment, book)
    ready = readiness(assessment, pack, to_stage)
    findings = [f for f in source.findings if f.deal_id in (None, read.deal.id)]
    if output_format is DataFormat.JSON:
        report = {
            "as_of": day.isoformat(),
            "pack": {"id": pack.id, "title": pack.title},
            "engine": chosen.name,
            "ready": ready.ready,
            "verdict": ready.sentence(assessment),
            "deal": deal_json(assessment),
            "forecast": forecast_json(pack, assessment),
            "probability_ceiling": probability_json(pack, assessment),
            "data_findings": [finding.as_json() for finding in findings],
            "coverage": coverage.as_json(),
        }
        typer.echo(json.dumps(report, indent=2))
    else:
        out.print(render_checklist(assessment, pack, day, ready, findings))
        unmeasured = coverage_text(coverage.as_json())
        if unmeasured:
            out.print(f"\n{unmeasured.rstrip()}", style="magenta", markup=False)
    if not ready.ready:
        raise typer.Exit(1)


def _deals_chosen(reads: list[ReadDeal], asked: str, file: str) -> list[ReadDeal]:
    """The deals --id means: by CRM id, else by name (case ignored); exit 2 when none is, or
    when a name is several deals'."""
    from dealgate.deals.normalise import deal_key
    from dealgate.deals.profiles import header_key

    by_id = [read for read in reads if deal_key(read.deal.id) == deal_key(asked)]
    if by_id:
        return by_id
    by_name = [read for read in reads if header_key(read.deal.name or "") == header_key(asked)]
    if len(by_name) > 1:
        ids = ", ".join(read.deal.id for read in by_name)
        _fail(f"{len(by_name)} deals in {file} are named {asked!r}; choose one by its id: {ids}")
    if not by_name:
        known = [read.deal.id for read in reads] + [read.deal.name or "" for read in reads]
        _fail(f"no deal with id '{asked}' in {file}, nor by that name", did_you_mean(asked, known))
    return by_name


def _to_stage(pack: RulePack, to: str | None, current: str | None) -> Stage | None:
    if to is None:
        return None
    stage = _stage_named(pack, to, "--to")
    if current is not None and stage.position <= pack.stage(current).position:
        _fail(f"--to {stage.id} is not after the deal's stage {current}")
    return stage


# --- audit ----------------------------------------------------------------------------


class AuditFormat(StrEnum):  # every one of report/formats.py's FORMATS
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    MARKDOWN = "markdown"
    JUNIT = "junit"
    HTML = "html"
    XLSX = "xlsx"
    PARQUET = "parquet"


def _needs_file(name: str, output: Path | None) -> None:
    what = FORMATS[name].binary
    if what is not None and output is None:
        _fail(f"--format {name} writes {what}", f"give --output FILE.{name}")


_QUARTER = re.compile(r"(\d{4})-?Q([1-4])", re.IGNORECASE)


def _day_or_quarter(value: str | None, option: str, *, end: bool) -> date | None:
    """A date, or a quarter (2026-Q4): its first day, or its last with end=True."""
    if value is None:
        return None
    match = _QUARTER.fullmatch(value.strip())
    if match:
        year, quarter = int(match[1]), int(match[2])
        if not end:
            return date(year, 3 * quarter - 2, 1)
        following = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
        return following - timedelta(days=1)
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} {value!r} is neither a date (YYYY-MM-DD) nor a quarter (YYYY-Q1..Q4)")


@app.command("audit")
def audit(
    context: typer.Context,
    pipeline: Annotated[
        Path,
        typer.Argument(
            help="CRM export: CSV, XLSX, JSON, JSONL, YAML, Parquet; or the CRM's open "
            "pipeline: sf:, hubspot:."
        ),
    ],
    rules: PackOption = DEFAULT_PACK,
    contacts: ContactsOption = None,
    stage_history: StageHistoryOption = None,
    teams: TeamsOption = None,
    mapping: MappingOption = None,
    profile: ProfileOption = None,
    sheet: SheetOption = None,
    encoding: EncodingOption = None,
    as_of: AsOfOption = None,
    engine: EngineOption = "auto",
    spark_master: SparkMasterOption = None,
    owner: Annotated[list[str] | None, typer.Option(help="Only this owner (repeatable).")] = None,
    manager: Annotated[
        list[str] | None, typer.Option(help="Only this manager's team (repeatable).")
    ] = None,
    stage: Annotated[
        list[str] | None, typer.Option(help="Only this stage: id or CRM name (repeatable).")
    ] = None,
    closing_after: Annotated[
        str | None, typer.Option(help="Close date on or after: a date or a quarter (2026-Q4).")
    ] = None,
    closing_before: Annotated[
        str | None, typer.Option(help="Close date on or before: a date or a quarter.")
    ] = None,
    include_closed: Annotated[bool, typer.Option(help="Audit closed deals too.")] = False,
    include_met: Annotated[
        bool, typer.Option(help="List every deal and every finding, met ones too.")
    ] = False,
    output_format: Annotated[AuditFormat, typer.Option("--format")] = AuditFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option(help="Write the report to this file (atomically).")
    ] = None,
    fail_on: Annotated[
        str,
        typer.Option(
            help="Exit 1 when a skipped or hygiene finding of "
            "this severity is missing: required, recommended or "
            "never."
        ),
    ] = "required",
    waivers: WaiversOption = None,
    history: HistoryOption = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="A previous JSON audit: show what changed since (table, json, html, xlsx)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Exception rows in the table (0: all).")] = 50,
    sort: Annotated[
        ExceptionOrder,
        typer.Option(
            help="Order of the table's exception list: amount (each currency in turn, largest "
            "first), inflation, owner, or file (the export's order). Other formats keep file "
            "order."
        ),
    ] = ExceptionOrder.AMOUNT,
    csv_rows: Annotated[
        CsvRows,
        typer.Option(
            help="CSV report: one row per deal (its missing milestone ids by kind) or one "
            "row per finding."
        ),
    ] = CsvRows.DEAL,
    unmeasured_as_missing: UnmeasuredOption = False,
    notify: Annotated[
        list[str] | None,
        typer.Option(
            "--notify",
            help="Send the audit's headline to this apprise URL: Slack, Teams, email, a "
            "webhook (repeatable; docs/notify.md).",
        ),
    ] = None,
    notify_managers: Annotated[
        bool,
        typer.Option(
            help="Send each manager their own team's headline, to the address in the --teams "
            "file's Notify column."
        ),
    ] = False,
    notify_email_via: Annotated[
        str | None,
        typer.Option(
            help="The mailto:// URL of the email server that sends to the plain email "
            "addresses of the Notify column."
        ),
    ] = None,
    notify_link: Annotated[
        str | None,
        typer.Option(
            help="Where the team will find the report (a shared drive, an intranet page): "
            "every message links it, for the services that take no attachment."
        ),
    ] = None,
    notify_required: Annotated[
        bool, typer.Option(help="Exit 4 when a notification is not delivered.")
    ] = False,
    verbose: VerboseOption = False,
    save: SaveOption = None,
    where: WhereOption = None,
    timeout: TimeoutOption = None,
    target_org: TargetOrgOption = None,
) -> None:
    """Audit a pipeline before the forecast call: skipped milestones, evidence stage versus
    claimed stage, pipeline value at risk, per manager and owner.

    The open pipeline may be read straight from the CRM: `sf:` or `hubspot:`
    (docs/live-crm.md).

    Exit 0 when nothing fails --fail-on, 1 when a skipped or hygiene finding does, 2 when the
    pack or the file cannot be used, 4 with --notify-required when a notification is not
    delivered.
    """
    from dealgate.application import AuditRequest, run_audit_request
    from dealgate.audit import AuditFilters, FailOn
    from dealgate.deals.source import Reading
    from dealgate.report.changes import check_comparable
    from dealgate.report.saved_audit import load_audit
    from dealgate.waivers import WaiverBook, load_waivers

    try:
        threshold = FailOn(fail_on)
    except ValueError:
        _fail(f"--fail-on {fail_on!r}: use required, recommended or never")
    if output is not None and str(output) == "-":
        output = None  # standard output, as with no --output
    inputs = {
        "the export": pipeline,
        "--contacts": contacts,
        "--stage-history": stage_history,
        "--teams": teams,
        "--waivers": waivers,
        "--baseline": baseline,
        "--save": save,  # what a live source read, kept
        "--mapping": mapping,
        "--rules": Path(rules) if Path(rules).is_file() else None,
        **{f"--history {number}": path for number, path in enumerate(history or (), 1)},
    }
    if output is not None and mapping is not None:
        from dealgate.deals.mapping_file import joined_files

        for written, side in joined_files(mapping):
            inputs[f"the side table '{written}' the mapping joins"] = side
    _refuse_to_replace_inputs(output, inputs)
    _needs_file(output_format.value, output)
    if baseline is not None and output_format.value not in BASELINE_FORMATS:
        shown_in = ", ".join(BASELINE_FORMATS)
        _fail(f"--baseline is shown in {shown_in}, not {output_format.value}")
    previous = _guarded(lambda: load_audit(baseline, "baseline")) if baseline else None
    pack = _pack(rules)
    if previous is not None and baseline is not None:
        _guarded(lambda: check_comparable(previous, pack.id, _shown_path(baseline)))
    day = _as_of(as_of)
    chosen = _engine(engine, pipeline, verbose, spark_master, pack)
    stage_ids = tuple(_stage_named(pack, name, "--stage").id for name in stage or [])
    live = _live_input(
        context,
        pipeline,
        pack,
        save=save,
        where=where,
        timeout=timeout,
        target_org=target_org,
        owners=tuple(owner or ()),
        stages=tuple(stage or ()),
    )
    if live is not None:
        pipeline, profile = live[0], profile or live[1].crm
    filters = AuditFilters(
        owners=tuple(owner or ()),
        managers=tuple(manager or ()),
        stages=stage_ids,
        closing_after=_day_or_quarter(closing_after, "--closing-after", end=False),
        closing_before=_day_or_quarter(closing_before, "--closing-before", end=True),
        include_closed=include_closed,
    )
    book = WaiverBook(_guarded(lambda: load_waivers(waivers)), day) if waivers else None
    notifying = _notify_request(
        notify, notify_managers, notify_email_via, notify_link, teams, mapping
    )
    request = AuditRequest(
        pipeline=pipeline,
        pack=pack,
        as_of=day,
        engine=chosen,
        reading=Reading(
            profile,
            mapping,
            teams,
            contacts,
            sheet,
            encoding,
            stage_history=stage_history,
            history=_history(history, day),
            label=live[1].label if live is not None else None,
        ),
        filters=filters,
        fail_on=threshold,
        waivers=book,
        include_met=include_met,
        format=output_format.value,
        csv_rows=csv_rows,
        output=output,
        unmeasured_as_missing=unmeasured_as_missing,
        deals_spooled=output_format.value in ("json", "jsonl") and not (baseline or notifying),
        notify=bool(notifying),
    )
    with _progress(pipeline) as progress:
        run = _guarded(lambda: run_audit_request(request, progress))
    if verbose and run.route is not None:
        err.print(f"reading: {run.route}", markup=False)
    if verbose:
        for detail in run.history:
            err.print(f"history: {detail}", markup=False)
    for note in run.notes:  # how the file was read, e.g. the columns deals are keyed by
        err.print(f"note: {note}", markup=False, style="dim")
    if run.profile == "hubspot" and pack.id == DEFAULT_PACK:
        err.print(
            "note: this is a HubSpot export; --rules hubspot-default maps its stages and "
            "reads its associated-contact counts",
            markup=False,
            style="dim",
        )
    if not FORMATS[output_format.value].coverage and run.coverage is not None:
        from dealgate.report.coverage import coverage_text

        err.print(coverage_text(run.coverage), markup=False, end="")
    if run.result is None:  # the columnar route wrote its report
        if output is not None:
            err.print(f"wrote {output}", markup=False)
    else:
        since = (previous.data, _shown_path(baseline)) if previous and baseline else None
        report = _render_audit(
            run.result, output_format, include_met, threshold, limit, output, since, csv_rows, sort
        )
        if report is not None:
            _deliver(report, output)
        if notifying and not _notified(run.result, notifying, output) and notify_required:
            raise typer.Exit(EXIT_NOT_NOTIFIED)
    if run.failing:
        raise typer.Exit(1)


EXIT_NOT_NOTIFIED = 4  # --notify-required: a notification was not delivered


def _notify_request(
    urls: list[str] | None,
    managers: bool,
    email_via: str | None,
    link: str | None,
    teams: Path | None,
    mapping: Path | None,
) -> NotifyRequest | None:
    """Where the headlines go, every URL checked before the audit
    runs; None without --notify or --notify-managers."""
    if not urls and not managers:
        if email_via is not None:
            _fail("--notify-email-via sends to the teams file's addresses: add --notify-managers")
        if link is not None:
            _fail("--notify-link is put in the messages of --notify or --notify-managers")
        return None
    from dealgate.deals.mapping_file import teams_columns
    from dealgate.deals.source import read_teams
    from dealgate.notify import notify_request

    if managers and teams is None:
        _fail("--notify-managers needs --teams: a teams file with each manager's address")
    named = teams_columns(mapping) if mapping is not None else None
    team_file = _guarded(lambda: read_teams(teams, named, mapping)) if managers and teams else None
    shown = _shown_path(teams) if teams else ""
    return _guarded(lambda: notify_request(urls or [], team_file, shown, email_via, link))


def _notified(result: AuditResult, request: NotifyRequest, output: Path | None) -> bool:
    """Send the headlines and say, on stderr, what came of each; whether all arrived."""
    from dealgate.notify import notify_audit

    report = output if output is not None and output.is_file() else None
    deliveries = notify_audit(result, request, report)
    for delivery in deliveries:
        who = f"{delivery.recipient} " if delivery.recipient else ""
        where = f"({delivery.target})" if who and delivery.target else delivery.target
        if delivery.delivered:
            attached = ", report attached" if delivery.attached else ""
            err.print(f"notified {who}{where}{attached}".rstrip(), markup=False)
        else:
            err.print(
                f"warning: not notified: {who}{where}: {delivery.reason}".replace(" :", ":"),
                markup=False,
                style="yellow",
            )
    return all(delivery.delivered for delivery in deliveries)


def _history(files: list[Path] | None, day: date) -> HistoryRequest | None:
    """The snapshots of --history; the export is the observation of the audit's as-of."""
    from dealgate.deals.history import HistoryRequest

    return HistoryRequest(tuple(files), day) if files else None


def _refuse_to_replace_inputs(output: Path | None, inputs: dict[str, Path | None]) -> None:
    """Stop (exit 2) before any work when --output names one of the inputs: through a
    symbolic link or a hard link too, the report would replace the file it is made from."""
    from dealgate.atomic import same_file

    if output is None:
        return
    for option, path in inputs.items():
        if path is not None and same_file(output, path):
            _fail(
                f"--output {output} is {option} ({path}): the report would replace it",
                "write the report to another file",
            )


def _deliver(report: Iterable[str] | bytes, output: Path | None) -> None:
    """A report to its file (atomically), or to standard output (also for `--output -`)."""
    if output is not None and str(output) != "-":
        try:
            _write_atomically(output, report)
        except OSError as error:
            _fail(f"cannot write {output}: {error.strerror or error}")
        err.print(f"wrote {output}", markup=False)
    elif isinstance(report, bytes):
        sys.stdout.buffer.write(report)
    else:
        for chunk in report:
            sys.stdout.write(chunk)


class ReportFormat(StrEnum):  # the DOCUMENT_FORMATS: what a saved audit renders as
    HTML = "html"
    XLSX = "xlsx"
    JSON = "json"
    PARQUET = "parquet"


@app.command("report")
def report(
    audit: Annotated[Path, typer.Argument(help="An audit saved with --format json.")],
    output_format: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.HTML,
    output: Annotated[
        Path | None, typer.Option(help="Write the report to this file (atomically).")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="A previous JSON audit: show what changed since.")
    ] = None,
) -> None:
    """Render a saved JSON audit as the HTML page, the Excel workbook or the Parquet file,
    without the rules or the export; with --baseline, with the changes since an earlier audit."""
    from dealgate.report.changes import check_comparable, compare
    from dealgate.report.saved_audit import load_audit

    if output is not None and str(output) != "-":
        _refuse_to_replace_inputs(output, {"the saved audit": audit, "--baseline": baseline})
    _needs_file(output_format.value, output)
    document = _guarded(lambda: load_audit(audit, "audit")).data
    if baseline is not None:
        previous = _guarded(lambda: load_audit(baseline, "baseline"))
        shown = _shown_path(baseline)
        _guarded(lambda: check_comparable(previous, document["pack"]["id"], shown))
        document["changes"] = compare(previous.data, document, shown).as_json()
    _deliver(render_document(output_format.value, document), output)


def _render_audit(
    result: object,
    output_format: AuditFormat,
    include_met: bool,
    fail_on: object,
    limit: int,
    output: Path | None,
    baseline: tuple[dict[str, Any], str] | None = None,
    csv_rows: CsvRows = CsvRows.DEAL,
    sort: ExceptionOrder = ExceptionOrder.AMOUNT,
) -> Iterable[str] | bytes | None:
    """The report as chunks of text, or a workbook's bytes; None when it was printed to the
    terminal (a table). With a baseline (the previous audit's JSON and its file name), the
    report shows what changed since."""
    from dealgate.audit import AuditResult, FailOn
    from dealgate.report.audit_json import audit_json, audit_json_chunks
    from dealgate.report.audit_table import render_audit_table
    from dealgate.report.changes import compare

    assert isinstance(result, AuditResult) and isinstance(fail_on, FailOn)
    # The JSON audit, which the html and xlsx reports read, and what changed since the baseline.
    if output_format.value == "json" and baseline is None:  # streamed, deal by deal
        return audit_json_chunks(result, include_met)
    shaped = baseline is not None or output_format.value in DOCUMENT_FORMATS
    shape = audit_json(result, include_met) if shaped else {}
    changes = compare(baseline[0], shape, baseline[1]) if baseline else None
    if changes is not None:
        shape["changes"] = changes.as_json()

    if output_format is AuditFormat.TABLE:
        table = render_audit_table(result, include_met, limit, changes, sort)
        if output is None:
            out.print(table)
            return None
        buffer = Console(file=io.StringIO(), width=140, no_color=True, highlight=False)
        buffer.print(table)
        return [buffer.file.getvalue()]  # type: ignore[attr-defined]
    if output_format.value in DOCUMENT_FORMATS:
        return render_document(output_format.value, shape)
    return render_result(output_format.value, result, include_met, fail_on, csv_rows)


def _write_atomically(path: Path, chunks: Iterable[str] | bytes) -> None:
    """Write next to the target and rename, so readers never see half a report."""
    from dealgate.atomic import atomic_file

    with atomic_file(path) as temporary:
        if isinstance(chunks, bytes):
            temporary.write_bytes(chunks)
            return
        with temporary.open("w", encoding="utf-8", newline="") as out:
            out.writelines(chunks)


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[int], None] | None]:
    """A progress line on stderr for large inputs, only when stderr is a terminal."""
    if not err.is_terminal or path.stat().st_size < 5_000_000:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(f"auditing {path.name}", total=None)

        def advance(deals: int) -> None:
            progress.update(task, description=f"auditing {path.name}: {deals:,} deals")

        yield advance


# --- sql ------------------------------------------------------------------------------


class SqlDialectName(StrEnum):
    DUCKDB = "duckdb"
    SPARK = "spark"
    POSTGRES = "postgres"
    SNOWFLAKE = "snowflake"
    BIGQUERY = "bigquery"


class CalibrationFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    HTML = "html"


@app.command("calibrate")
def calibrate(
    snapshots: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Snapshots: audits saved with --format json --include-met (a glob works).",
            show_default=False,
        ),
    ] = None,
    outcomes: Annotated[
        Path | None,
        typer.Option(help="A current export: its won and lost deals are the outcomes."),
    ] = None,
    closed_deals: Annotated[
        Path | None,
        typer.Option(
            help="Calibrate from the closed deals of this export alone, as they stand today "
            "(open to leakage: fields filled in at the close)."
        ),
    ] = None,
    review: Annotated[
        Path | None,
        typer.Option(help="A win/loss review table: qualification answers and an outcome."),
    ] = None,
    review_mapping: Annotated[
        Path | None,
        typer.Option(help="With --review: which answers count as met, missing or unknown."),
    ] = None,
    rules: PackOption = DEFAULT_PACK,
    lead_days: Annotated[
        int,
        typer.Option(
            help="Each deal as its last snapshot at least this many days before it closed."
        ),
    ] = 14,
    accept_pack_changes: Annotated[
        bool,
        typer.Option(help="Read snapshots made with another version of the pack, by milestone id."),
    ] = False,
    confidence: Annotated[float, typer.Option(help="Confidence of the intervals.")] = 0.95,
    correction: Annotated[
        str, typer.Option(help="Correction for many milestones: bonferroni or none.")
    ] = "bonferroni",
    min_deals: Annotated[
        int, typer.Option(help="Fewest deals meeting, and missing, a milestone to judge it.")
    ] = 10,
    nearly_all: Annotated[
        float,
        typer.Option(help="Share of deals meeting (or missing) it that leaves no information."),
    ] = 0.95,
    recorded_at_least: Annotated[
        float, typer.Option(help="Share of deals it must be recorded on to be verifiable.")
    ] = 0.5,
    margin: Annotated[
        float,
        typer.Option(help="A difference within this many points (0.10: 10) is not predictive."),
    ] = 0.10,
    contacts: ContactsOption = None,
    stage_history: StageHistoryOption = None,
    teams: TeamsOption = None,
    mapping: MappingOption = None,
    profile: ProfileOption = None,
    sheet: SheetOption = None,
    encoding: EncodingOption = None,
    as_of: AsOfOption = None,
    engine: EngineOption = "auto",
    output_format: Annotated[CalibrationFormat, typer.Option("--format")] = CalibrationFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option(help="Write the calibration to this file (atomically).")
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """Which milestones predict wins: each milestone's win rate when met and when missing, with
    intervals and a plain verdict, from weekly snapshots and the outcomes (docs/calibration.md).

    Exit 0 when calibrated, 2 when an input cannot be used.
    """
    from dealgate.calibration.run import CalibrationRequest, run_calibration
    from dealgate.calibration.statistics import Correction, Thresholds
    from dealgate.deals.source import Reading

    sources = [
        name
        for name, given in (
            ("snapshots with --outcomes", bool(snapshots) or outcomes is not None),
            ("--closed-deals", closed_deals is not None),
            ("--review", review is not None or review_mapping is not None),
        )
        if given
    ]
    if len(sources) != 1:
        _fail(
            "calibrate from one source: snapshots with --outcomes, --closed-deals or --review"
            + (f" (given: {', '.join(sources)})" if sources else ""),
            "see docs/calibration.md",
        )
    if (snapshots or outcomes is not None) and not (snapshots and outcomes is not None):
        _fail(
            "snapshots and --outcomes go together: the snapshots say what each deal had, "
            "--outcomes how it ended"
        )
    if (review is None) != (review_mapping is None):
        _fail("--review and --review-mapping go together")
    if lead_days < 0:
        _fail(f"--lead-days {lead_days}: give 0 or more days")
    if correction not in tuple(Correction):
        _fail(f"--correction {correction!r}: use bonferroni or none")
    thresholds = _guarded(
        lambda: Thresholds(
            confidence, min_deals, nearly_all, recorded_at_least, margin, Correction(correction)
        )
    )
    inputs = {"--outcomes": outcomes, "--closed-deals": closed_deals, "--review": review}
    inputs |= {"--review-mapping": review_mapping, "--mapping": mapping, "--teams": teams}
    inputs |= {"--contacts": contacts, "--stage-history": stage_history}
    inputs |= {f"snapshot {p}": p for p in snapshots or []}
    if output is not None and str(output) == "-":
        output = None
    _refuse_to_replace_inputs(output, inputs)
    if review is not None and review_mapping is not None:
        from dealgate.calibration.calibrate import from_review
        from dealgate.calibration.review import read_review

        data = _guarded(lambda: read_review(review, review_mapping))
        result = from_review(data, thresholds)
    else:
        pack = _pack(rules)
        export = closed_deals or outcomes
        request = CalibrationRequest(
            pack=pack,
            as_of=_as_of(as_of),
            thresholds=thresholds,
            outcomes=outcomes,
            snapshots=tuple(snapshots or ()),
            closed_deals=closed_deals,
            reading=Reading(
                profile, mapping, teams, contacts, sheet, encoding, stage_history=stage_history
            ),
            engine=_engine(engine, export, verbose, None, pack) if closed_deals else None,
            lead_days=lead_days,
            accept_pack_changes=accept_pack_changes,
        )
        result = _guarded(lambda: run_calibration(request))
    if output_format is CalibrationFormat.TABLE and output is None:
        from dealgate.report.calibration import calibration_table

        out.print(calibration_table(result))
        return
    _deliver(_render_calibration(result, output_format), output)


def _render_calibration(result: Any, output_format: CalibrationFormat) -> Iterable[str]:
    from dealgate.report.calibration import calibration_csv, calibration_json, calibration_table

    if output_format is CalibrationFormat.JSON:
        return [json.dumps(calibration_json(result), indent=2) + "\n"]
    if output_format is CalibrationFormat.CSV:
        return [calibration_csv(result)]
    if output_format is CalibrationFormat.HTML:
        from dealgate.report.calibration_html import calibration_html

        return [calibration_html(result)]
    buffer = Console(file=io.StringIO(), width=140, no_color=True, highlight=False)
    buffer.print(calibration_table(result))
    return [buffer.file.getvalue()]  # type: ignore[attr-defined]


@app.command("sql")
def sql(
    rules: PackOption = DEFAULT_PACK,
    dialect: Annotated[
        SqlDialectName, typer.Option(help="SQL dialect of the warehouse that runs the query.")
    ] = SqlDialectName.DUCKDB,
    table: Annotated[
        str, typer.Option(help="The table of canonical deals: NAME, SCHEMA.NAME or C.S.NAME.")
    ] = "deals",
    as_of: AsOfOption = None,
    schema: Annotated[
        bool,
        typer.Option(
            "--schema", help="Print the DDL of the table of deals the query reads instead."
        ),
    ] = False,
    judged: Annotated[
        bool,
        typer.Option(
            "--judged",
            help="Print the whole audit: a row per deal needing attention, with its evidence "
            "stage, disposition and missing milestones by kind.",
        ),
    ] = False,
) -> None:
    """Print a pack's audit query in a warehouse's SQL dialect: one status per milestone
    per deal ('m' met, 'x' missing, 'n' not applicable), or with --judged the deals that
    need attention and why; --schema prints the table it reads.
    """
    from dealgate.engines.sql import query_sql, schema_sql

    pack = _pack(rules)
    if schema and (as_of is not None or judged):
        _fail("--schema prints the table, not a query", "leave out --as-of and --judged")
    day = _as_of(as_of)
    if schema:
        text = _guarded(lambda: schema_sql(pack, dialect.value, table))
    elif judged:
        from dealgate.columnar.warehouse import audit_sql

        text = _guarded(lambda: audit_sql(pack, day, dialect.value, table))
    else:
        text = _guarded(lambda: query_sql(pack, day, dialect.value, table))
    typer.echo(text, nl=False)


# --- deals ----------------------------------------------------------------------------


@deals_app.command("inspect")
def deals_inspect(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX, JSON, JSONL, YAML or Parquet.")],
    rules: Annotated[
        str | None,
        typer.Option(
            "--rules",
            help=f"Rule pack: a bundled or ./rules pack id, or a file (default: {DEFAULT_PACK}; "
            "without it, a mapping file's stage ids that pack lacks are a note, not an error).",
        ),
    ] = None,
    profile: ProfileOption = None,
    mapping: MappingOption = None,
    teams: TeamsOption = None,
    contacts: ContactsOption = None,
    stage_history: StageHistoryOption = None,
    sheet: SheetOption = None,
    encoding: EncodingOption = None,
    output_format: Annotated[DataFormat, typer.Option("--format")] = DataFormat.TABLE,
    limit: Annotated[int, typer.Option(help="Data findings listed (0: all).")] = 20,
) -> None:
    """Show how a deal file is read: format, profile, each column, stages, findings."""
    from dealgate.deals.inspect import inspect_deals
    from dealgate.deals.source import Reading
    from dealgate.report.inspection import render_inspection

    pack = _pack(rules or DEFAULT_PACK)
    reading = Reading(
        profile,
        mapping,
        teams,
        contacts,
        sheet,
        encoding,
        stage_history=stage_history,
        pack_named=bool(rules),
    )

    def run() -> object:
        return inspect_deals(reading.open(file, pack), pack)

    inspection = _guarded(run)
    if output_format is DataFormat.JSON:
        typer.echo(json.dumps(inspection.as_json(), indent=2, default=str))  # type: ignore[attr-defined]
        return
    out.print(render_inspection(inspection, finding_limit=limit or 10**9))  # type: ignore[arg-type]


# --- init -----------------------------------------------------------------------------


@app.command("init")
def init(
    name: Annotated[str, typer.Option(help="Your team's pack id.")] = "my-team",
    extends: Annotated[str, typer.Option(help="Bundled pack to build on.")] = DEFAULT_PACK,
    folder: Annotated[Path, typer.Option("--dir", help="Where to write.")] = Path("rules"),
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
    export: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Fit the pack to this CRM export: leave out what it cannot measure, and "
            "write a mapping file of its columns.",
        ),
    ] = None,
    contacts: ContactsOption = None,
    stage_history: StageHistoryOption = None,
    teams: TeamsOption = None,
    profile: ProfileOption = None,
    sheet: SheetOption = None,
    encoding: EncodingOption = None,
) -> None:
    """Write a starter rules/ folder: a pack extending a bundled one, and a test case; with
    --from, the pack and a mapping file fitted to a team's export."""
    from dealgate.deals.source import Reading
    from dealgate.starter import write_fitted, write_starter

    if export is None:
        if any(
            option is not None
            for option in (contacts, stage_history, teams, profile, sheet, encoding)
        ):
            _fail(
                "--contacts, --stage-history, --teams, --profile, --sheet and --encoding read "
                "the --from export"
            )
        files = _guarded(lambda: write_starter(folder, name, extends, force=force))
        pack_file, tests_file = files.pack, files.tests
    else:
        reading = Reading(
            profile, None, teams, contacts, sheet, encoding, stage_history=stage_history
        )
        fitted = _guarded(lambda: write_fitted(folder, name, extends, export, reading, force=force))
        pack_file, tests_file = fitted.pack, fitted.tests
    catalog = PackCatalog([folder])
    pack: RulePack = _guarded(lambda: load_pack(pack_file, catalog))
    out.print(
        f"wrote {pack_file} (pack {pack.id}, extends {', '.join(pack.extends)})", markup=False
    )
    if export is not None:
        lacking = len(fitted.lacking)
        out.print(
            f"  without {plural(fitted.removed, 'milestone')} {export.name} cannot measure: it "
            f"has no column for {plural(lacking, 'field')} they read (listed in both "
            "files, with how to add them)",
            markup=False,
        )
        out.print(f"wrote {fitted.mapping}", markup=False)
    out.print(f"wrote {tests_file}", markup=False)
    if export is None:
        out.print(
            f"next: edit {pack_file}, then run: dealgate rules validate {folder}", markup=False
        )
    else:
        out.print(
            f"next: dealgate audit {export} --rules {pack_file} --mapping {fitted.mapping}",
            markup=False,
        )


def main() -> None:
    """The console script: exit codes for crashes and signals (dealgate/entry.py)."""
    from dealgate.entry import main as entry_main

    entry_main()
