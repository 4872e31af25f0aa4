"""SIGKILL the Celery workers again and again in the middle of runs.

Two `celery -A config worker` subprocesses (prefork, 2 processes each) and a beat (the relay
every second) run 50 runs of an automation whose actions are update_record, a webhook to a
receiver that takes 0.3 s to answer, create_record and the webhook again. Ten times, while a
webhook is in flight, a worker is SIGKILLed (no shutdown handler, no ack): alternately its
whole process group (then started again) and one of its pool processes (Celery forks a new
one; the message is rejected back to the queue by task_reject_on_worker_lost). A killed run's
lease (3 s) expires, the relay puts it back, and a worker resumes it at the action it stopped in.
"""

from __future__ import annotations

import random
import time

import pytest

from automations.models import ActionRun, Run
from devtools.processes import await_condition, socket_owner
from tests.factories import make_record
from tests.runtime.support import make_automation

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RUNS = 50
KILLS = 10


def _successes(automation) -> int:
    return Run.objects.filter(automation=automation, status=Run.Status.SUCCESS).count()


def _busy_worker(workers, receiver):
    """(worker, pool pid) of a pool process that is talking to the receiver now, or None."""
    for port in receiver.client_ports():
        for worker in workers:
            pid = socket_owner(port, worker.children())
            if pid is not None:
                return worker, pid
    return None


def test_ten_sigkills_lose_no_run_and_apply_no_database_action_twice(
    tenant, stack, slow_receiver, record_audit, sentinel
):
    # The webhooks' timeout sets how long a killed worker's run stays claimed: the lease
    # covers the call (3 + 3 + 5 s), whatever AUTOMATIONS_RUN_LEASE (3 s here) says.
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[
            {"type": "update_record", "config": {"updates": {"status": "seen"}}},
            {"type": "call_webhook", "config": {"url": slow_receiver.url, "timeout": 3}},
            {
                "type": "create_record",
                "config": {"module": "tasks", "data": {"name": "after {{record.name}}"}},
            },
            {"type": "call_webhook", "config": {"url": slow_receiver.url, "timeout": 3}},
        ],
    )
    workers = [stack.worker(concurrency=2), stack.worker(concurrency=2)]
    stack.start_beat()
    started = time.monotonic()
    contacts = [make_record(tenant, "contacts", name=f"c{n:02}") for n in range(RUNS)]

    rng = random.Random(7)
    kills = child_kills = 0
    last_kill = started
    while kills < KILLS:
        before = _successes(automation)
        assert before < RUNS, f"all runs finished after only {kills} kills"
        # Kill only a worker that is waiting on the receiver right now: in the middle of a run.
        victim, busy_pid = await_condition(
            lambda: _busy_worker(workers, slow_receiver),
            timeout=120,
            interval=0.01,
            message="a worker with a webhook in flight",
            on_timeout=stack.logs,
        )
        time.sleep(rng.uniform(0, 0.15))  # somewhere inside the 0.3 s the receiver takes
        if kills % 2:
            victim.kill_child(busy_pid)  # the pool process; Celery forks a new one
            child_kills += 1
        else:
            victim.kill()  # the whole worker
            victim.start()
        kills += 1
        last_kill = time.monotonic()
        # Spread the kills over the batch: let a little work finish before the next one.
        await_condition(
            lambda before=before: _successes(automation) >= min(RUNS, before + 2),
            timeout=120,
            message="progress after a kill",
            on_timeout=stack.logs,
        )

    await_condition(
        lambda: _successes(automation) == RUNS,
        timeout=240,
        interval=0.2,
        message=f"all {RUNS} runs to succeed",
        on_timeout=stack.logs,
    )
    recovered = time.monotonic() - last_kill
    elapsed = time.monotonic() - started
    # Anything still in the pipes (a redelivered message, a late relay) has had its chance.
    sentinel.prove_relay_tick(on_timeout=stack.logs)

    runs = list(Run.objects.filter(automation=automation))
    assert len(runs) == RUNS
    assert {r.status for r in runs} == {Run.Status.SUCCESS}
    assert sorted(r.record_id for r in runs) == sorted(c.id for c in contacts)

    # Database actions exactly once: one UPDATE of each contact, one task per contact.
    updates = record_audit.updates([c.id for c in contacts])
    assert updates == {c.id: 1 for c in contacts}
    names = sorted(r.values["name"] for r in tenant.module("tasks").records.all())
    assert names == sorted(f"after {c.values['name']}" for c in contacts)

    # Webhooks at least once, and a repeat carries the same webhook-id as the first try.
    deliveries = slow_receiver.counts()
    assert set(deliveries) == {f"{r.id}_{i}" for r in runs for i in (1, 3)}
    repeated = sum(n - 1 for n in deliveries.values())
    resumed = (
        ActionRun.objects.filter(run__automation=automation, attempt__gt=1)
        .values("run_id")
        .distinct()
        .count()
    )
    assert resumed >= 1, "no kill hit a run in the middle: the test proved nothing"
    print(
        f"\nFAULTS worker kills: kills={kills} (pool process only: {child_kills}) runs={len(runs)} success={RUNS} "
        f"duplicate_db_writes=0 webhook_deliveries={sum(deliveries.values())} "
        f"distinct_webhook_ids={len(deliveries)} repeated_deliveries={repeated} "
        f"runs_resumed_after_kill={resumed} recovery_after_last_kill_s={recovered:.1f} "
        f"total_s={elapsed:.1f}"
    )
