"""Failure bookkeeping, failure notices and the circuit breaker."""

import pytest
from django.core import mail

from automations.models import Notification
from automations.runtime import matching
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db


def _broken(tenant, **error_handling):
    # update_record of a related record that does not exist: a permanent failure.
    return make_automation(
        tenant,
        name="Broken",
        trigger={"type": "record.created", "module": "contacts"},
        actions=[
            {
                "type": "update_record",
                "config": {
                    "record": "related",
                    "module": "accounts",
                    "record_id": "rec_missing1",
                    "updates": {"status": "x"},
                },
            }
        ],
        error_handling=error_handling or None,
    )


def test_consecutive_failures_disable_the_automation_with_a_reason(
    tenant, django_capture_on_commit_callbacks
):
    automation = _broken(tenant, disable_after_failures=3)
    for n in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            make_record(tenant, "contacts", name=f"c{n}")
            drain()
    automation.refresh_from_db()
    assert automation.enabled is False
    assert automation.consecutive_failures == 3
    assert automation.disabled_reason == {
        "code": "automation_disabled",
        "message": "Automation disabled after 3 consecutive failures",
        "last_error": "record_not_found",
    }
    assert len(runs_of(automation)) == 3  # the fourth record found it disabled


def test_a_success_resets_the_failure_count(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        conditions=[],
        actions=[
            {
                "type": "update_record",
                "config": {
                    "record": "related",
                    "module": "accounts",
                    "record_id": "{{record.account_id}}",
                    "updates": {"status": "touched"},
                },
            }
        ],
    )
    make_record(tenant, "contacts", name="no account")  # record_id renders empty: fails
    drain()
    automation.refresh_from_db()
    assert automation.consecutive_failures == 1
    account = make_record(tenant, "accounts", name="Acme")
    make_record(tenant, "contacts", name="with account", account_id=account.id)
    drain()
    automation.refresh_from_db()
    assert automation.consecutive_failures == 0
    assert automation.run_count == 2
    assert automation.last_run_status == "success"


def test_a_failed_run_emails_notify_email_and_tells_the_creator(
    tenant, django_capture_on_commit_callbacks
):
    automation = _broken(tenant, notify_on_failure=True, notify_email="ops@example.com")
    make_record(tenant, "contacts", name="Ada")
    with django_capture_on_commit_callbacks(execute=True):  # notices are sent after commit
        drain()
    run = runs_of(automation)[0]
    [message] = mail.outbox
    assert message.to == ["ops@example.com"]
    assert "Broken" in message.subject
    assert "record_not_found" in message.body
    notice = Notification.objects.get(user=tenant.user)
    assert notice.run_id == run.id
    assert "record_not_found" in notice.message


def test_no_notice_when_notify_on_failure_is_off(tenant, django_capture_on_commit_callbacks):
    _broken(tenant, notify_on_failure=False, notify_email="ops@example.com")
    make_record(tenant, "contacts", name="Ada")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        drain()
    assert callbacks  # the notice ran, and chose to say nothing
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_tripping_the_breaker_stops_matching_at_once(tenant, django_capture_on_commit_callbacks):
    _broken(tenant, disable_after_failures=1)
    with django_capture_on_commit_callbacks(execute=True):
        make_record(tenant, "contacts", name="first")
        drain()
    assert (
        matching.automations_for(
            workspace_id=tenant.workspace.id,
            module_id=tenant.module("contacts").id,
            trigger_types=["record.created"],
        )
        == []
    )
    notice = Notification.objects.get(user=tenant.user)
    assert notice.title.startswith("Automation disabled")
