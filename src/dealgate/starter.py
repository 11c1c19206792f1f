"""`dealgate init`: a starter rules/ folder for a team, commented to teach the pack language."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
