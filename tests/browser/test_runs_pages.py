"""The Runs page, live run statuses, links between runs and records, and the run charts, in
a real Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from automations.models import Automation, Run
from automations.runtime.executor import execute
from automations.services import automation_create
from records.services import record_create

pytestmark = pytest.mark.browser


def _automation(owner, name: str, module: str = "contacts", **parts) -> Automation:
    notify = {
        "type": "send_notification",
        "config": {"user_id": str(owner.user.id), "title": "Hi", "message": "m"},
    }
    return automation_create(
        workspace=owner.workspace,
        user=owner.user,
        data={
            "name": name,
            "trigger": {"type": "record.created", "module": module},
            "actions": [notify],
            **parts,
        },
    )


def _run(automation: Automation, record, *, status=Run.Status.SUCCESS, ago=0, **fields) -> Run:
    """A run row as the engine writes one (not handed to any worker)."""
    run = Run.objects.create(
        automation=automation,
        workspace=automation.workspace,
        status=status,
        record_id=record.id,
        trigger_data={
            "event": "record.created",
            "record_id": record.id,
            "module": record.module.slug,
            "record": {"id": record.id, "name": record.values.get("name")},
        },
    )
    Run.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - timedelta(minutes=ago), **fields
    )
    return run


def test_the_runs_page_filters_by_status_and_automation_and_pages_by_cursor(app, page, owner, shot):
    contacts = owner.module("contacts")
    ann = record_create(module=contacts, data={"name": "Ann Archer"}, actor=owner.user)
    bob = record_create(module=contacts, data={"name": "Bob Baker"}, actor=owner.user)
    welcome = _automation(owner, "Welcome")
    follow_up = _automation(owner, "Follow up")
    for i in range(30):
        _run(welcome, ann, ago=i + 10)
    failed = _run(follow_up, bob, status=Run.Status.FAILED, ago=1)

    app.go("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs").click()
    expect(page.get_by_role("heading", name="Runs")).to_be_visible()
    rows = page.locator("#runs-table tbody tr")
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text("Follow up")
    expect(rows.first).to_contain_text("Bob Baker")
    shot(page, "runs-page")

    page.get_by_role("link", name="Older →").click()
    expect(rows).to_have_count(6)
    page.get_by_role("link", name="← Newer").click()
    expect(rows).to_have_count(25)

    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(page.locator(f'tr[data-run-id="{failed.id}"]')).to_contain_text("Failed")

    page.get_by_label("Status").select_option("")
    page.get_by_label("Automation").select_option(label="Welcome")
    page.get_by_label("Record name").fill("archer")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(25)
    expect(page.locator("#runs-table")).not_to_contain_text("Bob Baker")


def test_statuses_change_on_the_run_record_and_runs_pages_without_a_reload(
    app, page, owner, engine_settings
):
    contacts = owner.module("contacts")
    ann = record_create(module=contacts, data={"name": "Ann Archer"}, actor=owner.user)
    automation = _automation(owner, "Greet", enabled=True)
    run = _run(automation, ann, status=Run.Status.PENDING)
    run.refresh_from_db()
    Run.objects.filter(pk=run.pk).update(due_at=timezone.now())

    pages = {
        "run": page,
        "record": page.context.new_page(),
        "list": page.context.new_page(),
    }
    pages["run"].goto(f"{app.url}/runs/{run.id}/")
    pages["record"].goto(f"{app.url}/records/contacts/{ann.id}/")
    pages["list"].goto(f"{app.url}/runs/")
    for tab in pages.values():
        expect(tab.locator(f'[data-run-id="{run.id}"]').first).to_have_attribute(
            "data-status", "pending"
        )
        tab.evaluate("window.__notReloaded = true")

    execute(run.id)

    for name, tab in pages.items():
        shown = tab.locator(f'[data-run-id="{run.id}"]').first
        expect(shown).to_have_attribute("data-status", "success", timeout=15_000)
        expect(shown.locator("[data-run-badge]")).to_have_text(
            "Success" if name == "list" else "success"
        )
        assert tab.evaluate("window.__notReloaded === true"), name
    # The run page's actions came in with the status, still without a reload.
    expect(pages["run"].locator("tr[data-action-index='0']")).to_contain_text("send_notification")


@pytest.mark.worker
@pytest.mark.slow
def test_a_run_links_to_the_task_it_created_and_the_task_lists_that_run(
    app, page, owner, celery_worker
):
    automation_create(
        workspace=owner.workspace,
        user=owner.user,
        data={
            "name": "Follow-up task for new contacts",
            "enabled": True,
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [
                {
                    "type": "create_record",
                    "config": {"module": "tasks", "data": {"name": "Call {{record.name}}"}},
                }
            ],
        },
    )
    record_create(module=owner.module("contacts"), data={"name": "Ann Archer"}, actor=owner.user)

    app.go("/runs/")
    done = page.locator("#runs-table tbody tr[data-status=success]")
    expect(done).to_have_count(1, timeout=30_000)
    done.get_by_role("link").first.click()
    page.get_by_role("link", name="Call Ann Archer").click()

    expect(page.get_by_role("heading", name="Call Ann Archer")).to_be_visible()
    runs = page.locator(".run-list")
    expect(runs).to_contain_text("Follow-up task for new contacts")
    expect(runs).to_contain_text("created this record")
    expect(page.get_by_text("No automation has run for this record yet")).to_have_count(0)


def test_the_charts_show_the_right_counts(app, page, owner, shot):
    contacts = owner.module("contacts")
    ann = record_create(module=contacts, data={"name": "Ann Archer"}, actor=owner.user)
    automation = _automation(owner, "Charted")
    for _ in range(3):
        _run(automation, ann, duration_ms=100)
    _run(automation, ann, status=Run.Status.FAILED, duration_ms=300)
    _run(automation, ann, status=Run.Status.SUCCESS, ago=24 * 60, duration_ms=200)
    _automation(owner, "Never ran")

    app.go(f"/automations/{automation.id}/logs")
    chart = page.locator("#daily-runs-chart")
    expect(chart).to_be_visible()
    today = chart.locator("g").last
    expect(today.locator("rect[data-outcome=success]")).to_have_attribute("data-count", "3")
    expect(today.locator("rect[data-outcome=failed]")).to_have_attribute("data-count", "1")
    expect(chart.locator("g").nth(28).locator("rect")).to_have_attribute("data-count", "1")
    expect(page.locator("#run-chart-summary")).to_contain_text(
        "5 runs in the last 30 days: 4 succeeded, 1 failed, 0 other."
    )
    expect(page.locator("#run-durations")).to_contain_text("p95 300 ms")
    page.get_by_text("The numbers as a table").click()
    expect(page.locator("#daily-runs-table tbody tr")).to_have_count(2)
    shot(page, "run-charts")

    app.go("/automations/")
    charted = page.locator(f'tr[data-automation="{automation.id}"] svg.sparkline')
    expect(charted).to_have_attribute("aria-label", "5 runs in the last 14 days, 1 failed")
    quiet = page.locator("tr", has_text="Never ran").locator("svg.sparkline")
    expect(quiet).to_have_attribute("aria-label", "0 runs in the last 14 days, 0 failed")
    shot(page, "automations-sparklines")
