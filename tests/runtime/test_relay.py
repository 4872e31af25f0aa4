"""The relay: runs never handed over, due delays and retries, and runs whose worker died."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from automations.models import ActionRun, Run
from automations.runtime.ownership import claim
from automations.runtime.relay import relay
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db

ACTIONS = [{"type": "create_record", "config": {"module": "tasks", "data": {"name": "t"}}}]


def _automation(tenant, actions=ACTIONS):
    return make_automation(
        tenant, trigger={"type": "record.created", "module": "contacts"}, actions=actions
    )


def _unpublished_run(tenant):
    """A record-trigger run as a failed publish leaves it: committed, its hand-over mark undone
    (runs.publish_marked)."""
    automation = _automation(tenant)
    make_record(tenant, "contacts", name="Ada")  # no commit in this test: never published
    Run.objects.filter(automation=automation).update(dispatched_at=None)
    [run] = runs_of(automation)
    return run


def test_a_run_never_handed_over_is_published_once(tenant, published):
    run = _unpublished_run(tenant)
    assert relay()["published"] == 1
    assert published == [(run.id, None)]
    assert relay()["published"] == 0  # handed over now; not again until it goes stale


def test_a_run_whose_process_died_before_publishing_it_is_published_once_stale(
    tenant, published, settings
):
    # Written already marked as handed over; the process died between commit and publish.
    settings.AUTOMATIONS_REDISPATCH_AFTER = 30
    automation = _automation(tenant)
    make_record(tenant, "contacts", name="Ada")
    [run] = runs_of(automation)
    assert run.dispatched_at is not None
    assert relay()["published"] == 0
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert relay()["published"] == 1
    assert published == [(run.id, None)]


def test_a_handed_over_run_left_unclaimed_is_published_again(tenant, published, settings):
    settings.AUTOMATIONS_REDISPATCH_AFTER = 30
    _unpublished_run(tenant)
    relay()
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert relay()["published"] == 1
    assert len(published) == 2


def test_a_broker_failure_leaves_the_run_for_the_next_tick(tenant, published):
    _unpublished_run(tenant)
    published.reachable = False
    assert relay()["published"] == 0
    assert Run.objects.get().dispatched_at is None


def test_a_waiting_run_is_published_when_its_delay_is_due(tenant, published):
    _automation(
        tenant, [{"type": "delay", "config": {"duration": 10, "unit": "minutes"}}, *ACTIONS]
    )
    make_record(tenant, "contacts", name="Ada")
    drain()
    published.clear()
    assert relay()["published"] == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert relay()["published"] == 1


def test_a_run_whose_worker_died_is_reclaimed_and_resumes(tenant, settings):
    settings.AUTOMATIONS_RUN_LEASE = 30
    automation = _automation(tenant)
    make_record(tenant, "contacts", name="Ada")
    [run] = runs_of(automation)
    claim(run.id, now=timezone.now())  # a worker took it, then died
    assert relay()["reclaimed"] == 0  # the lease still runs
    later = timezone.now() + timedelta(seconds=31)
    with time_machine.travel(later):
        assert relay()["reclaimed"] == 1
        run.refresh_from_db()
        assert (run.status, run.attempts) == ("pending", 1)
        drain()
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCESS
    assert tenant.module("tasks").records.count() == 1


def test_a_run_that_keeps_killing_its_worker_fails_as_worker_lost(tenant, settings):
    settings.AUTOMATIONS_RUN_LEASE = 10
    settings.AUTOMATIONS_RETRY_DELAYS = [1.0]
    automation = _automation(tenant)
    make_record(tenant, "contacts", name="Ada")
    [run] = runs_of(automation)
    moment = timezone.now()
    for _ in range(2):
        with time_machine.travel(moment):
            claim(run.id, now=timezone.now())
        moment += timedelta(seconds=11)
        with time_machine.travel(moment):
            relay()
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert run.error_code == "worker_lost"
    assert run.attempts == 2  # both tries lost with their worker count


def test_a_run_lost_with_its_worker_leaves_no_action_log_running(tenant, settings):
    # An external action's log is written "running" before it acts (runtime.executor); when
    # the worker died there and the relay gave up, the run said failed / worker_lost while its
    # action still said running, for good.
    settings.AUTOMATIONS_RUN_LEASE = 10
    settings.AUTOMATIONS_RETRY_DELAYS = [1.0]
    automation = _automation(tenant)
    make_record(tenant, "contacts", name="Ada")
    [run] = runs_of(automation)
    moment = timezone.now()
    for attempt in (1, 2):
        with time_machine.travel(moment):
            claim(run.id, now=timezone.now())
            ActionRun.objects.update_or_create(
                run_id=run.id,
                index=0,
                defaults={"type": "call_webhook", "status": "running", "attempt": attempt},
            )
        moment += timedelta(seconds=11)
        with time_machine.travel(moment):
            relay()
    run.refresh_from_db()
    log = ActionRun.objects.get(run_id=run.id, index=0)
    assert (run.status, run.error_code) == ("failed", "worker_lost")
    assert (log.status, log.error_code, log.attempt) == ("failed", "worker_lost", run.attempts)
    assert log.error_message == run.error_message
    assert log.completed_at is not None
