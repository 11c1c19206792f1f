#!/usr/bin/env python3
"""Deterministic synthetic sales pipelines, written the way CRMs export them.

The generator builds CRM-neutral deals judged against the buyer-journey pack
(rules/buyer-journey.yaml): a deal at stage S has the exit milestones of the stages before S
met, except for a realistic share of deals that skipped one or more of them, and partial
progress on the milestones of S. Every date of evidence lies between the deal's created date
and the as-of date; only a kick-off date may be booked ahead. Writers then format the deals as
a Salesforce opportunity report (plus its OpportunityContactRole export) or a HubSpot deals
export, with the mess of real exports: blank cells, placeholders, mixed amount formats, and, on
rows drawn from the seed, unreadable values, a duplicated id, rows without an id and a stage
the pack does not know. `--report FILE` writes where each problem went, as JSON.

Usage:
    python benchmarks/synthetic.py --crm salesforce --deals 300 --seed 7 --as-of 2026-11-27 \
        --out pipeline.csv --contacts-out contact-roles.csv --teams-out teams.csv
    python benchmarks/synthetic.py --crm hubspot --deals 300 --seed 7 --as-of 2026-11-27 \
        --out deals.csv

The same seed gives the same deals for both CRMs (same accounts, owners, stages, evidence);
only the export format and the injected mess differ. Only `random.Random.random()` (and
`lognormvariate`, built on it) is used, so the output is stable across Python versions.
Rows are streamed: memory does not grow with --deals.

Module use:
    from synthetic import write_salesforce, write_hubspot, write_teams, iter_deals
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any, TypeVar

T = TypeVar("T")

# --- the buyer-journey pack, as the generator needs it ------------------------------------

OPEN_STAGES = ("qualify", "discover", "validate", "propose", "negotiate", "contract")
WON, LOST = "closed_won", "closed_lost"
STAGE_WEIGHTS = (
    ("qualify", 25),
    ("discover", 20),
    ("validate", 18),
    ("propose", 12),
    ("negotiate", 8),
    ("contract", 5),
    (WON, 7),
    (LOST, 5),
)

# Custom fields of rules/buyer-journey.yaml, in the pack's order, with their types.
FIELDS: tuple[tuple[str, str], ...] = (
    ("pain", "text"),
    ("pain_confirmed_by", "text"),
    ("discovery_meeting_on", "date"),
    ("metrics", "text"),
    ("decision_criteria", "text"),
    ("economic_buyer", "text"),
    ("champion", "text"),
    ("competitors", "text"),
    ("solution_validated_on", "date"),
    ("decision_process", "text"),
    ("champion_tested_on", "date"),
    ("economic_buyer_met_on", "date"),
    ("action_plan_agreed_on", "date"),
    ("business_case_approved_on", "date"),
    ("paper_process", "text"),
    ("proposal_sent_on", "date"),
    ("vendor_selected_on", "date"),
    ("compelling_event", "text"),
    ("verbal_commit_on", "date"),
    ("terms_agreed_on", "date"),
    ("legal_review_done_on", "date"),
    ("security_review_required", "boolean"),
    ("security_review_done_on", "date"),
    ("signatory", "text"),
    ("contract_sent_on", "date"),
    ("contract_signed_on", "date"),
    ("purchase_order_required", "boolean"),
    ("purchase_order_number", "text"),
    ("kickoff_date", "date"),
)
FIELD_NAMES = tuple(name for name, _ in FIELDS)
FIELD_INDEX = {name: i for i, name in enumerate(FIELD_NAMES)}
DATE_FIELDS = tuple(i for i, (_, kind) in enumerate(FIELDS) if kind == "date")
BOOLEAN_FIELDS = tuple(i for i, (_, kind) in enumerate(FIELDS) if kind == "boolean")


def field_label(name: str) -> str:
    """The report label of a custom field: `pain_confirmed_by` -> `Pain Confirmed By`."""
    return " ".join(word.capitalize() for word in name.split("_"))


# Exit milestones per open stage (ids as in the pack). Skips are drawn with these weights:
# the ones teams skip most (meeting the economic buyer, testing the champion, the action plan,
# the paper process) weigh most.
MILESTONES: tuple[tuple[tuple[str, int], ...], ...] = (
    (("QUAL-PAIN", 3), ("QUAL-CONTACT", 2), ("QUAL-DISCOVERY-MEETING", 3)),
    (
        ("DISC-METRICS", 4),
        ("DISC-CRITERIA", 2),
        ("DISC-EB-NAMED", 3),
        ("DISC-CHAMPION", 2),
        ("DISC-COMPETITION", 4),
    ),
    (
        ("VAL-SOLUTION-FIT", 2),
        ("VAL-DECISION-PROCESS", 3),
        ("VAL-CHAMPION-TESTED", 5),
        ("VAL-EB-MET", 7),
        ("VAL-MAP", 5),
    ),
    (
        ("PROP-BUSINESS-CASE", 4),
        ("PROP-PAPER-PROCESS", 5),
        ("PROP-PROPOSAL-SENT", 1),
        ("PROP-SELECTED", 2),
        ("PROP-COMPELLING-EVENT", 4),
    ),
    (
        ("NEG-VERBAL-COMMIT", 3),
        ("NEG-TERMS", 2),
        ("NEG-LEGAL", 2),
        ("NEG-SECURITY", 3),
        ("NEG-CONTRACT-SENT", 1),
    ),
    (("CON-SIGNED", 1), ("CON-PO", 2), ("CON-KICKOFF", 2)),
)
# Every exit milestone of the stages before stage s.
MET_BEFORE = tuple(
    frozenset(m for k in range(s) for m, _ in MILESTONES[k]) for s in range(len(MILESTONES) + 1)
)
# Order in which the dated milestones of a stage usually happen (dates are sorted into it).
DATE_ORDER = (
    ("discovery_meeting_on",),
    (),
    (
        "champion_tested_on",
        "economic_buyer_met_on",
        "solution_validated_on",
        "action_plan_agreed_on",
    ),
    ("proposal_sent_on", "business_case_approved_on", "vendor_selected_on"),
    (
        "verbal_commit_on",
        "terms_agreed_on",
        "security_review_done_on",
        "legal_review_done_on",
        "contract_sent_on",
    ),
    ("contract_signed_on",),
)
# The dated field of a milestone.
DATED_BY = {
    "discovery_meeting_on": "QUAL-DISCOVERY-MEETING",
    "solution_validated_on": "VAL-SOLUTION-FIT",
    "champion_tested_on": "VAL-CHAMPION-TESTED",
    "economic_buyer_met_on": "VAL-EB-MET",
    "action_plan_agreed_on": "VAL-MAP",
    "business_case_approved_on": "PROP-BUSINESS-CASE",
    "proposal_sent_on": "PROP-PROPOSAL-SENT",
    "vendor_selected_on": "PROP-SELECTED",
    "verbal_commit_on": "NEG-VERBAL-COMMIT",
    "terms_agreed_on": "NEG-TERMS",
    "legal_review_done_on": "NEG-LEGAL",
    "security_review_done_on": "NEG-SECURITY",
    "contract_sent_on": "NEG-CONTRACT-SENT",
    "contract_signed_on": "CON-SIGNED",
}
TYPICAL_DAYS = (12, 20, 28, 21, 18, 10)  # median days spent in each open stage
REMAINING_DAYS = tuple(sum(TYPICAL_DAYS[k:]) for k in range(len(TYPICAL_DAYS)))

# --- CRM vocabularies ---------------------------------------------------------------------

SF_STAGE_LABELS = {
    # (label, weight among the labels of one stage, default probability %)
    "qualify": (("Prospecting", 4, 10), ("Qualification", 6, 10)),
    "discover": (("Needs Analysis", 1, 20),),
    "validate": (
        ("Value Proposition", 5, 50),
        ("Id. Decision Makers", 3, 60),
        ("Perception Analysis", 2, 70),
    ),
    "propose": (("Proposal/Price Quote", 1, 75),),
    "negotiate": (("Negotiation/Review", 1, 90),),
    # Salesforce's default picklist has no contract stage: a deal whose contract is out for
    # signature stays in Negotiation/Review until it is Closed Won.
    "contract": (("Negotiation/Review", 1, 90),),
    WON: (("Closed Won", 1, 100),),
    LOST: (("Closed Lost", 1, 0),),
}
HS_STAGES = (
    # (label, internal id, default probability %)
    ("Appointment Scheduled", "appointmentscheduled", 20),
    ("Qualified To Buy", "qualifiedtobuy", 40),
    ("Presentation Scheduled", "presentationscheduled", 60),
    ("Decision Maker Bought-In", "decisionmakerboughtin", 80),
    ("Contract Sent", "contractsent", 90),
    ("Closed Won", "closedwon", 100),
    ("Closed Lost", "closedlost", 0),
)
# buyer-journey stage index -> HubSpot stage index. The default pipeline has no proposal
# stage: a deal building its proposal is still at Presentation Scheduled.
HS_OF_STAGE = {0: 0, 1: 1, 2: 2, 3: 2, 4: 3, 5: 4, 6: 5, 7: 6}
# --- people, teams, accounts, offers -------------------------------------------------------

TEAMS = (
    # (manager, region, owners)
    (
        "Dana Whitfield",
        "North America East",
        ("Sam Patel", "Olivia Brooks", "Marcus Reed", "Hannah Kim", "Derek Owens"),
    ),
    (
        "Luis Romero",
        "North America West",
        (
            "Priya Raman",
            "Tyler Nguyen",
            "Grace Holloway",
            "Ben Carter",
            "Aisha Mensah",
            "Kevin Liu",
        ),
    ),
    (
        "Claire Dubois",
        "EMEA North",
        ("Lars Eriksson", "Sophie Müller", "Tom Baker", "Ingrid Solberg", "Finn O'Connor"),
    ),
    (
        "Marco Bianchi",
        "EMEA South",
        ("Lucía Fernández", "Giulia Rossi", "Pierre Laurent", "Ana Costa"),
    ),
    (
        "Rachel Tan",
        "APAC",
        ("Kenji Watanabe", "Mei Lin Chua", "Arjun Mehta", "Chloe Walsh", "Nikhil Rao"),
    ),
    (
        "Jonah Feld",
        "LATAM",
        ("Camila Souza", "Diego Herrera", "Valentina Cruz", "Mateo Silva", "Paula Ortiz"),
    ),
)
OWNERS = tuple(owner for _, _, owners in TEAMS for owner in owners)
REGION_CURRENCIES = {
    "North America East": (("USD", 1.0),),
    "North America West": (("USD", 1.0),),
    "EMEA North": (("GBP", 0.45), ("EUR", 0.35), ("USD", 0.2)),
    "EMEA South": (("EUR", 0.85), ("USD", 0.15)),
    "APAC": (("USD", 0.8), ("EUR", 0.2)),
    "LATAM": (("USD", 1.0),),
}
OWNER_REGION = {owner: region for _, region, owners in TEAMS for owner in owners}

FIRST_NAMES = (
    "Ada", "Adrian", "Alicia", "Amara", "Andre", "Anika", "Beatriz", "Brendan", "Carla", "Chen",
    "Connor", "Daniela", "David", "Elena", "Emeka", "Erik", "Fatima", "Felix", "Gabriel",
    "Hana", "Hugo", "Imani", "Isabel", "Jack", "Jamal", "Jasmine", "Javier", "José", "Julia",
    "Karin", "Kwame", "Laura", "Leon", "Lina", "Lucas", "Maya", "Miguel", "Mira", "Nadia",
    "Nathan", "Noah", "Nora", "Omar", "Oscar", "Paolo", "Rafael", "Rania", "Rebecca", "Ren",
    "Rosa", "Ruth", "Sanjay", "Sara", "Simone", "Stefan", "Tariq", "Tessa", "Theo", "Uma",
    "Victor", "Wei", "Yara", "Yusuf", "Zoë", "Alan", "Bridget", "Colin", "Elif", "Greta",
    "Ines", "Jorge", "Kasia", "Linnea", "Matteo", "Owen", "Petra", "Quinn", "Seo-yeon",
)  # fmt: skip
LAST_NAMES = (
    "Abbott", "Adeyemi", "Alvarez", "Andersen", "Bauer", "Becker", "Berg", "Castillo", "Chang",
    "Chowdhury", "Clarke", "Cohen", "Da Silva", "Dalton", "Diaz", "Dimitrov", "Edwards",
    "Engel", "Ferreira", "Fischer", "Fraser", "García", "Gupta", "Haddad", "Hansen", "Hayes",
    "Ibrahim", "Ito", "Jansen", "Jovanović", "Kaur", "Keller", "Kowalski", "Larsen", "Lee",
    "Lopez", "Mahoney", "Marsh", "Moreau", "Morgan", "Nakamura", "Ng", "Novak", "Okafor",
    "Olsen", "Park", "Patel", "Pereira", "Quinn", "Ramos", "Reyes", "Richter", "Russo",
    "Santos", "Schmidt", "Shah", "Sullivan", "Suzuki", "Takahashi", "Thompson", "Torres",
    "Vargas", "Vogel", "Wagner", "Walker", "Weber", "Yilmaz", "Young", "Zhang", "Ødegaard",
)  # fmt: skip

ACCOUNT_PREFIXES = (
    "Northwind", "Blue Harbor", "Granite", "Redwood", "Silver Lake", "Summit", "Cedar Point",
    "Ironbridge", "Lakeshore", "Meridian", "Oakmont", "Pinecrest", "Riverbend", "Stonegate",
    "Tidewater", "Westfield", "Brightwater", "Clearview", "Evergreen", "Fairmont", "Harborview",
    "Highland", "Keystone", "Lighthouse", "Maplewood", "Northstar", "Pacific Rim", "Quarry",
    "Ridgeline", "Sandstone", "Sterling", "Sunrise", "Thornbury", "Union Square", "Valley Forge",
    "Windmill", "Aldridge", "Beacon", "Crescent", "Driftwood", "Eastgate", "Foxglove",
    "Goldcrest", "Hawthorne", "Juniper", "Kingsbridge", "Larkspur", "Marlow", "Newbury",
    "Orchard", "Prairie", "Rosewood", "Saltmarsh", "Trident", "Upland", "Vantage Point",
    "Wexford", "Yellowstone", "Zephyr", "Arden", "Bramble", "Copperfield", "Dunmore",
    "Elmstead", "Falcon Ridge", "Glenwood", "Hollis", "Ivybridge", "Jasper", "Kestrel",
    "Lindqvist", "Moorland", "Nordic Star", "Osprey", "Peregrine", "Quayside", "Rockport",
    "Seabrook", "Tamarind", "Umber", "Verity", "Whitestone", "Alpine", "Bayside", "Cobalt",
    "Delta", "Ember", "Fjord", "Gateway", "Horizon", "Insight", "Javelin", "Kinetic", "Lumen",
    "Mosaic", "Nimbus", "Orion", "Pioneer", "Quantum", "Radiant", "Sequoia", "Terra", "Unity",
    "Vector", "Willow", "Apex", "Boulder", "Canyon", "Dover", "Everest", "Frontier", "Galaxy",
    "Heritage", "Island", "Jubilee", "Kodiak", "Liberty", "Monarch", "Nova", "Olympus",
)  # fmt: skip
ACCOUNT_NOUNS = (
    "Logistics", "Health", "Foods", "Bank", "Insurance", "Manufacturing", "Energy", "Retail",
    "Pharma", "Freight", "Hotels", "Telecom", "Media", "Labs", "Motors", "Aerospace",
    "Utilities", "Outdoor", "Financial", "Capital", "Credit Union", "Construction", "Mining",
    "Chemicals", "Software", "Systems", "Medical", "Dental", "Airlines", "Shipping", "Ports",
    "Beverages", "Apparel", "Furniture", "Packaging", "Steel", "Paper", "Water", "Farms",
    "Education", "University", "Clinics", "Pharmacy", "Realty", "Holdings",
)  # fmt: skip
ACCOUNT_SUFFIXES = (
    ("", 40),
    (" Inc.", 18),
    (" Ltd", 8),
    (" Group", 10),
    (" LLC", 8),
    (" GmbH", 5),
    (" Co.", 5),
    (" plc", 3),
    (" S.A.", 3),
)

DEAL_TYPES = (("New Business", 55), ("Expansion", 22), ("Renewal", 10), ("Upsell", 8), ("Pilot", 5))


@dataclass(frozen=True)
class Theme:
    """What a product solves, in the words reps and buyers use about it.

    `problems` pairs a pain with the metric that measures it; both are filled with the same
    figures, so a deal's Metrics quote the numbers of its Pain.
    """

    product: str
    problems: tuple[tuple[str, str], ...]  # (pain, metric) templates
    criteria: tuple[str, ...]
    competitors: tuple[str, ...]  # two vendors first, then other options
    champions: tuple[str, ...]  # titles of the buyer contacts who own the problem


THEMES = (
    Theme(
        "Billing Automation",
        (
            (
                "Invoices are keyed by hand; {p}% need rework before they go out",
                "Invoice rework {p}% -> under 2% within two quarters",
            ),
            (
                "Month-end close takes {d} days; auditors flagged the manual journal entries",
                "Close cycle {d} -> {e} days by fiscal year end",
            ),
            (
                "Days sales outstanding is {hi} and collections chase customers by spreadsheet",
                "Days sales outstanding {hi} -> {lo} by Q{q}",
            ),
        ),
        (
            "ERP integration, audit trail, multi-currency, go-live in 90 days",
            "Revenue recognition rules, SOC 1 report, finance team can run it without IT",
        ),
        ("Zuora", "Chargebee", "the ERP's billing module", "status quo (spreadsheets)"),
        ("Controller", "Director of Finance", "Head of Billing", "VP Finance Operations"),
    ),
    Theme(
        "Field Service Cloud",
        (
            (
                "Technicians need {x} visits per repair because parts are missing",
                "First-time fix rate {a}% -> {b}% by Q{q}",
            ),
            (
                "Dispatch is planned on a whiteboard; {p}% of jobs start late",
                "Jobs started late {p}% -> under 5% within six months",
            ),
            (
                "SLA penalties cost {k}k a year; nobody sees a breach coming",
                "SLA penalties {k}k -> under {j}k a year",
            ),
        ),
        (
            "Offline mobile app, parts inventory sync, scheduling optimisation, SAP link",
            "Technician adoption in 30 days, works on existing handhelds, open API",
        ),
        ("ServiceMax", "Salesforce Field Service", "IFS", "build in-house"),
        ("Director of Field Service", "VP Service Operations", "Head of Customer Service"),
    ),
    Theme(
        "Security Operations",
        (
            (
                "Security alerts are triaged by hand; {n} a day go unreviewed",
                "Unreviewed alerts {n} a day -> zero within 90 days",
            ),
            (
                "Mean time to respond is {d} hours; the board asked for a plan after an incident",
                "Mean time to respond {d} -> {e} hours by Q{q}",
            ),
            (
                "The SOC team of {x} can't keep up with {n} alerts a day",
                "Analyst hours on triage down {p}% this fiscal year",
            ),
        ),
        (
            "SIEM integration, automated playbooks, EU data residency, SOC 2 Type II",
            "Detection coverage against MITRE ATT&CK, 24x7 support, no agent on endpoints",
        ),
        ("Splunk SOAR", "Palo Alto Cortex", "an MSSP contract", "do nothing"),
        ("CISO", "Head of Security Operations", "Director of IT Security"),
    ),
    Theme(
        "Analytics Platform",
        (
            (
                "Reporting to the board is assembled by hand from {x} systems over {d} days",
                "Board pack preparation {d} days -> {e} days by Q{q}",
            ),
            (
                "Finance and sales report revenue {p}% apart every month",
                "One revenue number across finance and sales by fiscal year end",
            ),
            (
                "Analysts spend {a}% of their week pulling data instead of analysing it",
                "Analyst time on data pulls {a}% -> {c}% within two quarters",
            ),
        ),
        (
            "Connectors for Snowflake and Salesforce, row-level security, self-service for finance",
            "Semantic layer, governed metrics, under 5 seconds per dashboard",
        ),
        ("Tableau", "Power BI", "Looker", "the data team's own scripts"),
        ("Head of Data", "Head of Analytics", "Director of FP&A", "VP Finance"),
    ),
    Theme(
        "Procurement Suite",
        (
            (
                "Purchase orders take {d} days to approve; buyers go around the process",
                "PO approval {d} days -> {e} days by Q{q}",
            ),
            (
                "Supplier onboarding takes {w} weeks of email and spreadsheets",
                "Supplier onboarding {w} weeks -> 5 days",
            ),
            (
                "Maverick spend is {p}% and finance finds out at month end",
                "Spend under contract {a}% -> {b}% within a year",
            ),
        ),
        (
            "Catalogue punch-out, three-way match, ERP integration, mobile approvals",
            "Supplier portal, approval workflows finance can change, audit trail",
        ),
        ("Coupa", "SAP Ariba", "Jaggaer", "improving the current process"),
        ("Head of Procurement", "Chief Procurement Officer", "Procurement Director"),
    ),
    Theme(
        "Fleet Tracking",
        (
            (
                "Route planning is manual; late deliveries cost {s}% of revenue in penalties",
                "On-time delivery {a}% -> {b}% within two quarters",
            ),
            (
                "Fuel spend rose {p}% and nobody knows which routes cause it",
                "Fuel cost per mile down {p}% by Q{q}",
            ),
            (
                "Drivers log hours on paper; an audit found {n} violations",
                "Hours-of-service violations {n} -> zero this year",
            ),
        ),
        (
            "Telematics integration, dispatcher adoption in 30 days, SOC 2 report",
            "ELD compliance, works with existing trucks, route optimisation",
        ),
        ("Samsara", "Geotab", "Verizon Connect", "improving the in-house spreadsheets"),
        ("VP Operations", "Director of Logistics", "Fleet Manager", "Head of Transport"),
    ),
    Theme(
        "Customer Success Hub",
        (
            (
                "Churn rose to {p}% after the price change and nobody saw it coming",
                "Gross churn {p}% -> {r}% by Q{q}",
            ),
            (
                "Renewals are found {d} days before they lapse",
                "Renewals forecast 90 days out for 100% of accounts",
            ),
            (
                "Onboarding a new customer takes {w} weeks of spreadsheet work",
                "Time to first value {w} weeks -> 2 weeks",
            ),
        ),
        (
            "Health scores from product usage, Salesforce sync, playbooks per segment",
            "Works with Zendesk and Salesforce, CSMs adopt it within a month",
        ),
        ("Gainsight", "ChurnZero", "Totango", "do nothing"),
        ("Director of Customer Success", "VP Customer Experience", "Head of Account Management"),
    ),
    Theme(
        "Data Integration",
        (
            (
                "{x} nightly batch jobs fail weekly and reports are a day late",
                "Failed loads {n} a month -> under 2",
            ),
            (
                "Every new data source takes the data team {w} weeks to connect",
                "New source connected {w} weeks -> 3 days by Q{q}",
            ),
            (
                "Customer data sits in {x} systems with no single ID",
                "One customer ID across {x} systems by fiscal year end",
            ),
        ),
        (
            "CDC from Oracle and SQL Server, 200+ connectors, runs in our VPC",
            "Pricing by volume, lineage, dbt support, EU hosting",
        ),
        ("Fivetran", "Informatica", "MuleSoft", "build in-house"),
        ("Head of Data Engineering", "VP Engineering", "Head of IT", "Chief Data Officer"),
    ),
)

EB_TITLES = (
    "CFO",
    "COO",
    "CIO",
    "CEO",
    "VP Finance",
    "Chief Digital Officer",
    "CTO",
    "Managing Director",
)
OTHER_TITLES = (
    ("IT Manager", "Evaluator"),
    ("Security Architect", "Technical Buyer"),
    ("Procurement Manager", "Other"),
    ("General Counsel", "Other"),
    ("Financial Analyst", "Evaluator"),
    ("Operations Manager", "Business User"),
    ("Solutions Architect", "Technical Buyer"),
    ("Team Lead", "Business User"),
    ("Head of Legal", "Influencer"),
)
SIGNER_TITLES = ("CEO", "General Counsel", "Chief Procurement Officer", "Managing Director")
CHAMPION_ROLES = ("Executive Sponsor", "Influencer", "Business User", "Decision Maker")
EB_ROLES = ("Economic Buyer", "Economic Decision Maker", "Decision Maker")
SE_NAMES = ("Priya Nair", "Tom Wexler", "Elsa Lund", "Rui Matos", "Jess Park", "Omar Aziz")

DECISION_PROCESS = (
    "{champ} evaluates with IT; {eb} approves budget; legal and security review; {signer} signs",
    "Steering committee reviews the shortlist monthly, {eb} decides, procurement issues the PO",
    "Pilot with {champ}'s team, results to {eb} at the monthly ops review, then procurement",
    "RFP scoring by {champ} and IT, business case to {eb}, board sign-off above 250k",
    "{champ} recommends, {eb} approves, vendor risk review, contract via procurement",
)
PAPER_PROCESS = (
    "Security questionnaire ({w} weeks), legal redlines ({v} weeks), PO; {signer} signs",
    "Vendor onboarding in Coupa ({w} weeks), MSA review by legal, {signer} signs above 100k",
    "Procurement runs a 3-bid check, legal reviews the DPA, InfoSec ({w} weeks), {signer} signs",
    "Legal uses our paper with their DPA addendum; PO raised after signature; {signer} signs",
)
COMPELLING_EVENTS = (
    "Current {comp} contract ends on {when}",
    "New reporting rules apply from {when}",
    "Budget must be committed before fiscal year end on {when}",
    "Go-live needed before peak season starting {when}",
    "Board review of the programme on {when}",
    "Office move and system cut-over on {when}",
)
NEXT_STEPS = (
    # by stage index
    ("Intro call follow-up", "Book discovery meeting", "Send overview deck",
     "Qualify budget owner"),
    ("Discovery call with IT", "Workshop on current process", "Confirm success metrics",
     "Meet the economic buyer"),
    ("Demo for finance team", "Trial kick-off call", "Review trial results",
     "Agree mutual action plan", "Reference call with existing customer"),
    ("Send proposal", "Present business case to CFO", "Pricing review with procurement",
     "Answer RFP clarifications"),
    ("Legal redlines call", "Send security questionnaire answers", "Final pricing call",
     "Send order form to signatory"),
    ("Chase signature", "Confirm PO number", "Book kick-off", "Signature follow-up"),
)  # fmt: skip
PLAN_STEPS = (
    # (step, owner side, earliest stage it belongs to)
    ("Success criteria agreed", "buyer", 2),
    ("Trial completed", "buyer", 2),
    ("Trial results reviewed", "seller", 2),
    ("Reference call held", "seller", 2),
    ("Business case reviewed with CFO", "buyer", 3),
    ("Proposal presented", "seller", 3),
    ("Security questionnaire returned", "buyer", 3),
    ("Contract redlines agreed", "seller", 4),
    ("Order form signed", "buyer", 4),
    ("Purchase order raised", "buyer", 5),
    ("Kick-off held", "seller", 5),
)
PLACEHOLDERS = ("TBD", "N/A", "-", "?", "tbd", "TBC", "n/a")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# --- helpers ------------------------------------------------------------------------------


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return [value / total for value in out]


def _weighted(r: Any, cum: list[float]) -> int:
    return min(bisect_right(cum, r()), len(cum) - 1)


def _sample(r: Any, population: int, k: int) -> list[int]:
    """k distinct ints from range(population), by random() only."""
    chosen: list[int] = []
    seen: set[int] = set()
    while len(chosen) < k:
        value = int(r() * population)
        if value not in seen:
            seen.add(value)
            chosen.append(value)
    return chosen


def _shuffle(r: Any, items: list[T]) -> None:
    for i in range(len(items) - 1, 0, -1):
        j = int(r() * (i + 1))
        items[i], items[j] = items[j], items[i]


BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


UPPER_BITS = str.maketrans({c: "1" if c.isupper() else "0" for c in BASE62})
_TRIPLES: list[str] = []


def salesforce_id(prefix: str, number: int) -> str:
    """An 18-character Salesforce id: key prefix, pod, record number, case-check suffix.

    The suffix is Salesforce's: for each 5-character chunk of the 15-character id, a bit
    per upper-case letter (first character = lowest bit), as one of A-Z0-5.
    """
    if not _TRIPLES:
        _TRIPLES.extend(a + b + c for a in BASE62 for b in BASE62 for c in BASE62)
    block = 62**3
    id15 = (
        prefix
        + "5g0"
        + _TRIPLES[number // block // block % block]
        + _TRIPLES[number // block % block]
        + _TRIPLES[number % block]
    )
    bits = id15.translate(UPPER_BITS)
    return (
        id15
        + SUFFIX_CHARS[int(bits[4::-1], 2)]
        + SUFFIX_CHARS[int(bits[9:4:-1], 2)]
        + SUFFIX_CHARS[int(bits[14:9:-1], 2)]
    )


class DateTable:
    """Day offsets (0 = as-of, negative = past) to formatted dates, precomputed."""

    LOW, HIGH = -2400, 1200

    def __init__(self, as_of: date) -> None:
        self.as_of = as_of
        days = [as_of + timedelta(days=o) for o in range(self.LOW, self.HIGH + 1)]
        self.iso = [d.isoformat() for d in days]
        self.mdy = [f"{d.month}/{d.day}/{d.year}" for d in days]
        self.dmy = [f"{d.day}/{d.month}/{d.year}" for d in days]
        self.text = [f"{d.day} {MONTHS[d.month - 1]} {d.year}" for d in days]
        self.month_end: list[int] = []
        for o, d in zip(range(self.LOW, self.HIGH + 1), days, strict=True):
            nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
            self.month_end.append(o + (nxt - d).days - 1)

    def clamp(self, offset: int) -> int:
        return min(max(offset, self.LOW), self.HIGH)

    def at(self, table: list[str], offset: int) -> str:
        return table[self.clamp(offset) - self.LOW]

    def to_month_end(self, offset: int) -> int:
        return self.month_end[self.clamp(offset) - self.LOW]


# --- the CRM-neutral deal -----------------------------------------------------------------

# A contact: (name, title ("" when left blank), role, is primary, engaged on as a day offset).
Contact = tuple[str, str, str, bool, "int | None"]
# A mutual action plan step: (milestone, owner side, owner ("" when missing), due, done on).
PlanStep = tuple[str, str, str, int, "int | None"]


@dataclass(slots=True)
class SynthDeal:
    index: int
    stage: int  # 0-5 open stages, 6 closed won, 7 closed lost
    reached: int  # furthest open stage reached (lost deals: where they were lost)
    account: str
    owner: str
    product: str
    deal_type: str
    amount: float | None
    currency: str
    created: int
    close: int
    entries: list[int]  # day each open stage 0..reached was entered
    closed_on: int | None
    probability_delta: int
    forecast: str  # neutral: pipeline | best | commit | omitted | closed
    next_step: str | None
    next_step_date: int | None
    last_activity: int | None
    pushes: int
    values: list[Any]  # custom field values in FIELDS order (dates as day offsets)
    contacts: list[Contact]
    plan: list[PlanStep] | None
    skipped: list[str]  # exit milestones of earlier stages left unmet on purpose
    placeholders: list[str] = field(default_factory=list)  # fields holding a placeholder
    hs_skip_first: bool = False  # HubSpot: created straight into a later stage

    @property
    def stage_id(self) -> str:
        return (*OPEN_STAGES, WON, LOST)[self.stage]

    @property
    def name(self) -> str:
        return f"{self.account} - {self.product} {self.deal_type}"


class Generator:
    """Produces SynthDeals one at a time; state is the seed and a fixed account pool."""

    def __init__(self, seed: int, as_of: date, deals: int) -> None:
        self.rng = random.Random(seed)
        self.r = self.rng.random
        self.dates = DateTable(as_of)
        self.as_of = as_of
        self.deals = deals
        setup = random.Random(seed * 1_000_003 + 17)
        s = setup.random
        names = [f"{p} {n}" for p in ACCOUNT_PREFIXES for n in ACCOUNT_NOUNS]
        _shuffle(s, names)
        size = max(40, min(len(names), deals // 3 + 10))
        suffix_cum = _cumulative([w for _, w in ACCOUNT_SUFFIXES])
        self.accounts = [
            names[i] + ACCOUNT_SUFFIXES[_weighted(s, suffix_cum)][0] for i in range(size)
        ]
        self.owner_cum = _cumulative([0.6 + 0.8 * s() for _ in OWNERS])
        self.account_owner = [OWNERS[_weighted(s, self.owner_cum)] for _ in range(size)]
        self.people = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
        _shuffle(s, self.people)
        # each theme's (pain, metric) pairs, with a buyer's figures filled in
        self.pools: list[list[tuple[str, str]]] = []
        for theme in THEMES:
            pool: list[tuple[str, str]] = []
            for _ in range(60):
                numbers = _theme_numbers(s)
                pool.extend((p.format(**numbers), m.format(**numbers)) for p, m in theme.problems)
            self.pools.append(pool)
        self.stage_cum = _cumulative([w for _, w in STAGE_WEIGHTS])
        self.type_cum = _cumulative([w for _, w in DEAL_TYPES])
        self.skip_cum: list[tuple[list[float], list[str]]] = []
        for stage in range(len(OPEN_STAGES) + 1):
            ids = [m for k in range(stage) for m, _ in MILESTONES[k]]
            weights = [w for k in range(stage) for _, w in MILESTONES[k]]
            self.skip_cum.append((_cumulative(weights) if weights else [], ids))
        self.currency_cum = {
            region: (_cumulative([w for _, w in options]), [c for c, _ in options])
            for region, options in REGION_CURRENCIES.items()
        }

    def __iter__(self) -> Iterator[SynthDeal]:
        for index in range(self.deals):
            yield self.deal(index)

    def deal(self, index: int) -> SynthDeal:
        r = self.r
        d = self.dates
        FI = FIELD_INDEX
        stage = _weighted(r, self.stage_cum)
        won, lost = stage == 6, stage == 7
        open_deal = stage < 6
        if won:
            reached = 5
        elif lost:
            reached = int(r() * 5) if r() < 0.92 else 5  # lost mostly before the contract
        else:
            reached = stage

        account_index = int(len(self.accounts) * r() ** 1.3)  # big accounts have more deals
        account = self.accounts[account_index]
        owner = (
            self.account_owner[account_index]
            if r() < 0.85
            else OWNERS[_weighted(r, self.owner_cum)]
        )
        theme_index = int(r() * len(THEMES))
        theme = THEMES[theme_index]
        pool = self.pools[theme_index]
        pain, metric = pool[int(r() * len(pool))]
        deal_type = DEAL_TYPES[_weighted(r, self.type_cum)][0]
        cum, codes = self.currency_cum[OWNER_REGION[owner]]
        currency = codes[_weighted(r, cum)] if len(codes) > 1 else codes[0]

        # amount: log-normal around 40k within 5k-500k; early deals often have none yet
        drawn = min(500_000.0, max(5_000.0, self.rng.lognormvariate(10.6, 0.85)))
        amount: float | None = round(drawn / 500) * 500.0 if r() < 0.8 else round(drawn, 2)
        if reached == 0 and open_deal and r() < 0.35:
            amount = None
        elif reached >= 1 and r() < 0.02:
            amount = 0.0

        # timeline: the day each stage was entered, counted back from today or the close
        if open_deal:
            closed_on = None
            if r() < 0.12:  # stuck in its stage for a quarter or more
                in_stage = 90 + int(r() * 150)
            else:
                in_stage = max(1, int(TYPICAL_DAYS[stage] * 1.8 * r()) + 1)
            last = -in_stage
        else:
            closed_on = -1 - int(r() * 330)
            last = closed_on - max(1, int(TYPICAL_DAYS[reached] * (0.3 + r())))
        entries = [0] * (reached + 1)
        entries[reached] = last
        for k in range(reached - 1, -1, -1):
            last -= max(2, int(TYPICAL_DAYS[k] * (0.35 + 1.5 * r())))
            entries[k] = last
        created = last
        window_end = 0 if closed_on is None else closed_on
        bounds = [*entries, window_end]  # stage k's evidence falls in bounds[k]..bounds[k+1]

        # which exit milestones are met
        met = set(MET_BEFORE[6 if won else reached])
        skipped: list[str] = []
        if reached >= 1 and r() < 0.27:
            cum_s, ids = self.skip_cum[reached]
            u = r()
            for _ in range(1 if u < 0.75 else 2 if u < 0.95 else 3):
                milestone = ids[_weighted(r, cum_s)]
                if milestone in met:
                    met.discard(milestone)
                    skipped.append(milestone)
        if not won:
            ready = r() < 0.15  # every milestone of its stage met: ready to advance
            for milestone, _ in MILESTONES[reached]:
                if ready or r() < 0.45:
                    met.add(milestone)
            if reached == 5 and (r() < 0.85 or lost):
                met.discard("CON-SIGNED")  # signed means won: few open deals have it

        # people at the buyer
        people = self.people
        n_people = len(people)
        champion = (people[int(r() * n_people)], theme.champions[int(r() * len(theme.champions))])
        eb = (people[int(r() * n_people)], EB_TITLES[int(r() * len(EB_TITLES))])
        others = [
            (people[int(r() * n_people)], *OTHER_TITLES[int(r() * len(OTHER_TITLES))])
            for _ in range(int(r() * 4))
        ]
        signer = (
            eb
            if r() < 0.6
            else (people[int(r() * n_people)], SIGNER_TITLES[int(r() * len(SIGNER_TITLES))])
        )

        values: list[Any] = [None] * len(FIELDS)
        placeholders: list[str] = []

        def missing(name: str, k: int) -> None:
            # a rep types a placeholder to get past a required field
            if k <= reached and r() < 0.3:
                values[FI[name]] = PLACEHOLDERS[int(r() * len(PLACEHOLDERS))]
                placeholders.append(name)

        # qualify
        if "QUAL-PAIN" in met:
            values[FI["pain"]] = pain
            confirmer = champion if r() < 0.7 or not others else others[0]
            values[FI["pain_confirmed_by"]] = f"{confirmer[0]}, {confirmer[1]}"
        elif r() < 0.35:
            values[FI["pain"]] = pain
            missing("pain_confirmed_by", 0)
        else:
            missing("pain", 0)
        # discover
        if "DISC-METRICS" in met:
            values[FI["metrics"]] = metric
        else:
            missing("metrics", 1)
        if "DISC-CRITERIA" in met:
            values[FI["decision_criteria"]] = theme.criteria[int(r() * len(theme.criteria))]
        else:
            missing("decision_criteria", 1)
        if "DISC-EB-NAMED" in met:
            values[FI["economic_buyer"]] = f"{eb[0]}, {eb[1]}"
        else:
            missing("economic_buyer", 1)
        if "DISC-CHAMPION" in met:
            values[FI["champion"]] = f"{champion[0]}, {champion[1]}"
        else:
            missing("champion", 1)
        if "DISC-COMPETITION" in met:
            rivals = theme.competitors
            first = rivals[int(r() * len(rivals))]
            second = rivals[int(r() * len(rivals))]
            values[FI["competitors"]] = first if first == second else f"{first}; {second}"
        else:
            missing("competitors", 1)
        # validate
        if "VAL-DECISION-PROCESS" in met:
            process = DECISION_PROCESS[int(r() * len(DECISION_PROCESS))]
            values[FI["decision_process"]] = process.format(
                champ=champion[0].split()[0], eb=eb[1], signer=signer[1]
            )
        else:
            missing("decision_process", 2)
        # propose
        if "PROP-PAPER-PROCESS" in met:
            values[FI["paper_process"]] = PAPER_PROCESS[int(r() * len(PAPER_PROCESS))].format(
                w=2 + int(r() * 4), v=2 + int(r() * 3), signer=signer[1]
            )
        else:
            missing("paper_process", 3)
        if "PROP-COMPELLING-EVENT" in met:
            event = COMPELLING_EVENTS[int(r() * len(COMPELLING_EVENTS))]
            values[FI["compelling_event"]] = event.format(
                comp=theme.competitors[int(r() * 2)],  # a vendor, not 'do nothing'
                when=d.at(d.text, d.to_month_end(30 + int(r() * 200))),
            )
        else:
            missing("compelling_event", 3)
        # negotiate
        if "NEG-SECURITY" in met:
            values[FI["security_review_required"]] = r() < 0.75
        elif reached >= 3 and r() < 0.6:
            values[FI["security_review_required"]] = True
        if "NEG-CONTRACT-SENT" in met or (reached >= 4 and r() < 0.4):
            values[FI["signatory"]] = f"{signer[0]}, {signer[1]}"
        # contract
        if "CON-PO" in met:
            po_required = r() < 0.55
            values[FI["purchase_order_required"]] = po_required
            if po_required:
                values[FI["purchase_order_number"]] = f"PO-{4500000000 + int(r() * 99999999)}"
        elif reached >= 3 and r() < 0.5:
            values[FI["purchase_order_required"]] = True

        # dates of evidence: in the window of their stage, in the order they usually happen
        no_security = values[FI["security_review_required"]] is False
        for k in range(min(reached, 5) + 1):
            wanted = [
                name
                for name in DATE_ORDER[k]
                if DATED_BY[name] in met and not (no_security and name == "security_review_done_on")
            ]
            if wanted:
                lo = bounds[k]
                span = max(lo, bounds[k + 1]) - lo + 1
                picks = sorted(lo + int(r() * span) for _ in wanted)
                for name, day in zip(wanted, picks, strict=True):
                    values[FI[name]] = day
        if won:
            values[FI["contract_signed_on"]] = closed_on
        if "CON-KICKOFF" in met:
            signed = values[FI["contract_signed_on"]]
            values[FI["kickoff_date"]] = (
                (window_end if signed is None else signed) + 7 + int(r() * 28)
            )
        if "VAL-MAP" not in met and reached >= 2 and r() < 0.2:
            # agreed on a date, but a step has no owner (below): VAL-MAP is still not met
            lo = bounds[2]
            values[FI["action_plan_agreed_on"]] = lo + int(r() * (max(lo, bounds[3]) - lo + 1))

        # close date, pushes, forecast category
        if open_deal:
            close = max(3, int(REMAINING_DAYS[stage] * (0.5 + 1.2 * r())) + int(r() * 20))
            if r() < 0.4:
                close = d.to_month_end(close)  # reps like month ends
            u = r()
            pushes = 0 if u < 0.66 else 1 if u < 0.84 else 2 if u < 0.93 else 3 + int(r() * 3)
            if r() < 0.08:
                close = -1 - int(r() * 75)  # passed and nobody moved it
                pushes += int(r() * 2)
            u = r()
            if stage <= 1:
                forecast = "pipeline" if u < 0.95 else "best" if u < 0.99 else "omitted"
            elif stage == 2:
                forecast = "pipeline" if u < 0.7 else "best" if u < 0.95 else "commit"
            elif stage == 3:
                forecast = "pipeline" if u < 0.35 else "best" if u < 0.85 else "commit"
            else:
                forecast = "best" if u < 0.35 else "commit" if u < 0.95 else "pipeline"
        else:
            close = window_end
            pushes = int(r() * 3) if r() < 0.4 else 0
            forecast = "closed" if won else "omitted"
        probability_delta = 0 if r() < 0.9 else (-10, -5, 5, 10)[int(r() * 4)]

        # next step and last activity
        next_step: str | None = None
        next_step_date: int | None = None
        if open_deal:
            u = r()
            if u < 0.06:
                pass
            elif u < 0.09:
                next_step = PLACEHOLDERS[int(r() * len(PLACEHOLDERS))]
                placeholders.append("next_step")
            else:
                steps = NEXT_STEPS[stage]
                next_step = steps[int(r() * len(steps))]
            u = r()
            if next_step is not None and u < 0.8:
                next_step_date = 1 + int(r() * 21)
            elif next_step is not None and u < 0.9:
                next_step_date = max(created, -1 - int(r() * 40))
            if r() < 0.8 or created > -15:
                last_activity: int | None = max(created, -int(r() * 14))
            else:
                last_activity = max(created, -15 - int(r() * 100))  # gone quiet
        else:
            if r() < 0.3:
                next_step = "Hand over to onboarding" if won else "Revisit next fiscal year"
            last_activity = max(created, window_end - int(r() * 5))
        if r() < 0.02:
            last_activity = None

        # contacts on the deal (Salesforce contact roles; HubSpot counts them)
        if reached == 0:
            u = r()
            wanted_count = 0 if u < 0.1 else 1 if u < 0.75 else 2
        elif reached == 1:
            wanted_count = 1 + int(r() * 3)
        elif reached == 2:
            wanted_count = 2 + int(r() * 3)
        else:
            wanted_count = 1 if r() < 0.1 else 2 + int(r() * 4)  # a few single-threaded
        if "QUAL-CONTACT" in met:
            wanted_count = max(1, wanted_count)
        elif reached > 0:
            wanted_count = 0 if r() < 0.6 else 1
        cast = [(champion[0], champion[1], CHAMPION_ROLES[int(r() * len(CHAMPION_ROLES))])]
        if wanted_count >= 2 or "VAL-EB-MET" in met:
            cast.append((eb[0], eb[1], EB_ROLES[int(r() * len(EB_ROLES))]))
        cast.extend(others)
        if signer is not eb:
            cast.append((signer[0], signer[1], "Other"))
        span = window_end - created + 1
        contacts = [
            (name, title, role, i == 0, None if r() < 0.1 else window_end - int(r() * span))
            for i, (name, title, role) in enumerate(cast[:wanted_count])
        ]
        if "QUAL-CONTACT" not in met and contacts:
            first_contact = contacts[0]
            contacts[0] = (first_contact[0], "", *first_contact[2:])  # no title: not named yet

        # mutual action plan: from validate on, when agreed (or drafted)
        plan: list[PlanStep] | None = None
        agreed = values[FI["action_plan_agreed_on"]]
        if reached >= 2 and ("VAL-MAP" in met or agreed is not None or r() < 0.35):
            start = bounds[2] if agreed is None else agreed
            top = min(reached + 2, 5)
            steps_taken = [step for step in PLAN_STEPS if step[2] <= top and r() < 0.75]
            if not any(side == "buyer" for _, side, _ in steps_taken):
                steps_taken.insert(0, PLAN_STEPS[0])
            span = max(1, max(close, start + 20) - start)
            buyers = [champion[0], eb[0], *(other[0] for other in others)]
            plan = []
            n_steps = len(steps_taken) + 1
            for i, (milestone, side, _) in enumerate(steps_taken):
                due = start + 3 + span * (i + 1) // n_steps + int(r() * 5)
                done: int | None = None
                if due <= window_end:
                    if r() < 0.93:  # the rest are overdue
                        done = min(window_end, max(start, due + int(r() * 7) - 4))
                elif r() < 0.08:
                    done = max(start, window_end - int(r() * 5))  # done early
                if side == "buyer":
                    step_owner = buyers[int(r() * len(buyers))]
                else:
                    step_owner = owner if r() < 0.7 else SE_NAMES[int(r() * len(SE_NAMES))]
                plan.append((milestone, side, step_owner, due, done))
            if "VAL-MAP" not in met and agreed is not None:
                i = int(r() * len(plan))
                plan[i] = (plan[i][0], plan[i][1], "", *plan[i][3:])  # a step nobody owns

        return SynthDeal(
            index,
            stage,
            reached,
            account,
            owner,
            theme.product,
            deal_type,
            amount,
            currency,
            created,
            close,
            entries,
            closed_on,
            probability_delta,
            forecast,
            next_step,
            next_step_date,
            last_activity,
            pushes,
            values,
            contacts,
            plan,
            skipped,
            placeholders,
            reached >= 1 and r() < 0.12,
        )


def _theme_numbers(s: Any) -> dict[str, int]:
    """The figures a buyer quotes about a problem: today's value and the target."""
    k = 50 + int(s() * 400)  # thousands
    a = 40 + int(s() * 40)  # a rate today, %
    d = 6 + int(s() * 20)  # days or hours today
    p = 6 + int(s() * 28)  # a share today, %
    hi = 45 + int(s() * 30)  # days sales outstanding today
    return {
        "p": p,
        "r": max(2, p // 2),
        "s": 2 + int(s() * 5),
        "d": d,
        "e": max(2, d // 3),
        "w": 3 + int(s() * 6),
        "n": 20 + int(s() * 300),
        "x": 3 + int(s() * 6),
        "k": k,
        "j": max(10, k // 4),
        "a": a,
        "b": min(99, a + 8 + int(s() * 15)),
        "c": a // 3,
        "hi": hi,
        "lo": hi * 2 // 3,
        "q": 1 + int(s() * 4),
    }


def iter_deals(deals: int, seed: int, as_of: date) -> Iterator[SynthDeal]:
    """The CRM-neutral deals for a seed, one at a time."""
    return iter(Generator(seed, as_of, deals))


# --- the mess of real exports --------------------------------------------------------------


@dataclass
class MessLog:
    """Where a writer put each deliberate problem (CSV lines, header = line 1)."""

    file: str
    rows: int = 0
    items: list[dict[str, Any]] = field(default_factory=list)
    placeholders: Counter[str] = field(default_factory=Counter)
    skipped_deals: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    roles_file: str | None = None
    role_rows: int = 0
    role_items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, line: int, column: str, value: str, what: str, deal_id: str = "") -> None:
        self.items.append(
            {"line": line, "column": column, "value": value, "what": what, "deal_id": deal_id}
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rows": self.rows,
            "mess": sorted(self.items, key=lambda item: item["line"]),
            "placeholders_by_column": dict(sorted(self.placeholders.items())),
            "open_deals_with_skipped_milestones": self.skipped_deals,
            "rows_by_stage": dict(sorted(self.stages.items())),
            "roles_file": self.roles_file,
            "role_rows": self.role_rows,
            "roles_mess": self.role_items,
        }


@dataclass(frozen=True)
class MessPlan:
    """The data rows (0-based) that carry a deliberate problem; -1 for none."""

    duplicate_of: int = -1  # the row whose id is repeated ...
    duplicate_at: int = -1  # ... by a copy of it written here
    empty_id: tuple[int, ...] = ()
    unknown_stage: tuple[int, ...] = ()
    bad_amount: int = -1
    bad_next_step_date: int = -1
    bad_close_date: int = -1
    bad_last_activity: int = -1
    orphan_role_after: int = -1  # contact roles: a role for a deal that does not exist

    @property
    def rows(self) -> frozenset[int]:
        """The rows a writer changes after formatting them (the duplicate is apart)."""
        rows = {*self.empty_id, *self.unknown_stage, self.bad_amount, self.bad_next_step_date}
        rows |= {self.bad_close_date, self.bad_last_activity}
        return frozenset(rows - {-1})

    @classmethod
    def for_rows(cls, rows: int, seed: int, *, empty_ids: int, unknown_stages: int) -> MessPlan:
        """Distinct rows drawn from the seed, none among the first rows a newcomer reads."""
        if rows < 30:
            return cls()
        r = random.Random(seed * 7_919 + 101).random
        skip = max(3, rows // 50)
        picks = [skip + p for p in _sample(r, rows - skip, 2 + empty_ids + unknown_stages + 5)]
        first, second = sorted(picks[:2])
        rest = picks[2:]
        n = empty_ids + unknown_stages
        return cls(
            duplicate_of=first,
            duplicate_at=second,
            empty_id=tuple(sorted(rest[:empty_ids])),
            unknown_stage=tuple(sorted(rest[empty_ids:n])),
            bad_amount=rest[n],
            bad_next_step_date=rest[n + 1],
            bad_close_date=rest[n + 2],
            bad_last_activity=rest[n + 3],
            orphan_role_after=rest[n + 4],
        )


@dataclass(frozen=True)
class ExportStyle:
    """The columns and words one CRM's export uses for the deliberate problems."""

    headers: tuple[str, ...]
    id_column: str
    stage_column: str
    amount_column: str
    next_step_date_column: str
    close_date_column: str
    last_activity_column: str
    unknown_stages: tuple[str, ...]  # one per unknown-stage row
    empty_id_why: str
    bad_last_activity: str

    def column(self, header: str) -> int:
        return self.headers.index(header)


def _kilo(amount: float | None) -> str:
    """How a rep abbreviates an amount: 104500 -> 104.5k (unreadable on purpose)."""
    return f"{round((amount or 1200) / 1000, 1):g}k"


def _apply_mess(
    style: ExportStyle,
    plan: MessPlan,
    i: int,
    row: list[Any],
    deal: SynthDeal,
    bad_close: tuple[str, str],
    log: MessLog,
) -> None:
    """Spoil row i of the file as planned, and note where."""
    line, deal_id = i + 2, str(row[0])

    def spoil(header: str, value: str, what: str) -> None:
        row[style.column(header)] = value
        log.add(line, header, value, what, deal_id)

    if i in plan.empty_id:
        row[0] = ""
        log.add(line, style.id_column, "", f"empty id: row rejected ({style.empty_id_why})")
    if i in plan.unknown_stage:
        stage = style.unknown_stages[plan.unknown_stage.index(i)]
        spoil(style.stage_column, stage, "stage not in the pack: only hygiene checks apply")
    if i == plan.bad_amount:
        spoil(style.amount_column, _kilo(deal.amount), "unreadable amount: read as missing")
    if i == plan.bad_next_step_date:
        spoil(style.next_step_date_column, "next week", "unreadable date: read as missing")
    if i == plan.bad_close_date:
        spoil(style.close_date_column, *bad_close)
    if i == plan.bad_last_activity:
        spoil(style.last_activity_column, style.bad_last_activity, "not a date: read as missing")


def _log_deal(log: MessLog, row: list[Any], deal: SynthDeal, labels: dict[str, str]) -> None:
    log.stages[row[4]] += 1
    if deal.placeholders:
        log.placeholders.update(labels.get(name) or field_label(name) for name in deal.placeholders)
    if deal.skipped and deal.stage < 6:
        log.skipped_deals += 1


def _plain_amount(amount: float) -> str:
    return str(int(amount)) if amount == int(amount) else f"{amount:.2f}".rstrip("0")


def _open(out: Path | IO[str], encoding: str) -> tuple[IO[str], bool]:
    if isinstance(out, Path):
        return out.open("w", encoding=encoding, newline=""), True
    return out, False


# --- Salesforce ---------------------------------------------------------------------------

SF_HEADERS = (
    "Opportunity ID",
    "Opportunity Name",
    "Account Name",
    "Opportunity Owner",
    "Stage",
    "Amount",
    "Opportunity Currency",
    "Close Date",
    "Created Date",
    "Probability (%)",
    "Forecast Category",
    "Next Step",
    "Next Step Date",
    "Last Activity",
    "Push Count",
    *(field_label(name) for name in FIELD_NAMES),
    "Action Plan",
)
SF_ROLE_HEADERS = (
    "OpportunityId",
    "ContactId",
    "Contact: Full Name",
    "Title",
    "Role",
    "IsPrimary",
    "Contact: Last Activity",
)
SF_FORECAST = {
    "pipeline": "Pipeline",
    "best": "Best Case",
    "commit": "Commit",
    "omitted": "Omitted",
    "closed": "Closed",
}
SF_SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£"}
SF_STYLE = ExportStyle(
    headers=SF_HEADERS,
    id_column="Opportunity ID",
    stage_column="Stage",
    amount_column="Amount",
    next_step_date_column="Next Step Date",
    close_date_column="Close Date",
    last_activity_column="Last Activity",
    unknown_stages=("Stalled", "Stalled"),
    empty_id_why="typed into the export by hand",
    bad_last_activity="yesterday",
)


def write_salesforce(
    out: Path | IO[str],
    *,
    deals: int,
    seed: int,
    as_of: date,
    contacts_out: Path | None = None,
    mess: bool = True,
) -> MessLog:
    """A Salesforce opportunity report (CSV, UTF-8 with BOM, M/D/YYYY), and its contact roles.

    Quoted as Excel and Salesforce's "Export details" do: only cells holding a comma, a quote
    or a line break are quoted; lines end with CRLF.
    """
    generator = Generator(seed, as_of, deals)
    d = generator.dates
    r = random.Random(seed * 31 + 7).random  # formatting choices, apart from the deals
    plan = MessPlan.for_rows(deals, seed, empty_ids=2, unknown_stages=2) if mess else MessPlan()
    special = plan.rows
    log = MessLog(str(out), roles_file=str(contacts_out) if contacts_out else None)
    stage_labels = [  # by stage index: 0-5 open, 6 won, 7 lost
        (_cumulative([w for _, w, _ in labels]), labels)
        for labels in (SF_STAGE_LABELS[key] for key in (*OPEN_STAGES, WON, LOST))
    ]
    number0 = 52_000_000 + seed % 1000 * 10_000
    contact_number = 310_000_000 + seed % 1000 * 10_000
    mdy, low = d.mdy, d.LOW
    kept_row: list[Any] | None = None
    orphan_written = False
    role_line = 1

    stream, own = _open(out, "utf-8-sig")
    roles_stream, own_roles = _open(contacts_out, "utf-8") if contacts_out else (None, False)
    try:
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(SF_HEADERS)
        roles = csv.writer(roles_stream, lineterminator="\r\n") if roles_stream else None
        if roles:
            roles.writerow(SF_ROLE_HEADERS)
        for i, deal in enumerate(generator):
            if i == plan.duplicate_at and kept_row is not None:
                # the same opportunity exported twice (a report joined to a related list)
                writer.writerow(kept_row)
                what = f"duplicate id: same opportunity as line {plan.duplicate_of + 2}"
                log.add(i + 2, "Opportunity ID", kept_row[0], what, kept_row[0])
                log.stages[kept_row[4]] += 1
                continue
            opp_id = salesforce_id("006", number0 + i * 61 + int(r() * 60))
            cum, labels = stage_labels[deal.stage]
            label, _, probability = labels[_weighted(r, cum)] if len(labels) > 1 else labels[0]
            if probability not in (0, 100):
                probability = min(99, max(1, probability + deal.probability_delta))
            if deal.amount is None:
                amount = ""
            elif r() < 0.4:
                amount = (
                    f"{SF_SYMBOL[deal.currency]}{deal.amount:,.2f}"
                    if r() < 0.75
                    else f"{deal.currency} {deal.amount:,.2f}"
                )
            else:
                amount = _plain_amount(deal.amount)
            row: list[Any] = [
                opp_id,
                deal.name,
                deal.account,
                deal.owner,
                label,
                amount,
                deal.currency,
                mdy[deal.close - low],
                mdy[deal.created - low],
                probability,
                SF_FORECAST[deal.forecast],
                deal.next_step,  # None is written as an empty cell
                None if deal.next_step_date is None else mdy[deal.next_step_date - low],
                None if deal.last_activity is None else mdy[deal.last_activity - low],
                deal.pushes,
            ]
            custom = deal.values.copy()
            for j in DATE_FIELDS:
                value = custom[j]
                if value is not None:
                    custom[j] = mdy[value - low]
            for j in BOOLEAN_FIELDS:
                value = custom[j]
                if value is not None:
                    custom[j] = "Yes" if value else "No"
            row.extend(custom)
            row.append(_plan_json(deal, d) if deal.plan else None)
            if i in special:
                # a rep on a day-first locale typed the month end: the 31st is no month
                bad_close = d.at(d.dmy, d.to_month_end(deal.close))
                why = "day-first date in an M/D/YYYY export: unreadable, read as missing"
                _apply_mess(SF_STYLE, plan, i, row, deal, (bad_close, why), log)
            writer.writerow(row)
            _log_deal(log, row, deal, {"next_step": "Next Step"})
            if i == plan.duplicate_of:
                kept_row = row
            if roles is None or not row[0]:
                continue
            for name, title, role, primary, engaged in deal.contacts:
                contact_number += 1 + int(r() * 40)
                role_line += 1
                roles.writerow(
                    (
                        opp_id if r() < 0.5 else opp_id[:15],  # Data Loader writes 15 chars
                        salesforce_id("003", contact_number),
                        name,
                        title,
                        role,
                        "true" if primary else "false",
                        None if engaged is None else mdy[engaged - low],
                    )
                )
            if not orphan_written and 0 <= plan.orphan_role_after <= i:
                orphan_written = True
                missing = salesforce_id("006", number0 + deals * 61 + 977)
                contact_number += 7
                role_line += 1
                roles.writerow(
                    (
                        missing,
                        salesforce_id("003", contact_number),
                        "Ines Walker",
                        "IT Manager",
                        "Evaluator",
                        "false",
                        None,
                    )
                )
                what = "contact role for an opportunity that is not in the pipeline"
                log.role_items.append(
                    {"line": role_line, "column": "OpportunityId", "value": missing, "what": what}
                )
        log.rows = deals
        log.role_rows = role_line - 1
    finally:
        if own:
            stream.close()
        if roles_stream is not None and own_roles:
            roles_stream.close()
    return log


def _plan_json(deal: SynthDeal, d: DateTable) -> str:
    """The plan as a JSON array; the generator's words hold no quote or backslash."""
    iso, low, high = d.iso, d.LOW, d.HIGH
    steps = []
    for milestone, side, owner, due, done_on in deal.plan or ():
        done = "" if done_on is None else f', "done_on": "{iso[done_on - low]}"'
        steps.append(
            f'{{"milestone": "{milestone}", "owner_side": "{side}", '
            f'"owner": "{owner}", "due": "{iso[min(due, high) - low]}"{done}}}'
        )
    return "[" + ", ".join(steps) + "]"


# --- HubSpot ------------------------------------------------------------------------------

HS_HEADERS = (
    "Record ID",
    "Deal Name",
    "Associated Company",
    "Deal owner",
    "Deal Stage",
    "Pipeline",
    "Amount",
    "Close Date",
    "Create Date",
    "Deal probability",
    "Forecast category",
    "Next step",
    "Next Activity Date",
    "Last Activity Date",
    "Number of Associated Contacts",
    *(f'Date entered "{label} (Sales Pipeline)"' for label, _, _ in HS_STAGES),
    *(field_label(name) for name in FIELD_NAMES),
)
HS_FORECAST = {
    "pipeline": "Pipeline",
    "best": "Best case",
    "commit": "Commit",
    "omitted": "Not forecasted",
    "closed": "Closed won",
}
HS_STYLE = ExportStyle(
    headers=HS_HEADERS,
    id_column="Record ID",
    stage_column="Deal Stage",
    amount_column="Amount",
    next_step_date_column="Next Activity Date",
    close_date_column="Close Date",
    last_activity_column="Last Activity Date",
    unknown_stages=("Stalled", "98765432"),  # a custom stage's label, another one's id
    empty_id_why="pasted in from a spreadsheet",
    bad_last_activity="31.13.2026",
)
TIMES = [f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)]


def write_hubspot(
    out: Path | IO[str], *, deals: int, seed: int, as_of: date, mess: bool = True
) -> MessLog:
    """A HubSpot deals export (CSV, UTF-8 without BOM, LF), labels as headers.

    Dates with a time are `YYYY-MM-DD HH:MM`; date properties are `YYYY-MM-DD`.
    """
    generator = Generator(seed, as_of, deals)
    d = generator.dates
    r = random.Random(seed * 37 + 11).random
    plan = MessPlan.for_rows(deals, seed, empty_ids=1, unknown_stages=2) if mess else MessPlan()
    special = plan.rows
    log = MessLog(str(out))
    iso, low = d.iso, d.LOW
    record0 = 15_200_000_000 + seed % 1000 * 1_000_000
    kept_row: list[Any] | None = None
    bad_close = ("end of Q1", "unreadable date: read as missing")

    def stamp(offset: int) -> str:
        minute = (8 + int(r() * 10)) * 60 + int(r() * 60)  # office hours
        return f"{iso[d.clamp(offset) - low]} {TIMES[minute]}"

    stream, own = _open(out, "utf-8")
    try:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(HS_HEADERS)
        for i, deal in enumerate(generator):
            if i == plan.duplicate_at and kept_row is not None:
                writer.writerow(kept_row)
                what = f"duplicate id: same deal as line {plan.duplicate_of + 2}"
                log.add(i + 2, "Record ID", kept_row[0], what, kept_row[0])
                log.stages[kept_row[4]] += 1
                continue
            record_id = str(record0 + i * 97 + int(r() * 90))
            label, internal, probability = HS_STAGES[HS_OF_STAGE[deal.stage]]
            if probability not in (0, 100):
                probability = min(99, max(1, probability + deal.probability_delta))
            forecast = HS_FORECAST[deal.forecast]
            if deal.stage < 6 and r() < 0.01:
                forecast = "Closed won"  # a rep's mistake the HubSpot pack catches
            created = stamp(deal.created)
            row: list[Any] = [
                record_id,
                deal.name,
                deal.account,
                deal.owner,
                internal if r() < 0.1 else label,  # some exports hold the stage id
                "Sales Pipeline",
                None if deal.amount is None else _plain_amount(deal.amount),
                stamp(deal.close),
                created,
                probability,
                forecast,
                deal.next_step,
                None if deal.next_step_date is None else stamp(deal.next_step_date),
                None if deal.last_activity is None else stamp(deal.last_activity),
                len(deal.contacts),
            ]
            # stage history: when the deal entered each HubSpot stage
            entered: list[str | None] = [None] * len(HS_STAGES)
            for k, day in enumerate(deal.entries):
                target = HS_OF_STAGE[k]
                if entered[target] is None:
                    entered[target] = created if k == 0 else stamp(day)
            if deal.hs_skip_first:  # created straight into Qualified To Buy
                entered[1], entered[0] = entered[0], None
            if deal.closed_on is not None:
                entered[HS_OF_STAGE[deal.stage]] = stamp(deal.closed_on)
            row.extend(entered)
            custom = deal.values.copy()
            for j in DATE_FIELDS:
                value = custom[j]
                if value is not None:
                    custom[j] = iso[value - low]
            for j in BOOLEAN_FIELDS:
                value = custom[j]
                if value is not None:
                    custom[j] = "true" if value else "false"
            row.extend(custom)
            if i in special:
                _apply_mess(HS_STYLE, plan, i, row, deal, bad_close, log)
            writer.writerow(row)
            _log_deal(log, row, deal, {"next_step": "Next step"})
            if i == plan.duplicate_of:
                kept_row = row
        log.rows = deals
    finally:
        if own:
            stream.close()
    return log


# --- teams --------------------------------------------------------------------------------


def write_teams(out: Path) -> int:
    """Owner, Manager, Region: the sales teams every generated deal's owner belongs to."""
    with out.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(("Owner", "Manager", "Region"))
        for manager, region, owners in TEAMS:
            for owner in owners:
                writer.writerow((owner, manager, region))
    return len(OWNERS)


# --- CLI ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write a deterministic synthetic pipeline as a Salesforce or HubSpot export."
    )
    parser.add_argument("--crm", choices=("salesforce", "hubspot"), required=True)
    parser.add_argument("--deals", type=int, required=True, help="number of data rows")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=date(2026, 11, 27), help="YYYY-MM-DD"
    )
    parser.add_argument("--out", type=Path, required=True, help="the deals CSV")
    parser.add_argument(
        "--contacts-out", type=Path, help="Salesforce only: the OpportunityContactRole CSV"
    )
    parser.add_argument("--teams-out", type=Path, help="Owner, Manager, Region CSV")
    parser.add_argument("--no-mess", action="store_true", help="no injected export problems")
    parser.add_argument("--report", type=Path, help="write where the mess went, as JSON")
    args = parser.parse_args(argv)
    if args.deals < 1:
        parser.error("--deals must be at least 1")
    if args.crm == "hubspot" and args.contacts_out:
        parser.error("--contacts-out is for Salesforce contact roles only")
    started = time.perf_counter()
    if args.crm == "salesforce":
        log = write_salesforce(
            args.out,
            deals=args.deals,
            seed=args.seed,
            as_of=args.as_of,
            contacts_out=args.contacts_out,
            mess=not args.no_mess,
        )
    else:
        log = write_hubspot(
            args.out, deals=args.deals, seed=args.seed, as_of=args.as_of, mess=not args.no_mess
        )
    if args.teams_out:
        write_teams(args.teams_out)
    elapsed = time.perf_counter() - started
    if args.report:
        args.report.write_text(json.dumps(log.as_json(), indent=2, ensure_ascii=False) + "\n")
    extra = f" and {log.role_rows} contact roles" if log.roles_file else ""
    print(f"wrote {log.rows} deals{extra} in {elapsed:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
