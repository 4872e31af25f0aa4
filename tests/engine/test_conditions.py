"""Evaluation of conditions: the 13 operators, typing rules, groups and the dry-run trace."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from automations.engine.conditions import (
    CHANGE_OPERATORS,
    NO_VALUE_OPERATORS,
    OPERATORS,
    ConditionError,
    ConditionsResult,
    evaluate_conditions,
)

MISSING = object()


def passes(
    operator: str,
    field_type: str | None,
    actual: Any,
    value: Any = MISSING,
    *,
    previous: Any = MISSING,
) -> bool:
    condition: dict[str, Any] = {"field": "f", "operator": operator}
    if value is not MISSING:
        condition["value"] = value
    record = {} if actual is MISSING else {"f": actual}
    before = None if previous is MISSING else {"f": previous}
    types = None if field_type is None else {"f": field_type}
    result = evaluate_conditions([condition], record=record, previous=before, field_types=types)
    return result.passed


def test_operator_constants_cover_the_seed_operators() -> None:
    assert len(OPERATORS) == 13
    assert set(NO_VALUE_OPERATORS) == {"is_empty", "is_not_empty", "changed"}
    assert set(CHANGE_OPERATORS) == {"changed", "changed_to", "changed_from"}


EQUALS_CASES = [
    # field_type, actual, value, expected
    ("number", "50000", 50000, True),
    ("number", 50000.0, "50000", True),
    ("number", "1e3", 1000, True),
    ("number", Decimal("0.10"), 0.1, True),
    ("number", 50000, 50001, False),
    ("number", "abc", 5, False),
    ("number", True, 1, False),
    (None, "50000", 50000, True),
    (None, 5, "5.0", True),
    (None, "abc", "ABC", True),
    (None, True, "true", True),
    ("text", "John", "john", True),
    ("text", " john", "john", False),
    ("text", None, "", True),
    ("text", None, None, True),
    ("text", "   ", None, True),
    ("text", "x", None, False),
    ("text", 42, "42", True),
    ("select", "Closed Won", "closed won", True),
    ("select", ["a", "b"], ["B", "a"], True),
    ("select", ["a"], "A", True),
    ("select", ["a", "b"], "a", False),
    ("email", "A@X.COM", "a@x.com", True),
    ("url", "https://X.com", "https://x.com", True),
    ("reference", "rec_aB", "rec_ab", False),
    ("reference", "rec_aB", "rec_aB", True),
    ("user", "usr_Q", "usr_q", False),
    ("date", "2024-01-15", "2024-01-15", True),
    ("date", "2024-01-15", "2024-01-15T23:00:00Z", True),
    ("date", dt.date(2024, 1, 15), "2024-01-15", True),
    ("date", "2024-01-15", "2024-01-16", False),
    ("datetime", "2024-01-15T10:00:00+02:00", "2024-01-15T08:00:00Z", True),
    ("datetime", "2024-01-15T10:00:00Z", "2024-01-15", True),
    ("datetime", "2024-01-15T10:00:00Z", "2024-01-15T10:00:01Z", False),
    ("datetime", dt.datetime(2024, 1, 15, 10, tzinfo=dt.UTC), "2024-01-15T10:00:00Z", True),
    ("boolean", True, "true", True),
    ("boolean", 1, True, True),
    ("boolean", "FALSE", False, True),
    ("boolean", 0, True, False),
]


@pytest.mark.parametrize(("field_type", "actual", "value", "expected"), EQUALS_CASES)
def test_equals_follows_the_typing_rules(
    field_type: str | None, actual: Any, value: Any, expected: bool
) -> None:
    assert passes("equals", field_type, actual, value) is expected


@pytest.mark.parametrize(("field_type", "actual", "value", "expected"), EQUALS_CASES)
def test_not_equals_is_the_negation_of_equals(
    field_type: str | None, actual: Any, value: Any, expected: bool
) -> None:
    assert passes("not_equals", field_type, actual, value) is (not expected)


def test_equals_on_a_field_missing_from_the_record_compares_none() -> None:
    assert passes("equals", "text", MISSING, None) is True
    assert passes("equals", "text", MISSING, "x") is False


@pytest.mark.parametrize(
    ("field_type", "actual", "value", "expected"),
    [
        ("text", "Hello World", "WORLD", True),
        ("text", "Hello World", "o W", True),
        ("text", "Hello", "xyz", False),
        ("text", None, "x", False),
        ("text", 12345, "23", True),
        ("text", 12345, 23, True),
        ("select", ["vip", "new"], "VIP", True),
        ("select", ["vip"], "vi", False),
        ("number", [1, 2], "2", True),
        (None, {"a": 1}, "a", False),
        ("reference", "rec_ABC", "abc", False),
        ("reference", "rec_ABC", "ABC", True),
    ],
)
def test_contains(field_type: str | None, actual: Any, value: Any, expected: bool) -> None:
    assert passes("contains", field_type, actual, value) is expected


@pytest.mark.parametrize(
    ("field_type", "actual", "value", "expected"),
    [
        ("text", "Hello", "xyz", True),
        ("text", "Hello", "ELL", False),
        ("text", None, "x", True),
        ("select", ["vip"], "VIP", False),
        ("select", ["vip"], "new", True),
    ],
)
def test_not_contains(field_type: str | None, actual: Any, value: Any, expected: bool) -> None:
    assert passes("not_contains", field_type, actual, value) is expected


@pytest.mark.parametrize(
    ("field_type", "actual", "value", "expected"),
    [
        ("text", "Acme Corp", "acme", True),
        ("text", "Acme Corp", "corp", False),
        ("text", " Acme", "Acme", False),
        ("text", ["Acme"], "Acme", False),
        ("text", None, "a", False),
        ("url", "HTTPS://acme.com", "https://", True),
        (None, 12345, "12", True),
    ],
)
def test_starts_with(field_type: str | None, actual: Any, value: Any, expected: bool) -> None:
    assert passes("starts_with", field_type, actual, value) is expected


@pytest.mark.parametrize(
    ("field_type", "actual", "value", "expected"),
    [
        ("email", "bob@Example.com", "@example.COM", True),
        ("text", "abc", "b", False),
        ("text", "abc ", "c", False),
        ("text", None, "c", False),
    ],
)
def test_ends_with(field_type: str | None, actual: Any, value: Any, expected: bool) -> None:
    assert passes("ends_with", field_type, actual, value) is expected


@pytest.mark.parametrize(
    ("field_type", "actual", "value", "expected"),
    [
        ("number", "60000", 50000, True),
        ("number", 50000, "50000", False),
        ("number", Decimal("0.30"), 0.1, True),
        ("number", " 7 ", 6, True),
        (None, "50000.01", 50000, True),
        (None, "abc", 5, False),
        ("number", "abc", 5, False),
        ("number", None, 5, False),
        ("number", True, 0, False),
        ("number", [10], 5, False),
        ("date", "2024-02-01", "2024-01-31", True),
        ("date", "2024-01-31", "2024-02-01", False),
        ("date", "not a date", "2024-01-01", False),
        ("datetime", "2024-01-15T10:00:00Z", "2024-01-15T09:59:59Z", True),
        ("datetime", "2024-01-15T10:00:00Z", "2024-01-15", False),
        ("datetime", "2024-01-16T00:30:00+02:00", "2024-01-15", False),
        ("text", "b", "a", False),
        ("boolean", True, False, False),
    ],
)
def test_greater_than(field_type: str | None, actual: Any, value: Any, expected: bool) -> None:
    assert passes("greater_than", field_type, actual, value) is expected


@pytest.mark.parametrize(
    ("field_type", "actual", "value", "expected"),
    [
        ("number", "9.99", 10, True),
        ("number", 10, 10, False),
        ("number", -1, "0", True),
        ("date", "2023-12-31", "2024-01-01", True),
        ("datetime", "2024-01-01T00:00:00+01:00", "2024-01-01", True),
        (None, "abc", 5, False),
        (None, 4, 5, True),
    ],
)
def test_less_than(field_type: str | None, actual: Any, value: Any, expected: bool) -> None:
    assert passes("less_than", field_type, actual, value) is expected


EMPTY_CASES = [
    (None, True),
    ("", True),
    ("   ", True),
    ("\n\t", True),
    ([], True),
    ({}, True),
    (MISSING, True),
    (0, False),
    (False, False),
    ("x", False),
    (["a"], False),
    ({"a": 1}, False),
]


@pytest.mark.parametrize(("actual", "expected"), EMPTY_CASES)
def test_is_empty(actual: Any, expected: bool) -> None:
    assert passes("is_empty", "text", actual) is expected


@pytest.mark.parametrize(("actual", "expected"), EMPTY_CASES)
def test_is_not_empty(actual: Any, expected: bool) -> None:
    assert passes("is_not_empty", "text", actual) is (not expected)


@pytest.mark.parametrize(
    ("field_type", "before", "after", "expected"),
    [
        ("number", 50000, "50000", False),
        ("number", 50000, 50000.0, False),
        ("number", 1, 2, True),
        ("text", "john", "John", True),
        ("text", "john", "john ", True),
        ("text", None, "", False),
        ("text", "a", None, True),
        ("text", None, "a", True),
        ("select", ["a", "b"], ["b", "a"], False),
        ("select", ["a"], ["a", "b"], True),
        ("date", "2024-01-15", "2024-01-15T00:00:00Z", False),
        ("datetime", "2024-01-15T10:00:00+02:00", "2024-01-15T08:00:00Z", False),
        ("datetime", "2024-01-15T10:00:00Z", "2024-01-15T10:00:01Z", True),
        ("boolean", "true", True, False),
        ("boolean", False, True, True),
        (None, "5", 5, False),
    ],
)
def test_changed(field_type: str | None, before: Any, after: Any, expected: bool) -> None:
    assert passes("changed", field_type, after, previous=before) is expected


def test_changed_is_false_without_previous_values() -> None:
    assert passes("changed", "text", "x") is False


def test_changed_treats_a_field_absent_from_previous_as_unchanged() -> None:
    result = evaluate_conditions(
        [{"field": "stage", "operator": "changed"}],
        record={"stage": "won"},
        previous={"name": "other field"},
    )
    assert result.passed is False
    assert result.evaluated[0]["previous_value"] == "won"


@pytest.mark.parametrize(
    ("field_type", "before", "after", "value", "expected"),
    [
        ("select", "proposal", "Closed Won", "closed won", True),
        ("select", "closed won", "closed won", "closed won", False),
        ("select", "proposal", "negotiation", "closed won", False),
        ("number", 1, "5", 5, True),
        ("text", "x", None, None, True),
        ("boolean", False, "true", True, True),
    ],
)
def test_changed_to(field_type: str, before: Any, after: Any, value: Any, expected: bool) -> None:
    assert passes("changed_to", field_type, after, value, previous=before) is expected


def test_changed_to_is_false_without_previous_values() -> None:
    assert passes("changed_to", "select", "won", "won") is False


@pytest.mark.parametrize(
    ("field_type", "before", "after", "value", "expected"),
    [
        ("select", "proposal", "won", "PROPOSAL", True),
        ("select", "lead", "won", "proposal", False),
        ("select", "proposal", "proposal", "proposal", False),
        ("number", "10", 20, 10, True),
        ("text", None, "now set", None, True),
    ],
)
def test_changed_from(field_type: str, before: Any, after: Any, value: Any, expected: bool) -> None:
    assert passes("changed_from", field_type, after, value, previous=before) is expected


# --- groups and the trace -------------------------------------------------------------------


def test_flat_list_is_anded() -> None:
    conditions = [
        {"field": "status", "operator": "equals", "value": "qualified"},
        {"field": "value", "operator": "greater_than", "value": 100},
    ]
    record = {"status": "qualified", "value": 50}
    assert evaluate_conditions(conditions, record=record, previous=None).passed is False
    record["value"] = 150
    assert evaluate_conditions(conditions, record=record, previous=None).passed is True


def test_empty_or_missing_conditions_pass() -> None:
    assert evaluate_conditions([], record={}, previous=None) == ConditionsResult(True, [])
    assert evaluate_conditions(None, record={}, previous=None).passed is True


def test_any_group_passes_when_one_item_passes() -> None:
    conditions = {
        "any": [
            {"field": "source", "operator": "equals", "value": "web"},
            {"field": "source", "operator": "equals", "value": "referral"},
        ]
    }
    record = {"source": "Referral"}
    assert evaluate_conditions(conditions, record=record, previous=None).passed is True
    record["source"] = "ads"
    assert evaluate_conditions(conditions, record=record, previous=None).passed is False


def test_groups_nest_inside_the_top_level_list() -> None:
    conditions = [
        {"field": "value", "operator": "greater_than", "value": 50000},
        {
            "any": [
                {"field": "stage", "operator": "equals", "value": "won"},
                {
                    "all": [
                        {"field": "stage", "operator": "equals", "value": "proposal"},
                        {"field": "priority", "operator": "equals", "value": "high"},
                    ]
                },
            ]
        },
    ]
    record = {"value": 60000, "stage": "proposal", "priority": "high"}
    result = evaluate_conditions(conditions, record=record, previous=None)
    assert result.passed is True
    record["priority"] = "low"
    assert evaluate_conditions(conditions, record=record, previous=None).passed is False


def test_every_leaf_is_evaluated_in_definition_order_even_after_a_failure() -> None:
    conditions = [
        {"field": "a", "operator": "equals", "value": 1},
        {"any": [{"field": "b", "operator": "is_empty"}, {"field": "c", "operator": "is_empty"}]},
        {"field": "d", "operator": "contains", "value": "x"},
    ]
    result = evaluate_conditions(conditions, record={"a": 2, "b": "", "d": "xyz"}, previous=None)
    assert result.passed is False
    assert [entry["field"] for entry in result.evaluated] == ["a", "b", "c", "d"]
    assert [entry["passed"] for entry in result.evaluated] == [False, True, True, True]


def test_trace_entry_matches_the_seed_dry_run_shape() -> None:
    result = evaluate_conditions(
        [{"field": "status", "operator": "equals", "value": "qualified"}],
        record={"status": "qualified"},
        previous=None,
    )
    assert result.evaluated == [
        {
            "field": "status",
            "operator": "equals",
            "value": "qualified",
            "actual_value": "qualified",
            "passed": True,
        }
    ]


def test_trace_omits_value_for_no_value_operators() -> None:
    result = evaluate_conditions(
        [{"field": "email", "operator": "is_not_empty"}], record={"email": "a@b.c"}, previous=None
    )
    assert result.evaluated == [
        {"field": "email", "operator": "is_not_empty", "actual_value": "a@b.c", "passed": True}
    ]


def test_trace_includes_previous_value_for_change_operators() -> None:
    result = evaluate_conditions(
        [{"field": "stage", "operator": "changed_to", "value": "proposal"}],
        record={"stage": "proposal"},
        previous={"stage": "lead"},
    )
    assert result.evaluated[0]["previous_value"] == "lead"
    assert result.evaluated[0]["actual_value"] == "proposal"
    assert result.passed is True


def test_system_fields_have_builtin_types() -> None:
    result = evaluate_conditions(
        [{"field": "created_at", "operator": "greater_than", "value": "2024-01-01"}],
        record={"created_at": "2024-01-02T08:00:00Z"},
        previous=None,
        field_types={},
    )
    assert result.passed is True


def test_result_is_frozen() -> None:
    result = evaluate_conditions([], record={}, previous=None)
    with pytest.raises(AttributeError):
        result.passed = False  # type: ignore[misc]


@pytest.mark.parametrize(
    "conditions",
    [
        [{"field": "a", "operator": "eq", "value": 1}],
        ["not an object"],
        [{"field": "a", "operator": "equals"}],
        [{"field": "a", "operator": "is_empty", "value": 1}],
        [{"operator": "is_empty"}],
        {"all": []},
        {"all": [{"field": "a", "operator": "is_empty"}], "any": []},
        {"field": "a", "operator": "is_empty"},
        "status = 1",
    ],
)
def test_an_invalid_definition_raises_condition_error(conditions: Any) -> None:
    with pytest.raises(ConditionError):
        evaluate_conditions(conditions, record={}, previous=None)


def test_condition_error_is_a_value_error_naming_the_path() -> None:
    with pytest.raises(ValueError, match=r"conditions\[0\]\.operator: unknown operator 'eq'"):
        evaluate_conditions(
            [{"field": "a", "operator": "eq", "value": 1}], record={}, previous=None
        )
