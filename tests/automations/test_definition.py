"""automations.definition.validate_definition called directly (the API tests cover each rule)."""

import pytest

from automations.definition import validate_definition
from automations.models import Automation
from automations.services import automation_create
from config.errors import ValidationFailed

VALID = {
    "name": "  Welcome  ",
    "trigger": {"type": "record.created", "module": "contacts"},
    "actions": [
        {"type": "call_webhook", "config": {"url": "https://example.com", "method": "put"}}
    ],
}


def test_returns_the_cleaned_definition_with_defaults(tenant):
    cleaned = validate_definition(workspace=tenant.workspace, data=VALID).as_json()

    assert cleaned == {
        "name": "Welcome",
        "description": "",
        "enabled": False,
        "trigger": {"type": "record.created", "module": "contacts"},
        "conditions": [],
        "actions": [
            {"type": "call_webhook", "config": {"url": "https://example.com", "method": "PUT"}}
        ],
        "error_handling": {
            "notify_on_failure": True,
            "notify_email": None,
            "disable_after_failures": 5,
        },
        "timezone": "UTC",
    }


def test_update_record_defaults_to_the_trigger_record(tenant):
    data = {
        **VALID,
        "actions": [{"type": "update_record", "config": {"updates": {"status": "done"}}}],
    }
    cleaned = validate_definition(workspace=tenant.workspace, data=data)
    assert cleaned.definition.actions[0].config == {
        "record": "trigger",
        "updates": {"status": "done"},
    }


def test_schedule_whitespace_is_normalised(tenant):
    data = {**VALID, "trigger": {"type": "schedule", "schedule": " 0  9 * * 1-5 "}}
    cleaned = validate_definition(workspace=tenant.workspace, data=data)
    assert cleaned.definition.trigger.schedule == "0 9 * * 1-5"
    assert cleaned.as_json()["trigger"] == {"type": "schedule", "schedule": "0 9 * * 1-5"}


def test_raises_with_every_problem(tenant):
    data = {"trigger": {"type": "record.created", "module": "planets"}, "actions": []}

    with pytest.raises(ValidationFailed) as raised:
        validate_definition(workspace=tenant.workspace, data=data)

    assert set(raised.value.details) == {"name", "trigger.module", "actions"}


def test_an_invalid_trigger_does_not_flood_the_other_parts(tenant):
    data = {
        **VALID,
        "trigger": {"type": "record.created", "module": "planets"},
        "conditions": [{"field": "email", "operator": "is_empty"}],
        "actions": [
            {
                "type": "call_webhook",
                "config": {"url": "https://x.example", "body": "{{ record.name }}"},
            }
        ],
    }

    with pytest.raises(ValidationFailed) as raised:
        validate_definition(workspace=tenant.workspace, data=data)

    assert set(raised.value.details) == {"trigger.module"}


def test_an_extra_trigger_key_still_checks_the_rest(tenant):
    data = {
        **VALID,
        "trigger": {"type": "record.created", "module": "contacts", "x": 1},
        "conditions": [{"field": "colour", "operator": "is_empty"}],
    }

    with pytest.raises(ValidationFailed) as raised:
        validate_definition(workspace=tenant.workspace, data=data)

    assert set(raised.value.details) == {"trigger.x", "conditions[0].field"}


def test_an_automation_keeps_its_own_webhook_path(tenant):
    data = {**VALID, "trigger": {"type": "webhook", "webhook_path": "orders"}}
    automation = automation_create(workspace=tenant.workspace, user=tenant.user, data=data)

    cleaned = validate_definition(workspace=tenant.workspace, data=data, instance=automation)

    assert cleaned.definition.trigger.webhook_path == "orders"
    with pytest.raises(ValidationFailed):
        validate_definition(workspace=tenant.workspace, data=data)


def test_nested_conditions_count_towards_the_limit(tenant):
    leaf = {"field": "email", "operator": "is_not_empty"}
    data = {**VALID, "conditions": [{"all": [leaf] * 60}, {"any": [leaf] * 41}]}

    with pytest.raises(ValidationFailed) as raised:
        validate_definition(workspace=tenant.workspace, data=data)

    assert "at most 100" in raised.value.details["conditions"][0]


def test_exactly_the_limits_are_accepted(tenant):
    leaf = {"field": "email", "operator": "is_not_empty"}
    data = {**VALID, "conditions": [leaf] * 100, "actions": VALID["actions"] * 50}
    cleaned = validate_definition(workspace=tenant.workspace, data=data)
    assert len(cleaned.definition.actions) == 50
    assert len(cleaned.as_json()["actions"]) == 50


def test_validation_uses_a_bounded_number_of_queries(tenant, django_assert_max_num_queries):
    actions = [
        {"type": "create_record", "config": {"module": "tasks", "data": {"name": "x"}}},
        {"type": "send_email", "config": {"to": "a@example.com", "template": "welcome_email"}},
        {
            "type": "send_notification",
            "config": {"user_id": tenant.user.id, "title": "t", "message": "m"},
        },
    ] * 10
    # module (+ fields), target module (+ fields), templates, members.
    with django_assert_max_num_queries(6):
        validate_definition(workspace=tenant.workspace, data={**VALID, "actions": actions})


def test_nothing_is_written_when_validation_fails(tenant):
    with pytest.raises(ValidationFailed):
        automation_create(workspace=tenant.workspace, user=tenant.user, data={"name": "x"})
    assert not Automation.objects.exists()
