"""Names, types and stage ids in conditions, checked before any deal is read."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from dealgate.rules.checker import ConditionErrors, Scope, check_condition
from dealgate.rules.expr import ByStage, Compare, ExpressionError, InList, StageRef
from dealgate.rules.types import CANONICAL_FIELDS, DATE, TEXT, FieldType, Kind

STAGES = ("qualify", "discover", "propose", "closed_won")
DECLARED = {
    **CANONICAL_FIELDS,
    "pain": TEXT,
    "economic_buyer_met_on": DATE,
    "stakeholders": FieldType(Kind.LIST, MappingProxyType({"name": TEXT, "role": TEXT})),
}
LENIENT = Scope(CANONICAL_FIELDS, STAGES, strict=False)
STRICT = Scope(DECLARED, STAGES, strict=True)


def _error(text: str, scope: Scope = LENIENT) -> tuple[str, str, int]:
    with pytest.raises(ExpressionError) as caught:
        check_condition(text, scope)
    return caught.value.message, caught.value.hint, caught.value.span.start


def test_amount_compared_with_text_is_a_type_error() -> None:
    assert _error("amount > 'abc'") == (
        "cannot compare money with text",
        "write numbers without quotes",
        0,
    )


def test_days_since_of_money_is_a_type_error() -> None:
    assert _error("days_since(amount) > 3") == (
        "days_since() needs a date; 'amount' is money",
        "",
        11,
    )


def test_close_date_compared_with_quoted_date_suggests_a_bare_date() -> None:
    message, hint, _ = _error("close_date < '2026-12-31'")
    assert message == "cannot compare date with text"
    assert hint == "write dates bare as YYYY-MM-DD, without quotes"


def test_unknown_function_suggests_the_closest() -> None:
    assert _error("presnt(pain)")[:2] == ("unknown function 'presnt'", "did you mean 'present'?")


def test_unknown_stage_in_stage_comparison() -> None:
    assert _error("stage >= propsoe") == ("unknown stage 'propsoe'", "did you mean 'propose'?", 9)


def test_stage_compared_with_text_asks_for_a_bare_id() -> None:
    assert _error("stage == 'Propose'")[:2] == (
        "compare the stage with a stage id written bare, not text",
        "write stage == propose",
    )


def test_bare_name_beside_stage_becomes_a_stage_reference_on_either_side() -> None:
    tree = check_condition("propose <= stage", LENIENT).tree
    assert isinstance(tree, Compare)
    assert tree.left == StageRef("propose")
    listed = check_condition("stage in [qualify, discover]", LENIENT).tree
    assert isinstance(listed, InList)
    assert listed.items == (StageRef("qualify"), StageRef("discover"))


def test_text_cannot_be_ordered() -> None:
    assert _error("owner < 'M'")[0] == "text cannot be ordered with '<'"


def test_a_list_is_not_a_condition_nor_comparable() -> None:
    assert _error("contacts")[:2] == (
        "'contacts' is list of records, not a condition",
        "use count(...), any(...) or all(...)",
    )
    assert _error("contacts == 2")[0] == "cannot compare a list"


def test_undeclared_field_is_unknown_type_in_a_lenient_pack() -> None:
    checked = check_condition("present(champion.name) and champion_score >= 3", LENIENT)
    assert checked.reads == ("champion.name", "champion_score")


def test_undeclared_field_is_an_error_in_a_pack_that_declares_fields() -> None:
    assert _error("present(pian)", STRICT) == (
        "unknown deal field 'pian'",
        "did you mean 'pain'?",
        8,
    )


def test_list_conditions_read_item_fields_and_deal_fields() -> None:
    checked = check_condition(
        "any(contacts, role == 'Economic Buyer' and engaged_on >= deal.created_date)", STRICT
    )
    assert checked.reads == ("contacts", "contacts[].engaged_on", "contacts[].role", "created_date")


def test_item_field_typo_in_a_strict_pack() -> None:
    assert _error("any(stakeholders, rol == 'CFO')", STRICT)[:2] == (
        "unknown list item field 'rol'",
        "did you mean 'role'?",
    )


def test_item_fields_have_their_types() -> None:
    assert _error("all(action_plan, due > 'soon')")[0] == "cannot compare date with text"


def test_date_arithmetic() -> None:
    check_condition("close_date - created_date <= 180", LENIENT)
    check_condition("close_date <= today + 90", LENIENT)
    assert _error("close_date + close_date > today")[0] == "cannot compute date + date"


def test_count_needs_a_list() -> None:
    assert _error("count(amount) > 1")[0] == "count() needs a list; 'amount' is money"


def test_wrong_number_of_arguments() -> None:
    assert _error("any(contacts)")[0] == "any() takes 2 arguments, not 1"
    assert _error("present()")[0] == "present() takes 1 argument, not 0"


def test_present_takes_a_field_name() -> None:
    assert _error("present(1 + 2)")[:2] == (
        "present() takes a field name",
        "e.g. present(next_step)",
    )


def test_a_number_is_not_a_condition() -> None:
    assert _error("amount")[0] == "'amount' is money, not a condition"
    assert _error("present(pain) and probability")[0] == (
        "'probability' is number, not a condition"
    )


def test_field_of_a_scalar() -> None:
    assert _error("amount.value > 1")[0] == "'amount' is money and has no field 'value'"


def _errors(text: str, scope: Scope = LENIENT) -> list[tuple[str, str, int]]:
    with pytest.raises(ConditionErrors) as caught:
        check_condition(text, scope)
    return [(error.message, error.hint, error.span.start) for error in caught.value.errors]


def test_undeclared_name_one_letter_from_a_canonical_field_is_a_typo() -> None:
    assert _error("amout >= 50000") == ("unknown field 'amout'", "did you mean 'amount'?", 0)
    assert _error("forcast_category == 'Commit'")[:2] == (
        "unknown field 'forcast_category'",
        "did you mean 'forecast_category'?",
    )


def test_undeclared_name_close_to_a_declared_field_is_a_typo_in_a_lenient_file() -> None:
    scope = Scope(DECLARED, STAGES, strict=False)
    assert _error("present(pain) and economic_buyer_met_no <= today", scope)[:2] == (
        "unknown field 'economic_buyer_met_no'",
        "did you mean 'economic_buyer_met_on'?",
    )


def test_undeclared_item_field_close_to_a_record_field_is_a_typo() -> None:
    assert _error("any(contacts, titel == 'CFO')")[:2] == (
        "unknown list item field 'titel'",
        "did you mean 'title'?",
    )


def test_undeclared_names_far_from_known_fields_stay_custom_fields() -> None:
    checked = check_condition(
        "budget_amount >= amount and present(num_associated_contacts) and champion_score > 2",
        LENIENT,
    )
    assert checked.reads == ("amount", "budget_amount", "champion_score", "num_associated_contacts")


def test_forecast_category_as_the_crm_file_writes_it_is_refused() -> None:
    assert _error("forecast_category == 'commit'") == (
        "'commit' is never a forecast category after reading",
        "did you mean 'Commit'?",
        21,
    )
    assert _error("forecast_category in ['Commit', 'Upside']")[:2] == (
        "'Upside' is never a forecast category after reading",
        "did you mean 'Best Case'?",
    )
    assert _error("deal.forecast_category != 'pipline'")[1] == "did you mean 'Pipeline'?"


def test_forecast_categories_as_read_and_unrelated_texts_are_accepted() -> None:
    check_condition("forecast_category in ['Pipeline', 'Best Case', 'Commit', 'Omitted']", LENIENT)
    check_condition("forecast_category != 'Closed' and forecast_category != 'Renewal'", LENIENT)


def test_yes_no_word_compared_with_a_boolean_suggests_true_or_false() -> None:
    assert _error("any(contacts, is_primary == 'Yes')")[:2] == (
        "'Yes' is never the value of a yes/no field after reading",
        "did you mean true?",
    )
    assert _error("any(contacts, is_primary == 'maybe')")[0] == "cannot compare boolean with text"


def test_every_problem_of_a_condition_is_reported_at_once() -> None:
    assert _errors("amout >= 50000 and forecast_category == 'commit' or presnt(pain)") == [
        ("unknown field 'amout'", "did you mean 'amount'?", 0),
        (
            "'commit' is never a forecast category after reading",
            "did you mean 'Commit'?",
            40,
        ),
        ("unknown function 'presnt'", "did you mean 'present'?", 52),
    ]


# -- text functions and by_stage ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("length(amount) > 3", "length() needs text; 'amount' is money"),
        ("contains(close_date, 'x')", "contains() needs text; 'close_date' is date"),
        ("contains(next_step, owner)", "contains() takes the phrase as text in quotes"),
        ("starts_with(next_step, '')", "an empty phrase is found in every text"),
        ("contains_any(next_step)", "contains_any() takes 2 to 51 arguments, not 1"),
        (
            "lower(forecast_category) == 'Commit'",
            "'Commit' has capitals and never matches 'lower(forecast_category)'",
        ),
        (
            "contains_any(lower(next_step), 'tbd', 'Touch base')",
            "'Touch base' has capitals and never matches 'lower(next_step)'",
        ),
        ("lower(next_step)", "'lower(next_step)' is text, not a condition"),
    ],
)
def test_text_functions_check_their_arguments(text: str, message: str) -> None:
    assert _error(text)[0] == message


def test_text_functions_read_text_and_undeclared_fields() -> None:
    checked = check_condition(
        "length(next_step) >= 15 and contains_any(lower(region), 'emea', 'dach')"
        " and starts_with(name, 'Renewal')",
        LENIENT,
    )
    assert checked.reads == ("name", "next_step", "region")


def test_by_stage_turns_names_into_stage_references_and_reads_the_stage() -> None:
    checked = check_condition(
        "days_since(last_activity_date) <= by_stage(discover: 30, propose: 21, else: 45)",
        LENIENT,
    )
    assert isinstance(checked.tree, Compare)
    assert isinstance(checked.tree.right, ByStage)
    assert checked.tree.right.stages == (StageRef("discover"), StageRef("propose"))
    assert checked.reads == ("last_activity_date", "stage")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("amount > by_stage(discovr: 3)", "unknown stage 'discovr'"),
        (
            "amount > by_stage(propose: 3, propose: 4)",
            "stage 'propose' is given twice in by_stage()",
        ),
        (
            "amount > by_stage(propose: 3, else: 'x')",
            "by_stage() values must be of one type: ''x'' is text, an earlier value is number",
        ),
        (
            "amount > by_stage(propose: region)",
            "by_stage() needs values of a known type; 'region' is not declared",
        ),
        ("by_stage(propose: 3)", "'by_stage(propose: 3)' is number, not a condition"),
    ],
)
def test_by_stage_checks_stages_and_one_value_type(text: str, message: str) -> None:
    assert _error(text)[0] == message


def test_by_stage_of_money_and_numbers_compares_with_money() -> None:
    check_condition("amount >= by_stage(propose: 10000, else: amount / 2)", LENIENT)
