import re

import pytest

from automations.models import Automation
from tests.web.helpers import NOTIFY_OWNER, builder_post, make_automation, reload

ALL_ACTIONS = [
    {
        "type": "update_record",
        "config": {"updates": {"status": "processed", "processed_at": "{{now}}"}},
    },
    {
        "type": "update_record",
        "config": {
            "record": "related",
            "module": "accounts",
            "record_id": "{{record.account_id}}",
            "updates": {"last_contact_date": "{{now}}"},
        },
    },
    {
        "type": "create_record",
        "config": {"module": "tasks", "data": {"name": "Call {{record.name}}", "priority": "high"}},
    },
    {
        "type": "send_email",
        "config": {
            "to": "{{record.email}}",
            "template": "welcome_email",
            "data": {"first_name": "{{record.first_name}}"},
        },
    },
    {
        "type": "send_email",
        "config": {"to": "{{record.email}}", "subject": "Hi", "body": "Hello {{record.name}}"},
    },
    {
        "type": "send_notification",
        "config": {
            "user_id": "{{record.owner_id}}",
            "title": "T",
            "message": "M",
            "link": "/contacts/{{record.id}}",
        },
    },
    {
        "type": "call_webhook",
        "config": {
            "url": "https://hooks.example.com/x",
            "method": "POST",
            "headers": {"X-Token": "abc"},
            "body": {"text": "{{record.name}}"},
        },
    },
    {"type": "delay", "config": {"duration": 5, "unit": "minutes"}},
]


def test_the_new_automation_page_offers_every_trigger_and_action_type(web):
    html = web.get("/automations/new").content.decode()

    for trigger in ("record.created", "field.changed", "schedule", "webhook", "manual"):
        assert f'value="{trigger}"' in html
    for action in (
        "update_record",
        "create_record",
        "send_email",
        "send_notification",
        "call_webhook",
        "delay",
    ):
        assert f'id="tpl-action-{action}"' in html
    assert 'id="builder-schema"' in html


def test_a_link_can_preselect_a_manual_trigger_for_a_module(web):
    html = web.get("/automations/new?trigger=manual&module=contacts").content.decode()

    assert re.search(r'<option value="manual" selected>', html)
    assert re.search(r'<option value="contacts" selected>', html)


def test_creating_saves_through_the_api_service_and_starts_disabled(web, tenant):
    response = web.post(
        "/automations/new",
        builder_post(
            "Welcome",
            trigger={"type": "record.created", "module": "contacts"},
            conditions=[{"field": "email", "operator": "is_not_empty"}],
            actions=[NOTIFY_OWNER],
        ),
    )

    automation = Automation.objects.get(workspace=tenant.workspace)
    assert response["Location"] == f"/automations/{automation.id}/?saved=1"
    assert automation.name == "Welcome"
    assert automation.enabled is False
    assert automation.conditions == [{"field": "email", "operator": "is_not_empty"}]


def test_the_definition_cannot_enable_an_automation_behind_the_users_back(web, tenant):
    web.post(
        "/automations/new",
        builder_post(
            "Sneaky",
            enabled=True,
            trigger={"type": "manual", "module": "contacts"},
            actions=[NOTIFY_OWNER],
        ),
    )

    assert Automation.objects.get(workspace=tenant.workspace).enabled is False


def test_after_saving_the_page_says_it_is_disabled_and_offers_to_enable_it(web, tenant):
    automation = make_automation(tenant, enabled=True)

    response = web.post(
        f"/automations/{automation.id}/",
        builder_post(
            "Renamed",
            trigger={"type": "record.created", "module": "contacts"},
            actions=[NOTIFY_OWNER],
        ),
        follow=True,
    )

    html = response.content.decode()
    assert reload(automation).enabled is False
    assert reload(automation).name == "Renamed"
    assert "The automation is now disabled" in html
    assert f'action="/automations/{automation.id}/enable"' in html


def test_saving_with_no_change_keeps_the_automation_enabled(web, tenant):
    automation = make_automation(tenant, enabled=True)

    response = web.post(
        f"/automations/{automation.id}/",
        builder_post(automation.name, trigger=automation.trigger, actions=automation.actions),
        follow=True,
    )

    html = response.content.decode()
    assert (reload(automation).enabled, reload(automation).version) == (True, 1)
    assert "had no changes to save" in html
    assert "now disabled" not in html


def test_the_builder_cannot_save_a_change_and_stay_enabled(web, tenant):
    # The definition's JSON may carry "enabled": the builder drops it, so a change disables.
    automation = make_automation(tenant, enabled=True)

    web.post(
        f"/automations/{automation.id}/",
        builder_post(
            "Renamed", enabled=True, trigger=automation.trigger, actions=automation.actions
        ),
    )

    assert (reload(automation).enabled, reload(automation).name) == (False, "Renamed")


def test_a_validation_error_is_shown_beside_the_field_it_concerns(web, tenant):
    bad_url = {"type": "call_webhook", "config": {"url": "not a url", "method": "POST"}}

    response = web.post(
        "/automations/new",
        builder_post(
            "Hook",
            trigger={"type": "record.created", "module": "contacts"},
            actions=[NOTIFY_OWNER, bad_url],
        ),
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert not Automation.objects.exists()
    # The message sits right after the URL input of the second action...
    url_input = html.index('data-path="actions[1].config.url"')
    error = html.index('data-error-for="actions[1].config.url"')
    assert url_input < error
    assert 'class="field' not in html[url_input:error]  # in the same field, not the next one
    # ...and the summary at the top names the place in words.
    assert "Action 2 → url" in html


def test_an_unknown_condition_field_is_reported_at_the_condition(web):
    response = web.post(
        "/automations/new",
        builder_post(
            "Bad condition",
            trigger={"type": "record.created", "module": "contacts"},
            conditions=[{"field": "nope", "operator": "equals", "value": "x"}],
            actions=[NOTIFY_OWNER],
        ),
    )

    assert 'data-error-for="conditions[0].field"' in response.content.decode()


def test_a_submitted_definition_that_is_not_json_is_reported(web):
    response = web.post("/automations/new", {"name": "x", "definition": "{not json"})

    assert response.status_code == 400
    assert 'data-error-for="definition"' in response.content.decode()
    assert "not valid JSON" in response.content.decode()


def test_the_edit_page_renders_every_action_type_and_condition_groups(web, tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "field.changed", "module": "contacts", "field": "status"},
        conditions=[
            {"field": "status", "operator": "changed_to", "value": "qualified"},
            {
                "any": [
                    {"field": "email", "operator": "ends_with", "value": ".com"},
                    {"field": "source", "operator": "is_empty"},
                ]
            },
        ],
        actions=ALL_ACTIONS,
    )

    response = web.get(f"/automations/{automation.id}/")

    html = response.content.decode()
    page = html.split("<template")[0]  # the blank rows builder.js clones come after the page
    assert response.status_code == 200
    assert page.count('class="action-card"') == len(ALL_ACTIONS)
    assert 'data-path="conditions[1].any[0].value"' in html
    assert 'value="https://hooks.example.com/x"' in html
    assert "&quot;text&quot;: &quot;{{record.name}}&quot;" in html


def test_saving_the_rendered_definition_back_changes_nothing(web, tenant):
    automation = make_automation(tenant, actions=ALL_ACTIONS)
    before = reload(automation).actions

    web.post(
        f"/automations/{automation.id}/",
        builder_post(
            "Welcome",
            trigger=automation.trigger,
            conditions=automation.conditions,
            actions=before,
            error_handling=automation.error_handling,
            timezone="UTC",
        ),
    )

    assert reload(automation).actions == before
    assert reload(automation).version == 1


def test_a_schedule_shows_its_meaning_and_next_runs_in_its_timezone(web, tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "schedule", "schedule": "0 9 * * 1-5"},
        timezone="Europe/Berlin",
        actions=[{"type": "call_webhook", "config": {"url": "https://example.com/x"}}],
    )

    html = web.get(f"/automations/{automation.id}/").content.decode()

    assert "At 09:00 AM, Monday through Friday" in html
    assert html.count("09:00 CE") == 5  # CET or CEST, five next runs


def test_the_cron_preview_endpoint_describes_a_schedule(web):
    data = web.get("/automations/cron-preview?schedule=*/15+*+*+*+*&timezone=UTC").json()

    assert data["ok"] is True
    assert data["description"] == "Every 15 minutes"
    assert len(data["next_runs"]) == 5


def test_the_cron_preview_endpoint_explains_a_bad_schedule(web):
    data = web.get("/automations/cron-preview?schedule=61+*+*+*+*&timezone=UTC").json()

    assert data["ok"] is False
    assert data["error"]


def test_a_webhook_trigger_shows_its_full_url(web, tenant, settings):
    automation = make_automation(
        tenant,
        trigger={"type": "webhook", "webhook_path": "new-lead"},
        actions=[{"type": "call_webhook", "config": {"url": "https://example.com/x"}}],
    )

    html = web.get(f"/automations/{automation.id}/").content.decode()

    assert f"{settings.PUBLIC_BASE_URL}/v1/webhooks/{automation.id}/new-lead" in html


def test_another_workspaces_automation_is_not_found(web, other_tenant):
    theirs = make_automation(other_tenant)

    assert web.get(f"/automations/{theirs.id}/").status_code == 404
    assert web.post(f"/automations/{theirs.id}/", builder_post("x")).status_code == 404
    assert reload(theirs).name == "Welcome"


@pytest.mark.parametrize("path", ["actions[1].config.url", "conditions.any[0].value", ""])
def test_error_paths_are_described_in_words(path):
    from automations.web.builder import describe_path

    assert describe_path(path)
