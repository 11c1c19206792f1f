"""The live source options of check and audit (`sf:`, `hubspot:`): the CRM read and saved
before the command reads it as it reads an export (docs/live-crm.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NamedTuple

import typer

from dealgate.cli.console import err, fail, guarded
from dealgate.report.terminal import plural
from dealgate.rules.model import RulePack

if TYPE_CHECKING:
    from dealgate.live import LiveSource

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


class LiveInput(NamedTuple):
    """A live source read and saved: the file to read as an export, the source, and each
    field the CRM would not give, with why (coverage says so in its hint)."""

    path: Path
    source: LiveSource
    unread: tuple[tuple[str, str], ...]


def live_input(
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
) -> LiveInput | None:
    """For a live source (`sf:ID`, `hubspot:`): read it and save it (--save, else a
    temporary file, removed when the command ends); the file to read as an export, the
    source, and the fields it could not read with why. None for a file, which the live
    options do not apply to."""
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
            fail(
                f"{', '.join(given)}: for a live source (sf:, hubspot:), not a file",
                "docs/live-crm.md",
            )
        return None
    if where is not None and live.crm != "salesforce":
        fail("--where is a SOQL condition, for sf: only", "filter with --owner and --stage")
    if where is not None and live.deal_id is not None:
        fail(f"--where filters the pipeline (sf:), not the one deal {live.label} names")
    if timeout is not None and not timeout > 0:
        fail(f"--timeout {timeout:g}: give a number of seconds above 0")
    try:
        import httpx  # noqa: F401 (the optional crm extra)
    except ImportError:
        fail(f"reading {live.label} needs httpx", "pip install 'dealgate[crm]'")
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
    path, read = guarded(lambda: context.with_resource(saved_read(request, save)))
    for note in read.notes:
        err.print(f"note: {note}", markup=False, style="dim")
    if save is not None:
        err.print(
            f"saved {plural(len(read.records), 'deal')} of {live.label} to {save}", markup=False
        )
    return LiveInput(path, live, tuple(sorted(read.unmeasured.items())))
