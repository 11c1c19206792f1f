"""`dealgate init`: a starter rules/ folder for a team, commented to teach the pack language."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dealgate.deals.source import Reading
from dealgate.errors import UsageError
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack

_PACK = """\
# The {team} sales process: our stage exit criteria, built on a bundled pack.
# Validate after every change:   dealgate rules validate rules/
# Read it as a playbook:         dealgate rules show {team} --rules rules --format markdown
# Run its unit tests:            dealgate rules test rules/
pack: {team}
title: {title}
extends: [{base}]      # the stages and milestones of {base} come first

# Declaring the custom fields you read catches typos: once `fields:` is present, this file's
# conditions may read only these and the canonical deal fields (amount, close_date, contacts...).
fields:
  security_review_done_on: {{type: date, description: Date our security questionnaire was accepted}}

stages:
  # Map your CRM's stage names onto the pack's stages (case and spaces are ignored).
  # Listing `crm_names` replaces the inherited list, so name every value your CRM uses.
  - id: {first_stage}
    crm_names: [{first_stage_names}]

  # Add a milestone to an inherited stage by listing the stage id with more `exit` entries.
  - id: {late_stage}
    exit:
      - id: {prefix}-SECURITY
        milestone: Security review passed
        require: present(security_review_done_on)
        when: amount >= 50000          # only deals large enough to be reviewed
        evidence: The buyer's security team's approval email, attached to the opportunity
        verified_by: buyer
        severity: required
        guidance: >-
          Send the security pack when the buyer shortlists us, not after the proposal;
          ask who signs off on vendor security and when their next review board meets.

# Change what an inherited milestone asks for, or how strictly:
overrides:
  {override_id}:
    severity: recommended       # warn instead of failing the audit

# Drop a milestone that does not fit how you sell:
# remove: [SOME-MILESTONE-ID]
"""

_TESTS = """\
# Unit tests for the {team} pack: each case is a deal, an as-of date and the milestone ids
# expected missing. Run them with:   dealgate rules test rules/
pack: {team}
as_of: 2026-11-27
cases:
  - name: A new deal in the first stage has none of its exit milestones yet
    deal:
      id: EXAMPLE-1
      name: Example Corp - first deal
      stage: {first_stage}
      amount: 25000
      currency: USD
      close_date: 2027-03-31
      close_date_pushes: 0
      next_step: Discovery call with their operations lead
      next_step_date: 2026-12-02
      last_activity_date: 2026-11-25
    missing: [{first_stage_milestones}]
"""


@dataclass(frozen=True)
class StarterFiles:
    pack: Path
    tests: Path


def write_starter(folder: Path, team: str, base: str, *, force: bool = False) -> StarterFiles:
    """Write rules/<team>.yaml and rules/tests/<team>.yaml; refuse to overwrite unless forced."""
    catalog = PackCatalog(cwd=folder.parent)
    base_pack = load_pack(base, catalog)
    first, *_ = open_stages = base_pack.open_stages
    milestones = list(base_pack.milestones())
    override = base_pack.checks[0] if base_pack.checks else milestones[0]
    context = {
        "team": team,
        "title": f"{team.replace('-', ' ').title()} sales process",
        "base": base,
        "first_stage": first.id,
        "first_stage_names": ", ".join([*first.crm_names, "Discovery Call"]),
        "first_stage_milestones": ", ".join(milestone.id for milestone in first.exit),
        "late_stage": open_stages[len(open_stages) // 2].id,
        "override_id": override.id,
        "prefix": team.upper().replace("_", "-"),
    }
    files = StarterFiles(folder / f"{team}.yaml", folder / "tests" / f"{team}.yaml")
    existing = [path for path in (files.pack, files.tests) if path.exists()]
    if existing and not force:
        raise UsageError(f"{existing[0]} already exists; use --force to overwrite it")
    files.tests.parent.mkdir(parents=True, exist_ok=True)
    files.pack.write_text(_PACK.format(**context), encoding="utf-8")
    files.tests.write_text(_TESTS.format(**context), encoding="utf-8")
    return files


# --- a team's first pack, fitted to its export (`dealgate init --from EXPORT`) ---------

_FITTED_PACK = """\
# The {team} sales process, fitted to {export}: {base} without the milestones that export
# cannot measure (judged on it, they would be neither met nor missing). To measure one again,
# add the fields it reads to your CRM report, map them in {mapping},
# and delete its line under `remove:`.
# Validate after every change:   dealgate rules validate {folder}
pack: {team}
title: {title}
extends: [{base}]
stages: []  # the stages of {base}, as they are
{remove}"""

_FITTED_MAPPING = """\
# How {export} maps onto dealgate's deal fields (docs/crm-mapping.md). Check it with:
#   dealgate deals inspect {export} --mapping {mapping} --rules {pack}
mapping: {team}
profile: {profile}
columns:
{columns}{lacking}{stages}"""


@dataclass(frozen=True)
class FittedFiles:
    pack: Path
    mapping: Path
    tests: Path
    removed: int  # milestones the export cannot measure, removed from the pack
    lacking: tuple[str, ...]  # the fields the base pack reads that the export does not supply


def write_fitted(
    folder: Path,
    team: str,
    base: str,
    export: Path,
    reading: Reading,
    *,
    force: bool = False,
) -> FittedFiles:
    """A pack extending `base` without the milestones the export cannot measure, a mapping
    file naming how each column is read, and a test case; refuse to overwrite unless forced."""
    from dealgate.judging.coverage import COLUMN_HINT, how_to_supply, measure

    base_pack = load_pack(base, PackCatalog(cwd=folder.parent))
    source = reading.open(export, base_pack)
    written_stages: dict[str, str] = {}
    for read in source:  # every record: the stages it uses, and keys of later JSON records
        if read.stage_id is None and read.deal.stage:
            written_stages.setdefault(read.deal.stage.strip().casefold(), read.deal.stage)
    coverage = measure(base_pack, source.supply)
    removed = [entry for entry in coverage.unmeasured if not entry.partly]
    files = FittedFiles(
        folder / f"{team}.yaml",
        folder.parent / "mappings" / f"{team}.yaml",  # beside rules/: it is not a pack
        folder / "tests" / f"{team}.yaml",
        len(removed),
        tuple(coverage.lacking),
    )
    existing = [path for path in (files.pack, files.mapping, files.tests) if path.exists()]
    if existing and not force:
        raise UsageError(f"{existing[0]} already exists; use --force to overwrite it")

    remove_lines = [
        f"  - {entry.milestone.id}  # {entry.milestone.milestone}; needs {', '.join(entry.lacks)}"
        for entry in removed
    ]
    partly = [entry for entry in coverage.unmeasured if entry.partly]
    kept = "".join(
        f"# Kept, measured on the deals the export decides: {entry.milestone.id} "
        f"(needs {', '.join(entry.lacks)} for the others)\n"
        for entry in partly
    )
    remove = (
        "remove:\n" + "\n".join(remove_lines) + "\n" + kept
        if removed
        else f"# {export.name} measures every milestone of {base}.\n" + kept
    )
    lacking = "".join(
        f'#   "Your header": {name}    # {", ".join(ids)}\n'
        if how_to_supply(name) == COLUMN_HINT
        else f"# {name} ({', '.join(ids)}): {how_to_supply(name, coverage.supply)}\n"
        for name, ids in coverage.lacking.items()
    )
    if lacking:
        lacking = (
            f"# Fields {base} reads that {export.name} has no column for: add one to the CRM\n"
            "# report and map it here.\n" + lacking
        )
    unknown = "".join(
        f"#   {_yaml_text(text)}: STAGE_ID\n" for _, text in sorted(written_stages.items())
    )
    if unknown:
        stage_ids = ", ".join(stage.id for stage in base_pack.stages)
        unknown = (
            f"# Stage values {base} does not know: name the pack stage each one means "
            f"({stage_ids}) and uncomment.\n# stages:\n" + unknown
        )
    columns = "".join(
        f"  {_yaml_text(use.header)}: {use.field}\n"
        for use in source.mapper.plan
        if use.field is not None and use.kind in ("canonical", "custom")
    )
    profile = (
        source.profile.name if source.profile.name in ("salesforce", "hubspot") else "canonical"
    )
    context = {
        "team": team,
        "title": f"{team.replace('-', ' ').title()} sales process",
        "base": base,
        "export": export.as_posix(),
        "folder": folder.as_posix(),
        "pack": files.pack.as_posix(),
        "mapping": files.mapping.as_posix(),
        "profile": profile,
        "columns": columns or "  {}\n",
        "lacking": lacking,
        "stages": unknown,
        "remove": remove,
    }
    first = base_pack.open_stages[0]
    gone = {entry.milestone.id for entry in removed}
    tests = {
        "team": team,
        "first_stage": first.id,
        "first_stage_milestones": ", ".join(m.id for m in first.exit if m.id not in gone),
    }
    files.tests.parent.mkdir(parents=True, exist_ok=True)
    files.mapping.parent.mkdir(parents=True, exist_ok=True)
    files.pack.write_text(_FITTED_PACK.format(**context), encoding="utf-8")
    files.mapping.write_text(_FITTED_MAPPING.format(**context), encoding="utf-8")
    files.tests.write_text(_TESTS.format(**tests), encoding="utf-8")
    return files


def _yaml_text(text: str) -> str:
    """A header or stage value as a YAML scalar: JSON's double-quoted string is one."""
    return json.dumps(text, ensure_ascii=False)
