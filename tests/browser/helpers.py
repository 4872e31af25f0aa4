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
