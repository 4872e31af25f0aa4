"""Steps the browser tests share."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Locator, Page, expect


def automation_id_from(page: Page) -> str:
    match = re.search(r"/automations/(auto_[a-z0-9]+)/", page.url)
    assert match, page.url
    return match.group(1)


def add_action(page: Page, action_type: str) -> Locator:
    page.get_by_label("Add an action").select_option(action_type)
    page.get_by_role("button", name="+ Add action").click()
    return page.locator("[data-actions] > [data-action]").last


def fill_contacts_conditions_with_a_group(page: Page) -> None:
    """On the builder: a contacts trigger, "email is not empty" and an any-group holding
    "source is website" (the builder's nested conditions, clicked as a person would)."""
    page.locator("#trigger-module").select_option("contacts")
    page.get_by_role("button", name="+ Add condition").first.click()
    first = page.locator("[data-condition]").first
    first.get_by_label("Field").select_option("email")
    first.get_by_label("Operator").select_option("is_not_empty")
    page.get_by_role("button", name="+ Add group (any/all)").click()
    group = page.locator("[data-group-item]").first
    group.get_by_label("This group is true when").select_option("any")
    inner = group.locator("[data-condition]").first
    inner.get_by_label("Field").select_option("source")
    inner.get_by_label("Value").fill("website")


def save_and_enable(page: Page, *, new: bool = True) -> str:
    page.get_by_role("button", name="Create automation" if new else "Save changes").click()
    expect(page.locator("#disabled-callout")).to_contain_text("The automation is now disabled")
    page.locator("#enable-now").click()
    expect(page.locator("#enabled-state")).to_have_text("Enabled")
    return automation_id_from(page)


def reload_until(page: Page, locator: Locator, *, timeout: float = 30.0) -> None:
    """Reload until `locator` shows (for pages that do not refresh themselves)."""
    deadline = time.monotonic() + timeout
    while True:
        if locator.count() and locator.first.is_visible():
            return
        if time.monotonic() > deadline:
            expect(locator.first).to_be_visible(timeout=1)
        time.sleep(0.3)
        page.reload()
