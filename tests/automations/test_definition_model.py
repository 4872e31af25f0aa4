"""automations.definition.model: the frozen definition objects and definition_of."""

import dataclasses

import pytest

from automations.definition import validate_definition
from automations.definition.model import (
    DEFINITION_FIELDS,
    DEFINITION_PARTS,
    ActionSpec,
    Condition,
    ConditionGroup,
    Conditions,
    Definition,
    ErrorHandling,
    Trigger,
    definition_of,
)
from automations.models import Automation, AutomationVersion
from automations.services import automation_create

FULL = {
    "name": "Big deals",
    "trigger": {"type": "field.changed", "module": "deals", "field": "stage"},
    "conditions": {
        "all": [
            {"field": "value", "operator": "greater_than", "value": 1000},
            {"any": [{"field": "stage", "operator": "changed"}]},
        ]
    },
    "actions": [
        {
            "type": "send_notification",
            "config": {"user_id": "{{ record.owner_id }}", "title": "t", "message": "m"},
        },
        {"type": "delay", "config": {"duration": 5, "unit": "minutes"}},
    ],
    "error_handling": {"notify_email": "ops@example.com", "disable_after_failures": 3},
}


def test_validation_returns_the_typed_definition(tenant):
    validated = validate_definition(workspace=tenant.workspace, data=FULL)
    definition = validated.definition

    assert definition.trigger == Trigger(type="field.changed", module="deals", field="stage")
    assert definition.trigger.has_record and definition.trigger.has_previous
    assert [spec.type for spec in definition.actions] == ["send_notification", "delay"]
    assert definition.error_handling == ErrorHandling(
        notify_on_failure=True, notify_email="ops@example.com", disable_after_failures=3
    )
    assert definition.conditions.root == ConditionGroup(
        mode="all",
        items=(
            Condition(field="value", operator="greater_than", value=1000, has_value=True),
            ConditionGroup(mode="any", items=(Condition(field="stage", operator="changed"),)),
        ),
    )
    assert definition.conditions.compares_previous


def test_the_typed_definition_gives_back_exactly_the_stored_json(tenant):
    validated = validate_definition(workspace=tenant.workspace, data=FULL)
    automation = automation_create(workspace=tenant.workspace, user=tenant.user, data=FULL)

    stored = {part: getattr(automation, part) for part in DEFINITION_PARTS}
    assert validated.definition.as_json() == stored
    assert definition_of(automation) == validated.definition


def test_the_objects_are_frozen():
    definition = Definition(trigger=Trigger(type="manual", module="contacts"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        definition.trigger.type = "schedule"  # type: ignore[misc]


def test_the_parts_are_listed_once():
    assert DEFINITION_PARTS == ("trigger", "conditions", "actions", "error_handling")
    assert DEFINITION_FIELDS == ("name", "description", *DEFINITION_PARTS, "timezone")


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (None, 5),
        ({}, 5),
        ({"disable_after_failures": 0}, 5),
        ({"disable_after_failures": True}, 5),
        ({"disable_after_failures": "3"}, 5),
        ({"disable_after_failures": 3}, 3),
    ],
)
def test_stored_error_handling_falls_back_to_the_default_limit(stored, expected):
    assert ErrorHandling.from_json(stored).disable_after_failures == expected


def test_stored_error_handling_reads_notices_as_the_readers_did():
    assert ErrorHandling.from_json({}).notify_on_failure is True
    assert ErrorHandling.from_json({"notify_on_failure": None}).notify_on_failure is False
    assert ErrorHandling.from_json({"notify_email": ""}).notify_email is None


def test_odd_stored_json_reads_as_empty_parts_never_raises():
    definition = Definition.from_json(
        {"trigger": "x", "conditions": 7, "actions": {"type": "delay"}, "error_handling": []}
    )
    assert definition == Definition(trigger=Trigger(type=""))
    assert not definition.conditions
    assert ActionSpec.from_json({"type": "delay", "config": None}) == ActionSpec(type="delay")


def test_malformed_non_empty_conditions_still_count_as_conditions():
    # They are evaluated (and fail the run), not skipped as if there were none.
    assert Conditions.from_json([42])
    assert Conditions.from_json([42]).source == [42]


def test_definition_of_parses_once_per_instance_and_again_after_a_part_is_replaced():
    automation = Automation(
        trigger={"type": "schedule", "schedule": "0 9 * * *"},
        actions=[{"type": "delay", "config": {"duration": 1, "unit": "minutes"}}],
    )
    first = definition_of(automation)
    assert definition_of(automation) is first

    automation.trigger = {"type": "schedule", "schedule": "@daily"}
    assert definition_of(automation).trigger.schedule == "@daily"


@pytest.mark.django_db
def test_definition_of_a_version_reads_its_stored_definition(tenant, django_assert_num_queries):
    automation = automation_create(workspace=tenant.workspace, user=tenant.user, data=FULL)
    version = AutomationVersion.objects.get(automation=automation, version=1)

    with django_assert_num_queries(0):
        definition = definition_of(version)

    assert definition == definition_of(automation)
