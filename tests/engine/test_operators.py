"""engine.operators: the one table of operator rules, and what the builder derives from it."""

import pytest

from automations.engine.conditions import validate_conditions
from automations.engine.operators import (
    CHANGE_OPERATORS,
    FIELD_TYPE_ORDER,
    FIELD_TYPES,
    NO_VALUE_OPERATORS,
    NULLABLE_VALUE_OPERATORS,
    OPERATORS,
    ORDER_OPERATORS,
    RULE,
    RULES,
    STRING_OPERATORS,
    offered_operators,
    operator_table,
)


def test_the_views_of_the_table_name_the_seed_operators() -> None:
    assert OPERATORS == tuple(rule.name for rule in RULES)
    assert NO_VALUE_OPERATORS == {"is_empty", "is_not_empty", "changed"}
    assert CHANGE_OPERATORS == {"changed", "changed_to", "changed_from"}
    assert NULLABLE_VALUE_OPERATORS == {"equals", "not_equals", "changed_to", "changed_from"}
    assert ORDER_OPERATORS == {"greater_than", "less_than"}
    assert STRING_OPERATORS == {"contains", "not_contains", "starts_with", "ends_with"}


def test_every_rule_names_only_declared_field_types() -> None:
    for rule in RULES:
        assert set(rule.field_types) <= FIELD_TYPES
        assert list(rule.field_types) == [t for t in FIELD_TYPE_ORDER if t in rule.field_types]


@pytest.mark.parametrize("field_type", sorted(FIELD_TYPES))
@pytest.mark.parametrize("has_previous", [True, False])
def test_the_builder_offers_exactly_what_validation_accepts(
    field_type: str, has_previous: bool
) -> None:
    """Each offered operator passes save-time validation for that field; each one left out
    is refused there (value-type problems aside)."""
    offered = offered_operators(field_type, has_previous=has_previous)
    for operator in OPERATORS:
        condition = {"field": "f", "operator": operator}
        if RULE[operator].takes_value:
            condition["value"] = None if RULE[operator].null_value else "x"
        problems = validate_conditions(
            [condition], field_types={"f": field_type}, has_previous=has_previous
        )
        operator_problems = [p for p in problems if p[0] == "conditions[0].operator"]
        assert (operator in offered) == (not operator_problems), (operator, problems)


def test_a_field_of_unknown_type_is_offered_what_a_text_field_is() -> None:
    assert offered_operators(None, has_previous=True) == offered_operators(
        "text", has_previous=True
    )
    assert "greater_than" not in offered_operators(None, has_previous=True)
    assert "contains" in offered_operators(None, has_previous=True)


def test_validation_lets_any_operator_through_for_a_type_it_does_not_know() -> None:
    for operator in STRING_OPERATORS | ORDER_OPERATORS:
        assert RULE[operator].misfit("geo_point") is None


def test_the_table_for_the_builder_is_plain_data_in_table_order() -> None:
    table = operator_table()
    assert [entry["value"] for entry in table] == list(OPERATORS)
    contains = table[OPERATORS.index("contains")]
    assert contains == {
        "value": "contains",
        "field_types": ["text", "select", "email", "url", "reference", "user"],
        "takes_value": True,
        "needs_previous": False,
        "text_value": True,
    }
