"""The schedule dispatcher: due automations run once per due time, with one catch-up."""

import datetime as dt

import pytest
import time_machine

from automations.models import Automation
from automations.runtime.schedules import dispatch_due
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db

UTC = dt.UTC
ACTIONS = [
    {
        "type": "create_record",
        "config": {"module": "tasks", "data": {"name": "Report for {{trigger.scheduled_for}}"}},
    }
]


def _schedule(tenant, cron="0 9 * * *", tz="UTC"):
    return make_automation(
        tenant, trigger={"type": "schedule", "schedule": cron}, actions=ACTIONS, timezone=tz
    )


@time_machine.travel(dt.datetime(2024, 1, 15, 8, 0, tzinfo=UTC), tick=False)
def test_a_schedule_runs_at_its_due_time_once(tenant):
    automation = _schedule(tenant)
    assert automation.next_run_at == dt.datetime(2024, 1, 15, 9, 0, tzinfo=UTC)
    assert dispatch_due() == 0
    with time_machine.travel(dt.datetime(2024, 1, 15, 9, 0, 5, tzinfo=UTC), tick=False):
        assert dispatch_due() == 1
        assert dispatch_due() == 0
        drain()
    [run] = runs_of(automation)
    assert run.status == "success"
    assert run.trigger_data["scheduled_for"] == "2024-01-15T09:00:00Z"
    assert tenant.module("tasks").records.get().values["name"] == (
        "Report for 2024-01-15T09:00:00Z"
    )
    automation.refresh_from_db()
    assert automation.next_run_at == dt.datetime(2024, 1, 16, 9, 0, tzinfo=UTC)


@time_machine.travel(dt.datetime(2024, 1, 15, 8, 0, tzinfo=UTC), tick=False)
def test_cron_is_read_in_the_automations_timezone(tenant):
    automation = _schedule(tenant, tz="America/New_York")
    assert automation.next_run_at == dt.datetime(2024, 1, 15, 14, 0, tzinfo=UTC)


@time_machine.travel(dt.datetime(2024, 1, 15, 8, 0, tzinfo=UTC), tick=False)
def test_after_downtime_a_schedule_catches_up_once_for_the_latest_missed_time(tenant):
    automation = _schedule(tenant, cron="0 * * * *")  # hourly, next 09:00
    with time_machine.travel(dt.datetime(2024, 1, 15, 12, 30, tzinfo=UTC), tick=False):
        assert dispatch_due() == 1
        assert dispatch_due() == 0
    [run] = runs_of(automation)
    assert run.trigger_data["scheduled_for"] == "2024-01-15T12:00:00Z"
    automation.refresh_from_db()
    assert automation.next_run_at == dt.datetime(2024, 1, 15, 13, 0, tzinfo=UTC)


@time_machine.travel(dt.datetime(2024, 1, 15, 8, 0, tzinfo=UTC), tick=False)
def test_a_due_time_claimed_by_another_dispatcher_is_not_run_again(tenant):
    automation = _schedule(tenant)
    stale_copy = Automation.objects.get(pk=automation.pk)
    with time_machine.travel(dt.datetime(2024, 1, 15, 9, 0, 1, tzinfo=UTC), tick=False):
        assert dispatch_due() == 1
        from automations.runtime.schedules import _start

        assert _start(stale_copy, now=dt.datetime(2024, 1, 15, 9, 0, 1, tzinfo=UTC)) is False
    assert len(runs_of(automation)) == 1


@time_machine.travel(dt.datetime(2024, 1, 15, 8, 0, tzinfo=UTC), tick=False)
def test_disabled_schedules_do_not_run(tenant):
    automation = _schedule(tenant)
    Automation.objects.filter(pk=automation.pk).update(enabled=False)
    with time_machine.travel(dt.datetime(2024, 1, 15, 9, 0, 1, tzinfo=UTC), tick=False):
        assert dispatch_due() == 0


def test_ten_thousand_schedules_not_due_cost_one_query(tenant, django_assert_num_queries):
    far = dt.datetime(2099, 1, 1, tzinfo=UTC)
    template = _schedule(tenant)
    Automation.objects.bulk_create(
        Automation(
            workspace=tenant.workspace,
            name=f"s{n}",
            enabled=True,
            trigger=template.trigger,
            actions=template.actions,
            trigger_type="schedule",
            next_run_at=far,
        )
        for n in range(10_000)
    )
    Automation.objects.filter(pk=template.pk).update(next_run_at=far)
    with django_assert_num_queries(1):
        assert dispatch_due() == 0
