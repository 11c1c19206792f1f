"""The options several commands share, and turning their text into what the library takes:
a pack, an engine, a date. A value that cannot be used exits 2 with a message."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dealgate.cli.console import err, fail, guarded
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack

if TYPE_CHECKING:
    from dealgate.deals.history import HistoryRequest
    from dealgate.engines.base import Engine

DEFAULT_PACK = "buyer-journey"


class DataFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Extra pack file or folder to search first (repeatable)."),
]
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
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="The date deals are judged on (YYYY-MM-DD; default today, UTC)."),
]
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


def catalog(rules: list[Path] | None) -> PackCatalog:
    """The packs found: the --rules paths, ./rules, then the bundled packs."""
    return PackCatalog(rules or [])


def pack(reference: str) -> RulePack:
    """The pack a check or audit uses: by id (./rules, then bundled) or by file."""
    path = Path(reference)
    extra = [path.parent] if path.suffix in (".yaml", ".yml") else []
    return guarded(lambda: load_pack(reference, PackCatalog(extra)))


def engine(
    name: str,
    input_file: Path | None = None,
    verbose: bool = False,
    spark_master: str | None = None,
    pack: RulePack | None = None,
) -> Engine:
    """The engine --engine names, or the one auto picks for the input's size and the pack."""
    from dealgate.engines import EngineUnavailable, choose_engine

    if spark_master is not None and name != "spark":
        fail("--spark-master is for --engine spark")
    size = input_file.stat().st_size if input_file is not None and input_file.is_file() else None
    try:
        choice = choose_engine(name, size, spark_master=spark_master, pack=pack)
    except EngineUnavailable as error:
        fail(f"{error}")
    if verbose:
        err.print(f"engine: {choice.engine.name} ({choice.reason})", markup=False)
    return choice.engine


def as_of(value: str | None) -> date:
    """The day of --as-of; today (UTC) without it."""
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--as-of {value!r} is not a date (YYYY-MM-DD)")


def history(files: list[Path] | None, day: date) -> HistoryRequest | None:
    """The snapshots of --history; the export is the observation of the audit's as-of."""
    from dealgate.deals.history import HistoryRequest

    return HistoryRequest(tuple(files), day) if files else None
