"""Executing runs: order, logs, retries from the failed action, delays in the database."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from automations.models import ActionRun, Run
from automations.runtime.executor import execute
from automations.runtime.ownership import Lease, LeaseLost, claim
from records.services import record_update
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db

CREATE_TASK = {
    "type": "create_record",
    "config": {"module": "tasks", "data": {"name": "Follow up {{record.name}}"}},
}


def _failing_webhook(httpserver, status=500):
    httpserver.expect_request("/hook").respond_with_data("nope", status=status)
    return {"type": "call_webhook", "config": {"url": httpserver.url_for("/hook")}}


def test_actions_run_in_order_and_each_is_logged(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[
            CREATE_TASK,
            {
                "type": "update_record",
                "config": {"updates": {"status": "processed", "processed_at": "{{now}}"}},
            },
        ],
    )
    contact = make_record(tenant, "contacts", name="Ada")
    drain()
    [run] = runs_of(automation)
    assert run.status == Run.Status.SUCCESS
    assert run.next_action_index == 2
    assert run.started_at and run.completed_at and run.duration_ms is not None
    logs = list(run.action_runs.order_by("index"))
    assert [(a.type, a.status) for a in logs] == [
        ("create_record", "success"),
        ("update_record", "success"),
    ]
    assert logs[0].config["data"]["name"] == "Follow up Ada"
    contact.refresh_from_db()
    assert contact.values["status"] == "processed"
    automation.refresh_from_db()
    assert (automation.run_count, automation.last_run_status) == (1, "success")
    assert automation.last_run_at is not None


def test_a_failed_action_is_retried_later_without_repeating_earlier_actions(tenant, httpserver):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[CREATE_TASK, _failing_webhook(httpserver)],
    )
    make_record(tenant, "contacts", name="Ada")
    drain()
    [run] = runs_of(automation)
    assert run.status == Run.Status.RETRYING
    assert run.next_action_index == 1 and run.attempts == 1
    assert run.due_at > timezone.now() + timedelta(seconds=55)
    assert run.action_runs.get(index=1).status == ActionRun.Status.RETRYING

    httpserver.clear()
    httpserver.expect_request("/hook").respond_with_data("ok")
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        drain()
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCESS
    assert tenant.module("tasks").records.count() == 1  # the first action ran once
    webhook_log = run.action_runs.get(index=1)
    assert (webhook_log.status, webhook_log.attempt) == ("success", 2)


def test_after_the_last_retry_the_run_fails(tenant, httpserver, settings):
    settings.AUTOMATIONS_RETRY_DELAYS = [1.0, 2.0]
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[_failing_webhook(httpserver, 503)],
    )
    make_record(tenant, "contacts", name="Ada")
    now = timezone.now()
    for seconds in (0, 2, 5):
        with time_machine.travel(now + timedelta(seconds=seconds)):
            drain()
    [run] = runs_of(automation)
    assert run.status == Run.Status.FAILED
    assert run.error_code == "webhook_http_error"
    assert "HTTP 503" in run.error_message
    action = run.action_runs.get()
    assert (action.status, action.attempt) == ("failed", 3)
    assert action.output["status_code"] == 503
    assert len(httpserver.log) == 3


def test_attempts_on_the_run_are_the_attempt_of_its_current_actions_log(
    tenant, httpserver, settings, api
):
    """One meaning (issue 16.5): a run's `attempts` is the `attempt` of the action it is on or
    ended on; it read 3 beside an action's 4 after the last retry."""
    settings.AUTOMATIONS_RETRY_DELAYS = [1.0, 2.0, 3.0]
    failing = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[CREATE_TASK, _failing_webhook(httpserver, 503)],
    )
    make_record(tenant, "contacts", name="Ada")
    now = timezone.now()
    [run] = runs_of(failing)
    seen = []
    for seconds in (0, 2, 5, 9):
        with time_machine.travel(now + timedelta(seconds=seconds)):
            drain()
        run.refresh_from_db()
        seen.append((run.status, run.attempts, run.action_runs.get(index=1).attempt))
    assert seen == [("retrying", 1, 1), ("retrying", 2, 2), ("retrying", 3, 3), ("failed", 4, 4)]
    log = api.get(f"/v1/automations/{failing.id}/logs/{run.id}").json()["data"]
    assert log["attempts"] == log["actions_executed"][1]["attempt"] == 4

    succeeding = make_automation(
        tenant, trigger={"type": "record.created", "module": "leads"}, actions=[CREATE_TASK]
    )
    make_record(tenant, "leads", name="Bo")
    drain()
    [done] = runs_of(succeeding)
    assert done.status == Run.Status.SUCCESS
    assert done.attempts == done.action_runs.get().attempt == 1


def test_a_permanent_failure_is_not_retried(tenant, httpserver):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[_failing_webhook(httpserver, 404), CREATE_TASK],
    )
    make_record(tenant, "contacts", name="Ada")
    drain()
    [run] = runs_of(automation)
    assert run.status == Run.Status.FAILED
    assert len(httpserver.log) == 1
    assert tenant.module("tasks").records.count() == 0


def test_a_delay_parks_the_run_in_the_database_and_resumes_after_it(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[{"type": "delay", "config": {"duration": 2, "unit": "hours"}}, CREATE_TASK],
    )
    make_record(tenant, "contacts", name="Ada")
    start = timezone.now()
    drain()
    [run] = runs_of(automation)
    assert run.status == Run.Status.WAITING
    assert run.next_action_index == 1
    assert run.lease_expires_at is None
    assert timedelta(hours=2) <= run.due_at - start < timedelta(hours=2, seconds=5)
    assert run.action_runs.get(index=0).status == ActionRun.Status.WAITING
    with time_machine.travel(start + timedelta(hours=1)):
        drain()
    run.refresh_from_db()
    assert run.status == Run.Status.WAITING
    with time_machine.travel(start + timedelta(hours=2, seconds=6)):
        drain()
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCESS
    assert run.action_runs.get(index=0).status == ActionRun.Status.SUCCESS
    assert tenant.module("tasks").records.count() == 1


def test_a_run_is_claimed_by_one_worker_only(tenant):
    automation = make_automation(
        tenant, trigger={"type": "record.created", "module": "contacts"}, actions=[CREATE_TASK]
    )
    make_record(tenant, "contacts", name="Ada")
    [run] = runs_of(automation)
    now = timezone.now()
    assert claim(run.id, now=now) is not None
    assert claim(run.id, now=now) is None
    assert execute(run.id) is None  # a second delivery of the message does nothing
    assert tenant.module("tasks").records.count() == 0


def test_a_worker_that_lost_its_lease_applies_nothing(tenant):
    automation = make_automation(
        tenant, trigger={"type": "record.created", "module": "contacts"}, actions=[CREATE_TASK]
    )
    make_record(tenant, "contacts", name="Ada")
    [run] = runs_of(automation)
    from automations.runtime.executor import _Execution, actions_for

    now = timezone.now()
    lease = claim(run.id, now=now)
    assert lease is not None
    run = Run.objects.select_related("automation", "workspace").get(id=run.id)
    owner = Lease(run_id=run.id, lease=lease)
    execution = _Execution(run, owner, actions=actions_for(run, run.automation), started=now)
    # Meanwhile the relay handed the run to another worker (a new lease).
    Run.objects.filter(id=run.id).update(lease_expires_at=lease + timedelta(seconds=1))
    with pytest.raises(LeaseLost):
        execution.execute()
    assert tenant.module("tasks").records.count() == 0
    assert not ActionRun.objects.filter(run_id=run.id).exists()


def test_a_failed_database_action_leaves_none_of_its_writes(tenant):
    # create_record validates after rendering: a required field rendered empty fails it.
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[
            {
                "type": "create_record",
                "config": {"module": "tasks", "data": {"name": "{{record.company}}"}},
            }
        ],
    )
    make_record(tenant, "contacts", name="Ada")
    drain()
    [run] = runs_of(automation)
    assert run.status == Run.Status.FAILED
    assert run.error_code == "validation_error"
    assert "name" in run.error_message
    assert tenant.module("tasks").records.count() == 0


def test_a_run_executes_the_version_it_was_created_with(tenant):
    from automations.services import automation_update

    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[{"type": "delay", "config": {"duration": 1, "unit": "minutes"}}, CREATE_TASK],
    )
    make_record(tenant, "contacts", name="Ada")
    drain()
    automation_update(
        automation=automation,
        user=tenant.user,
        data={"actions": [{"type": "update_record", "config": {"updates": {"status": "v2"}}}]},
    )
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        drain()
    [run] = runs_of(automation)
    assert run.status == Run.Status.SUCCESS
    assert run.version == 1
    assert tenant.module("tasks").records.count() == 1


def test_template_variables_render_with_the_trigger_snapshot(tenant):
    make_automation(
        tenant,
        trigger={"type": "record.updated", "module": "contacts"},
        actions=[
            {
                "type": "create_record",
                "config": {
                    "module": "tasks",
                    "data": {
                        "name": "{{previous.name}} -> {{record.name | uppercase}} by {{user.email}}",
                        "due_date": "{{now | add_days: 3}}",
                    },
                },
            }
        ],
    )
    contact = make_record(tenant, "contacts", name="Ada")
    record_update(record=contact, data={"name": "Ada L."}, actor=tenant.user)
    drain()
    task = tenant.module("tasks").records.get()
    assert task.values["name"] == f"Ada -> ADA L. by {tenant.user.email}"
    assert task.values["due_date"] == (timezone.now() + timedelta(days=3)).date().isoformat()
