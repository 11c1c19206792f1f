"""Live sources: deals read straight from a CRM's API instead of an export.

A live source is named on the command line like a file: `sf:006Dn000004XyZaIAK` or
`hubspot:12345` for one deal, `sf:` or `hubspot:` for the open pipeline. What is read is
written as JSON Lines in the CRM's own API shape (`--save`, else a temporary file) and then
read like any export, so a live deal and the same deal exported go through the same profile,
mapping and coverage, and give the same findings.

This module imports without httpx (the optional `crm` extra), so the command line can tell a
live source from a file, and say what to install, before anything needs it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dealgate.errors import OutputError

if TYPE_CHECKING:
    from dealgate.rules.model import RulePack

CRMS = {"sf": "salesforce", "salesforce": "salesforce", "hubspot": "hubspot"}


@dataclass(frozen=True)
class Limits:
    """How long and how often a live source may wait for its CRM."""

    timeout: float = 30.0  # seconds, for connecting and for each response
    retries: int = 3  # of a 429 (rate limited) answer
    longest_wait: float = 60.0  # seconds: a Retry-After asking for longer is not waited for


@dataclass(frozen=True)
class LiveSource:
    """A CRM named on the command line, and the one deal asked for (None: the pipeline)."""

    crm: str  # "salesforce" or "hubspot"
    deal_id: str | None

    @property
    def label(self) -> str:
        """How reports name the source in place of a file name."""
        prefix = "sf" if self.crm == "salesforce" else self.crm
        return f"{prefix}:{self.deal_id or ''}"


def live_source(argument: str) -> LiveSource | None:
    """The live source an argument names (`sf:ID`, `hubspot:`), or None for a file path.

    A path that exists wins, so a file really called `sf:x` is still read as a file."""
    prefix, colon, rest = argument.partition(":")
    if not colon or prefix.lower() not in CRMS or "/" in rest or "\\" in rest:
        return None
    if Path(argument).exists():
        return None
    return LiveSource(CRMS[prefix.lower()], rest.strip() or None)


@dataclass(frozen=True)
class LiveRequest:
    """What to read from a CRM: the deal or the open pipeline, only the fields the pack
    reads, and the audit's owner and stage filters (applied by the CRM's own query)."""

    source: LiveSource
    fields: frozenset[str]  # canonical fields the pack and the report read (deals/model.py)
    owners: tuple[str, ...] = ()  # as the user typed them: checked against the CRM's users
    stages: tuple[str, ...] = ()  # likewise, against its stages
    where: str | None = None  # a SOQL WHERE clause (Salesforce only)
    stage_history: bool = False  # the pack reads stage history: fetch it too
    limits: Limits = field(default_factory=Limits)
    environment: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass
class LiveRead:
    """What a CRM gave: one record per deal in the CRM's API shape, flattened (`Owner.Name`),
    with `contacts` and `stage_history` as nested lists, ready to be read like an export."""

    records: list[dict[str, Any]]
    unmeasured: dict[str, str] = field(default_factory=dict)  # canonical field -> why
    notes: list[str] = field(default_factory=list)  # said once: unchecked filters, requests


def read_live(request: LiveRequest) -> LiveRead:
    """Read the deals a live source names. Raises CrmError (exit 2) for a CRM that cannot be
    read as asked, UsageError for a filter or deal id the CRM does not know."""
    if request.source.crm == "salesforce":
        from dealgate.live.salesforce import read_salesforce

        return read_salesforce(request)
    from dealgate.live.hubspot import read_hubspot

    return read_hubspot(request)


def fields_to_read(pack: RulePack) -> frozenset[str]:
    """The deal fields a live read asks its CRM for: what the pack's milestones read (the
    top of each path: `contacts` for `contacts[].title`) and what the reports show."""
    from dealgate.audit import REPORTED_FIELDS

    read = {
        path.partition(".")[0].removesuffix("[]") for m in pack.milestones() for path in m.reads
    }
    return frozenset(read.union(REPORTED_FIELDS))


@contextmanager
def saved_read(request: LiveRequest, save: Path | None) -> Iterator[tuple[Path, LiveRead]]:
    """Read a live source and write what was read as JSON Lines: to `save`, else to a
    temporary file removed on leaving; the file is then read like any export, so there is
    one reading path. Raises CrmError, UsageError, OutputError."""
    from dealgate.atomic import atomic_file

    read = read_live(request)
    with tempfile.TemporaryDirectory(prefix="dealgate-live-") as folder:
        path = save if save is not None else Path(folder) / f"{request.source.crm}.jsonl"
        try:
            with atomic_file(path) as written:  # never half a --save file over the last one
                save_records(read.records, written)
        except OSError as error:
            raise OutputError(path, error.strerror or error) from None
        yield path, read


def save_records(records: Iterable[dict[str, Any]], path: Path) -> int:
    """Write what was read as JSON Lines, a file dealgate reads back like any export; the
    number of deals written. Dates stay ISO text and amounts keep every digit."""
    written = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, default=_json_value))
            out.write("\n")
            written += 1
    return written


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")
