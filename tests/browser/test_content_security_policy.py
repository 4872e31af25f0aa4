"""The builder, the pages, the Swagger UI and the admin work under the Content-Security-Policy
(config/csp.py) with no violation reported (issue 15, item 12).

Violations are caught two ways: a `securitypolicyviolation` listener installed before any of the
page's own scripts (reported through a Playwright binding, which survives navigations), and
Chromium's console messages ("Refused to execute inline script ...").
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from automations.models import Automation
from automations.services import automation_create
from records.services import record_create
from tests.browser.helpers import add_action, fill_contacts_conditions_with_a_group

pytestmark = pytest.mark.browser

LISTENER = """
window.__cspCount = 0;
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
  window.__cspCount += 1;
});
"""


@pytest.fixture
def violations(page: Page) -> list[str]:
    """Every CSP violation of the test's pages; requested before `app`, so the sign-in page is
    watched too."""
    found: list[str] = []
    page.expose_function("__cspViolation", lambda text: found.append(text))
    page.add_init_script(LISTENER)
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found


def test_every_response_carries_a_strict_policy(violations, app, page):
    response = page.request.get(f"{app.url}/automations/new")
    policy = response.headers["content-security-policy"]

    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_the_builder_works_with_no_violation(violations, app, page):
    app.go("/automations/new")
    page.locator("#id_name").fill("Under CSP")
    fill_contacts_conditions_with_a_group(page)
    card = add_action(page, "delay")
    card.get_by_label("Wait").fill("5")
    page.get_by_role("button", name="Create automation").click()
    expect(page.locator("#disabled-callout")).to_be_visible()

    automation = Automation.objects.get(name="Under CSP")
    assert automation.conditions[1] == {
        "any": [{"field": "source", "operator": "equals", "value": "website"}]
    }
    assert violations == []


def test_a_dry_run_shows_its_condition_rows_with_no_violation(violations, app, page, owner):
    automation = automation_create(
        workspace=owner.workspace,
        user=owner.user,
        data={
            "name": "Nested",
            "trigger": {"type": "record.created", "module": "contacts"},
            "conditions": [
                {"field": "name", "operator": "is_not_empty"},
                {
                    "any": [
                        {"field": "source", "operator": "equals", "value": "website"},
                        {"field": "email", "operator": "is_not_empty"},
                    ]
                },
            ],
            "actions": [{"type": "delay", "config": {"duration": 1, "unit": "minutes"}}],
        },
    )
    record_create(
        module=owner.module("contacts"), data={"name": "Ann", "source": "ads"}, actor=owner.user
    )

    app.go(f"/automations/{automation.id}/test")
    page.get_by_label("Record", exact=True).select_option(
        label=page.locator("#id_record option", has_text="Ann").inner_text()
    )
    page.get_by_role("button", name="Run the test").click()

    cell = page.locator('[data-condition-result="source"] td').first
    expect(cell).to_be_visible()

    # The indent comes from a class now (a style attribute would be blocked): 0.5rem at depth 0.
    padding, rem = cell.evaluate(
        "td => [getComputedStyle(td).paddingLeft,"
        " parseFloat(getComputedStyle(document.documentElement).fontSize)]"
    )
    assert padding == f"{rem * 0.5:g}px"
    assert violations == []


def test_the_api_keys_page_works_with_no_violation(violations, app, page):
    app.go("/settings/api-keys/")
    page.get_by_label("Name").fill("ci")
    page.get_by_role("button", name="Create key").click()

    expect(page.locator("#new-key")).to_have_value(re.compile(r"^crm_"))
    page.get_by_role("button", name="Copy").first.click()
    assert violations == []


def test_the_swagger_ui_renders_the_api_with_no_violation(violations, app, page):
    app.go("/v1/docs")

    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.get_by_text("/v1/automations").first).to_be_visible()
    assert violations == []


def test_the_admin_works_with_no_violation(violations, app, page, owner):
    owner.user.is_staff = owner.user.is_superuser = True
    owner.user.save()

    app.go("/admin/")
    expect(page.get_by_role("link", name="Automations").first).to_be_visible()
    app.go("/admin/automations/automation/")
    page.get_by_role("button", name="Search").click()  # the changelist's own scripts run
    app.go("/admin/accounts/workspace/add/")
    expect(page.locator("#id_slug")).to_be_visible()
    assert violations == []


def test_a_violation_would_be_caught(violations, app, page):
    """The watch itself works: markup the policy blocks is reported, and does not run."""
    app.go("/automations/")
    page.evaluate(
        """() => {
            const holder = document.createElement("div");
            holder.innerHTML = '<p style="color: red">x</p>';
            document.body.append(holder);
            const script = document.createElement("script");
            script.textContent = "window.__ran = true";
            document.body.append(script);
        }"""
    )

    page.wait_for_function("() => window.__cspCount >= 2")
    assert page.evaluate("() => window.__ran") is None
    assert any("script-src" in v for v in violations), violations
    assert any("style-src" in v for v in violations), violations
