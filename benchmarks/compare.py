#!/usr/bin/env python3
"""`dealgate audit` side by side with what a team might write instead (issue 5).

One run writes a synthetic Salesforce pipeline and its contact roles (benchmarks/synthetic.py,
seed 7, the mess of real exports included) and times, from the command line, each approach
reading that CSV, normalising it and writing the exception list of the default pack
(`buyer-journey`) to CSV:

  dealgate-sql        `dealgate audit --engine sql`, the real CLI, start-up included
  dealgate-durable    `dealgate audit` with the default engine (durable_rules)
  duckdb              a hand-written DuckDB query of the same checks (read_csv, COPY ... TO)
  polars              the same in Polars (scan_csv, lazy expressions, sink_csv)
  durable-rules       durable_rules' Python API, one fact per deal
  zen-engine          one compiled zen-engine expression evaluated per deal
  rule-engine         the `rule-engine` package, `Rule.matches` per deal

The last three read the CSV with the csv module and normalise each row in Python, as a team
would; their rules see the same prepared dict. Every approach runs as a fresh child process
(wall time and peak RSS from wait4), so start-up and imports count for all alike.

The slow approaches (dealgate-durable and the three per-deal engines) run by default on a
smaller pipeline of --sample deals and their rate is extrapolated to --deals; the table says so.

Before timing, every approach audits a small pipeline (--check-deals) and its exception list
(deal id, milestone, kind, status) is compared with dealgate's own CSV: disagreements are
printed and make the run exit 1.

Usage:
    python benchmarks/compare.py --deals 1000000 --repeat 3 --json compare.json
    python benchmarks/compare.py --deals 100000 --skip dealgate-durable durable-rules
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_audit import cpu_model  # noqa: E402

AS_OF = date(2026, 11, 27)
PACK = "buyer-journey"

# --- the default pack, written out by hand -------------------------------------------------
# A team writing its own checks copies these from the pack; `verify_tables` holds them against
# the pack dealgate loads, so they cannot drift apart unnoticed.

# Open stages in process order: position -> CRM names (compared trimmed, case ignored).
STAGE_NAMES: dict[int, tuple[str, ...]] = {
    0: ("qualify", "prospecting", "qualification", "appointmentscheduled", "appointment scheduled"),
    1: ("discover", "needs analysis", "qualifiedtobuy", "qualified to buy"),
    2: (
        "validate",
        "value proposition",
        "id. decision makers",
        "perception analysis",
        "presentationscheduled",
        "presentation scheduled",
    ),
    3: ("propose", "proposal/price quote"),
    4: ("negotiate", "negotiation/review", "decisionmakerboughtin", "decision maker bought-in"),
    5: ("contract", "contractsent", "contract sent"),
}
CLOSED_NAMES = ("closed_won", "closed won", "closedwon", "closed_lost", "closed lost", "closedlost")
STAGE_OF_NAME = {name: position for position, names in STAGE_NAMES.items() for name in names}

# Milestone id -> the position of the stage it is an exit of (None: a hygiene check).
MILESTONE_STAGES: dict[str, int | None] = {
    "QUAL-PAIN": 0,
    "QUAL-CONTACT": 0,
    "QUAL-DISCOVERY-MEETING": 0,
    "DISC-METRICS": 1,
    "DISC-CRITERIA": 1,
    "DISC-EB-NAMED": 1,
    "DISC-CHAMPION": 1,
    "DISC-COMPETITION": 1,
    "VAL-SOLUTION-FIT": 2,
    "VAL-DECISION-PROCESS": 2,
    "VAL-CHAMPION-TESTED": 2,
    "VAL-EB-MET": 2,
    "VAL-MAP": 2,
    "PROP-BUSINESS-CASE": 3,
    "PROP-PAPER-PROCESS": 3,
    "PROP-PROPOSAL-SENT": 3,
    "PROP-SELECTED": 3,
    "PROP-COMPELLING-EVENT": 3,
    "NEG-VERBAL-COMMIT": 4,
    "NEG-TERMS": 4,
    "NEG-LEGAL": 4,
    "NEG-SECURITY": 4,
    "NEG-CONTRACT-SENT": 4,
    "CON-SIGNED": 5,
    "CON-PO": 5,
    "CON-KICKOFF": 5,
    "HYG-CLOSE-PAST": None,
    "HYG-NEXT-STEP": None,
    "HYG-ACTIVITY": None,
    "HYG-AMOUNT": None,
    "HYG-MULTI-THREAD": None,
    "HYG-CLOSE-PUSHED": None,
    "HYG-MAP-ON-TRACK": None,
}
# HYG-STAGE-MOVED applies only when a deal has a stage history; a Salesforce opportunity
# report has none, so it never applies here and no approach below writes it.
NEVER_APPLIES = ("HYG-STAGE-MOVED",)

# Values reps type to get past a required field: read as blank (dealgate's list).
PLACEHOLDERS = (
    "n/a", "na", "n.a.", "n.a", "tbd", "tbc", "tba", "-", "--", "---", "?", "??", "???",
    ".", "..", "...", "xxx", "#n/a",
)  # fmt: skip
TRUE_WORDS = ("yes", "y", "true", "t", "1", "x", "on")
FALSE_WORDS = ("no", "n", "false", "f", "0", "off")

# Columns of the Salesforce opportunity report the checks read, by what they hold.
TEXT_COLUMNS = {
    "pain": "Pain",
    "pain_confirmed_by": "Pain Confirmed By",
    "metrics": "Metrics",
    "decision_criteria": "Decision Criteria",
    "economic_buyer": "Economic Buyer",
    "champion": "Champion",
    "competitors": "Competitors",
    "decision_process": "Decision Process",
    "paper_process": "Paper Process",
    "compelling_event": "Compelling Event",
    "signatory": "Signatory",
    "purchase_order_number": "Purchase Order Number",
    "next_step": "Next Step",
}
DATE_COLUMNS = {
    "discovery_meeting_on": "Discovery Meeting On",
    "solution_validated_on": "Solution Validated On",
    "champion_tested_on": "Champion Tested On",
    "economic_buyer_met_on": "Economic Buyer Met On",
    "action_plan_agreed_on": "Action Plan Agreed On",
    "business_case_approved_on": "Business Case Approved On",
    "proposal_sent_on": "Proposal Sent On",
    "vendor_selected_on": "Vendor Selected On",
    "verbal_commit_on": "Verbal Commit On",
    "terms_agreed_on": "Terms Agreed On",
    "legal_review_done_on": "Legal Review Done On",
    "security_review_done_on": "Security Review Done On",
    "contract_sent_on": "Contract Sent On",
    "contract_signed_on": "Contract Signed On",
    "kickoff_date": "Kickoff Date",
    "close_date": "Close Date",
    "next_step_date": "Next Step Date",
    "last_activity_date": "Last Activity",
}
BOOLEAN_COLUMNS = {
    "security_review_required": "Security Review Required",
    "purchase_order_required": "Purchase Order Required",
}
ID_COLUMN, STAGE_COLUMN, AMOUNT_COLUMN = "Opportunity ID", "Stage", "Amount"
PUSHES_COLUMN, PLAN_COLUMN = "Push Count", "Action Plan"
ROLE_DEAL, ROLE_NAME, ROLE_TITLE = "OpportunityId", "Contact: Full Name", "Title"

EXCEPTION_COLUMNS = ("deal_id", "milestone_id", "kind", "status")

# --- per-deal engines: one condition per milestone, true when it is missing ---------------
# Over the prepared dict of `normalise_row` (dates as day numbers, `today` among the values).
# The same text is valid in zen-engine's and rule-engine's languages.


def _applies_at(position: int) -> str:
    return f"stage != null and stage >= {position}"


MISSING_WHEN: dict[str, str] = {
    "QUAL-PAIN": "pain == null or pain_confirmed_by == null",
    "QUAL-CONTACT": "not contacts_named",
    "QUAL-DISCOVERY-MEETING": "discovery_meeting_on == null",
    "DISC-METRICS": "metrics == null",
    "DISC-CRITERIA": "decision_criteria == null",
    "DISC-EB-NAMED": "economic_buyer == null",
    "DISC-CHAMPION": "champion == null",
    "DISC-COMPETITION": "competitors == null",
    "VAL-SOLUTION-FIT": "solution_validated_on == null",
    "VAL-DECISION-PROCESS": "decision_process == null",
    "VAL-CHAMPION-TESTED": "champion == null or champion_tested_on == null",
    "VAL-EB-MET": "economic_buyer == null or economic_buyer_met_on == null",
    "VAL-MAP": "action_plan_agreed_on == null or not plan_has_buyer_step or not plan_complete",
    "PROP-BUSINESS-CASE": "business_case_approved_on == null",
    "PROP-PAPER-PROCESS": "paper_process == null",
    "PROP-PROPOSAL-SENT": "proposal_sent_on == null",
    "PROP-SELECTED": "vendor_selected_on == null",
    "PROP-COMPELLING-EVENT": "compelling_event == null",
    "NEG-VERBAL-COMMIT": "verbal_commit_on == null",
    "NEG-TERMS": "terms_agreed_on == null",
    "NEG-LEGAL": "legal_review_done_on == null",
    "NEG-SECURITY": "security_review_required != false and security_review_done_on == null",
    "NEG-CONTRACT-SENT": "contract_sent_on == null or signatory == null",
    "CON-SIGNED": "contract_signed_on == null",
    "CON-PO": "purchase_order_required == true and purchase_order_number == null",
    "CON-KICKOFF": "kickoff_date == null",
    "HYG-CLOSE-PAST": "close_date == null or close_date < today",
    "HYG-NEXT-STEP": "next_step == null or next_step_date == null or next_step_date < today",
    "HYG-ACTIVITY": "last_activity_date == null or today - last_activity_date > 14",
    "HYG-AMOUNT": "stage != null and stage > 0 and (amount == null or amount <= 0)",
    "HYG-MULTI-THREAD": "stage != null and stage >= 3 and contacts_count < 2",
    "HYG-CLOSE-PUSHED": "close_date_pushes != null and close_date_pushes >= 3",
    "HYG-MAP-ON-TRACK": "plan_steps != null and plan_steps > 0 and plan_overdue",
}


def missing_expression(milestone_id: str) -> str:
    """The full condition: the milestone applies at the deal's stage, and it is missing."""
    position = MILESTONE_STAGES[milestone_id]
    condition = MISSING_WHEN[milestone_id]
    return condition if position is None else f"{_applies_at(position)} and ({condition})"


# --- the Python normalisation a team would write ------------------------------------------

_MDY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONEY_SYMBOL = re.compile(r"^(-?)\s*(US\$|A\$|C\$|R\$|\$|€|£|¥|₹|[A-Z]{3}\s)?\s*(.*?)\s*(€|£)?$")
# An amount's digits: grouped with commas (12,500.00) or plain (12500, 12500.5, .5).
MONEY_DIGITS = r"\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d+)?|\.\d+"
_MONEY_NUMBER = re.compile(MONEY_DIGITS)
_PLACEHOLDER_SET = frozenset(PLACEHOLDERS)


def text_value(raw: str | None) -> str | None:
    """Trimmed text; None when blank or a placeholder."""
    if raw is None:
        return None
    text = raw.strip()
    if not text or text.lower() in _PLACEHOLDER_SET:
        return None
    return text


def day_number(raw: str | None, cache: dict[str, int | None]) -> int | None:
    """A date written M/D/YYYY or YYYY-MM-DD, as a day number; None when unreadable."""
    text = text_value(raw)
    if text is None:
        return None
    if text in cache:
        return cache[text]
    found: int | None = None
    match = _MDY.fullmatch(text)
    try:
        if match:
            month, day, year = (int(part) for part in match.groups())
            found = date(year, month, day).toordinal()
        elif match := _ISO.fullmatch(text):
            found = date(*(int(part) for part in match.groups())).toordinal()
    except ValueError:
        found = None
    cache[text] = found
    return found


def money_value(raw: str | None) -> float | None:
    """`$12,500.00`, `USD 12,500.00`, `(1,200)`, `900`: the amount; None when unreadable."""
    text = text_value(raw)
    if text is None:
        return None
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1].strip()
    match = _MONEY_SYMBOL.fullmatch(text)
    if match is None or not _MONEY_NUMBER.fullmatch(match.group(3)):
        return None
    amount = float(match.group(3).replace(",", ""))
    return -amount if negative or match.group(1) else amount


def boolean_value(raw: str | None) -> bool | None:
    text = text_value(raw)
    if text is None:
        return None
    word = text.lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


def count_value(raw: str | None) -> int | None:
    text = text_value(raw)
    if text is None or not text.isdigit():
        return None
    return int(text)


def deal_key(deal_id: str) -> str:
    """Contact roles name a deal by its 15- or 18-character Salesforce id."""
    return deal_id[:15] if len(deal_id) == 18 else deal_id


def read_contacts_python(path: Path) -> dict[str, tuple[int, bool]]:
    """Per deal key: how many contact roles, and whether one has a name and a title."""
    contacts: dict[str, tuple[int, bool]] = {}
    with path.open(encoding="utf-8-sig", newline="") as stream:
        for row in csv.DictReader(stream):
            opportunity = (row[ROLE_DEAL] or "").strip()
            if not opportunity:
                continue
            named = bool((row[ROLE_NAME] or "").strip() and (row[ROLE_TITLE] or "").strip())
            count, any_named = contacts.get(deal_key(opportunity), (0, False))
            contacts[deal_key(opportunity)] = (count + 1, any_named or named)
    return contacts


def plan_values(raw: str | None, dates: dict[str, int | None], today: int) -> dict[str, Any]:
    """The action plan (JSON list of steps) as the four facts the checks need."""
    text = text_value(raw)
    steps = None
    if text is not None:
        try:
            steps = json.loads(text)
        except json.JSONDecodeError:
            steps = None
    if not isinstance(steps, list):
        return {
            "plan_steps": None,
            "plan_has_buyer_step": False,
            "plan_complete": False,
            "plan_overdue": False,
        }
    complete = True
    has_buyer = overdue = False
    for step in steps:
        step = step if isinstance(step, dict) else {}
        side = text_value(_str(step.get("owner_side")))
        due = day_number(_str(step.get("due")), dates)
        done_on = day_number(_str(step.get("done_on")), dates)
        has_buyer = has_buyer or side == "buyer"
        owned = side in ("buyer", "seller") and text_value(_str(step.get("owner"))) is not None
        complete = complete and owned and due is not None
        overdue = overdue or (done_on is None and due is not None and due < today)
    return {
        "plan_steps": len(steps),
        "plan_has_buyer_step": has_buyer,
        "plan_complete": complete,
        "plan_overdue": overdue,
    }


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def normalise_row(
    row: dict[str, str],
    contacts: dict[str, tuple[int, bool]],
    dates: dict[str, int | None],
    today: int,
) -> dict[str, Any] | None:
    """One CSV row as the flat dict the per-deal rules read; None for a row without an id."""
    deal_id = text_value(row[ID_COLUMN])
    if deal_id is None:
        return None
    stage_text = text_value(row[STAGE_COLUMN])
    stage_key = " ".join(stage_text.split()).lower() if stage_text else None
    deal: dict[str, Any] = {
        "id": deal_id,
        "closed": stage_key in CLOSED_NAMES,
        "stage": STAGE_OF_NAME.get(stage_key) if stage_key else None,
        "today": today,
        "amount": money_value(row[AMOUNT_COLUMN]),
        "close_date_pushes": count_value(row[PUSHES_COLUMN]),
    }
    for name, column in TEXT_COLUMNS.items():
        deal[name] = text_value(row[column])
    for name, column in DATE_COLUMNS.items():
        deal[name] = day_number(row[column], dates)
    for name, column in BOOLEAN_COLUMNS.items():
        deal[name] = boolean_value(row[column])
    count, named = contacts.get(deal_key(deal_id), (0, False))
    deal["contacts_count"], deal["contacts_named"] = count, named
    deal.update(plan_values(row[PLAN_COLUMN], dates, today))
    return deal


def read_deals_python(deals_csv: Path, roles_csv: Path) -> list[dict[str, Any]]:
    """The open (or unknown-stage) deals of the export, normalised; closed ones left out."""
    contacts = read_contacts_python(roles_csv)
    dates: dict[str, int | None] = {}
    today = AS_OF.toordinal()
    deals = []
    with deals_csv.open(encoding="utf-8-sig", newline="") as stream:
        for row in csv.DictReader(stream):
            deal = normalise_row(row, contacts, dates, today)
            if deal is not None and not deal["closed"]:
                deals.append(deal)
    return deals


def exception_rows(deal: dict[str, Any], missing: Iterable[str]) -> list[tuple[str, ...]]:
    """dealgate's exception list for one deal: every missing milestone, when any of them is
    skipped or hygiene (a deal missing only its own stage's exits needs no attention)."""
    stage = deal["stage"]
    rows: list[tuple[str, ...]] = []
    attention = False
    for milestone_id in missing:
        position = MILESTONE_STAGES[milestone_id]
        if position is None:
            kind = "hygiene"
        elif position < stage:
            kind = "skipped"
        else:
            kind = "to-advance"
        attention = attention or kind != "to-advance"
        rows.append((deal["id"], milestone_id, kind, "missing"))
    return rows if attention else []


def write_exceptions(path: Path, rows: list[tuple[str, ...]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(EXCEPTION_COLUMNS)
        writer.writerows(rows)


def per_deal_run(
    deals_csv: Path, roles_csv: Path, out_csv: Path, evaluate: Callable[[dict[str, Any]], Any]
) -> dict[str, float]:
    """Read and normalise in Python, call `evaluate` per deal, write the exception list."""
    started = time.perf_counter()
    deals = read_deals_python(deals_csv, roles_csv)
    normalised = time.perf_counter()
    rows = [row for deal in deals for row in exception_rows(deal, evaluate(deal))]
    evaluated = time.perf_counter()
    write_exceptions(out_csv, rows)
    return {
        "read_and_normalise_s": normalised - started,
        "evaluate_s": evaluated - normalised,
        "deals_evaluated": len(deals),
    }


# --- the approaches, each run in a child process ------------------------------------------


def run_zen_engine(deals_csv: Path, roles_csv: Path, out_csv: Path) -> dict[str, float]:
    """zen-engine: one compiled expression per deal, listing the ids of the missing milestones.

    Most of an evaluation is taking in the deal dict: 33 expressions per deal, one per
    milestone, cost about 20 times one expression that answers for every milestone at once.
    """
    import zen

    every_milestone = ", ".join(f"({missing_expression(m)}) ? '{m}' : null" for m in MISSING_WHEN)
    compiled = zen.compile_expression(f"[{every_milestone}]")

    def evaluate(deal: dict[str, Any]) -> list[str]:
        return [milestone for milestone in compiled.evaluate(deal) if milestone is not None]

    return per_deal_run(deals_csv, roles_csv, out_csv, evaluate)


def run_rule_engine(deals_csv: Path, roles_csv: Path, out_csv: Path) -> dict[str, float]:
    """The `rule-engine` package: one Rule per milestone, `matches` on each deal."""
    import rule_engine

    rules = [(m, rule_engine.Rule(missing_expression(m))) for m in MISSING_WHEN]

    def evaluate(deal: dict[str, Any]) -> list[str]:
        return [milestone for milestone, rule in rules if rule.matches(deal)]

    return per_deal_run(deals_csv, roles_csv, out_csv, evaluate)


def run_durable_rules(deals_csv: Path, roles_csv: Path, out_csv: Path) -> dict[str, float]:
    """durable_rules' Python API: one rule per milestone, one fact per deal, retracted after.

    Absent properties are missing values; every rule is guarded by `kind == 'deal'`
    (see shared notes on durable_rules: a rule testing only absence loops on its own state).
    A rule with `|` fires once per true side, so the fired milestones are a set.
    """
    from durable.lang import assert_fact, m, retract_fact, ruleset, when_all

    today = AS_OF.toordinal()

    def at(position: int) -> Any:
        return m.stage >= position

    missing_when: dict[str, Any] = {
        "QUAL-PAIN": at(0) & (-m.pain | -m.pain_confirmed_by),
        "QUAL-CONTACT": at(0) & (m.contacts_named == False),  # noqa: E712 - durable DSL
        "QUAL-DISCOVERY-MEETING": at(0) & -m.discovery_meeting_on,
        "DISC-METRICS": at(1) & -m.metrics,
        "DISC-CRITERIA": at(1) & -m.decision_criteria,
        "DISC-EB-NAMED": at(1) & -m.economic_buyer,
        "DISC-CHAMPION": at(1) & -m.champion,
        "DISC-COMPETITION": at(1) & -m.competitors,
        "VAL-SOLUTION-FIT": at(2) & -m.solution_validated_on,
        "VAL-DECISION-PROCESS": at(2) & -m.decision_process,
        "VAL-CHAMPION-TESTED": at(2) & (-m.champion | -m.champion_tested_on),
        "VAL-EB-MET": at(2) & (-m.economic_buyer | -m.economic_buyer_met_on),
        "VAL-MAP": at(2)
        & (
            -m.action_plan_agreed_on
            | (m.plan_has_buyer_step == False)  # noqa: E712
            | (m.plan_complete == False)  # noqa: E712
        ),
        "PROP-BUSINESS-CASE": at(3) & -m.business_case_approved_on,
        "PROP-PAPER-PROCESS": at(3) & -m.paper_process,
        "PROP-PROPOSAL-SENT": at(3) & -m.proposal_sent_on,
        "PROP-SELECTED": at(3) & -m.vendor_selected_on,
        "PROP-COMPELLING-EVENT": at(3) & -m.compelling_event,
        "NEG-VERBAL-COMMIT": at(4) & -m.verbal_commit_on,
        "NEG-TERMS": at(4) & -m.terms_agreed_on,
        "NEG-LEGAL": at(4) & -m.legal_review_done_on,
        "NEG-SECURITY": at(4)
        & (-m.security_review_required | (m.security_review_required == True))  # noqa: E712
        & -m.security_review_done_on,
        "NEG-CONTRACT-SENT": at(4) & (-m.contract_sent_on | -m.signatory),
        "CON-SIGNED": at(5) & -m.contract_signed_on,
        "CON-PO": at(5)
        & (m.purchase_order_required == True)  # noqa: E712
        & -m.purchase_order_number,
        "CON-KICKOFF": at(5) & -m.kickoff_date,
        "HYG-CLOSE-PAST": -m.close_date | (m.close_date < today),
        "HYG-NEXT-STEP": -m.next_step | -m.next_step_date | (m.next_step_date < today),
        "HYG-ACTIVITY": -m.last_activity_date | (m.last_activity_date < today - 14),
        "HYG-AMOUNT": (m.stage > 0) & (-m.amount | (m.amount <= 0)),
        "HYG-MULTI-THREAD": (m.stage >= 3) & (m.contacts_count < 2),
        "HYG-CLOSE-PUSHED": m.close_date_pushes >= 3,
        "HYG-MAP-ON-TRACK": (m.plan_steps > 0) & (m.plan_overdue == True),  # noqa: E712
    }
    fired: set[tuple[int, str]] = set()
    name = f"compare_{os.getpid()}"

    def action_for(milestone: str) -> Callable[[Any], None]:
        # Exactly one parameter: durable takes a two-parameter action as asynchronous.
        def action(c: Any) -> None:
            fired.add((c.m.seq, milestone))

        return action

    with ruleset(name):
        for milestone, condition in missing_when.items():
            when_all((m.kind == "deal") & condition)(action_for(milestone))

    numbers = itertools.count(1)

    def evaluate(deal: dict[str, Any]) -> set[str]:
        # A sequence number keeps two rows of the same deal apart (durable drops equal facts).
        fact = {k: v for k, v in deal.items() if v is not None}
        fact["kind"] = "deal"
        fact["seq"] = seq = next(numbers)
        fired.clear()
        try:
            assert_fact(name, fact)
        except Exception as error:  # a deal missing nothing matches no rule: normal here
            if type(error).__name__ != "MessageNotHandledException":
                raise
        else:
            retract_fact(name, fact)
        return {milestone for number, milestone in fired if number == seq}

    return per_deal_run(deals_csv, roles_csv, out_csv, evaluate)


def run_duckdb(deals_csv: Path, roles_csv: Path, out_csv: Path) -> dict[str, float]:
    """A hand-written DuckDB query: read both CSVs as text, normalise, check, COPY to CSV."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(duckdb_query(deals_csv, roles_csv, out_csv))
    return {"query_s": time.perf_counter() - started}


def _sql_list(words: tuple[str, ...]) -> str:
    return "(" + ", ".join("'" + word.replace("'", "''") + "'" for word in words) + ")"


def duckdb_query(deals_csv: Path, roles_csv: Path, out_csv: Path) -> str:
    """The whole audit as SQL: macros for the normalisation, one CASE per milestone."""
    today = f"DATE '{AS_OF.isoformat()}'"
    stage_cases = " ".join(
        f"WHEN stage_key IN {_sql_list(names)} THEN {position}"
        for position, names in STAGE_NAMES.items()
    )
    milestone_stage = ", ".join(
        f"'{m}': {'NULL' if s is None else s}" for m, s in MILESTONE_STAGES.items()
    )

    def col(header: str) -> str:
        return '"' + header + '"'

    def missing(milestone_id: str, condition: str) -> str:
        position = MILESTONE_STAGES[milestone_id]
        applies = "TRUE" if position is None else f"stage >= {position}"
        return f"CASE WHEN {applies} AND ({condition}) THEN '{milestone_id}' END"

    checks = [
        missing("QUAL-PAIN", "pain IS NULL OR pain_confirmed_by IS NULL"),
        missing("QUAL-CONTACT", "NOT contacts_named"),
        missing("QUAL-DISCOVERY-MEETING", "discovery_meeting_on IS NULL"),
        missing("DISC-METRICS", "metrics IS NULL"),
        missing("DISC-CRITERIA", "decision_criteria IS NULL"),
        missing("DISC-EB-NAMED", "economic_buyer IS NULL"),
        missing("DISC-CHAMPION", "champion IS NULL"),
        missing("DISC-COMPETITION", "competitors IS NULL"),
        missing("VAL-SOLUTION-FIT", "solution_validated_on IS NULL"),
        missing("VAL-DECISION-PROCESS", "decision_process IS NULL"),
        missing("VAL-CHAMPION-TESTED", "champion IS NULL OR champion_tested_on IS NULL"),
        missing("VAL-EB-MET", "economic_buyer IS NULL OR economic_buyer_met_on IS NULL"),
        missing(
            "VAL-MAP",
            "action_plan_agreed_on IS NULL OR NOT plan_has_buyer_step OR NOT plan_complete",
        ),
        missing("PROP-BUSINESS-CASE", "business_case_approved_on IS NULL"),
        missing("PROP-PAPER-PROCESS", "paper_process IS NULL"),
        missing("PROP-PROPOSAL-SENT", "proposal_sent_on IS NULL"),
        missing("PROP-SELECTED", "vendor_selected_on IS NULL"),
        missing("PROP-COMPELLING-EVENT", "compelling_event IS NULL"),
        missing("NEG-VERBAL-COMMIT", "verbal_commit_on IS NULL"),
        missing("NEG-TERMS", "terms_agreed_on IS NULL"),
        missing("NEG-LEGAL", "legal_review_done_on IS NULL"),
        missing(
            "NEG-SECURITY",
            "security_review_required IS DISTINCT FROM FALSE AND security_review_done_on IS NULL",
        ),
        missing("NEG-CONTRACT-SENT", "contract_sent_on IS NULL OR signatory IS NULL"),
        missing("CON-SIGNED", "contract_signed_on IS NULL"),
        missing("CON-PO", "purchase_order_required AND purchase_order_number IS NULL"),
        missing("CON-KICKOFF", "kickoff_date IS NULL"),
        missing("HYG-CLOSE-PAST", f"close_date IS NULL OR close_date < {today}"),
        missing(
            "HYG-NEXT-STEP",
            f"next_step IS NULL OR next_step_date IS NULL OR next_step_date < {today}",
        ),
        missing(
            "HYG-ACTIVITY",
            f"last_activity_date IS NULL OR {today} - last_activity_date > 14",
        ),
        missing("HYG-AMOUNT", "stage > 0 AND (amount IS NULL OR amount <= 0)"),
        missing("HYG-MULTI-THREAD", "stage >= 3 AND contacts_count < 2"),
        missing("HYG-CLOSE-PUSHED", "close_date_pushes >= 3"),
        missing("HYG-MAP-ON-TRACK", "plan_steps > 0 AND plan_overdue"),
    ]
    normalised = ",\n        ".join(
        [
            *(f"txt({col(c)}) AS {n}" for n, c in TEXT_COLUMNS.items()),
            *(f"day({col(c)}) AS {n}" for n, c in DATE_COLUMNS.items()),
            *(f"yes_no({col(c)}) AS {n}" for n, c in BOOLEAN_COLUMNS.items()),
        ]
    )
    plan_type = (
        '[{"owner_side": "VARCHAR", "owner": "VARCHAR", "due": "VARCHAR", "done_on": "VARCHAR"}]'
    )
    return f"""
CREATE MACRO txt(x) AS CASE
    WHEN trim(x) = '' OR lower(trim(x)) IN {_sql_list(PLACEHOLDERS)} THEN NULL ELSE trim(x) END;
CREATE MACRO day(x) AS coalesce(
    try_strptime(txt(x), '%m/%d/%Y')::DATE, try_strptime(txt(x), '%Y-%m-%d')::DATE);
CREATE MACRO yes_no(x) AS CASE
    WHEN lower(txt(x)) IN {_sql_list(TRUE_WORDS)} THEN TRUE
    WHEN lower(txt(x)) IN {_sql_list(FALSE_WORDS)} THEN FALSE END;
CREATE MACRO money_body(x) AS regexp_extract(
    txt(x), '^\\(?(-?)\\s*(?:US\\$|[ACR]\\$|\\$|€|£|¥|₹|[A-Z]{{3}}\\s)?\\s*(.*?)\\s*(?:€|£)?\\)?$',
    ['sign', 'digits']);
CREATE MACRO money(x) AS CASE
    WHEN regexp_full_match(money_body(x).digits, '{MONEY_DIGITS}')
    THEN replace(money_body(x).digits, ',', '')::DOUBLE
        * CASE WHEN money_body(x).sign = '-' OR starts_with(txt(x), '(') THEN -1 ELSE 1 END
    END;
CREATE MACRO exit_stage(m) AS (MAP {{{milestone_stage}}})[m];
CREATE MACRO deal_key(x) AS CASE WHEN length(x) = 18 THEN left(x, 15) ELSE x END;

COPY (
WITH contacts AS (
    SELECT deal_key(trim({col(ROLE_DEAL)})) AS deal_key,
        count(*) AS contacts_count,
        coalesce(bool_or(trim({col(ROLE_NAME)}) <> '' AND trim({col(ROLE_TITLE)}) <> ''), FALSE)
            AS contacts_named
    FROM read_csv('{roles_csv}', all_varchar = true, header = true)
    WHERE trim({col(ROLE_DEAL)}) <> ''
    GROUP BY ALL
),
rows AS (
    SELECT txt({col(ID_COLUMN)}) AS deal_id,
        lower(regexp_replace(txt({col(STAGE_COLUMN)}), '\\s+', ' ', 'g')) AS stage_key,
        money({col(AMOUNT_COLUMN)}) AS amount,
        CASE WHEN regexp_full_match(txt({col(PUSHES_COLUMN)}), '\\d+')
            THEN txt({col(PUSHES_COLUMN)})::BIGINT END AS close_date_pushes,
        CASE WHEN json_valid(txt({col(PLAN_COLUMN)}))
            THEN from_json(txt({col(PLAN_COLUMN)}), '{plan_type}') END AS plan,
        {normalised}
    FROM read_csv('{deals_csv}', all_varchar = true, header = true)
),
deals AS (
    SELECT rows.*,
        CASE {stage_cases} END AS stage,
        coalesce(contacts.contacts_count, 0) AS contacts_count,
        coalesce(contacts.contacts_named, FALSE) AS contacts_named,
        len(plan) AS plan_steps,
        coalesce(len(list_filter(plan, lambda s: txt(s.owner_side) = 'buyer')) > 0, FALSE)
            AS plan_has_buyer_step,
        coalesce(len(list_filter(plan, lambda s: NOT coalesce(
            txt(s.owner_side) IN ('buyer', 'seller')
            AND txt(s.owner) IS NOT NULL AND day(s.due) IS NOT NULL, FALSE))) = 0, FALSE)
            AS plan_complete,
        coalesce(len(list_filter(plan, lambda s: day(s.done_on) IS NULL AND day(s.due) < {today}))
            > 0, FALSE) AS plan_overdue
    FROM rows LEFT JOIN contacts ON contacts.deal_key = deal_key(rows.deal_id)
    WHERE rows.deal_id IS NOT NULL
        AND (stage_key IS NULL OR stage_key NOT IN {_sql_list(CLOSED_NAMES)})
),
found AS (
    SELECT deal_id, stage,
        list_filter([{", ".join(checks)}], lambda m: m IS NOT NULL) AS missing
    FROM deals
),
findings AS (
    SELECT deal_id, stage, unnest(missing) AS milestone_id,
        len(list_filter(missing, lambda m: coalesce(exit_stage(m) < stage, TRUE))) > 0 AS attention
    FROM found
)
SELECT deal_id, milestone_id,
    CASE WHEN exit_stage(milestone_id) IS NULL THEN 'hygiene'
         WHEN exit_stage(milestone_id) < stage THEN 'skipped'
         ELSE 'to-advance' END AS kind,
    'missing' AS status
FROM findings WHERE attention
) TO '{out_csv}' (HEADER, DELIMITER ',');
"""


def run_polars(deals_csv: Path, roles_csv: Path, out_csv: Path) -> dict[str, float]:
    """The same checks in Polars: lazy scan_csv as strings, expressions, write_csv."""
    import polars as pl

    started = time.perf_counter()
    today = pl.lit(AS_OF)

    def txt(expr: pl.Expr) -> pl.Expr:
        trimmed = expr.str.strip_chars()
        blank = (trimmed == "") | trimmed.str.to_lowercase().is_in(PLACEHOLDERS)
        return pl.when(blank).then(None).otherwise(trimmed)

    def day(expr: pl.Expr) -> pl.Expr:
        text = txt(expr)
        return pl.coalesce(
            text.str.to_date("%m/%d/%Y", strict=False),
            text.str.to_date("%Y-%m-%d", strict=False),
        )

    def yes_no(expr: pl.Expr) -> pl.Expr:
        word = txt(expr).str.to_lowercase()
        return pl.when(word.is_in(TRUE_WORDS)).then(True).when(word.is_in(FALSE_WORDS)).then(False)

    def money(expr: pl.Expr) -> pl.Expr:
        text = txt(expr)
        parts = text.str.extract_groups(
            r"^\(?(-?)\s*(?:US\$|[ACR]\$|\$|€|£|¥|₹|[A-Z]{3}\s)?\s*(.*?)\s*(?:€|£)?\)?$"
        )
        digits = parts.struct.field("2")
        sign = pl.when((parts.struct.field("1") == "-") | text.str.starts_with("(")).then(-1.0)
        readable = digits.str.contains(f"^({MONEY_DIGITS})$")
        return pl.when(readable).then(
            digits.str.replace_all(",", "").cast(pl.Float64) * sign.otherwise(1.0)
        )

    def key(expr: pl.Expr) -> pl.Expr:
        return pl.when(expr.str.len_chars() == 18).then(expr.str.slice(0, 15)).otherwise(expr)

    roles = pl.scan_csv(roles_csv, infer_schema=False)
    opportunity = pl.col(ROLE_DEAL).str.strip_chars()
    contacts = (
        roles.filter(opportunity != "")
        .group_by(key(opportunity).alias("deal_key"))
        .agg(
            pl.len().alias("contacts_count"),
            (
                (pl.col(ROLE_NAME).str.strip_chars() != "")
                & (pl.col(ROLE_TITLE).str.strip_chars() != "")
            )
            .fill_null(False)
            .any()
            .alias("contacts_named"),
        )
    )
    plan_type = pl.List(
        pl.Struct(
            {"owner_side": pl.String, "owner": pl.String, "due": pl.String, "done_on": pl.String}
        )
    )
    step = pl.element().struct
    stage_key = txt(pl.col(STAGE_COLUMN)).str.replace_all(r"\s+", " ").str.to_lowercase()
    deals = (
        pl.scan_csv(deals_csv, infer_schema=False)
        .select(
            txt(pl.col(ID_COLUMN)).alias("deal_id"),
            stage_key.alias("stage_key"),
            stage_key.replace_strict(STAGE_OF_NAME, default=None, return_dtype=pl.Int32).alias(
                "stage"
            ),
            money(pl.col(AMOUNT_COLUMN)).alias("amount"),
            txt(pl.col(PUSHES_COLUMN)).str.to_integer(strict=False).alias("close_date_pushes"),
            txt(pl.col(PLAN_COLUMN)).str.json_decode(plan_type).alias("plan"),
            *(txt(pl.col(c)).alias(n) for n, c in TEXT_COLUMNS.items()),
            *(day(pl.col(c)).alias(n) for n, c in DATE_COLUMNS.items()),
            *(yes_no(pl.col(c)).alias(n) for n, c in BOOLEAN_COLUMNS.items()),
        )
        .filter(
            pl.col("deal_id").is_not_null()
            & (pl.col("stage_key").is_null() | ~pl.col("stage_key").is_in(CLOSED_NAMES))
        )
        .with_columns(key(pl.col("deal_id")).alias("deal_key"))
        .join(contacts, on="deal_key", how="left")
        .with_columns(
            pl.col("contacts_count").fill_null(0),
            pl.col("contacts_named").fill_null(False),
            pl.col("plan").list.len().alias("plan_steps"),
            pl.col("plan")
            .list.eval(txt(step.field("owner_side")) == "buyer")
            .list.any()
            .fill_null(False)
            .alias("plan_has_buyer_step"),
            pl.col("plan")
            .list.eval(
                (
                    txt(step.field("owner_side")).is_in(["buyer", "seller"])
                    & txt(step.field("owner")).is_not_null()
                    & day(step.field("due")).is_not_null()
                ).fill_null(False)
            )
            .list.all()
            .fill_null(False)
            .alias("plan_complete"),
            pl.col("plan")
            .list.eval(day(step.field("done_on")).is_null() & (day(step.field("due")) < today))
            .list.any()
            .fill_null(False)
            .alias("plan_overdue"),
        )
    )
    c = pl.col
    missing_when: dict[str, pl.Expr] = {
        "QUAL-PAIN": c("pain").is_null() | c("pain_confirmed_by").is_null(),
        "QUAL-CONTACT": ~c("contacts_named"),
        "QUAL-DISCOVERY-MEETING": c("discovery_meeting_on").is_null(),
        "DISC-METRICS": c("metrics").is_null(),
        "DISC-CRITERIA": c("decision_criteria").is_null(),
        "DISC-EB-NAMED": c("economic_buyer").is_null(),
        "DISC-CHAMPION": c("champion").is_null(),
        "DISC-COMPETITION": c("competitors").is_null(),
        "VAL-SOLUTION-FIT": c("solution_validated_on").is_null(),
        "VAL-DECISION-PROCESS": c("decision_process").is_null(),
        "VAL-CHAMPION-TESTED": c("champion").is_null() | c("champion_tested_on").is_null(),
        "VAL-EB-MET": c("economic_buyer").is_null() | c("economic_buyer_met_on").is_null(),
        "VAL-MAP": c("action_plan_agreed_on").is_null()
        | ~c("plan_has_buyer_step")
        | ~c("plan_complete"),
        "PROP-BUSINESS-CASE": c("business_case_approved_on").is_null(),
        "PROP-PAPER-PROCESS": c("paper_process").is_null(),
        "PROP-PROPOSAL-SENT": c("proposal_sent_on").is_null(),
        "PROP-SELECTED": c("vendor_selected_on").is_null(),
        "PROP-COMPELLING-EVENT": c("compelling_event").is_null(),
        "NEG-VERBAL-COMMIT": c("verbal_commit_on").is_null(),
        "NEG-TERMS": c("terms_agreed_on").is_null(),
        "NEG-LEGAL": c("legal_review_done_on").is_null(),
        "NEG-SECURITY": c("security_review_required").ne_missing(False)
        & c("security_review_done_on").is_null(),
        "NEG-CONTRACT-SENT": c("contract_sent_on").is_null() | c("signatory").is_null(),
        "CON-SIGNED": c("contract_signed_on").is_null(),
        "CON-PO": c("purchase_order_required").eq_missing(True)
        & c("purchase_order_number").is_null(),
        "CON-KICKOFF": c("kickoff_date").is_null(),
        "HYG-CLOSE-PAST": c("close_date").is_null() | (c("close_date") < today),
        "HYG-NEXT-STEP": c("next_step").is_null()
        | c("next_step_date").is_null()
        | (c("next_step_date") < today),
        "HYG-ACTIVITY": c("last_activity_date").is_null()
        | ((today - c("last_activity_date")).dt.total_days() > 14),
        "HYG-AMOUNT": (c("stage") > 0) & (c("amount").is_null() | (c("amount") <= 0)),
        "HYG-MULTI-THREAD": (c("stage") >= 3) & (c("contacts_count") < 2),
        "HYG-CLOSE-PUSHED": c("close_date_pushes") >= 3,
        "HYG-MAP-ON-TRACK": (c("plan_steps") > 0) & c("plan_overdue"),
    }

    def applies(milestone_id: str) -> pl.Expr:
        position = MILESTONE_STAGES[milestone_id]
        return pl.lit(True) if position is None else c("stage") >= position

    def skipped_or_hygiene(milestone_id: str) -> pl.Expr:
        position = MILESTONE_STAGES[milestone_id]
        return pl.lit(True) if position is None else c("stage") > position

    flags = {m: (applies(m) & condition).fill_null(False) for m, condition in missing_when.items()}
    attention = pl.any_horizontal(
        [flags[m] & skipped_or_hygiene(m).fill_null(False) for m in flags]
    )
    findings = (
        deals.select(
            "deal_id",
            "stage",
            pl.concat_list([pl.when(flag).then(pl.lit(m)) for m, flag in flags.items()])
            .list.drop_nulls()
            .alias("milestone_id"),
            attention.alias("attention"),
        )
        .filter(c("attention"))
        .explode("milestone_id")
        .filter(c("milestone_id").is_not_null())
    )
    position = c("milestone_id").replace_strict(
        MILESTONE_STAGES, default=None, return_dtype=pl.Int32
    )
    exceptions = findings.select(
        "deal_id",
        "milestone_id",
        pl.when(position.is_null())
        .then(pl.lit("hygiene"))
        .when(position < c("stage"))
        .then(pl.lit("skipped"))
        .otherwise(pl.lit("to-advance"))
        .alias("kind"),
        pl.lit("missing").alias("status"),
    )
    exceptions.sink_csv(out_csv)
    return {"query_s": time.perf_counter() - started}


APPROACH_FUNCTIONS: dict[str, Callable[[Path, Path, Path], dict[str, float]]] = {
    "duckdb": run_duckdb,
    "polars": run_polars,
    "durable-rules": run_durable_rules,
    "zen-engine": run_zen_engine,
    "rule-engine": run_rule_engine,
}
DEALGATE_ENGINES = {"dealgate-sql": "sql", "dealgate-durable": "durable"}
APPROACHES = ("dealgate-sql", "dealgate-durable", "duckdb", "polars", *list(APPROACH_FUNCTIONS)[2:])
SLOW = ("dealgate-durable", "durable-rules", "zen-engine", "rule-engine")


def run_approach_in_this_process(name: str, deals_csv: Path, roles_csv: Path, out: Path) -> int:
    """Child mode: run one hand-written approach and print its own timings as JSON."""
    timings = APPROACH_FUNCTIONS[name](deals_csv, roles_csv, out)
    print(json.dumps(timings))
    return 0


# --- the benchmark: files, children, verification, report ---------------------------------


@dataclass(frozen=True)
class Pipeline:
    deals: int
    csv: Path
    roles: Path


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_mb: float
    inside: dict[str, float]
    error: str | None = None  # why the process failed (e.g. killed when memory ran out)


@dataclass
class Result:
    approach: str
    deals_timed: int
    runs: list[ChildRun] = field(default_factory=list)

    @property
    def succeeded(self) -> list[ChildRun]:
        return [run for run in self.runs if run.error is None]

    @property
    def median_s(self) -> float:
        return statistics.median(run.seconds for run in self.succeeded)

    @property
    def peak_mb(self) -> float:
        return max(run.peak_mb for run in self.runs)

    @property
    def deals_per_s(self) -> float:
        return self.deals_timed / self.median_s


def write_pipeline(work: Path, deals: int) -> Pipeline:
    """A synthetic Salesforce export and its contact roles; kept in --work and reused."""
    from synthetic import write_salesforce

    pipeline = Pipeline(
        deals, work / f"salesforce-{deals}.csv", work / f"salesforce-{deals}-roles.csv"
    )
    if not pipeline.csv.exists() or not pipeline.roles.exists():
        started = time.perf_counter()
        write_salesforce(
            pipeline.csv, deals=deals, seed=7, as_of=AS_OF, contacts_out=pipeline.roles
        )
        print(
            f"wrote {pipeline.csv.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr
        )
    return pipeline


def dealgate_command(engine: str, pipeline: Pipeline, out: Path) -> list[str]:
    """The real CLI, as a user runs it (the venv's `dealgate` script)."""
    script = Path(sys.executable).with_name("dealgate")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "dealgate"]
    return [
        *head,
        "audit",
        str(pipeline.csv),
        "--contacts",
        str(pipeline.roles),
        "--as-of",
        AS_OF.isoformat(),
        "--format",
        "csv",
        "--output",
        str(out),
        "--fail-on",
        "never",
        "--engine",
        engine,
    ]


def approach_command(name: str, pipeline: Pipeline, out: Path) -> list[str]:
    if name in DEALGATE_ENGINES:
        return dealgate_command(DEALGATE_ENGINES[name], pipeline, out)
    script = str(Path(__file__).resolve())
    return [sys.executable, script, "--run", name, str(pipeline.csv), str(pipeline.roles), str(out)]


def run_child(command: list[str]) -> ChildRun:
    """A fresh process: its wall time, its peak RSS (from wait4) and the JSON it printed."""
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        peak_mb = usage.ru_maxrss / 1024
        if process.returncode != 0:
            message = stderr.read().decode(errors="replace")[-2000:]
            error = f"{' '.join(command)} exited {process.returncode}:\n{message}"
            return ChildRun(elapsed, peak_mb, {}, error)
        printed = stdout.read().decode().strip()
    inside = json.loads(printed.splitlines()[-1]) if printed.startswith("{") else {}
    return ChildRun(elapsed, peak_mb, inside)


Finding = tuple[str, str, str, str]


def read_exceptions(path: Path) -> Counter[Finding]:
    """(deal id, milestone, kind, status) of every exception row; a deal read twice counts twice."""
    with path.open(encoding="utf-8", newline="") as stream:
        rows = csv.DictReader(stream)
        return Counter(
            (row["deal_id"].removeprefix("'"), row["milestone_id"], row["kind"], row["status"])
            for row in rows
        )


@dataclass
class Agreement:
    approach: str
    rows: int
    only_dealgate: int
    only_approach: int
    examples: list[str]

    @property
    def disagreements(self) -> int:
        return self.only_dealgate + self.only_approach


def verify(pipeline: Pipeline, approaches: list[str], work: Path) -> list[Agreement]:
    """Every approach's exception list against dealgate-sql's, on a small pipeline."""
    lists: dict[str, Counter[Finding]] = {}
    for name in ["dealgate-sql", *[a for a in approaches if a != "dealgate-sql"]]:
        out = work / f"check-{name}.csv"
        run = run_child(approach_command(name, pipeline, out))
        if run.error:
            raise SystemExit(f"the agreement check could not run: {run.error}")
        lists[name] = read_exceptions(out)
    reference = lists["dealgate-sql"]
    agreements = []
    for name, found in lists.items():
        only_dealgate, only_here = reference - found, found - reference
        examples = [f"only in dealgate: {row}" for row in list(only_dealgate)[:3]]
        examples += [f"only in {name}: {row}" for row in list(only_here)[:3]]
        agreements.append(
            Agreement(
                name,
                sum(found.values()),
                sum(only_dealgate.values()),
                sum(only_here.values()),
                examples,
            )
        )
    return agreements


def verify_tables() -> list[str]:
    """The hand-written tables above against the pack and the word lists dealgate uses."""
    from dealgate.deals.cell_rules import FALSE_WORDS as DG_FALSE
    from dealgate.deals.cell_rules import PLACEHOLDERS as DG_PLACEHOLDERS
    from dealgate.deals.cell_rules import TRUE_WORDS as DG_TRUE
    from dealgate.rules.loader import load_pack

    pack = load_pack(PACK)
    problems = []
    position = {stage.id: stage.position for stage in pack.open_stages}
    in_pack = {
        m.id: (position[m.stage_id] if m.stage_id else None)
        for m in pack.milestones()
        if m.id not in NEVER_APPLIES
    }
    if in_pack != MILESTONE_STAGES:
        problems.append(f"milestones differ from pack {PACK}: {in_pack} != {MILESTONE_STAGES}")
    for stage in pack.open_stages:
        names = {stage.id, *(" ".join(n.split()).lower() for n in stage.crm_names)}
        if names != set(STAGE_NAMES[stage.position]):
            problems.append(f"stage {stage.id}: CRM names {sorted(names)} differ")
    words = {
        "placeholders": (set(PLACEHOLDERS), set(DG_PLACEHOLDERS)),
        "true words": (set(TRUE_WORDS), set(DG_TRUE)),
        "false words": (set(FALSE_WORDS), set(DG_FALSE)),
    }
    for what, (ours, theirs) in words.items():
        if ours != theirs:
            problems.append(f"{what} differ from dealgate's: {sorted(ours ^ theirs)}")
    return problems


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("dealgate", "duckdb", "polars", "durable_rules", "zen-engine", "rule-engine"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def result_rows(results: list[Result], deals: int) -> list[dict[str, Any]]:
    """One row per approach: its runs, median, rate, peak memory and ratio to dealgate-sql."""
    reference = next(r for r in results if r.approach == "dealgate-sql")
    reference_s = reference.median_s if reference.succeeded else None
    rows: list[dict[str, Any]] = []
    for result in results:
        row: dict[str, Any] = {
            "approach": result.approach,
            "deals_timed": result.deals_timed,
            "runs_s": [round(run.seconds, 3) for run in result.runs],
            "peak_mb": round(result.peak_mb) if result.runs else None,
            "extrapolated": result.deals_timed < deals,
            "inside": [run.inside for run in result.runs],
            "errors": [run.error for run in result.runs if run.error],
            "median_s": None,
        }
        rows.append(row)
        if not result.succeeded:
            continue
        at_full = deals / result.deals_per_s if row["extrapolated"] else result.median_s
        row.update(
            median_s=round(result.median_s, 3),
            deals_per_s=round(result.deals_per_s),
            seconds_at_full_size=round(at_full, 2),
            ratio_to_dealgate_sql=round(at_full / reference_s, 3) if reference_s else None,
        )
    return rows


def print_report(rows: list[dict[str, Any]], deals: int, sample: int) -> None:
    """The table, and how dealgate-sql stands against the fastest hand-written query."""
    print(
        f"\n| approach | deals timed | median s | deals/s | peak MB | s at {deals:,} deals "
        "| ratio to dealgate-sql |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        if row["median_s"] is None:
            print(f"| {row['approach']} | {row['deals_timed']:,} | failed | | | | |")
            continue
        ratio = row["ratio_to_dealgate_sql"]
        print(
            f"| {row['approach']} | {row['deals_timed']:,} | {row['median_s']:.2f} | "
            f"{row['deals_per_s']:,} | {row['peak_mb']:,} | {row['seconds_at_full_size']:,.1f}"
            f"{'*' if row['extrapolated'] else ''} | "
            f"{'' if ratio is None else f'{ratio:.2f}'} |"
        )
    if any(row["extrapolated"] for row in rows):
        print(
            f"\n* timed on a pipeline of {sample:,} deals (same generator and seed) and "
            f"extrapolated linearly to {deals:,} deals from its deals/s; start-up is inside "
            "that rate, so the extrapolation slightly overstates their time."
        )
    for row in rows:
        for error in row["errors"]:
            print(f"\nfailed run of {row['approach']}: {error}")
    by_name = {row["approach"]: row for row in rows}
    reference = by_name["dealgate-sql"]
    hand_written = [
        row for name, row in by_name.items() if name in ("duckdb", "polars") and row["median_s"]
    ]
    if reference["median_s"] and hand_written:
        best = min(hand_written, key=lambda row: row["median_s"])
        print(
            f"\ndealgate-sql is {reference['median_s'] / best['median_s']:.1f}x the fastest "
            f"hand-written query ({best['approach']}, {best['median_s']:.2f} s); "
            f"peak {reference['peak_mb']:,} MB."
        )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--run"]:
        deals_csv, roles_csv, out = (Path(part) for part in argv[2:5])
        return run_approach_in_this_process(argv[1], deals_csv, roles_csv, out)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--deals", type=int, default=1_000_000, help="pipeline size")
    parser.add_argument("--repeat", type=int, default=3, help="runs per approach (median)")
    parser.add_argument(
        "--sample", type=int, default=20_000, help="pipeline size for the slow approaches"
    )
    parser.add_argument(
        "--full-size",
        action="store_true",
        help="time the slow approaches at --deals too (minutes at 1M deals)",
    )
    parser.add_argument(
        "--check-deals", type=int, default=2_000, help="pipeline size of the agreement check"
    )
    parser.add_argument("--skip", nargs="+", default=[], choices=APPROACHES, metavar="APPROACH")
    parser.add_argument("--work", type=Path, help="keep the pipelines here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    args = parser.parse_args(argv)
    approaches = [a for a in APPROACHES if a not in args.skip]
    if "dealgate-sql" not in approaches:
        parser.error("dealgate-sql is the reference of every ratio: it cannot be skipped")

    with tempfile.TemporaryDirectory(prefix="dealgate-compare-") as scratch:
        work = args.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        problems = verify_tables()
        for problem in problems:
            print(f"table mismatch: {problem}", file=sys.stderr)
        check = write_pipeline(work, args.check_deals)
        full = write_pipeline(work, args.deals)
        sampled = not args.full_size and args.sample < args.deals
        sample = write_pipeline(work, args.sample) if sampled else full

        agreements = verify(check, approaches, work)
        print(f"Agreement on {args.check_deals:,} deals (exception rows vs dealgate-sql):")
        for agreement in agreements:
            print(
                f"  {agreement.approach:17} {agreement.rows:6,} rows, "
                f"{agreement.disagreements} disagreements"
            )
            for example in agreement.examples:
                print(f"      {example}")

        results = {
            name: Result(name, sample.deals if sampled and name in SLOW else args.deals)
            for name in approaches
        }
        header = {
            "date": date.today().isoformat(),
            "machine": {
                "arch": platform.machine(),
                "cores": os.cpu_count(),
                "cpu": cpu_model(),
                "python": platform.python_version(),
            },
            "versions": _versions(),
            "deals": args.deals,
            "sample": sample.deals,
            "repeat": args.repeat,
            "as_of": AS_OF.isoformat(),
            "agreement": [asdict(a) for a in agreements],
            "table_mismatches": problems,
        }
        for round_number in range(1, args.repeat + 1):  # interleaved: noise hits every approach
            for name, result in results.items():
                pipeline = sample if result.deals_timed < args.deals else full
                out = work / f"exceptions-{name}.csv"
                run = run_child(approach_command(name, pipeline, out))
                result.runs.append(run)
                status = "failed" if run.error else f"{run.seconds:.2f} s, {run.peak_mb:,.0f} MB"
                print(f"{name} ({result.deals_timed:,} deals): {status}", file=sys.stderr)
            rows = result_rows(list(results.values()), args.deals)
            if args.json:  # after every round, so an interrupted run keeps what it measured
                document = {**header, "rounds_completed": round_number, "results": rows}
                args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

        print(
            f"\n{date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, "
            f"{cpu_model()}, Python {platform.python_version()}; {args.deals:,} deals, "
            f"median of {args.repeat}; pack {PACK}, as of {AS_OF.isoformat()}"
        )
        print_report(result_rows(list(results.values()), args.deals), args.deals, sample.deals)
    failed = problems or any(a.disagreements for a in agreements)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
