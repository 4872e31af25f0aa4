"""Every automation in the seed's "Examples" section (and the other complete automations the
seed shows), created through the API and run by a real Celery worker."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from automations.models import Automation, Notification
from automations.runtime.schedules import dispatch_due
from records.services import record_update
from tests.e2e.helpers import create_via_api, finished_runs
from tests.factories import make_record

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_notify_sales_team_on_high_value_deal(celery_worker, settle, api, tenant, httpserver):
    httpserver.expect_request("/services/slack", method="POST").respond_with_data("ok")
    automation = create_via_api(
        api,
        {
            "name": "High-value deal notification",
            "trigger": {"type": "record.created", "module": "deals"},
            "conditions": [{"field": "value", "operator": "greater_than", "value": 50000}],
            "actions": [
                {
                    "type": "send_notification",
                    "config": {
                        "user_id": "{{record.owner_id}}",
                        "title": "High-value deal created",
                        "message": "{{record.name}} - ${{record.value}}",
                    },
                },
                {
                    "type": "call_webhook",
                    "config": {
                        "url": httpserver.url_for("/services/slack"),
                        "method": "POST",
                        "body": {
                            "text": ":moneybag: New high-value deal: {{record.name}} "
                            "(${{record.value}})"
                        },
                    },
                },
            ],
        },
    )
    make_record(tenant, "deals", name="Small", value=1000, owner_id=tenant.user.id)
    make_record(tenant, "deals", name="Mega", value=75000, owner_id=tenant.user.id)
    [run] = settle(lambda: finished_runs(automation))
    assert run.status == "success"
    notice = Notification.objects.get(user=tenant.user)
    assert (notice.title, notice.message) == ("High-value deal created", "Mega - $75000")
    [(request, _)] = httpserver.log
    assert request.get_json() == {"text": ":moneybag: New high-value deal: Mega ($75000)"}
    assert api.get("/v1/notifications").json()["meta"]["unread_count"] == 1


def test_create_follow_up_task_on_stage_change(celery_worker, settle, api, tenant):
    automation = create_via_api(
        api,
        {
            "name": "Create follow-up on stage change",
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
                            "assigned_to": "{{record.owner_id}}",
                            "priority": "high",
                        },
                    },
                }
            ],
        },
    )
    deal = make_record(
        tenant, "deals", name="Acme deal", stage="qualification", owner_id=tenant.user.id
    )
    record_update(record=deal, data={"value": 10}, actor=tenant.user)  # not the stage
    record_update(record=deal, data={"stage": "negotiation"}, actor=tenant.user)  # not proposal
    record_update(record=deal, data={"stage": "proposal"}, actor=tenant.user)
    [run] = settle(lambda: finished_runs(automation))
    assert run.status == "success"
    task = tenant.module("tasks").records.get()
    assert task.values == {
        "name": "Send proposal to Acme deal",
        "due_date": (timezone.now() + dt.timedelta(days=2)).date().isoformat(),
        "assigned_to": tenant.user.id,
        "priority": "high",
    }


def test_daily_summary_email(celery_worker, settle, api, tenant, httpserver):
    httpserver.expect_request("/api/generate-summary", method="POST").respond_with_data("ok")
    automation = create_via_api(
        api,
        {
            "name": "Daily deals summary",
            "trigger": {"type": "schedule", "schedule": "0 9 * * 1-5"},
            "actions": [
                {
                    "type": "call_webhook",
                    "config": {
                        "url": httpserver.url_for("/api/generate-summary"),
                        "method": "POST",
                    },
                }
            ],
        },
    )
    due = automation.next_run_at
    assert due.astimezone(dt.UTC).hour == 9 and due.weekday() < 5
    # The due time arrives (moved here instead of waiting for it).
    Automation.objects.filter(pk=automation.pk).update(
        next_run_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert dispatch_due() == 1
    [run] = settle(lambda: finished_runs(automation))
    assert run.status == "success"
    [(request, _)] = httpserver.log
    assert request.get_json()["automation_id"] == automation.id
    automation.refresh_from_db()
    assert automation.next_run_at > timezone.now()


def test_welcome_email_for_new_contacts(celery_worker, settle, api, tenant, smtp_server):
    automation = create_via_api(
        api,
        {
            "name": "Welcome email for new contacts",
            "description": "Send a welcome email when a contact is added",
            "trigger": {"type": "record.created", "module": "contacts"},
            "conditions": [{"field": "email", "operator": "is_not_empty"}],
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
    make_record(tenant, "contacts", name="No email")
    make_record(
        tenant,
        "contacts",
        name="Ada Lovelace",
        first_name="Ada",
        company="Acme",
        email="ada@example.com",
    )
    [run] = settle(lambda: finished_runs(automation))
    assert run.status == "success"
    [envelope] = smtp_server.messages
    assert envelope.rcpt_tos == ["ada@example.com"]
    text = envelope.content.decode()
    assert "Subject: Welcome, Ada!" in text
    assert f"Message-ID: <{run.id}.0@localhost>" in text
    assert "Thank you for signing up with Acme" in text


def test_notify_on_new_lead_from_the_website(celery_worker, settle, api, tenant, httpserver):
    httpserver.expect_request("/services/hook").respond_with_data("ok")
    automation = create_via_api(
        api,
        {
            "name": "Notify on new lead",
            "description": "Send Slack notification when a lead is created",
            "trigger": {"type": "record.created", "module": "leads"},
            "conditions": [{"field": "source", "operator": "equals", "value": "website"}],
            "actions": [
                {
                    "type": "call_webhook",
                    "config": {
                        "url": httpserver.url_for("/services/hook"),
                        "method": "POST",
                        "body": {"text": "New lead: {{record.name}} from {{record.source}}"},
                    },
                }
            ],
        },
    )
    make_record(tenant, "leads", name="Walk-in", source="phone")
    make_record(tenant, "leads", name="Jane", source="Website")
    [run] = settle(lambda: finished_runs(automation))
    assert run.status == "success"
    [(request, _)] = httpserver.log
    assert json.loads(request.get_data()) == {"text": "New lead: Jane from Website"}
