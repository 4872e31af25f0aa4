"""A run parked in a seven-day delay completes exactly once after worker, beat and broker
were all restarted (SIGKILL for worker and beat; Redis stopped with every queued message lost).

Time: the subprocesses run on the real clock. A parked run is nothing but a row with
status=waiting and due_at; the relay publishes it and a worker claims it only once due_at <=
now (the relay's publish_due and the executor's claim are the only places the engine compares
the clock with a parked run). So the test simulates the passage of seven days by moving due_at
back by exactly seven days, to the moment the delay started, instead of waiting a week.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from automations.models import ActionRun, Run
from devtools.processes import await_condition
from tests.factories import make_record
from tests.runtime.support import make_automation

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WEEK = timedelta(days=7)


def test_a_seven_day_delay_survives_restarts_of_everything_and_completes_once(
    tenant, own_redis, stack, sentinel, record_audit
):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[
            {
                "type": "create_record",
                "config": {"module": "tasks", "data": {"name": "before {{record.name}}"}},
            },
            {"type": "delay", "config": {"duration": 7, "unit": "days"}},
            {"type": "update_record", "config": {"updates": {"status": "followed up"}}},
            {
                "type": "create_record",
                "config": {"module": "tasks", "data": {"name": "after {{record.name}}"}},
            },
        ],
    )
    worker = stack.worker(concurrency=1)
    beat = stack.start_beat()
    contact = make_record(tenant, "contacts", name="Ada")
    parked_at = timezone.now()
    run = await_condition(
        lambda: Run.objects.filter(automation=automation, status=Run.Status.WAITING).first(),
        timeout=60,
        message="the run to park in its delay",
        on_timeout=stack.logs,
    )
    assert run.next_action_index == 2
    assert abs(run.due_at - (parked_at + WEEK)) < timedelta(minutes=1)
    due_at = run.due_at

    # Everything goes down at once and comes back: worker and beat killed, Redis emptied.
    started = time.monotonic()
    worker.kill()
    beat.kill()
    own_redis.stop()
    own_redis.start()
    worker.start()
    beat.start()
    # The new stack works end to end (beat -> relay -> Redis -> worker) ...
    sentinel.prove_relay_tick(on_timeout=stack.logs)
    sentinel.prove_relay_tick(on_timeout=stack.logs)
    restarted_in = time.monotonic() - started
    # ... and has left the parked run alone: it is not due for a week.
    run.refresh_from_db()
    assert (run.status, run.due_at, run.next_action_index) == ("waiting", due_at, 2)
    tasks = tenant.module("tasks").records
    assert sorted(r.values["name"] for r in tasks.all()) == ["before Ada"]

    # Seven days pass (see the module docstring).
    Run.objects.filter(id=run.id).update(due_at=F("due_at") - WEEK)
    woke = time.monotonic()
    await_condition(
        lambda: Run.objects.filter(id=run.id, status=Run.Status.SUCCESS).exists(),
        timeout=60,
        message="the delayed run to complete",
        on_timeout=stack.logs,
    )
    completed_in = time.monotonic() - woke
    sentinel.prove_relay_tick(on_timeout=stack.logs)  # late duplicates would show after this

    assert Run.objects.filter(automation=automation).count() == 1
    assert sorted(r.values["name"] for r in tasks.all()) == ["after Ada", "before Ada"]
    assert record_audit.updates([contact.id]) == {contact.id: 1}
    contact.refresh_from_db()
    assert contact.values["status"] == "followed up"
    statuses = dict(ActionRun.objects.filter(run_id=run.id).values_list("index", "status"))
    assert statuses == {0: "success", 1: "success", 2: "success", 3: "success"}
    print(
        f"\nFAULTS seven-day delay: restarts=worker+beat+redis restarted_and_proven_s="
        f"{restarted_in:.1f} completed_s_after_due={completed_in:.1f} runs=1 "
        "before=1 after=1 updates=1"
    )
