"""The builder's behaviour in the browser (no worker needed)."""

import json

import pytest
from playwright.sync_api import expect

from automations.models import Automation
from automations.services import automation_create
from records.services import record_create
from tests.browser.helpers import add_action, fill_contacts_conditions_with_a_group

pytestmark = pytest.mark.browser


def test_a_server_validation_error_appears_at_the_field_it_concerns(app, page, shot):
    app.go("/automations/new")
    page.locator("#id_name").fill("Bad hook")
    page.locator("#trigger-module").select_option("contacts")
    card = add_action(page, "call_webhook")
    card.get_by_label("URL").fill("not a url")
    page.get_by_role("button", name="Create automation").click()

    card = page.locator("[data-action]").first
    error = card.locator(".field", has=page.get_by_label("URL")).locator(
        '.error[data-error-for="actions[0].config.url"]'
    )
    expect(error).to_be_visible()
    expect(card.get_by_label("URL")).to_have_value("not a url")
    expect(card.get_by_label("URL")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-summary")).to_be_focused()
    shot(page, "builder-validation-error")
    page.locator("#error-summary a").first.click()
    expect(card.get_by_label("URL")).to_be_focused()
    assert not Automation.objects.exists()


def test_operators_and_the_value_input_fit_the_chosen_field(app, page):
    app.go("/automations/new")
    page.locator("#trigger-module").select_option("deals")
    page.get_by_role("button", name="+ Add condition").click()
    row = page.locator("[data-condition]").first

    row.get_by_label("Field").select_option("value")
    operators = row.get_by_label("Operator").locator("option").all_inner_texts()
    assert "contains" not in operators and "is greater than" in operators
    expect(row.get_by_label("Value")).to_have_attribute("type", "number")

    row.get_by_label("Operator").select_option("is_empty")
    expect(row.locator("[data-role=value-wrap]")).to_be_hidden()

    row.get_by_label("Field").select_option("stage")
    row.get_by_label("Operator").select_option("equals")
    options = row.get_by_label("Value").locator("option").all_inner_texts()
    assert "closed_won" in options

    row.get_by_label("Field").select_option("close_date")
    expect(row.get_by_label("Value")).to_have_attribute("type", "date")
    assert "is after" in row.get_by_label("Operator").locator("option").all_inner_texts()


def test_change_operators_are_offered_only_for_update_triggers(app, page):
    app.go("/automations/new")
    page.locator("#trigger-module").select_option("deals")
    page.get_by_role("button", name="+ Add condition").click()
    operator = page.locator("[data-condition] [data-role=operator]").first

    assert "changed to" not in operator.locator("option").all_inner_texts()
    page.locator("#trigger-type").select_option("record.updated")
    assert "changed to" in operator.locator("option").all_inner_texts()


def test_conditions_groups_and_reordered_actions_serialise_to_the_apis_json(app, page):
    app.go("/automations/new")
    page.locator("#id_name").fill("Grouped")
    fill_contacts_conditions_with_a_group(page)
    card = add_action(page, "delay")
    card.get_by_label("Wait").fill("5")
    card = add_action(page, "send_email")
    card.get_by_label("To", exact=True).fill("{{record.email}}")
    card.get_by_label("Use an email template").check()
    card.get_by_label("Template", exact=True).select_option("welcome_email")
    card.get_by_role("button", name="Move this action up").click()
    page.get_by_role("button", name="Create automation").click()

    automation = Automation.objects.get(name="Grouped")
    assert automation.conditions == [
        {"field": "email", "operator": "is_not_empty"},
        {"any": [{"field": "source", "operator": "equals", "value": "website"}]},
    ]
    assert [a["type"] for a in automation.actions] == ["send_email", "delay"]
    assert automation.actions[0]["config"] == {
        "to": "{{record.email}}",
        "template": "welcome_email",
    }
    assert automation.actions[1]["config"] == {"duration": 5, "unit": "minutes"}


def test_a_schedule_shows_its_meaning_and_next_runs_as_you_type(app, page, shot):
    app.go("/automations/new")
    page.locator("#trigger-type").select_option("schedule")
    page.get_by_label("Cron schedule").fill("0 9 * * 1-5")
    preview = page.locator("#cron-preview")
    expect(preview).to_contain_text("At 09:00 AM, Monday through Friday")
    expect(preview.locator("li")).to_have_count(5)

    page.get_by_label("Timezone", exact=True).select_option("Asia/Tokyo")
    expect(preview).to_contain_text("Next runs (Asia/Tokyo)")
    expect(preview.locator("li").first).to_contain_text("JST")
    page.get_by_label("Cron schedule").fill("61 * * * *")
    expect(preview.locator(".error")).to_be_visible()
    page.get_by_label("Common schedules").select_option("*/15 * * * *")
    expect(preview).to_contain_text("Every 15 minutes")
    shot(page, "builder-schedule")


def test_a_webhook_trigger_shows_the_full_url_to_copy(app, page, owner, live_server):
    automation = automation_create(
        workspace=owner.workspace,
        user=owner.user,
        data={
            "name": "Hook",
            "trigger": {"type": "webhook", "webhook_path": "new-lead"},
            "actions": [{"type": "call_webhook", "config": {"url": "https://example.com"}}],
        },
    )
    app.go(f"/automations/{automation.id}/")

    url = page.get_by_label("Webhook URL")
    expect(url).to_have_value(f"http://127.0.0.1:8000/v1/webhooks/{automation.id}/new-lead")
    page.get_by_label("Webhook path").fill("renamed")
    expect(url).to_have_value(f"http://127.0.0.1:8000/v1/webhooks/{automation.id}/renamed")


def test_the_builder_works_from_the_keyboard(app, page):
    app.go("/automations/new")
    page.locator("#trigger-module").select_option("contacts")
    page.get_by_role("button", name="+ Add condition").focus()
    page.keyboard.press("Enter")

    expect(page.locator("[data-condition] [data-role=field]").first).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("[data-condition] [data-role=operator]").first).to_be_focused()


def test_the_json_view_follows_the_builder(app, page):
    app.go("/automations/new")
    page.locator("#trigger-module").select_option("leads")
    page.locator("details#json-details summary").click()

    definition = json.loads(page.locator("#id_definition").input_value())

    assert definition["trigger"] == {"type": "record.created", "module": "leads"}


def test_a_dry_run_shows_each_conditions_actual_value_and_the_rendered_actions(
    app, page, owner, shot
):
    automation = automation_create(
        workspace=owner.workspace,
        user=owner.user,
        data={
            "name": "Website leads",
            "trigger": {"type": "record.created", "module": "contacts"},
            "conditions": [{"field": "source", "operator": "equals", "value": "website"}],
            "actions": [
                {
                    "type": "send_notification",
                    "config": {
                        "user_id": "{{user.id}}",
                        "title": "Hello {{record.name | uppercase}}",
                        "message": "m",
                    },
                }
            ],
        },
    )
    record_create(
        module=owner.module("contacts"), data={"name": "Ann", "source": "ads"}, actor=owner.user
    )

    app.go(f"/automations/{automation.id}/")
    page.get_by_role("link", name="Test it first").click()
    page.get_by_label("Record", exact=True).select_option(
        label=page.locator("#id_record option", has_text="Ann").inner_text()
    )
    page.get_by_role("button", name="Run the test").click()

    expect(page.locator("#verdict")).to_contain_text("It would not run")
    row = page.locator('[data-condition-result="source"]')
    expect(row).to_contain_text("ads")
    expect(row).to_contain_text("failed")
    expect(page.locator('[data-preview-type="send_notification"]')).to_contain_text("Hello ANN")
    shot(page, "dry-run")
