"""Profiles, mapping files and side files: how a CRM export becomes canonical deals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dealgate.deals.model import CANONICAL_NAMES, LIST_ITEMS, Deal, ReadDeal
from dealgate.deals.profiles import custom_field_name, detect_profile
from dealgate.deals.source import DealSource, open_deals
from dealgate.errors import InputError
from dealgate.findings import DataIssue
from dealgate.rules.catalog import PackCatalog
from dealgate.rules.loader import load_pack
from dealgate.rules.model import RulePack
from dealgate.rules.types import CANONICAL_FIELDS, Kind


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack("buyer-journey", PackCatalog(cwd=Path("/nonexistent")))


def test_deal_model_and_rule_language_agree_on_the_canonical_fields() -> None:
    assert set(CANONICAL_FIELDS) == CANONICAL_NAMES
    for name, model in LIST_ITEMS.items():
        assert CANONICAL_FIELDS[name].kind is Kind.LIST
        assert set(CANONICAL_FIELDS[name].fields) == set(model.model_fields), name
    assert Deal.model_fields["close_date"].annotation == date | None


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Economic_Buyer__c", "economic_buyer"),
        ("Pain Confirmed By", "pain_confirmed_by"),
        ("EconomicBuyerMetOn", "economic_buyer_met_on"),
        ("Account.Industry", "account_industry"),
        ("  Next Step Date ", "next_step_date"),
        ("% Complete", "complete"),
        ("2nd Contact", "f_2nd_contact"),
    ],
)
def test_custom_field_names(header: str, name: str) -> None:
    assert custom_field_name(header) == name


@pytest.mark.parametrize(
    ("headers", "profile"),
    [
        (["Opportunity ID", "Opportunity Name", "Stage", "Close Date"], "salesforce"),
        (["Id", "Name", "StageName", "CloseDate", "NextStep"], "salesforce"),
        (["Record ID", "Deal Name", "Deal Stage", "Close Date"], "hubspot"),
        (["hs_object_id", "dealname", "dealstage", "closedate"], "hubspot"),
        (["id", "name", "stage", "close_date", "next_step_date"], "canonical"),
        (["opportunity_id", "sales_agent", "deal_stage"], "canonical"),
    ],
)
def test_profile_is_detected_from_headers(headers: list[str], profile: str) -> None:
    assert detect_profile(headers)[0].name == profile


def test_hubspot_export_stage_history_probability_and_forecast(
    tmp_path: Path, pack: RulePack
) -> None:
    path = tmp_path / "hubspot.csv"
    path.write_text(
        "Record ID,Deal Name,Deal Stage,hs_deal_stage_probability,Forecast category,"
        "Number of Associated Contacts,"
        'Date entered "Appointment Scheduled (Sales Pipeline)",'
        'Date entered "Qualified To Buy (Sales Pipeline)",hs_date_entered_contractsent\n'
        "101,Initech,qualifiedtobuy,0.4,Best case,2,2026-09-01 10:00,2026-10-15 09:00,\n"
        "102,Hooli,Appointment Scheduled,1.7,COMMIT,,,,\n",
        encoding="utf-8",
    )
    source, deals = _read(path, pack)
    assert source.profile.name == "hubspot"
    first = deals[0].deal
    assert first.probability == Decimal(40)
    assert first.forecast_category == "Best Case"
    assert first.custom["num_associated_contacts"] == "2"
    assert [(change.stage, change.entered_on) for change in first.stage_history or []] == [
        ("Appointment Scheduled", date(2026, 9, 1)),
        ("Qualified To Buy", date(2026, 10, 15)),
    ]
    second = deals[1].deal
    assert second.stage_history == []  # exported, nothing entered: empty, not unknown
    assert second.forecast_category == "Commit"
    assert [(f.row, f.column, f.issue) for f in source.findings] == [
        (3, "hs_deal_stage_probability", DataIssue.OUT_OF_RANGE)
    ]


def _read(path: Path, pack: RulePack, **options: object) -> tuple[DealSource, list[ReadDeal]]:
    source = open_deals(path, pack, **options)  # type: ignore[arg-type]
    return source, list(source)


def test_contact_roles_join_by_opportunity_id_and_teams_give_managers(
    tmp_path: Path, pack: RulePack
) -> None:
    pipeline = tmp_path / "pipeline.csv"
    pipeline.write_text(
        "Opportunity ID,Opportunity Name,Opportunity Owner,Stage\n"
        "0065g00000AbCdEAAV,Acme,Ada Ng,Proposal/Price Quote\n"
        "0065g00000ZZZZZAAA,Globex,Bo Li,Prospecting\n",
        encoding="utf-8",
    )
    roles = tmp_path / "roles.csv"
    roles.write_text(
        "OpportunityId,ContactId,Contact: Full Name,Title,Role,IsPrimary,Contact: Last Activity\n"
        "0065g00000AbCdE,003A,Cara Diaz,CFO,Economic Buyer,true,11/20/2026\n"
        "0065g00000AbCdEAAV,003B,Dev Patel,Ops Lead,Champion,false,soon\n"
        "0065g00000NOPEXYZ,003C,Eve Moss,CTO,Evaluator,false,\n",
        encoding="utf-8",
    )
    teams = tmp_path / "teams.csv"
    teams.write_text("Owner,Manager,Region\nAda Ng,Maria Lopez,West\n", encoding="utf-8")
    source, deals = _read(pipeline, pack, contacts=roles, teams=teams)
    acme, globex = (read.deal for read in deals)
    assert [(c.name, c.role, c.is_primary) for c in acme.contacts or []] == [
        ("Cara Diaz", "Economic Buyer", True),
        ("Dev Patel", "Champion", False),
    ]
    assert acme.contacts and acme.contacts[0].engaged_on == date(2026, 11, 20)
    assert globex.contacts == []  # roles were exported; this deal has none
    assert (acme.manager, globex.manager) == ("Maria Lopez", None)
    assert [(f.file.endswith("roles.csv"), f.row, f.issue) for f in source.findings] == [
        (True, 3, DataIssue.UNREADABLE),
        (True, 4, DataIssue.UNKNOWN_DEAL),
    ]


MAVEN_MAPPING = """\
mapping: maven-crm
columns:
  opportunity_id: id
  sales_agent: owner
  deal_stage: stage
  engage_date: created_date
  close_value: amount
stages:
  Prospecting: qualify
  Engaging: discover
  Won: closed_won
  Lost: closed_lost
date_order: D/M/YYYY
currency: EUR
ignore: [product]
managers:
  Moses Frase: Dustin Brinkmann
"""


def test_mapping_file_for_another_crm(tmp_path: Path, pack: RulePack) -> None:
    pipeline = tmp_path / "sales_pipeline.csv"
    pipeline.write_text(
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,"
        "close_value\n"
        "1C1I7A6R,Moses Frase,GTX Plus Basic,Cancity,Won,20/10/2016,01/03/2017,1054\n"
        "Z063OYW0,Darcel Schlecht,GTXPro,,Engaging,25/10/2016,,\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "maven.yaml"
    mapping.write_text(MAVEN_MAPPING, encoding="utf-8")
    source, deals = _read(pipeline, pack, mapping=mapping)
    won, engaging = (read.deal for read in deals)
    assert (won.owner, won.manager, won.amount, won.currency) == (
        "Moses Frase",
        "Dustin Brinkmann",
        Decimal(1054),
        "EUR",
    )
    assert (won.created_date, won.close_date) == (date(2016, 10, 20), date(2017, 3, 1))
    assert [read.stage_id for read in deals] == ["closed_won", "discover"]
    assert engaging.account is None and engaging.currency is None
    assert "product" not in won.custom
    uses = {use.header: (use.field, use.kind, use.how) for use in source.mapper.plan}
    assert uses["opportunity_id"] == ("id", "canonical", "named in the mapping file")
    assert uses["product"] == (None, "ignored", "ignored by the mapping file")
    assert uses["account"][:2] == ("account", "canonical")


def test_mapping_file_errors_have_positions(tmp_path: Path, pack: RulePack) -> None:
    mapping = tmp_path / "bad.yaml"
    mapping.write_text(
        "mapping: bad\ncolumns:\n  Stage Name: Stage\nstages:\n  Won: closed_wonn\n"
        "date_order: YYYY/DD/MM\n",
        encoding="utf-8",
    )
    pipeline = tmp_path / "p.csv"
    pipeline.write_text("id,stage\n1,Won\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        open_deals(pipeline, pack, mapping=mapping)
    messages = [str(problem).replace(str(tmp_path) + "/", "") for problem in caught.value.problems]
    assert messages == [
        "bad.yaml:3:15: error: 'Stage' is not a valid field name (lower_snake_case, e.g. "
        "economic_buyer)",
        "bad.yaml:6:13: error: 'date_order': Input should be 'M/D/YYYY' or 'D/M/YYYY'",
    ]


def test_mapping_file_stage_must_exist_in_the_pack(tmp_path: Path, pack: RulePack) -> None:
    mapping = tmp_path / "stages.yaml"
    mapping.write_text("mapping: s\nstages:\n  Won: closed_wonn\n", encoding="utf-8")
    pipeline = tmp_path / "p.csv"
    pipeline.write_text("id,stage\n1,Won\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        open_deals(pipeline, pack, mapping=mapping)
    assert str(caught.value.problems[0]).endswith(
        "stages.yaml:3:8: error: stage 'Won' is mapped to 'closed_wonn', not a stage of pack "
        "'buyer-journey' (did you mean 'closed_won'?)"
    )


def test_a_file_without_any_id_column_cannot_be_used(tmp_path: Path, pack: RulePack) -> None:
    path = tmp_path / "noid.csv"
    path.write_text("Deal,Stage\nAcme,Prospecting\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column is read as the deal id"):
        open_deals(path, pack)


def test_two_columns_for_one_field_keep_the_second_as_custom(
    tmp_path: Path, pack: RulePack
) -> None:
    path = tmp_path / "two.csv"
    path.write_text(
        "Opportunity ID,Stage,Amount,Amount (converted)\nX1,Prospecting,10,12\n", encoding="utf-8"
    )
    _, deals = _read(path, pack)
    assert deals[0].deal.amount == Decimal(10)
    assert deals[0].deal.custom["amount_converted"] == "12"


def test_canonical_csv_lists_are_json_and_bad_items_are_findings(
    tmp_path: Path, pack: RulePack
) -> None:
    path = tmp_path / "canonical.csv"
    path.write_text(
        "id,stage,action_plan,contacts\n"
        'D-1,validate,"[{""milestone"": ""Security review"", ""owner_side"": ""buyer"", '
        '""owner"": ""Ada"", ""due"": ""2026-12-01""}, {""owner_side"": ""vendor""}]",'
        '"not json"\n',
        encoding="utf-8",
    )
    source, deals = _read(path, pack)
    plan = deals[0].deal.action_plan or []
    assert [(step.owner, step.due) for step in plan] == [("Ada", date(2026, 12, 1)), (None, None)]
    assert deals[0].deal.contacts is None
    assert [(f.column, f.message) for f in source.findings] == [
        (
            "action_plan",
            "action_plan[1].owner_side: Input should be 'buyer' or 'seller'; read as missing",
        ),
        ("contacts", "unreadable list (JSON expected: Expecting value); read as missing"),
    ]


def test_only_real_salesforce_ids_match_their_15_character_form() -> None:
    from dealgate.deals.normalise import deal_key

    assert deal_key("006i000000EtpkyAAB") == deal_key("006i000000Etpky")  # a real org's id
    assert deal_key("0065g00000AbCdEAAV") == "0065g00000AbCdE"
    # Eighteen letters and digits whose last three are no checksum: another deal entirely.
    assert deal_key("ACMERENEWAL2026001") != deal_key("ACMERENEWAL2026002")
    assert deal_key("ACMERENEWAL2026001") == "ACMERENEWAL2026001"


def test_a_text_repeated_on_many_rows_is_read_alike_and_each_row_reports_its_own_finding(
    tmp_path: Path, pack: RulePack
) -> None:
    """The mapper reads each distinct text of a column once; a finding is still per row."""
    path = tmp_path / "repeats.csv"
    path.write_text(
        "Opportunity ID,Stage,Close Date,Next Step,Champion\n"
        "X1,Prospecting,3/13/2027,TBD,Ada\n"
        "X2,Prospecting,3/13/2027,TBD,Ada\n"
        "X3,Prospecting,13/13/2027,Call,n/a\n"
        "X4,Prospecting,13/13/2027,Call,n/a\n",
        encoding="utf-8",
    )
    source, deals = _read(path, pack)
    assert [read.deal.close_date for read in deals] == [date(2027, 3, 13)] * 2 + [None] * 2
    assert [read.deal.next_step for read in deals] == [None, None, "Call", "Call"]
    assert [read.deal.custom.get("champion") for read in deals] == ["Ada", "Ada", None, None]
    assert [(f.deal_id, f.column, f.issue.value) for f in source.findings] == [
        ("X1", "Next Step", "placeholder"),
        ("X2", "Next Step", "placeholder"),
        ("X3", "Close Date", "unreadable"),
        ("X3", "Champion", "placeholder"),
        ("X4", "Close Date", "unreadable"),
        ("X4", "Champion", "placeholder"),
    ]


def test_salesforce_checksums_of_every_letter_case() -> None:
    from dealgate.deals.normalise import salesforce_suffix as _salesforce_suffix

    assert _salesforce_suffix("aaaaaaaaaaaaaaa") == "AAA"
    assert _salesforce_suffix("Aaaaa0aaaaaaaaZ") == "BAQ"  # bit 0 of the first, bit 4 of the last
    assert _salesforce_suffix("ZZZZZZZZZZZZZZZ") == "555"


# --- exports without an id column, and mapping files that cannot silently do nothing ------

SALESFORCE_REPORT_HEADERS = (
    "Opportunity Name,Account Name,Stage,Amount,Close Date,Opportunity Owner,Next Step,"
    "Last Activity,Probability (%),Forecast Category,Created Date"
)


def _salesforce_report(tmp_path: Path, *rows: str) -> Path:
    """A standard Salesforce opportunity report as "Export Details" writes it: labels as
    headers, every cell quoted, CRLF line ends, no id column."""
    lines = [SALESFORCE_REPORT_HEADERS, *rows]
    quoted = [",".join(f'"{cell}"' for cell in line.split(",")) for line in lines]
    path = tmp_path / "opportunities.csv"
    path.write_bytes(("\r\n".join(quoted) + "\r\n").encode("utf-8"))
    return path


def test_a_salesforce_report_without_ids_is_keyed_by_account_and_deal_name(
    tmp_path: Path, pack: RulePack
) -> None:
    path = _salesforce_report(
        tmp_path,
        "Big renewal,Acme,Qualification,12000,12/15/2026,Ann Lee,Call CFO,11/20/2026,20,"
        "Pipeline,9/1/2026",
        "Big renewal,Globex,Prospecting,800,1/15/2027,Ann Lee,Intro,11/28/2026,10,Pipeline,"
        "10/1/2026",
        "Pilot,,Prospecting,500,1/20/2027,Bob Ray,,,10,Pipeline,10/2/2026",
        "Big renewal,Acme,Negotiation/Review,5000,12/20/2026,Bob Ray,,,90,Commit,8/1/2026",
        ",Hooli,Prospecting,100,1/30/2027,Bob Ray,,,10,Pipeline,10/3/2026",
    )
    source, deals = _read(path, pack)
    assert [(read.deal.id, read.deal.name, read.deal.account) for read in deals] == [
        ("Acme — Big renewal", "Big renewal", "Acme"),
        ("Globex — Big renewal", "Big renewal", "Globex"),
        ("Pilot", "Pilot", None),  # no account: the deal name alone
        ("Acme — Big renewal", "Big renewal", "Acme"),
    ]
    key = source.mapper.id_key
    assert key is not None and key.headers == ("Account Name", "Opportunity Name")
    assert [(f.row, f.column, f.deal_id, f.issue) for f in source.findings] == [
        (5, "Opportunity Name", "Acme — Big renewal", DataIssue.DUPLICATE_ID)
    ]
    assert "(first at row 2)" in source.findings[0].message
    assert [(row.row, row.reason) for row in source.mapper.rejected] == [
        (6, "no usable deal id (column 'Opportunity Name' is empty)")
    ]
    assert source.mapper.notes == [key.describe()]
    assert "keyed by 'Account Name — Opportunity Name'" in key.describe()


def test_without_an_account_column_deals_are_keyed_by_their_name(
    tmp_path: Path, pack: RulePack
) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("Opportunity Name,Stage\nPilot,Prospecting\n", encoding="utf-8")
    source, deals = _read(path, pack)
    assert [read.deal.id for read in deals] == ["Pilot"]
    assert source.mapper.id_key is not None and source.mapper.id_key.headers == (
        "Opportunity Name",
    )


def test_contact_roles_cannot_join_deals_keyed_by_their_names(
    tmp_path: Path, pack: RulePack
) -> None:
    path = _salesforce_report(tmp_path, "Pilot,Acme,Prospecting,1,1/1/2027,A,,,1,Pipeline,")
    roles = tmp_path / "roles.csv"
    roles.write_text("OpportunityId,Role\n006A,Economic Buyer\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"contact roles \(--contacts\) join deals by"):
        open_deals(path, pack, contacts=roles)


def test_a_mapping_file_may_read_one_column_as_two_fields(tmp_path: Path, pack: RulePack) -> None:
    path = _salesforce_report(
        tmp_path, "Big renewal,Acme,Qualification,12000,12/15/2026,Ann Lee,,,20,Pipeline,"
    )
    mapping = tmp_path / "report.yaml"
    mapping.write_text(
        "mapping: sf-report\nprofile: salesforce\ncolumns:\n  Opportunity Name: [id, name]\n",
        encoding="utf-8",
    )
    source, deals = _read(path, pack, mapping=mapping)
    assert [(read.deal.id, read.deal.name) for read in deals] == [("Big renewal", "Big renewal")]
    assert source.mapper.id_key is None and source.mapper.notes == []
    uses = [(use.header, use.field) for use in source.mapper.plan]
    assert uses[:2] == [("Opportunity Name", "id"), ("Opportunity Name", "name")]


MAVEN_PIPELINE = (
    "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
    "1C1I7A6R,Moses Frase,GTX Plus Basic,Cancity,Won,2016-10-20,2017-03-01,1054\n"
    "Z063OYW0,Darcel Schlecht,GTXPro,Isdom,Engaging,2016-10-25,,\n"
)


def test_values_map_custom_fields_and_typed_fields_too(tmp_path: Path, pack: RulePack) -> None:
    pipeline = tmp_path / "sales_pipeline.csv"
    pipeline.write_text(MAVEN_PIPELINE, encoding="utf-8")
    mapping = tmp_path / "maven.yaml"
    mapping.write_text(
        "mapping: maven-crm\ncolumns:\n  opportunity_id: id\n  deal_stage: stage\n"
        "  close_value: amount\nvalues:\n  product: {GTXPro: GTX Pro}\n"
        "  deal_stage: {Engaging: Needs Analysis}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        open_deals(pipeline, pack, mapping=mapping)
    # deal_stage is a column, but its field is `stage`: the values would never be looked at
    assert [str(p).replace(str(tmp_path) + "/", "") for p in caught.value.problems] == [
        "maven.yaml:8:3: error: 'values' names the field 'deal_stage', which no column is read "
        "as (not a canonical field, not declared by the pack, not mapped) (did you mean "
        "'stage'?)"
    ]
    mapping.write_text(
        "mapping: maven-crm\ncolumns:\n  opportunity_id: id\n  deal_stage: stage\n"
        "  close_value: amount\nvalues:\n  product: {gtxpro: GTX Pro}\n"
        "  stage: {Engaging: Needs Analysis}\n  close_value: {'1054': '2000'}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="'close_value'"):
        open_deals(pipeline, pack, mapping=mapping)  # close_value is the column, amount the field
    mapping.write_text(
        "mapping: maven-crm\ncolumns:\n  opportunity_id: id\n  deal_stage: stage\n"
        "  close_value: amount\nvalues:\n  product: {gtxpro: GTX Pro}\n"
        "  stage: {Engaging: Needs Analysis}\n  amount: {'1054': '2000'}\n",
        encoding="utf-8",
    )
    _, deals = _read(pipeline, pack, mapping=mapping)
    won, engaging = (read.deal for read in deals)
    assert (won.custom["product"], engaging.custom["product"]) == ("GTX Plus Basic", "GTX Pro")
    assert (engaging.stage, deals[1].stage_id) == ("Needs Analysis", "discover")
    assert won.amount == Decimal(2000)


def test_a_mapped_column_the_export_lacks_is_an_error_with_the_nearest_header(
    tmp_path: Path, pack: RulePack
) -> None:
    pipeline = tmp_path / "sales_pipeline.csv"
    pipeline.write_text(MAVEN_PIPELINE, encoding="utf-8")
    mapping = tmp_path / "maven.yaml"
    mapping.write_text(
        "mapping: maven-crm\ncolumns:\n  opportunity_id: id\n  sales_agnet: owner\n"
        "  Economic Buyer (name): economic_buyer\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        open_deals(pipeline, pack, mapping=mapping)
    assert [str(p).replace(str(tmp_path) + "/", "") for p in caught.value.problems] == [
        "maven.yaml:4:3: error: column 'sales_agnet' is not in sales_pipeline.csv "
        "(did you mean 'sales_agent'?)",
        "maven.yaml:5:3: error: column 'Economic Buyer (name)' is not in sales_pipeline.csv "
        "(its headers: opportunity_id, sales_agent, product, account, deal_stage, engage_date, "
        "close_date, close_value)",
    ]


def test_a_mapping_stage_the_default_pack_lacks_is_a_note_when_no_pack_was_named(
    tmp_path: Path, pack: RulePack
) -> None:
    pipeline = tmp_path / "sales_pipeline.csv"
    pipeline.write_text(MAVEN_PIPELINE, encoding="utf-8")
    mapping = tmp_path / "maven.yaml"
    mapping.write_text(
        "mapping: maven-crm\ncolumns:\n  opportunity_id: id\n  deal_stage: stage\n"
        "stages:\n  Won: closed_won\n  Engaging: engage\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="mapped to 'engage', not a stage of pack"):
        open_deals(pipeline, pack, mapping=mapping)
    source, deals = _read(pipeline, pack, mapping=mapping, pack_named=False)
    assert [read.stage_id for read in deals] == ["closed_won", None]
    assert len(source.mapper.notes) == 1
    assert source.mapper.notes[0].startswith(f"{mapping}:7:13: stage 'Engaging' is mapped to")


def test_a_mapping_reads_a_date_entered_column_as_stage_history(
    tmp_path: Path, pack: RulePack
) -> None:
    pipeline = tmp_path / "sales_pipeline.csv"
    pipeline.write_text(MAVEN_PIPELINE, encoding="utf-8")
    mapping = tmp_path / "maven.yaml"
    mapping.write_text(
        "mapping: maven-crm\ncolumns:\n  opportunity_id: id\n  deal_stage: stage\n"
        "stage_history:\n  engage_date: Engaging\n",
        encoding="utf-8",
    )
    source, deals = _read(pipeline, pack, mapping=mapping)
    assert [
        [(change.stage, change.entered_on) for change in read.deal.stage_history or []]
        for read in deals
    ] == [[("Engaging", date(2016, 10, 20))], [("Engaging", date(2016, 10, 25))]]
    assert "engage_date" not in deals[0].deal.custom
    use = next(use for use in source.mapper.plan if use.header == "engage_date")
    assert (use.field, use.kind) == ("Engaging", "stage_history")
    mapping.write_text(
        "mapping: maven-crm\ncolumns:\n  opportunity_id: id\nstage_history:\n  engaged: Engaging\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"maven\.yaml:5:3: error: column 'engaged' is not in"):
        open_deals(pipeline, pack, mapping=mapping)


def test_the_docs_maven_mapping_is_true_for_a_maven_export(tmp_path: Path, pack: RulePack) -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "crm-mapping.md").read_text("utf-8")
    section = doc[doc.index("## Mapping files: any other CRM") :]
    example = section[section.index("```yaml\n") + 8 : section.index("```\n", 1)]
    mapping = tmp_path / "maven.yaml"
    mapping.write_text(example, encoding="utf-8")
    pipeline = tmp_path / "sales_pipeline.csv"
    pipeline.write_text(MAVEN_PIPELINE, encoding="utf-8")
    _, deals = _read(pipeline, pack, mapping=mapping)
    won, engaging = (read.deal for read in deals)
    assert (won.owner, won.manager, won.amount, won.currency) == (
        "Moses Frase",
        "Dustin Brinkmann",
        Decimal(1054),
        "USD",
    )
    assert won.created_date is None  # engage_date is when the deal entered Engaging
    assert [(c.stage, c.entered_on) for c in engaging.stage_history or []] == [
        ("Engaging", date(2016, 10, 25))
    ]
    assert engaging.custom["product"] == "GTX Pro"
    assert [read.stage_id for read in deals] == ["closed_won", "discover"]
