"""History, Duplicate and Export/Import, clicked through in Chromium as a person would."""

import json

import pytest
from playwright.sync_api import expect

from automations.models import Automation
from automations.services import automation_create, automation_update
from tests.browser.helpers import automation_id_from

pytestmark = pytest.mark.browser

WELCOME = {
    "name": "Welcome new contacts",
    "trigger": {"type": "record.created", "module": "contacts"},
    "conditions": [{"field": "email", "operator": "is_not_empty"}],
    "actions": [
        {
            "type": "send_notification",
            "config": {"user_id": "{{user.id}}", "title": "New contact", "message": "m"},
        }
    ],
}


@pytest.fixture
def edited(owner) -> Automation:
    """An automation saved twice: version 2 renamed it and changed its condition."""
    automation = automation_create(workspace=owner.workspace, user=owner.user, data=WELCOME)
    return automation_update(
        automation=automation,
        user=owner.user,
        data={
            "name": "Welcome contacts from the website",
            "conditions": [{"field": "source", "operator": "equals", "value": "website"}],
        },
    )


def test_restoring_a_version(app, page, edited, shot):
    app.go(f"/automations/{edited.id}/")
    page.get_by_role("link", name="History").click()
    expect(page.locator("tr[data-version]")).to_have_count(2)

    page.get_by_role("link", name="Restore this version (version 1)").click()
    expect(page.get_by_role("heading", name="Restore version 1?")).to_be_visible()
    shot(page, "history-restore-confirm")
    page.get_by_role("button", name="Restore version 1").click()

    expect(page.locator(".messages")).to_contain_text("Version 1 restored as version 3")
    expect(page.locator("h1")).to_have_text("Welcome new contacts")
    expect(page.locator("#enabled-state")).to_have_text("Disabled")
    expect(page.locator("tr[data-version]")).to_have_count(3)
    expect(page.locator("tr[data-version='3']")).to_contain_text("Current")
    assert Automation.objects.get(pk=edited.pk).conditions == WELCOME["conditions"]


def test_comparing_two_versions_side_by_side(app, page, edited, shot):
    app.go(f"/automations/{edited.id}/history")

    page.get_by_label("Compare from version 1").check()
    page.get_by_label("Compare to version 2").check()
    page.get_by_role("button", name="Compare selected versions").click()

    expect(page.get_by_role("heading", name="Version 1 compared with Version 2")).to_be_visible()
    expect(page.locator("#diff-summary")).to_have_text("2 parts changed.")
    name = page.locator("[data-part='name']")
    expect(name.locator("del")).to_have_text("Welcome new contacts")
    expect(name.locator("ins")).to_have_text("Welcome contacts from the website")
    conditions = page.locator("[data-part='conditions']")
    expect(conditions.locator(".badge")).to_have_text("Changed")
    expect(conditions.locator("tr.diff-changed").first).to_contain_text("email")
    expect(page.locator("[data-part='actions'] .badge")).to_have_text("Same")
    shot(page, "history-diff")

    # The page's own selectors compare with what the automation is now.
    page.get_by_label("To", exact=True).select_option("current")
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(
        page.get_by_role("heading", name="Version 1 compared with Now (version 2)")
    ).to_be_visible()


def test_duplicating_an_automation(app, page, edited):
    app.go(f"/automations/{edited.id}/")

    page.get_by_role("button", name="Duplicate").click()

    expect(page.locator("h1")).to_have_text("Welcome contacts from the website (copy)")
    expect(page.locator(".messages")).to_contain_text("It is disabled until you enable it")
    copy_id = automation_id_from(page)
    assert copy_id != edited.id
    assert Automation.objects.get(pk=copy_id).enabled is False


def test_exporting_then_importing(app, page, edited, tmp_path, shot):
    app.go(f"/automations/{edited.id}/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export").click()
    download = download_info.value
    assert download.suggested_filename == "welcome-contacts-from-the-website.automation.json"
    exported = tmp_path / download.suggested_filename
    download.save_as(exported)
    assert json.loads(exported.read_text())["format"] == "crm-automations"

    app.go("/automations/")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("Export file").set_input_files(str(exported))
    page.get_by_role("button", name="Import").click()

    expect(page.locator(".messages")).to_contain_text("Imported “Welcome contacts from the")
    expect(page.locator("h1")).to_have_text("Welcome contacts from the website")
    expect(page.locator("#enabled-state")).to_have_text("Disabled")
    assert automation_id_from(page) != edited.id
    assert Automation.objects.count() == 2


def test_an_import_problem_is_shown_in_words(app, page, tmp_path):
    bad = tmp_path / "projects.json"
    document = {
        "format": "crm-automations",
        "version": 1,
        "automations": [{**WELCOME, "trigger": {"type": "manual", "module": "projects"}}],
    }
    bad.write_text(json.dumps(document))
    app.go("/automations/import")

    page.get_by_label("Export file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()

    expect(page.locator("#import-problems")).to_contain_text(
        "Automation 1 (“Welcome new contacts”) → Trigger → module: unknown module 'projects'"
    )
    assert not Automation.objects.exists()


def test_the_history_pages_fit_a_phone(app, page, edited, shot):
    page.set_viewport_size({"width": 390, "height": 900})
    for name, path in [
        ("history", f"/automations/{edited.id}/history"),
        ("history-diff", f"/automations/{edited.id}/history/diff?from=1&to=2"),
        ("import", "/automations/import"),
    ]:
        app.go(path)
        overflow = page.evaluate("document.documentElement.scrollWidth") - 390
        assert overflow <= 1, f"{path} is {overflow}px wider than the screen"
        shot(page, f"{name}-390")
