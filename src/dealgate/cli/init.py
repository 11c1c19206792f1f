"""`dealgate init`: a starter rules/ folder, or one fitted to a team's export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dealgate.cli.console import fail, guarded, out
from dealgate.cli.options import (
    DEFAULT_PACK,
    ContactsOption,
    EncodingOption,
    ProfileOption,
    SheetOption,
    StageHistoryOption,
    TeamsOption,
)
from dealgate.report.terminal import plural
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack

app = typer.Typer(add_completion=False)


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
            fail(
                "--contacts, --stage-history, --teams, --profile, --sheet and --encoding read "
                "the --from export"
            )
        files = guarded(lambda: write_starter(folder, name, extends, force=force))
        pack_file, tests_file = files.pack, files.tests
    else:
        reading = Reading(
            profile, None, teams, contacts, sheet, encoding, stage_history=stage_history
        )
        fitted = guarded(lambda: write_fitted(folder, name, extends, export, reading, force=force))
        pack_file, tests_file = fitted.pack, fitted.tests
    catalog = PackCatalog([folder])
    pack: RulePack = guarded(lambda: load_pack(pack_file, catalog))
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
