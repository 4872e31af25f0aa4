"""automations.actions.ACTIONS, the one registry: every type is complete, and each reader of
action types (validation, the dry run, the API schema, the builder) reads it."""

from datetime import UTC, datetime
from typing import Any

import pytest

from automations.actions import ACTIONS, PreviewContext
from automations.actions.base import Action
from automations.api.schemas import ACTION_TYPE_NAMES
from automations.definition import validate_definition
from automations.models import Automation
from automations.web import builder_state

pytestmark = pytest.mark.django_db

# The smallest valid config of each registered type, on a record.created contacts trigger.
MINIMAL: dict[str, dict[str, Any]] = {
    "update_record": {"updates": {"status": "done"}},
    "create_record": {"module": "tasks", "data": {"name": "Call"}},
    "send_email": {"to": "ada@example.com", "subject": "Hi", "body": "Hello"},
    "send_notification": {"user_id": "{{record.owner_id}}", "title": "t", "message": "m"},
    "call_webhook": {"url": "https://example.com/hook"},
    "delay": {"duration": 1, "unit": "minutes"},
}


def test_every_type_is_registered_under_its_own_name_with_a_label():
    for kind, action in ACTIONS.items():
        assert isinstance(action, Action)
        assert action.type == kind
        assert action.label and action.label[0].isupper()
    assert len({action.label for action in ACTIONS.values()}) == len(ACTIONS)


def test_every_type_has_a_minimal_config_here():
    assert set(MINIMAL) == set(ACTIONS)


@pytest.mark.parametrize("kind", list(ACTIONS))
def test_every_type_validates_a_minimal_config(tenant, kind):
    cleaned = validate_definition(
        workspace=tenant.workspace,
        data={
            "name": "x",
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [{"type": kind, "config": MINIMAL[kind]}],
        },
    )
    assert cleaned.definition.actions[0].type == kind


@pytest.mark.parametrize("kind", list(ACTIONS))
def test_every_type_refuses_an_unknown_config_key(tenant, kind):
    action = ACTIONS[kind]
    problems = action.validate({**MINIMAL[kind], "nonsense": 1}, _definition_context(tenant), "c")
    assert any(path == "c.nonsense" for path, _ in problems)


@pytest.mark.parametrize("kind", list(ACTIONS))
def test_every_type_previews_a_minimal_config(tenant, kind):
    automation = Automation(
        workspace=tenant.workspace, module=tenant.module("contacts"), trigger_type="record.created"
    )
    ctx = PreviewContext(
        automation=automation,
        template_context={"record": {"owner_id": tenant.user.id}, "now": datetime.now(UTC)},
        path="actions[0].config",
    )
    preview = ACTIONS[kind].preview(ACTIONS[kind].normalize(dict(MINIMAL[kind])), ctx)
    assert preview["type"] == kind
    assert isinstance(preview["config"], dict)
    assert "error" not in preview


def test_the_api_schema_and_the_builder_offer_the_registered_types():
    assert ACTION_TYPE_NAMES == list(ACTIONS)
    states = builder_state.blank_actions(modules={}, trigger_module="")
    assert [(s.type, s.label) for s in states] == [(k, a.label) for k, a in ACTIONS.items()]


def test_the_builder_offers_the_choices_validation_accepts():
    assert builder_state.WEBHOOK_METHODS == list(ACTIONS["call_webhook"].choices["method"])
    assert builder_state.DELAY_UNITS == list(ACTIONS["delay"].choices["unit"])


def test_an_unknown_type_names_the_registered_ones(tenant):
    from config.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        validate_definition(
            workspace=tenant.workspace,
            data={
                "name": "x",
                "trigger": {"type": "record.created", "module": "contacts"},
                "actions": [{"type": "teleport", "config": {}}],
            },
        )
    assert ", ".join(ACTIONS) in str(caught.value.details)


def _definition_context(tenant):
    from automations.validation import DefinitionContext

    return DefinitionContext(
        workspace=tenant.workspace,
        trigger_type="record.created",
        module=tenant.module("contacts"),
        trigger_valid=True,
    )
