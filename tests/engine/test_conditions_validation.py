"""Save-time validation of conditions: messages and paths."""

from __future__ import annotations

from typing import Any

import pytest

from automations.engine.conditions import MAX_GROUP_DEPTH, validate_conditions

TYPES = {
    "name": "text",
    "stage": "select",
    "value": "number",
    "due_date": "date",
    "closed_at": "datetime",
    "vip": "boolean",
    "owner_id": "user",
    "score": "formula",  # a type this engine does not know
}


def errors(conditions: Any, *, has_previous: bool = True) -> list[tuple[str, str]]:
    return validate_conditions(conditions, field_types=TYPES, has_previous=has_previous)


def test_the_seed_examples_are_valid() -> None:
    assert errors([{"field": "value", "operator": "greater_than", "value": 50000}]) == []
    assert errors([{"field": "stage", "operator": "changed_to", "value": "proposal"}]) == []
    assert errors([{"field": "name", "operator": "is_not_empty"}]) == []


def test_empty_and_missing_definitions_are_valid() -> None:
    assert errors([]) == []
    assert errors(None) == []


def test_unknown_operator_lists_the_operators() -> None:
    [(path, message)] = errors([{"field": "name", "operator": "eq", "value": "x"}])
    assert path == "conditions[0].operator"
    assert message.startswith("unknown operator 'eq'; expected one of equals, not_equals,")
    assert message.endswith("changed_from")


def test_no_value_operator_with_a_value_is_refused() -> None:
    assert errors([{"field": "name", "operator": "is_empty", "value": "x"}]) == [
        ("conditions[0].value", "operator 'is_empty' takes no value")
    ]


def test_value_operator_without_a_value_is_refused() -> None:
    conditions = [
        {"field": "name", "operator": "is_empty"},
        {"field": "name", "operator": "is_empty"},
        {"field": "name", "operator": "equals"},
    ]
    assert errors(conditions) == [("conditions[2].value", "operator 'equals' needs a value")]


def test_null_value_is_allowed_for_equals_but_not_for_contains() -> None:
    assert errors([{"field": "name", "operator": "equals", "value": None}]) == []
    assert errors([{"field": "name", "operator": "contains", "value": None}]) == [
        ("conditions[0].value", "operator 'contains' needs a value")
    ]


def test_unknown_field_is_reported_on_the_field() -> None:
    assert errors([{"field": "foo", "operator": "equals", "value": 1}]) == [
        ("conditions[0].field", "unknown field 'foo' in this module")
    ]


def test_unknown_field_and_unknown_operator_are_both_reported() -> None:
    assert [path for path, _ in errors([{"field": "foo", "operator": "eq"}])] == [
        "conditions[0].field",
        "conditions[0].operator",
    ]


def test_system_fields_are_known_without_being_declared() -> None:
    conditions = [
        {"field": "created_at", "operator": "greater_than", "value": "2024-01-01"},
        {"field": "id", "operator": "equals", "value": "rec_1"},
    ]
    assert errors(conditions) == []


@pytest.mark.parametrize("operator", ["changed", "changed_to", "changed_from"])
def test_change_operators_need_a_trigger_with_previous_values(operator: str) -> None:
    condition: dict[str, Any] = {"field": "stage", "operator": operator}
    if operator != "changed":
        condition["value"] = "won"
    assert errors([condition], has_previous=False) == [
        (
            "conditions[0].operator",
            f"operator '{operator}' needs a previous value; "
            "use it only with record.updated or field.changed triggers",
        )
    ]


def test_unknown_keys_are_refused() -> None:
    assert errors([{"field": "name", "operator": "is_empty", "negate": True}]) == [
        ("conditions[0].negate", "unknown key 'negate'")
    ]


def test_non_object_items_are_refused() -> None:
    assert errors([{"field": "name", "operator": "is_empty"}, "name = 1"]) == [
        ("conditions[1]", "expected a condition object or an all/any group, got string")
    ]


def test_a_definition_that_is_neither_list_nor_group_is_refused() -> None:
    [(path, message)] = errors({"field": "name", "operator": "is_empty"})
    assert path == "conditions"
    assert "expected a list of conditions" in message


def test_group_paths_name_the_nested_item() -> None:
    conditions = [
        {"any": [{"field": "name", "operator": "is_empty"}, {"field": "nope", "operator": "x"}]}
    ]
    assert [path for path, _ in errors(conditions)] == [
        "conditions[0].any[1].field",
        "conditions[0].any[1].operator",
    ]


def test_a_top_level_group_uses_dotted_paths() -> None:
    assert errors({"all": [{"field": "nope", "operator": "is_empty"}]}) == [
        ("conditions.all[0].field", "unknown field 'nope' in this module")
    ]


def test_group_with_both_all_and_any_is_refused() -> None:
    group = {"all": [{"field": "name", "operator": "is_empty"}], "any": []}
    assert ("conditions[0]", "a group takes either 'all' or 'any', not both") in errors([group])


def test_empty_group_is_refused() -> None:
    assert errors([{"any": []}]) == [("conditions[0].any", "'any' must not be empty")]


def test_group_items_must_be_a_list() -> None:
    assert errors([{"all": {"field": "name"}}]) == [
        ("conditions[0].all", "'all' must be a list of conditions")
    ]


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"field": "name", "operator": "is_empty"}
    for _ in range(depth):
        node = {"all": [node]}
    return node


def test_groups_may_nest_five_levels() -> None:
    assert errors([_nested(MAX_GROUP_DEPTH)]) == []


def test_groups_nested_deeper_than_five_levels_are_refused() -> None:
    assert errors([_nested(MAX_GROUP_DEPTH + 1)]) == [
        ("conditions[0].all[0].all[0].all[0].all[0].all[0]", "groups nest deeper than 5 levels")
    ]


@pytest.mark.parametrize(
    ("field", "operator", "value", "message"),
    [
        ("value", "equals", "abc", "value for a number field must be a number, got 'abc'"),
        ("value", "greater_than", True, "value for a number field must be a number, not a boolean"),
        (
            "due_date",
            "less_than",
            "next week",
            "value for a date field must be an ISO 8601 date, got 'next week'",
        ),
        (
            "closed_at",
            "equals",
            20240101,
            "value for a datetime field must be an ISO 8601 date, got 20240101",
        ),
        ("vip", "equals", "yes", "value for a boolean field must be true or false, got 'yes'"),
        ("score", "greater_than", "high", "operator 'greater_than' needs a numeric value"),
        # A long bad value is quoted cut short (it was echoed whole: 100,000 characters).
        (
            "due_date",
            "less_than",
            "x" * 100_000,
            "value for a date field must be an ISO 8601 date, got 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…",
        ),
        (
            "vip",
            "equals",
            "y" * 100_000,
            "value for a boolean field must be true or false, got 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…",
        ),
    ],
)
def test_values_must_fit_the_field_type(
    field: str, operator: str, value: Any, message: str
) -> None:
    assert errors([{"field": field, "operator": operator, "value": value}]) == [
        ("conditions[0].value", message)
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("value", "50000"),
        ("value", 12.5),
        ("due_date", "2024-01-15"),
        ("closed_at", "2024-01-15T10:00:00Z"),
        ("closed_at", "2024-01-15"),
        ("score", 3),
    ],
)
def test_typed_values_that_fit_are_accepted(field: str, value: Any) -> None:
    assert errors([{"field": field, "operator": "greater_than", "value": value}]) == []


@pytest.mark.parametrize("field", ["name", "stage", "vip", "owner_id"])
def test_order_operators_apply_only_to_numbers_and_dates(field: str) -> None:
    assert errors([{"field": field, "operator": "less_than", "value": 3}]) == [
        (
            "conditions[0].operator",
            "operator 'less_than' applies only to number, date and datetime fields",
        )
    ]


def test_string_operators_do_not_apply_to_number_fields() -> None:
    assert errors([{"field": "value", "operator": "contains", "value": "5"}]) == [
        ("conditions[0].operator", "operator 'contains' does not apply to number fields")
    ]


def test_string_operators_need_a_scalar_value() -> None:
    assert errors([{"field": "name", "operator": "starts_with", "value": ["a"]}]) == [
        ("conditions[0].value", "operator 'starts_with' needs a string or number value")
    ]


def test_boolean_field_takes_a_real_boolean() -> None:
    assert errors([{"field": "vip", "operator": "equals", "value": True}]) == []


def test_errors_come_in_definition_order() -> None:
    conditions = [{"field": "name", "operator": "is_empty"}] * 10 + [
        {"field": "nope", "operator": "is_empty"}
    ]
    conditions[2] = {"field": "nope", "operator": "is_empty"}
    assert [path for path, _ in errors(conditions)] == [
        "conditions[2].field",
        "conditions[10].field",
    ]


def test_custom_base_path_is_used() -> None:
    result = validate_conditions(
        [{"field": "nope", "operator": "is_empty"}],
        field_types=TYPES,
        has_previous=False,
        path="automation.conditions",
    )
    assert result == [("automation.conditions[0].field", "unknown field 'nope' in this module")]


def test_missing_field_and_operator_are_reported() -> None:
    assert errors([{}]) == [
        ("conditions[0].field", "field is required"),
        ("conditions[0].operator", "operator is required"),
    ]


def test_a_group_nested_far_past_the_bound_is_one_depth_error_not_a_recursion_error():
    """The leaf count walked into groups before the depth check: 400+ levels overflowed."""
    from automations.engine.conditions import count_leaves  # added with the fix

    node: dict = {"field": "name", "operator": "is_empty"}
    for _ in range(600):
        node = {"all": [node]}

    errors = validate_conditions(node, field_types={"name": "text"}, has_previous=False)

    assert [message for _, message in errors] == [
        f"groups nest deeper than {MAX_GROUP_DEPTH} levels"
    ]
    assert count_leaves(node) == 0


@pytest.mark.parametrize("key", ["¹", "²3", "٣"])
def test_keys_that_python_calls_digits_are_reported_not_crashed_on(key: str) -> None:
    # Found by the schema fuzz: "¹".isdigit() is True but int("¹") raises, which made the
    # sorting of errors by path a 500 for an unknown key such as "¹" in a condition.
    errors = validate_conditions(
        [{"field": "name", "operator": "equals", "value": "x", key: 1}],
        field_types={"name": "text"},
        has_previous=False,
    )
    assert any(key in path for path, _ in errors), errors
