"""S4: the schedule dispatcher with 10,000 cron automations.

1. A tick with nothing due: automations.runtime.schedules.dispatch_due() with 10,000 enabled
   schedules that are not due, against the same tick with 10. The table is the same: 9,990 of
   the schedules are disabled (out of the dispatcher's partial index) for the "10" side and
   enabled again for the "10,000" side, alternating.
2. All 10,000 due at once: their next_run_at is set to a moment ago, and two dispatcher tasks
   are sent to a worker at the same time (as two beats would; they race for the same rows).
   Each run sends an in-app notification. Measured from the moment the tasks are sent: when
   the last run was handed over (enqueued), when the last one finished (done), and how
   many automations ran twice (duplicates) or not at all (missed).
"""

from __future__ import annotations

import time
from datetime import timedelta

from bench.common import (
    Config,
    Figure,
    Result,
    Worker,
    await_condition,
    clone_automations,
    make_automation,
    make_tenant,
    median,
    reset_state,
    vacuum_analyze,
)

ENQUEUE_LIMIT = 10.0
DONE_LIMIT = 60.0


def tick_seconds(ticks: int) -> float:
    from automations.runtime.schedules import dispatch_due

    started = time.perf_counter()
    for _ in range(ticks):
        assert dispatch_due() == 0, "nothing should be due"
    return (time.perf_counter() - started) / ticks


def run(cfg: Config, *, count: int | None = None) -> Result:
    from django.db.models import Count, Max
    from django.utils import timezone

    from automations.models import Automation, Run
    from config.celery import app

    reset_state()
    count = count or 10_000
    small = 10
    tenant = make_tenant("s4")
    template = make_automation(
        tenant,
        name="report",
        trigger={"type": "schedule", "schedule": "0 9 * * *"},
        actions=[
            {
                "type": "send_notification",
                "config": {
                    "user_id": tenant.user.id,
                    "title": "Daily report",
                    "message": "Scheduled for {{trigger.scheduled_for}}",
                },
            }
        ],
    )
    clone_automations(template, count - 1)
    schedules = Automation.objects.filter(workspace=tenant.workspace)
    extra = schedules.exclude(id__in=list(schedules.order_by("id").values("id")[:small]))
    vacuum_analyze("automations_automation")

    # 1. Ticks with nothing due.
    rounds, ticks = cfg.pick(5, quick=2), cfg.pick(200, quick=50)
    at_small, at_large, ratios = [], [], []
    for _ in range(rounds):
        extra.update(enabled=False)
        small_tick = tick_seconds(ticks)
        extra.update(enabled=True)
        large_tick = tick_seconds(ticks)
        at_small.append(small_tick)
        at_large.append(large_tick)
        ratios.append(large_tick / small_tick)
    tick_ratio = median(ratios)

    # 2. All of them due at once, two dispatchers racing.
    due = timezone.now() - timedelta(seconds=1)
    schedules.update(next_run_at=due)
    with Worker() as worker:
        worker.wait_ready()
        sent = timezone.now()
        for _ in range(2):
            app.send_task("automations.dispatch_schedules")
        runs = Run.objects.filter(workspace=tenant.workspace)
        await_condition(
            lambda: runs.filter(status__in=Run.FINAL_STATUSES).count() >= count,
            timeout=DONE_LIMIT + 60,
            interval=0.5,
            message=f"{count} scheduled runs",
        )
        # Both dispatcher tasks have returned and every run they handed over is done: a
        # duplicate, if any, exists by now.
        await_condition(worker.idle, timeout=60, interval=0.2, message="the worker to go idle")
    stats = runs.aggregate(enqueued=Max("dispatched_at"), done=Max("completed_at"))
    enqueued_s = (stats["enqueued"] - sent).total_seconds()
    done_s = (stats["done"] - sent).total_seconds()
    per_automation = schedules.annotate(n=Count("runs")).values_list("n", flat=True)
    duplicates = sum(1 for n in per_automation if n > 1)
    missed = sum(1 for n in per_automation if n == 0)
    failed = runs.exclude(status=Run.Status.SUCCESS).count()
    return Result(
        scenario="S4",
        title=f"schedule dispatcher with {count:,} cron automations",
        figures=[
            Figure(
                name="tick, nothing due",
                value=median(at_large) * 1000,
                baseline=median(at_small) * 1000,
                baseline_name=f"at {small}",
                unit="ms",
                target="<= 1.5x",
                ratio=tick_ratio,
                passed=tick_ratio <= 1.5,
            ),
            Figure(
                name=f"all {count:,} due: last enqueued after",
                value=enqueued_s,
                baseline=ENQUEUE_LIMIT,
                baseline_name="limit",
                unit="s",
                target=f"<= {ENQUEUE_LIMIT:.0f} s",
                passed=enqueued_s <= ENQUEUE_LIMIT,
            ),
            Figure(
                name="last done after",
                value=done_s,
                baseline=DONE_LIMIT,
                baseline_name="limit",
                unit="s",
                target=f"<= {DONE_LIMIT:.0f} s",
                passed=done_s <= DONE_LIMIT,
            ),
            Figure(
                name="duplicates + missed + failed",
                value=duplicates + missed + failed,
                baseline=0,
                baseline_name="expected",
                unit="runs",
                target="0",
                passed=duplicates + missed + failed == 0,
            ),
        ],
        params={
            "schedules": count,
            "tick_rounds": rounds,
            "ticks_per_side": ticks,
            "duplicates": duplicates,
            "missed": missed,
            "failed": failed,
            "dispatchers": 2,
        },
        notes=[
            "runs are handed over 1,000 ids per push to the ready list, drained by both pool "
            "processes (automations.runtime.handover)"
        ],
    )
