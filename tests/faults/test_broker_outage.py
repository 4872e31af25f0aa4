"""Stop the test's Redis (broker and cache of every process) while 500 records are created
through the API: every request must still succeed, and every run must complete once Redis is
back. The record and its run commit together in the request; publishing is best effort, and
the relay (beat) publishes whatever was not handed over."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from automations.models import Run
from devtools.processes import await_condition
from tests.runtime.support import make_automation

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RECORDS = 500
DOWN_AT, UP_AT = 100, 400  # Redis is down for the requests in between
MIN_OUTAGE = 10.0  # seconds: longer than the relay interval and the clients' reconnect backoff


def test_500_api_writes_during_a_redis_outage_all_succeed_and_all_their_runs_complete(
    tenant, own_redis, stack, sentinel
):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[
            {
                "type": "create_record",
                "config": {"module": "tasks", "data": {"name": "after {{record.name}}"}},
            }
        ],
    )
    stack.worker(concurrency=2)
    stack.start_beat()
    statuses: Counter = Counter()
    phases: dict[str, list[float]] = {"before": [], "down": [], "after": []}
    down_for = 0.0
    for n in range(RECORDS):
        if n == DOWN_AT:
            own_redis.stop()
            down_since = time.monotonic()
        if n == UP_AT:
            # A deliberate outage length, not a wait for a condition.
            time.sleep(max(0.0, MIN_OUTAGE - (time.monotonic() - down_since)))
            own_redis.start()
            down_for = time.monotonic() - down_since
            back_at = time.monotonic()
        started = time.perf_counter()
        response = tenant.client.post(
            "/v1/modules/contacts/records", {"name": f"c{n:03}"}, format="json"
        )
        phase = "before" if n < DOWN_AT else "down" if n < UP_AT else "after"
        phases[phase].append(time.perf_counter() - started)
        statuses[response.status_code] += 1
        if response.status_code != 201:
            print(n, response.status_code, response.content[:500])
    assert statuses == {201: RECORDS}

    await_condition(
        lambda: (
            Run.objects.filter(automation=automation, status=Run.Status.SUCCESS).count() == RECORDS
        ),
        timeout=240,
        interval=0.25,
        message=f"all {RECORDS} runs to succeed",
        on_timeout=stack.logs,
    )
    recovered = time.monotonic() - back_at
    sentinel.prove_relay_tick(on_timeout=stack.logs)
    # Worker and beat rode out the outage by themselves (nothing restarted them).
    assert all(s.alive and s.starts == 1 for s in [*stack.workers, stack.beat])
    assert Run.objects.filter(automation=automation).count() == RECORDS
    names = Counter(r.values["name"] for r in tenant.module("tasks").records.all())
    assert names == Counter(f"after c{n:03}" for n in range(RECORDS))

    def ms(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    print(
        f"\nFAULTS redis outage: requests={RECORDS} status={dict(statuses)} "
        f"redis_down_s={down_for:.1f} requests_while_down={UP_AT - DOWN_AT} "
        + " ".join(
            f"{k}_p50_ms={ms(v, 0.5):.0f} {k}_max_ms={ms(v, 1):.0f}" for k, v in phases.items()
        )
        + f" runs_complete_s_after_redis_back={recovered:.1f}"
    )
