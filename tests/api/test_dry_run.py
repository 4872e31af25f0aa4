"""POST /v1/automations/{id}/test: the seed's dry run, with no side effect at all."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.db import connection

from automations.models import (
    ActionRun,
    Automation,
    AutomationVersion,
    EmailTemplate,
    InboundDelivery,
    Notification,
    Run,
)
from records.models import Record
from tests.factories import make_record
from tests.runtime.support import drain, make_automation

NOW = datetime(2024, 1, 17, 10, 0, tzinfo=UTC)

# The automation behind the seed's dry-run example response.
SEED_AUTOMATION = {
    "name": "Qualified contacts",
    "trigger": {"type": "record.updated", "module": "contacts"},
    "conditions": [{"field": "status", "operator": "equals", "value": "qualified"}],
    "actions": [
        {"type": "send_email", "config": {"to": "{{record.email}}", "template": "welcome_email"}},
        {
            "type": "update_record",
            "config": {
                "record": "trigger",
                "updates": {"status": "processed", "processed_at": "{{now}}"},
            },
        },
    ],
}


def create(api, body):
    response = api.post("/v1/automations", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def dry_run(api, automation_id, body):
    return api.post(f"/v1/automations/{automation_id}/test", body, format="json")


@time_machine.travel(NOW, tick=False)
def test_dry_run_answers_the_seed_example(api, tenant):
    automation = create(api, SEED_AUTOMATION)
    record = make_record(
        tenant, "contacts", name="John Smith", email="john@example.com", status="qualified"
    )

    response = dry_run(api, automation["id"], {"record_id": record.id})

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["would_execute"] is True
    assert data["conditions_passed"] is True
    assert data["conditions_evaluated"] == [
        {
            "field": "status",
            "operator": "equals",
            "value": "qualified",
            "actual_value": "qualified",
            "passed": True,
        }
    ]
    previews = data["actions_preview"]
    assert [{"type": p["type"], "config": p["config"]} for p in previews] == [
        {"type": "send_email", "config": {"to": "john@example.com", "template": "welcome_email"}},
        {
            "type": "update_record",
            "config": {
                "record": "trigger",
                "updates": {"status": "processed", "processed_at": "2024-01-17T10:00:00Z"},
            },
        },
    ]


def test_a_template_email_is_previewed_rendered(api, tenant):
    automation = create(
        api,
        {
            "name": "Welcome",
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [
                {
                    "type": "send_email",
                    "config": {
                        "to": "{{record.email}}",
                        "template": "welcome_email",
                        "data": {
                            "first_name": "{{record.first_name}}",
                            "company": "{{record.company}}",
                        },
                    },
                }
            ],
        },
    )
    record = make_record(
        tenant,
        "contacts",
        name="John Smith",
        first_name="John",
        email="john@example.com",
        company="Acme",
    )

    data = dry_run(api, automation["id"], {"record_id": record.id}).json()["data"]

    email = data["actions_preview"][0]["email"]
    assert email["subject"] == "Welcome, John!"
    assert email["body"].startswith("Hi John,")
    assert "with Acme" in email["body"]


def test_failed_conditions_say_would_not_execute(api, tenant):
    automation = create(api, SEED_AUTOMATION)
    record = make_record(tenant, "contacts", name="Jane", email="jane@example.com", status="new")

    data = dry_run(api, automation["id"], {"record_id": record.id}).json()["data"]

    assert data["would_execute"] is False
    assert data["conditions_passed"] is False
    assert data["conditions_evaluated"][0]["actual_value"] == "new"
    assert data["conditions_evaluated"][0]["passed"] is False
    assert any("status" in note for note in data["notes"])


def test_dry_run_works_on_a_disabled_automation(api, tenant):
    automation = create(api, SEED_AUTOMATION)
    assert automation["enabled"] is False
    record = make_record(tenant, "contacts", name="J", status="qualified")

    data = dry_run(api, automation["id"], {"record_id": record.id}).json()["data"]

    assert data["would_execute"] is True
    assert data["enabled"] is False
    assert any("disabled" in note for note in data["notes"])


def test_unknown_record_is_404_record_not_found(api):
    automation = create(api, SEED_AUTOMATION)

    response = dry_run(api, automation["id"], {"record_id": "rec_doesnotexist"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "record_not_found"


def test_a_record_of_another_module_is_404_record_not_found(api, tenant):
    automation = create(api, SEED_AUTOMATION)
    deal = make_record(tenant, "deals", name="Big deal")

    response = dry_run(api, automation["id"], {"record_id": deal.id})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "record_not_found"


def test_a_record_of_another_workspace_is_404_record_not_found(api, other_tenant):
    automation = create(api, SEED_AUTOMATION)
    theirs = make_record(other_tenant, "contacts", name="Theirs", status="qualified")

    response = dry_run(api, automation["id"], {"record_id": theirs.id})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "record_not_found"


@time_machine.travel(NOW, tick=False)
def test_an_inline_record_can_stand_in_for_a_stored_one(api):
    automation = create(api, SEED_AUTOMATION)

    data = dry_run(
        api,
        automation["id"],
        {
            "record": {"name": "Ann", "email": "ann@example.com", "status": "Qualified"},
        },
    ).json()["data"]

    assert data["would_execute"] is True
    assert data["actions_preview"][0]["config"]["to"] == "ann@example.com"


def test_an_inline_record_must_be_an_object(api):
    automation = create(api, SEED_AUTOMATION)

    response = dry_run(api, automation["id"], {"record": "rec_123"})

    assert response.status_code == 400
    assert "record" in response.json()["error"]["details"]


def test_an_inline_record_with_an_unknown_field_is_400(api):
    automation = create(api, SEED_AUTOMATION)

    response = dry_run(api, automation["id"], {"record": {"colour": "red"}})

    assert response.status_code == 400
    assert "record.colour" in response.json()["error"]["details"]


def test_record_id_or_record_is_required(api):
    automation = create(api, SEED_AUTOMATION)

    response = dry_run(api, automation["id"], {})

    assert response.status_code == 400
    assert "record_id" in response.json()["error"]["details"]


STAGE_CHANGE = {
    "name": "Proposal follow-up",
    "trigger": {"type": "field.changed", "module": "deals", "field": "stage"},
    "conditions": [{"field": "stage", "operator": "changed_to", "value": "proposal"}],
    "actions": [
        {
            "type": "create_record",
            "config": {
                "module": "tasks",
                "data": {
                    "name": "Send proposal to {{record.name}}",
                    "due_date": "{{now | add_days: 2}}",
                    "priority": "high",
                },
            },
        }
    ],
}


@time_machine.travel(NOW, tick=False)
def test_previous_values_drive_change_conditions(api, tenant):
    automation = create(api, STAGE_CHANGE)
    deal = make_record(tenant, "deals", name="Acme", stage="proposal")

    data = dry_run(
        api,
        automation["id"],
        {
            "record_id": deal.id,
            "previous": {"stage": "qualification"},
        },
    ).json()["data"]

    assert data["would_execute"] is True
    assert data["conditions_evaluated"][0]["previous_value"] == "qualification"
    assert data["actions_preview"][0]["config"]["data"] == {
        "name": "Send proposal to Acme",
        "due_date": "2024-01-19",  # a date field keeps the date, as the run stores it
        "priority": "high",
    }


def test_without_previous_a_field_change_trigger_does_not_fire(api, tenant):
    automation = create(api, STAGE_CHANGE)
    deal = make_record(tenant, "deals", name="Acme", stage="proposal")

    data = dry_run(api, automation["id"], {"record_id": deal.id}).json()["data"]

    assert data["would_execute"] is False
    assert any("previous" in note for note in data["notes"])


def test_an_unchanged_watched_field_does_not_fire(api, tenant):
    automation = create(api, STAGE_CHANGE)
    deal = make_record(tenant, "deals", name="Acme", stage="proposal")

    data = dry_run(
        api,
        automation["id"],
        {
            "record_id": deal.id,
            "previous": {"stage": "proposal"},
        },
    ).json()["data"]

    assert data["would_execute"] is False


def test_previous_is_refused_for_a_create_trigger(api, tenant):
    automation = create(
        api,
        {
            **SEED_AUTOMATION,
            "conditions": [],
            "trigger": {"type": "record.created", "module": "contacts"},
        },
    )
    record = make_record(tenant, "contacts", name="J")

    response = dry_run(api, automation["id"], {"record_id": record.id, "previous": {}})

    assert response.status_code == 400
    assert "previous" in response.json()["error"]["details"]


def test_a_template_that_fails_to_render_is_shown_not_raised(api, tenant):
    automation = create(
        api,
        {
            "name": "Bad date",
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [
                {
                    "type": "call_webhook",
                    "config": {
                        "url": "https://example.com/x",
                        "body": {"when": "{{ record.name | add_days: 1 }}"},
                    },
                }
            ],
        },
    )
    record = make_record(tenant, "contacts", name="not a date")

    data = dry_run(api, automation["id"], {"record_id": record.id}).json()["data"]

    [preview] = data["actions_preview"]
    assert preview["error"]["code"] == "template_render_failed"  # as the run says
    assert "add_days" in preview["error"]["message"]


@time_machine.travel(NOW, tick=False)
def test_a_schedule_trigger_renders_without_a_record(api):
    automation = create(
        api,
        {
            "name": "Daily",
            "trigger": {"type": "schedule", "schedule": "0 9 * * *"},
            "actions": [
                {
                    "type": "call_webhook",
                    "config": {"url": "https://example.com/x", "body": {"at": "{{ now }}"}},
                }
            ],
        },
    )

    data = dry_run(api, automation["id"], {}).json()["data"]

    assert data["would_execute"] is True
    assert data["actions_preview"][0]["config"]["body"] == {"at": "2024-01-17T10:00:00Z"}


def test_a_webhook_trigger_renders_a_sample_payload(api):
    automation = create(
        api,
        {
            "name": "Inbound",
            "trigger": {"type": "webhook", "webhook_path": "orders"},
            "actions": [
                {
                    "type": "call_webhook",
                    "config": {
                        "url": "https://example.com/x",
                        "body": {"order": "{{ webhook.body.order_id }}"},
                    },
                }
            ],
        },
    )

    data = dry_run(api, automation["id"], {"webhook": {"body": {"order_id": 42}}}).json()["data"]

    assert data["actions_preview"][0]["config"]["body"] == {"order": 42}


def _row_counts() -> dict[str, int]:
    models = (
        Automation,
        AutomationVersion,
        Run,
        ActionRun,
        EmailTemplate,
        Notification,
        InboundDelivery,
        Record,
    )
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db(transaction=True)
def test_dry_run_has_no_side_effect(
    tenant, httpserver, settings, django_capture_on_commit_callbacks
):
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = True
    api = tenant.client
    httpserver.expect_request("/hook").respond_with_json({"ok": True})
    automation = create(
        api,
        {
            "name": "Everything",
            "enabled": True,
            "trigger": {"type": "record.updated", "module": "contacts"},
            "actions": [
                {
                    "type": "call_webhook",
                    "config": {
                        "url": httpserver.url_for("/hook"),
                        "body": {"name": "{{record.name}}"},
                    },
                },
                {
                    "type": "send_email",
                    "config": {"to": "{{record.email}}", "template": "welcome_email"},
                },
                {
                    "type": "send_notification",
                    "config": {
                        "user_id": tenant.user.id,
                        "title": "t",
                        "message": "{{record.name}}",
                    },
                },
                {
                    "type": "update_record",
                    "config": {"record": "trigger", "updates": {"status": "processed"}},
                },
                {"type": "create_record", "config": {"module": "tasks", "data": {"name": "x"}}},
                {"type": "delay", "config": {"duration": 1, "unit": "seconds"}},
            ],
        },
    )
    record = make_record(tenant, "contacts", name="Ann", email="ann@example.com", status="new")
    before = _row_counts()
    stored = Automation.objects.get(pk=automation["id"])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks() as callbacks:
        response = dry_run(api, automation["id"], {"record_id": record.id})

    assert response.status_code == 200
    assert len(response.json()["data"]["actions_preview"]) == 6
    assert _row_counts() == before
    assert callbacks == []
    assert httpserver.log == []
    assert mail.outbox == []
    record.refresh_from_db()
    assert record.values["status"] == "new"
    after = Automation.objects.get(pk=automation["id"])
    assert (after.run_count, after.last_run_at, after.updated_at) == (
        stored.run_count,
        stored.last_run_at,
        stored.updated_at,
    )


FOLLOW_UP = {
    "name": "Follow-up task",
    "trigger": {"type": "record.created", "module": "contacts"},
    "actions": [
        {
            "type": "create_record",
            "config": {
                "module": "tasks",
                "data": {"name": "Call {{record.name}}", "due_date": "{{now | add_days: 3}}"},
            },
        },
        {
            "type": "update_record",
            "config": {"updates": {"processed_at": "{{now}}", "last_contact_date": "{{now}}"}},
        },
    ],
}


@time_machine.travel(datetime(2026, 11, 30, 21, 0, 18, tzinfo=UTC), tick=False)
def test_the_preview_shows_values_as_the_run_writes_them(api, tenant):
    """Issue 16.3: a date field previewed as 2026-12-03T21:00:18Z and was stored as 2026-12-03."""
    automation = make_automation(tenant, **{**FOLLOW_UP, "enabled": True})
    contact = make_record(tenant, "contacts", name="Ada")
    drain()  # the real run, for comparison

    data = dry_run(api, automation.id, {"record_id": contact.id}).json()["data"]

    create_preview, update_preview = data["actions_preview"]
    assert create_preview["config"]["data"] == {"name": "Call Ada", "due_date": "2026-12-03"}
    assert "error" not in create_preview
    task = tenant.module("tasks").records.get()
    assert task.values == create_preview["config"]["data"]
    contact.refresh_from_db()
    assert (
        update_preview["config"]["updates"]
        == {
            "processed_at": contact.values["processed_at"],
            "last_contact_date": contact.values["last_contact_date"],
        }
        == {"processed_at": "2026-11-30T21:00:18Z", "last_contact_date": "2026-11-30"}
    )


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ({"type": "update_record", "config": {"updates": {"score": "{{record.name}}"}}}, "score"),
        (
            {
                "type": "create_record",
                "config": {"module": "deals", "data": {"name": "D", "value": "{{record.name}}"}},
            },
            "value",
        ),
        (
            {
                "type": "create_record",
                "config": {"module": "tasks", "data": {"name": "T", "priority": "{{record.name}}"}},
            },
            "priority",  # not one of the select's options
        ),
    ],
)
def test_a_value_the_field_refuses_previews_as_the_error_the_run_gets(api, tenant, action, field):
    automation = make_automation(
        tenant,
        name="Refused",
        trigger={"type": "record.created", "module": "leads"},
        actions=[action],
    )
    lead = make_record(tenant, "leads", name="1e1000000")
    drain()
    [action_run] = ActionRun.objects.filter(run__automation=automation)
    assert action_run.status == "failed"

    [preview] = dry_run(api, automation.id, {"record_id": lead.id}).json()["data"][
        "actions_preview"
    ]

    assert preview["error"] == {
        "code": action_run.error_code,
        "message": action_run.error_message,
    }
    assert preview["error"]["code"] == "validation_error"
    assert preview["error"]["message"].startswith(f"{field}: ")


def test_a_definition_stored_too_deep_previews_as_an_error_not_a_500(api, tenant):
    # Save validation refuses such a body now (primitives.jsonpolicy); one stored before that, or
    # written around it (the 500 nested lists), must still answer the dry run with the
    # run's own clean failure.
    automation = create(
        api,
        {
            "name": "Poison",
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [{"type": "call_webhook", "config": {"url": "https://example.com/x"}}],
        },
    )
    poison = '[{"type": "call_webhook", "config": {"url": "https://example.com/x", "body": '
    poison += "[" * 500 + "]" * 500 + "}}]"
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Automation._meta.db_table} SET actions = %s{cast} WHERE id = %s",  # noqa: S608
            [poison, automation["id"]],
        )
    record = make_record(tenant, "contacts", name="Ann")

    response = dry_run(api, automation["id"], {"record_id": record.id})

    assert response.status_code == 200, response.content[:300]
    [preview] = response.json()["data"]["actions_preview"]
    assert preview["error"]["code"] == "template_render_failed"
    assert "nested" in preview["error"]["message"]


@pytest.mark.parametrize("name", ["javascript:alert(1)", "/\\evil.example/phish"])
def test_a_notification_link_the_run_would_refuse_previews_as_that_error(api, tenant, name):
    """The link is checked again once rendered (automations.links); the dry run, where a
    change is tested before it is enabled, must show that refusal, not the link as sendable."""
    automation = create(
        api,
        {
            "name": "Notify",
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [
                {
                    "type": "send_notification",
                    "config": {
                        "user_id": tenant.user.id,
                        "title": "New contact",
                        "message": "m",
                        "link": "{{record.name}}",
                    },
                }
            ],
        },
    )
    record = make_record(tenant, "contacts", name=name)

    data = dry_run(api, automation["id"], {"record_id": record.id}).json()["data"]

    [preview] = data["actions_preview"]
    assert preview["config"]["link"] == name
    assert preview["error"]["code"] == "validation_error", preview
    assert preview["error"]["message"].startswith(f"The link rendered as {name!r} was refused")
