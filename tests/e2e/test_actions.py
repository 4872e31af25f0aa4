"""Each action type, retries and delays, and loop protection, through a real worker."""

import pytest
from standardwebhooks import Webhook

from automations.models import Notification, Run
from automations.signing import current_secret
from records.services import record_update
from tests.e2e.helpers import create_via_api, finished_runs
from tests.factories import make_record

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_update_record_of_a_related_record(celery_worker, settle, api, tenant):
    account = make_record(tenant, "accounts", name="Acme")
    automation = create_via_api(
        api,
        {
            "name": "touch account",
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [
                {
                    "type": "update_record",
                    "config": {
                        "record": "related",
                        "module": "accounts",
                        "record_id": "{{record.account_id}}",
                        "updates": {"last_contact_date": "{{now}}"},
                    },
                }
            ],
        },
    )
    make_record(tenant, "contacts", name="Ada", account_id=account.id)
    settle(lambda: finished_runs(automation))
    account.refresh_from_db()
    assert "last_contact_date" in account.values


def test_send_email_with_subject_and_body_over_smtp(
    celery_worker, settle, api, tenant, smtp_server
):
    automation = create_via_api(
        api,
        {
            "name": "mail",
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [
                {
                    "type": "send_email",
                    "config": {
                        "to": "{{record.email}}",
                        "subject": "Welcome to our platform",
                        "body": "Hi {{record.first_name}},\n\nThank you for signing up!",
                    },
                }
            ],
        },
    )
    make_record(tenant, "contacts", name="Ada", first_name="Ada", email="ada@example.com")
    [run] = settle(lambda: finished_runs(automation))
    assert run.status == "success"
    [envelope] = smtp_server.messages
    assert envelope.rcpt_tos == ["ada@example.com"]
    assert "Hi Ada," in envelope.content.decode()


def test_send_notification(celery_worker, settle, api, tenant):
    automation = create_via_api(
        api,
        {
            "name": "notify",
            "trigger": {"type": "record.created", "module": "deals"},
            "actions": [
                {
                    "type": "send_notification",
                    "config": {
                        "user_id": "{{record.owner_id}}",
                        "title": "New deal",
                        "message": "{{record.name}}",
                        "link": "/deals/{{record.id}}",
                    },
                }
            ],
        },
    )
    make_record(tenant, "deals", name="D", owner_id=tenant.user.id)
    settle(lambda: finished_runs(automation))
    listed = api.get("/v1/notifications?unread=true").json()
    assert [n["title"] for n in listed["data"]] == ["New deal"]
    notification_id = listed["data"][0]["id"]
    assert api.post(f"/v1/notifications/{notification_id}/read").json()["data"]["read"]
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_call_webhook_is_signed_and_retried_with_the_same_id(
    celery_worker, settle, api, tenant, httpserver
):
    httpserver.expect_oneshot_request("/hook").respond_with_data("busy", status=503)
    httpserver.expect_request("/hook").respond_with_data("ok")
    automation = create_via_api(
        api,
        {
            "name": "hook",
            "trigger": {"type": "record.created", "module": "deals"},
            "actions": [
                {"type": "create_record", "config": {"module": "tasks", "data": {"name": "once"}}},
                {
                    "type": "call_webhook",
                    "config": {
                        "url": httpserver.url_for("/hook"),
                        "body": {"deal": "{{record.name}}"},
                    },
                },
            ],
        },
    )
    make_record(tenant, "deals", name="D")
    [run] = settle(lambda: finished_runs(automation))
    assert run.status == "success"
    requests = [request for request, _ in httpserver.log]
    assert len(requests) == 2
    assert requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"]
    Webhook(current_secret(tenant.workspace)).verify(
        requests[1].get_data(as_text=True), dict(requests[1].headers)
    )
    assert tenant.module("tasks").records.count() == 1  # not repeated by the retry
    webhook_log = run.action_runs.get(index=1)
    assert (webhook_log.attempt, webhook_log.output["status_code"]) == (2, 200)


def test_a_run_fails_after_its_retries_and_notifies(
    celery_worker, settle, api, tenant, httpserver, smtp_server
):
    httpserver.expect_request("/down").respond_with_data("no", status=500)
    automation = create_via_api(
        api,
        {
            "name": "flaky",
            "trigger": {"type": "record.created", "module": "deals"},
            "actions": [{"type": "call_webhook", "config": {"url": httpserver.url_for("/down")}}],
            "error_handling": {
                "notify_on_failure": True,
                "notify_email": "ops@example.com",
                "disable_after_failures": 1,
            },
        },
    )
    make_record(tenant, "deals", name="D")
    [run] = settle(lambda: finished_runs(automation))
    assert (run.status, run.error_code) == ("failed", "webhook_http_error")
    assert len(httpserver.log) == 3  # the first try and two retries
    automation.refresh_from_db()
    assert automation.enabled is False
    assert automation.disabled_reason["last_error"] == "webhook_http_error"
    settle(lambda: smtp_server.messages, message="the failure email")
    assert smtp_server.messages[0].rcpt_tos == ["ops@example.com"]
    assert Notification.objects.filter(user=tenant.user, run=run).exists()


def test_a_delay_waits_in_the_database_then_continues(celery_worker, settle, api, tenant):
    automation = create_via_api(
        api,
        {
            "name": "later",
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [
                {"type": "delay", "config": {"duration": 1, "unit": "seconds"}},
                {"type": "update_record", "config": {"updates": {"status": "after the wait"}}},
            ],
        },
    )
    contact = make_record(tenant, "contacts", name="Ada")
    settle(
        lambda: Run.objects.filter(automation=automation, status="waiting").exists(),
        message="the run to wait",
    )
    [run] = settle(lambda: finished_runs(automation))
    assert run.status == "success"
    contact.refresh_from_db()
    assert contact.values["status"] == "after the wait"
    delay_log = run.action_runs.get(index=0)
    assert delay_log.status == "success"


def test_a_self_updating_automation_stops_with_a_blocked_run(celery_worker, settle, api, tenant):
    automation = create_via_api(
        api,
        {
            "name": "self",
            "trigger": {"type": "record.updated", "module": "contacts"},
            "actions": [
                {"type": "update_record", "config": {"updates": {"processed_at": "{{now}}"}}}
            ],
        },
    )
    contact = make_record(tenant, "contacts", name="Ada")
    record_update(record=contact, data={"name": "Ada L."}, actor=tenant.user)
    runs = settle(lambda: finished_runs(automation, 2))
    assert [r.status for r in runs] == ["success", "blocked"]
    assert runs[1].error_code == "loop_detected"
    assert Run.objects.count() == 2


def test_ping_pong_between_two_automations_stops(celery_worker, settle, api, tenant):
    account = make_record(tenant, "accounts", name="Acme")
    contact = make_record(tenant, "contacts", name="Ada", account_id=account.id)
    ping = create_via_api(
        api,
        {
            "name": "ping",
            "trigger": {"type": "record.updated", "module": "contacts"},
            "actions": [
                {
                    "type": "update_record",
                    "config": {
                        "record": "related",
                        "module": "accounts",
                        "record_id": "{{record.account_id}}",
                        "updates": {"status": "ping {{now}}"},
                    },
                }
            ],
        },
    )
    pong = create_via_api(
        api,
        {
            "name": "pong",
            "trigger": {"type": "record.updated", "module": "accounts"},
            "actions": [
                {
                    "type": "update_record",
                    "config": {
                        "record": "related",
                        "module": "contacts",
                        "record_id": contact.id,
                        "updates": {"status": "pong {{now}}"},
                    },
                }
            ],
        },
    )
    record_update(record=contact, data={"name": "go"}, actor=tenant.user)
    ping_runs = settle(lambda: finished_runs(ping, 2))
    pong_runs = settle(lambda: finished_runs(pong, 1))
    assert [r.status for r in ping_runs] == ["success", "blocked"]
    assert [r.status for r in pong_runs] == ["success"]
    assert Run.objects.count() == 3
