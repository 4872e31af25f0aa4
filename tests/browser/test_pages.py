"""The main pages at desktop and phone widths (screenshots for a human to look at)."""

import pytest
from playwright.sync_api import expect

from automations.services import automation_create
from records.services import record_create

pytestmark = pytest.mark.browser


@pytest.fixture
def some_data(owner):
    automation_create(
        workspace=owner.workspace,
        user=owner.user,
        data={
            "name": "High-value deal notification",
            "enabled": True,
            "trigger": {"type": "record.created", "module": "deals"},
            "conditions": [{"field": "value", "operator": "greater_than", "value": 50000}],
            "actions": [
                {
                    "type": "send_notification",
                    "config": {
                        "user_id": "{{record.owner_id}}",
                        "title": "High-value deal",
                        "message": "{{record.name}} - ${{record.value}}",
                    },
                }
            ],
        },
    )
    automation_create(
        workspace=owner.workspace,
        user=owner.user,
        data={
            "name": "Daily summary",
            "trigger": {"type": "schedule", "schedule": "0 9 * * 1-5"},
            "actions": [{"type": "call_webhook", "config": {"url": "https://example.com/s"}}],
        },
    )
    record_create(
        module=owner.module("deals"),
        data={"name": "Initech", "value": 75000, "stage": "proposal"},
        actor=owner.user,
    )


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_the_main_pages_fit_the_screen(app, page, some_data, shot, width):
    page.set_viewport_size({"width": width, "height": 900})
    for name, path in [
        ("automations", "/automations/"),
        ("builder", "/automations/new?trigger=field.changed&module=deals"),
        ("records", "/records/deals/"),
        ("api-keys", "/settings/api-keys/"),
        ("notifications", "/notifications/"),
    ]:
        app.go(path)
        overflow = page.evaluate("document.documentElement.scrollWidth") - width
        assert overflow <= 1, f"{path} is {overflow}px wider than the screen"
        shot(page, f"{name}-{width}")


def test_every_input_has_a_label(app, page, some_data):
    app.go("/automations/new?trigger=field.changed&module=deals")
    page.get_by_role("button", name="+ Add condition").click()
    page.get_by_label("Add an action").select_option("call_webhook")
    page.get_by_role("button", name="+ Add action").click()

    unlabelled = page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, textarea'))
            .filter(e => e.type !== 'hidden' && !e.closest('template'))
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
            .map(e => e.outerHTML.slice(0, 80))"""
    )
    assert unlabelled == []


def test_signing_in_and_switching_workspace(app, page, owner):
    from accounts.services import membership_ensure, workspace_create

    other = workspace_create(slug="globex", name="Globex")
    membership_ensure(workspace=other, user=owner.user)
    app.go("/automations/")

    page.get_by_label("Workspace").select_option("globex")
    page.get_by_role("button", name="Switch").click()

    expect(page.locator(".message-success")).to_contain_text("Switched to Globex")
    expect(page.get_by_text("No automations yet")).to_be_visible()


def test_an_owner_rotates_the_webhook_signing_secret(app, page, owner, shot):
    app.go("/settings/api-keys/")
    secret = page.get_by_label("Webhook signing secret")
    before = secret.input_value()

    page.get_by_role("button", name="Rotate secret").click()

    expect(page.locator(".message-success")).to_contain_text("New signing secret created")
    after = page.get_by_label("Webhook signing secret").input_value()
    assert after.startswith("whsec_") and after != before
    expect(page.locator("#previous-secret-note")).to_contain_text("also signed with the previous")
    shot(page, "api-keys-rotated")
