"""Building automations by clicking only, and watching them run on a real Celery worker."""

import pytest
from playwright.sync_api import expect

from records.models import Record
from records.services import record_create
from tests.browser.helpers import add_action, reload_until, save_and_enable

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow]


def test_a_record_created_automation_built_by_clicking_runs_for_a_record_made_in_the_ui(
    app, page, celery_worker, shot
):
    app.go("/automations/new")
    page.locator("#id_name").fill("Greet new contacts")
    page.locator("#trigger-type").select_option("record.created")
    page.locator("#trigger-module").select_option("contacts")
    card = add_action(page, "send_notification")
    card.get_by_label("Notify").select_option(label="The person who triggered it")
    card.get_by_label("Title").fill("New contact: ")
    page.get_by_label("Variable", exact=True).select_option("record.name")
    page.get_by_role("button", name="Insert", exact=True).click()
    expect(card.get_by_label("Title")).to_have_value("New contact: {{record.name}}")
    card.get_by_label("Message").fill("Say hello")
    shot(page, "builder-new-record-created")
    automation_id = save_and_enable(page)

    app.go("/records/contacts/new")
    page.locator("#id_name").fill("Ann Archer")
    page.locator("#save-record").click()
    expect(page.get_by_role("heading", name="Ann Archer")).to_be_visible()

    app.go(f"/automations/{automation_id}/logs")
    # The logs page refreshes itself while a run is in progress.
    expect(page.locator("tr[data-status=success]")).to_have_count(1, timeout=30_000)
    shot(page, "logs")
    page.locator("tr[data-status=success] a").first.click()
    expect(page.locator("#run-status")).to_have_attribute("data-status", "success")
    expect(page.locator("tr[data-action-index='0']")).to_contain_text("send_notification")
    shot(page, "run")


def test_a_field_changed_automation_with_changed_to_fires_on_that_transition_only(
    app, page, owner, celery_worker, shot
):
    app.go("/automations/new")
    page.locator("#id_name").fill("Follow up on proposals")
    page.locator("#trigger-type").select_option("field.changed")
    page.locator("#trigger-module").select_option("deals")
    page.locator("#trigger-field").select_option("stage")
    page.get_by_role("button", name="+ Add condition").click()
    row = page.locator("[data-condition]").first
    row.get_by_label("Field").select_option("stage")
    row.get_by_label("Operator").select_option("changed_to")
    row.get_by_label("Value").select_option("proposal")
    card = add_action(page, "create_record")
    card.get_by_label("Module").select_option("tasks")
    card.get_by_role("button", name="+ Add field").click()
    card.locator("[data-pair]").nth(0).get_by_label("Field").select_option("name")
    card.locator("[data-pair]").nth(0).get_by_label("Value").fill(
        "Send proposal to {{record.name}}"
    )
    card.get_by_role("button", name="+ Add field").click()
    card.locator("[data-pair]").nth(1).get_by_label("Field").select_option("priority")
    card.locator("[data-pair]").nth(1).get_by_label("Value").fill("high")
    shot(page, "builder-field-changed")
    automation_id = save_and_enable(page)
    shot(page, "builder-saved")
    deal = record_create(
        module=owner.module("deals"),
        data={"name": "Initech", "stage": "qualification"},
        actor=owner.user,
    )

    app.go(f"/records/deals/{deal.id}/edit")
    page.get_by_label("Value", exact=True).fill("5000")  # not the watched field: no run
    page.locator("#save-record").click()
    app.go(f"/records/deals/{deal.id}/edit")
    page.get_by_label("Stage").select_option("proposal")
    page.locator("#save-record").click()
    expect(page.locator(".message-success")).to_be_visible()

    app.go(f"/automations/{automation_id}/logs")
    expect(page.locator("tr[data-status=success]")).to_have_count(1, timeout=30_000)
    task = Record.objects.get(module__slug="tasks")
    assert task.values == {"name": "Send proposal to Initech", "priority": "high"}
    app.go("/records/tasks/")
    expect(page.get_by_role("link", name="Send proposal to Initech")).to_be_visible()


def test_a_manual_automation_runs_from_its_button_on_a_record(
    app, page, owner, celery_worker, shot
):
    from automations.services import automation_create

    automation_create(
        workspace=owner.workspace,
        user=owner.user,
        data={
            "name": "Mark contacted",
            "enabled": True,
            "trigger": {"type": "manual", "module": "contacts"},
            "actions": [{"type": "update_record", "config": {"updates": {"status": "contacted"}}}],
        },
    )
    contact = record_create(module=owner.module("contacts"), data={"name": "Bob"}, actor=owner.user)

    app.go(f"/records/contacts/{contact.id}/")
    shot(page, "record")
    page.get_by_role("button", name="Mark contacted").click()

    # The run page refreshes itself until the run is over.
    expect(page.locator("#run-status")).to_have_attribute("data-status", "success", timeout=30_000)
    page.get_by_role("link", name="Open the record").click()
    expect(page.locator(".props")).to_contain_text("contacted")
    expect(page.locator(".run-list")).to_contain_text("Mark contacted")


def test_a_notification_arrives_in_the_header_and_links_to_its_record(
    app, page, owner, celery_worker, shot
):
    from automations.services import automation_create

    automation_create(
        workspace=owner.workspace,
        user=owner.user,
        data={
            "name": "Tell me",
            "enabled": True,
            "trigger": {"type": "record.created", "module": "leads"},
            "actions": [
                {
                    "type": "send_notification",
                    "config": {
                        "user_id": "{{user.id}}",
                        "title": "New lead: {{record.name}}",
                        "message": "From {{record.source}}",
                        "link": "/leads/{{record.id}}",
                    },
                }
            ],
        },
    )
    app.go("/records/leads/new")
    page.locator("#id_name").fill("Milton")
    page.get_by_label("Source").fill("website")
    page.locator("#save-record").click()

    reload_until(page, page.locator("#nav-notifications .count"))
    expect(page.locator("#nav-notifications .count")).to_have_text("1")
    page.locator("#nav-notifications").click()
    expect(page.locator(".notification.unread")).to_contain_text("New lead: Milton")
    shot(page, "notifications")
    page.get_by_role("link", name="Open").click()
    expect(page.get_by_role("heading", name="Milton")).to_be_visible()
    expect(page.locator("#nav-notifications .count")).to_have_count(0)
