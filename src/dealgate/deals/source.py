"""Opening deals for a command: the file, its profile, side files, and the reading itself."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dealgate.deals.deal_lists import CONTACT_ROLES
from dealgate.deals.mapper import ColumnUse, DealMapper
from dealgate.deals.model import Contact, ReadDeal, construct
from dealgate.deals.normalise import Unreadable, clean_text, deal_key, parse_bool, parse_date
from dealgate.deals.opportunity_history import StageHistory, read_stage_history
from dealgate.deals.profiles import (
    BUILT_IN,
    Profile,
    custom_field_name,
    detect_profile,
    header_key,
)
from dealgate.deals.readers import RawRecord, Table, open_table
from dealgate.deals.sides import join_side_tables
from dealgate.errors import InputError, Location, Problem, UsageError
from dealgate.findings import DataFinding, DataIssue
from dealgate.judging.coverage import Supply
from dealgate.rules.model import RulePack

if TYPE_CHECKING:  # history (and the saved audit's pydantic models) load only with --history
    from dealgate.deals.history import HistoryRequest, PipelineHistory

OWNER_HEADERS = (
    "owner",
    "opportunity owner",
    "deal owner",
    "sales agent",
    "sales_agent",
    "rep",
    "account executive",
)
MANAGER_HEADERS = ("manager", "sales manager", "owner manager", "team lead")
# Where a manager's own section of the audit goes (`audit --notify-managers`, docs/notify.md):
# a notification URL or an email address.
ADDRESS_HEADERS = ("notify", "notify url", "email", "address", "manager email")
ROLE_COLUMNS = {
    "deal": (
        "opportunityid",
        "opportunity id",
        "opportunity: opportunity id",
        "opportunity.id",
        "deal id",
        "record id",
        "deal_id",
        "opportunity_id",
    ),
    "name": ("contact: full name", "contact name", "contact.name", "full name", "name", "contact"),
    "title": ("title", "contact: title", "contact.title", "job title"),
    "role": ("role", "contact role", "opportunitycontactrole.role"),
    "is_primary": ("isprimary", "primary", "is primary", "is_primary"),
    "engaged_on": (
        "engaged on",
        "engaged_on",
        "last engaged",
        "contact.lastactivitydate",
        "contact: last activity",
        "last activity",
    ),
}


@dataclass
class DealSource:
    """A deal file opened for reading, with everything `deals inspect` explains."""

    table: Table
    profile: Profile
    profile_reason: str
    mapper: DealMapper
    roles: ContactRoles | None = None
    stage_changes: StageHistory | None = None  # --stage-history: the CRM's log of stage moves
    side_findings: list[DataFinding] = field(default_factory=list)
    history: PipelineHistory | None = None  # --history: the snapshots of earlier weeks
    unread: tuple[tuple[str, str], ...] = ()  # a live source's fields it could not read, why

    def __iter__(self) -> Iterator[ReadDeal]:
        if self.history is None:
            yield from self.mapper.deals(self.table.records)
        else:
            yield from map(self.history.apply, self.mapper.deals(self.table.records))
        self._report_unmatched_roles()
        self._account_for_history()

    @property
    def findings(self) -> list[DataFinding]:
        return [*self.mapper.findings, *self.side_findings]

    @property
    def supply(self) -> Supply:
        """The deal fields this source supplies (its columns and side files)."""
        kind = "columns" if self.table.format in ("csv", "xlsx", "parquet") else "keys"
        supply = supplied_fields(
            self.mapper.plan,
            self.profile,
            f"the {kind} of {self.table.file}",
            self.roles.file if self.roles else None,
            keyed_by_names=self.mapper.id_key is not None,
            stage_history=self.stage_changes.file if self.stage_changes else None,
            unread=self.unread,
        )
        return supply if self.history is None else with_history(supply, self.history)

    def _account_for_history(self) -> None:
        """Findings of the stage history file, and where every row of it went (a note)."""
        if self.stage_changes is None:
            return
        tally = self.stage_changes.account(self.mapper._seen, self.table.file)
        self.side_findings.extend(self.stage_changes.findings)
        own = any("stage_history" in (use.kind, use.field) for use in self.mapper.plan)
        self.table.notes.append(tally.describe(self.stage_changes.file, replaces=own))

    def _report_unmatched_roles(self) -> None:
        if self.roles is None:
            return
        self.side_findings.extend(self.roles.findings)
        seen = self.mapper._seen
        for key, places in self.roles.places.items():
            if key in seen:
                continue
            for row, written in places:
                self.side_findings.append(
                    DataFinding(
                        self.roles.file,
                        row,
                        self.roles.column,
                        written,
                        f"contact role for deal '{written}', which is not in {self.table.file}",
                        DataIssue.UNKNOWN_DEAL,
                    )
                )


@dataclass
class ContactRoles:
    """Contact roles read from a side file, by deal key, and where each came from."""

    file: str
    column: str  # the opportunity id column
    by_deal: dict[str, list[Contact]] = field(default_factory=dict)
    places: dict[str, list[tuple[int | None, str]]] = field(default_factory=dict)
    findings: list[DataFinding] = field(default_factory=list)


@dataclass(frozen=True)
class Reading:
    """How a command reads its deal file: the options check, audit and inspect share."""

    profile: str | None = None
    mapping: Path | None = None
    teams: Path | None = None
    contacts: Path | None = None
    sheet: str | None = None
    encoding: str | None = None
    stage_history: Path | None = None  # Salesforce's OpportunityHistory export
    # False when the pack is the default one, not named by the user (`deals inspect` without
    # --rules): a mapping file's stage ids that the pack lacks are then a note, not an error.
    pack_named: bool = True
    history: HistoryRequest | None = None  # --history: snapshots, and the export's day
    # How reports name the input in place of its file: a live source's `sf:` (the file is
    # the temporary one its records were saved to).
    label: str | None = None
    # The fields a live source could not read, and why (coverage's hint says so).
    unread: tuple[tuple[str, str], ...] = ()

    def open(self, file: Path, pack: RulePack) -> DealSource:
        options = {option.name: getattr(self, option.name) for option in dataclasses.fields(self)}
        return open_deals(file, pack, **options)

    def needs_python(self) -> str | None:
        """What of the reading only the Python readers do, in words; None if nothing."""
        if self.history is not None:
            return "--history"
        if self.label is not None:
            return "a live source (read as JSON Lines)"
        if self.sheet is not None:
            return "a sheet of a workbook"
        encoding = (self.encoding or "utf-8").lower().replace("_", "-")
        if encoding not in ("utf-8", "utf-8-sig"):
            return f"--encoding {self.encoding}"
        return None


def supplied_fields(
    plan: list[ColumnUse],
    profile: Profile,
    described: str,
    contacts: str | None,
    *,
    keyed_by_names: bool = False,
    stage_history: str | None = None,
    unread: tuple[tuple[str, str], ...] = (),
) -> Supply:
    """The fields a file's columns (or its records' keys) and side files give deals: what
    the mapper fills, and what one field gives another (DealMapper._complete)."""
    fields = {use.field for use in plan if use.field and use.kind in ("canonical", "custom")}
    if any(use.kind == "stage_history" for use in plan):
        fields.add("stage_history")
    if "amount" in fields:
        fields.add("currency")
    sources = [described]
    sources += [
        f"the columns of {side.file.name} joined by {side.on}"
        for side in profile.joins
        if any(use.header in side.headers for use in plan)
    ]
    if profile.managers:
        fields.add("manager")
        sources.append("the managers of --teams or the mapping file")
    if contacts is not None:
        fields.add("contacts")
        sources.append(f"the contact roles of {contacts}")
    if stage_history is not None:
        fields.add("stage_history")
        sources.append(f"the stage history of {stage_history}")
    return Supply(
        frozenset(fields), ", ".join(sources), keyed_by_names=keyed_by_names, unread=unread
    )


def with_history(supply: Supply, history: PipelineHistory) -> Supply:
    """What a source supplies once --history derives the fields its export lacks: each of
    them, on the deals whose history suffices (judging/coverage.py, `Supply.by_deal`)."""
    count = len(history.snapshots)
    described = f"{supply.source}, and {count} snapshot{'s' if count != 1 else ''} (--history)"
    return replace(supply, source=described, by_deal=history.derived - supply.fields)


def open_deals(
    path: Path,
    pack: RulePack,
    *,
    profile: str | None = None,
    mapping: Path | None = None,
    teams: Path | None = None,
    contacts: Path | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    stage_history: Path | None = None,
    pack_named: bool = True,
    history: HistoryRequest | None = None,
    label: str | None = None,
    unread: tuple[tuple[str, str], ...] = (),
) -> DealSource:
    """Open a deal file; the profile is the mapping file's, the one named, or detected.
    With `history`, the snapshots are read too (InputError or UsageError when unusable);
    with `label`, findings and reports name the input by it rather than by the file; `unread`:
    the fields a live source could not read, and why."""
    table = open_table(path, sheet=sheet, encoding=encoding)
    if label is not None:
        table.file = label
    team_findings: list[DataFinding] = []
    chosen, reason = choose_profile(
        table.headers,
        pack,
        profile,
        mapping,
        teams,
        export=label or path.name,
        pack_named=pack_named,
        findings=team_findings,
    )
    if chosen.joins:
        value_maps = {
            side.on: chosen.value_maps.get(chosen.target(side.on) or custom_field_name(side.on))
            for side in chosen.joins
        }
        table = join_side_tables(table, chosen.joins, value_maps)
    roles = read_contact_roles(contacts, chosen) if contacts is not None else None
    changes = (
        read_stage_history(stage_history, chosen.date_order) if stage_history is not None else None
    )
    mapper = DealMapper(
        table,
        chosen,
        pack,
        contacts_by_deal=roles.by_deal if roles is not None else None,
        history_by_deal=changes.by_deal if changes is not None else None,
    )
    source = DealSource(
        table,
        chosen,
        reason,
        mapper,
        roles,
        stage_changes=changes,
        side_findings=team_findings,
        unread=unread,
    )
    if history is not None:
        from dealgate.deals.history import load_history

        source.history = load_history(history, pack, source.supply.fields)
    return source


def choose_profile(
    headers: list[str],
    pack: RulePack,
    profile: str | None = None,
    mapping: Path | None = None,
    teams: Path | None = None,
    *,
    export: str = "the file",
    pack_named: bool = True,
    findings: list[DataFinding] | None = None,
) -> tuple[Profile, str]:
    """The profile a file is read by, and why: the mapping file's (checked against these
    headers), the one named, or the one its headers show; with the managers of a teams file.
    Data findings about the teams file's cells are added to `findings` when given."""
    if findings is None:
        findings = []
    if mapping is not None:
        from dealgate.deals.mapping_file import load_mapping

        chosen = load_mapping(mapping, pack, headers, export=export, pack_named=pack_named)
        reason = f"from {mapping}"
    elif profile is not None:
        if profile not in BUILT_IN:
            raise UsageError(f"unknown profile '{profile}' (profiles: {', '.join(BUILT_IN)})")
        chosen, reason = BUILT_IN[profile], "named with --profile"
    else:
        chosen, reason = detect_profile(headers)
        reason = f"detected from {reason}"
    if teams is not None:
        team_file = read_teams(teams, chosen.teams_columns, mapping)
        chosen = chosen.with_managers(team_file.managers)
        findings.extend(team_file.findings)
    return chosen, reason


def _column(headers: list[str], names: tuple[str, ...]) -> str | None:
    keys = {header_key(header): header for header in headers}
    return next((keys[name] for name in names if name in keys), None)


@dataclass(frozen=True)
class Teams:
    """A teams file read: each owner's manager, and data findings about its cells; with an
    address column (ADDRESS_HEADERS), where each manager is notified."""

    managers: dict[str, str]
    findings: tuple[DataFinding, ...] = ()
    addresses: dict[str, tuple[str, ...]] = field(default_factory=dict)  # manager -> addresses
    address_column: str | None = None  # its header; None when the file has none
    headers: tuple[str, ...] = ()


def read_teams(
    path: Path, named: tuple[str, str] | None = None, mapping: Path | None = None
) -> Teams:
    """Owner -> manager, from a CSV or Excel file with an owner and a manager column: the
    ones a mapping file names (`teams:`), else headers of OWNER_HEADERS and MANAGER_HEADERS."""
    table = open_table(path)
    if named is not None:
        owner = _column(table.headers, (header_key(named[0]),))
        manager = _column(table.headers, (header_key(named[1]),))
        found = zip(named, (owner, manager), strict=True)
        missing = [f"'{header}'" for header, column in found if column is None]
        where = mapping.name if mapping else "the mapping file"
        message = f"no column {' or '.join(missing)} (named by teams: in {where})"
        hint = f"its headers: {', '.join(table.headers)}"
    else:
        owner = _column(table.headers, OWNER_HEADERS)
        manager = _column(table.headers, MANAGER_HEADERS)
        missing = [what for what, found in (("owner", owner), ("manager", manager)) if not found]
        message = (
            "a teams file needs an owner column and a manager column; no "
            f"{' and no '.join(missing)} column among the headers docs/crm-mapping.md lists"
        )
        hint = (
            f"its headers: {', '.join(table.headers)}; name them Owner and Manager, or name "
            "yours in a mapping file: teams: {owner: HEADER, manager: HEADER}"
        )
    if owner is None or manager is None:
        raise InputError(
            [
                Problem(
                    Location(str(path), 1),
                    message,
                    hint,
                )
            ]
        )
    address = _column(table.headers, ADDRESS_HEADERS)
    managers: dict[str, str] = {}
    addresses: dict[str, tuple[str, ...]] = {}
    findings: list[DataFinding] = []
    for record in table.records:
        findings.extend(cell_findings(table.file, record))
        rep, boss = clean_text(record.values.get(owner)), clean_text(record.values.get(manager))
        if rep and boss:
            managers[rep] = boss
        reach = clean_text(record.values.get(address)) if address else None
        if boss and reach and reach not in addresses.get(boss, ()):
            # A manager is one row per rep: the same address repeated, or a second one kept.
            addresses[boss] = (*addresses.get(boss, ()), reach)
    return Teams(managers, tuple(findings), addresses, address, tuple(table.headers))


def cell_findings(file: str, record: RawRecord, deal_id: str | None = None) -> list[DataFinding]:
    """The cells of a side file's record that its reader could not take as written (bytes
    not UTF-8, read as cp1252; a cell over the length read): data findings, as DealMapper
    reports the export's own (`RawRecord.cell_notes`)."""
    return [
        DataFinding(file, record.row, header, deal_id, message, DataIssue.UNREADABLE)
        for header, message in record.cell_notes
    ]


def read_contact_roles(path: Path, profile: Profile) -> ContactRoles:
    """Contact roles by deal key, as Salesforce's OpportunityContactRole exports them."""
    table = open_table(path)
    columns = {name: _column(table.headers, aliases) for name, aliases in ROLE_COLUMNS.items()}
    deal_column = columns["deal"]
    if deal_column is None:
        raise InputError(
            [
                Problem(
                    Location(str(path), 1),
                    "a contact roles file needs an opportunity id column",
                    "name it OpportunityId (Salesforce) or Deal ID",
                )
            ]
        )
    roles = ContactRoles(str(path), deal_column)
    readers = _contact_readers(profile)
    entries: dict[str, list[tuple[None, None, Contact]]] = {}  # by deal key, as read
    key = last_id = ""
    for record in table.records:
        deal_id = clean_text(record.values.get(deal_column))
        if record.cell_notes:
            roles.findings.extend(cell_findings(table.file, record, deal_id))
        if deal_id is None:
            roles.findings.append(
                DataFinding(
                    str(path),
                    record.row,
                    deal_column,
                    None,
                    "contact role without an opportunity id; left out",
                    DataIssue.MISSING_ID,
                )
            )
            continue
        contact = _contact(
            record.values, columns, readers, roles.findings, str(path), record.row, deal_id
        )
        if deal_id != last_id:  # a deal's roles are mostly on consecutive rows
            key, last_id = deal_key(deal_id), deal_id
        entries.setdefault(key, []).append((None, None, contact))
        roles.places.setdefault(key, []).append((record.row, deal_id))
    roles.by_deal = {key: CONTACT_ROLES.assemble(found) for key, found in entries.items()}
    return roles


def _contact_readers(profile: Profile) -> dict[str, Callable[[Any], Any]]:
    """How the typed fields of a contact role are read: each distinct text once per file
    (roles repeat the same dates and flags); a text that cannot be read raises every time."""

    def engaged_on(value: Any) -> Any:
        return parse_date(value, profile.date_order)

    once = functools.lru_cache(maxsize=8192)
    return {"is_primary": once(parse_bool), "engaged_on": once(engaged_on)}


def _contact(
    values: dict[str, Any],
    columns: dict[str, str | None],
    readers: dict[str, Callable[[Any], Any]],
    findings: list[DataFinding],
    file: str,
    row: int | None,
    deal_id: str,
) -> Contact:
    fields: dict[str, Any] = {}
    for name in ("name", "title", "role"):
        column = columns[name]
        if column is not None:
            fields[name] = clean_text(values.get(column))
    for name, reader in readers.items():
        column = columns[name]
        text = clean_text(values.get(column)) if column else None
        if text is None:
            continue
        try:
            fields[name] = reader(text)
        except Unreadable as problem:
            findings.append(
                DataFinding(
                    file, row, column, deal_id, f"{problem.message}: read as missing", problem.issue
                )
            )
    return construct(Contact, fields)


def read_records(
    file: str, records: list[RawRecord], pack: RulePack
) -> tuple[list[ReadDeal], DealMapper]:
    """Deals given as records already in memory (e.g. a rule test case), canonical fields."""
    from dealgate.deals.profiles import CANONICAL
    from dealgate.deals.readers import Table

    headers = list(dict.fromkeys(key for record in records for key in record.values))
    mapper = DealMapper(Table(file, "yaml", headers, iter(records)), CANONICAL, pack)
    return list(mapper.deals(iter(records))), mapper
