"""`dealgate rules ...`: list, show, validate, explain and test rule packs."""

from __future__ import annotations

import json
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from dealgate.cli import options
from dealgate.cli.console import err, fail, guarded, line_out, out, print_problems, shown_path
from dealgate.cli.options import (
    DEFAULT_PACK,
    ContactsOption,
    EncodingOption,
    EngineOption,
    MappingOption,
    ProfileOption,
    RulesOption,
    SheetOption,
    SparkMasterOption,
    StageHistoryOption,
    TeamsOption,
    VerboseOption,
)
from dealgate.errors import InputError, did_you_mean
from dealgate.report.terminal import plural
from dealgate.rules.catalog import BUNDLED, pack_files
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack

if TYPE_CHECKING:
    from dealgate.deals.source import Reading
    from dealgate.rule_tests import CaseResult

app = typer.Typer(
    name="rules",
    help="Rule packs: list, show, validate, explain and test them.",
    no_args_is_help=True,
    add_completion=False,
)


class ShowFormat(StrEnum):
    TREE = "tree"
    MARKDOWN = "markdown"
    FIELDS = "fields"


@app.command("list")
def rules_list(rules: RulesOption = None) -> None:
    """List the rule packs found: --rules paths, ./rules, then the bundled packs."""
    from rich.table import Table

    from dealgate.report.terminal import Fitted

    catalog = options.catalog(rules)
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
        where = "bundled" if entry.origin == BUNDLED else shown_path(entry.path)
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


@app.command("show")
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

    resolved = guarded(lambda: load_pack(pack, options.catalog(rules)))
    if output_format is ShowFormat.MARKDOWN:
        typer.echo(playbook_markdown(resolved))
    elif output_format is ShowFormat.FIELDS:
        typer.echo(fields_markdown(resolved), nl=False)
    else:
        out.print(pack_tree(resolved))


@app.command("validate")
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
        fail(
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
    catalog = options.catalog([*(rules or []), *paths])
    failed = unmeasurable = 0
    for file in files:
        try:
            pack = load_pack(file, catalog)
        except InputError as error:
            failed += 1
            print_problems(error)
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

    source = guarded(lambda: reading.open(export, pack))
    coverage = measure(pack, source.supply)
    text = coverage_text(coverage.as_json())
    if not text:
        line_out.print(f"   {export} supplies every field pack {pack.id} reads", markup=False)
        return 0
    line_out.print("\n".join(f"   {line}" for line in text.rstrip("\n").splitlines()), markup=False)
    return sum(1 for entry in coverage.unmeasured if not entry.partly)


@app.command("explain")
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

    catalog = options.catalog(rules)
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
    fail(f"no milestone '{milestone_id}'", did_you_mean(milestone_id.upper(), known))


@app.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of the pack format, for editor completion and checking."""
    from dealgate.rules.spec import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


@app.command("test")
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
        fail(f"no test case files under {path}")
    search = [path if path.is_dir() else path.parent.parent, *(rules or [])]
    catalog = options.catalog(search)
    chosen = options.engine(engine, verbose=verbose, spark_master=spark_master)
    unusable = 0
    results = []
    for file in files:
        try:
            case_file = load_case_file(file, catalog)
        except InputError as error:
            unusable += 1
            print_problems(error)
            continue
        line_out.print(Text.assemble((str(file), "bold"), f"  pack {case_file.pack.id}"))
        runner = chosen
        if engine == "auto" and chosen.name == "durable":  # unless the pack is beyond durable
            runner = options.engine(
                engine, verbose=False, spark_master=spark_master, pack=case_file.pack
            )
        for result in guarded(partial(run_cases, case_file, runner)):
            results.append(result)
            _print_case(result)
    if unusable:
        raise typer.Exit(2)
    passed, failed = summary(results)
    style = "green" if not failed else "red"
    out.print(Text(f"{passed:,} passed, {failed:,} failed", style))
    if failed:
        raise typer.Exit(1)


def _print_case(result: CaseResult) -> None:
    """One case: PASS or FAIL, and each difference from what the case expects."""
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
