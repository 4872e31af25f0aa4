"""S8: a bulk update of 10,000 records through records.services.records_bulk_update.

An automation watches the field the bulk update changes (field.changed -> update_record), so
each of the 10,000 records starts a run. With no worker running, the Celery messages the bulk
update sent are counted in Redis: at most one per 1,000 records (the runs' ids go to the
ready list, automations.runtime.handover; a message only wakes a worker). Then a worker drains the
runs. The bulk update's time per record is compared with record_update's on 1,000 of the same
records one by one (each writes and hands over one run).
"""

from __future__ import annotations

import time

from bench.common import (
    Config,
    Figure,
    Result,
    Worker,
    await_condition,
    drop_handed_over,
    make_automation,
    make_tenant,
    queue_length,
    ready_length,
    reset_state,
)


def run(cfg: Config) -> Result:
    from django.db.models import Max, Min

    from automations.models import Run
    from records.models import Record
    from records.services import record_update, records_bulk_update

    reset_state()
    count = cfg.pick(10_000, quick=2_000)
    sample = cfg.pick(1_000, quick=200)
    tenant = make_tenant("s8")
    module = tenant.module("contacts")
    automation = make_automation(
        tenant,
        name="closed",
        trigger={"type": "field.changed", "module": "contacts", "field": "status"},
        actions=[{"type": "update_record", "config": {"updates": {"processed_at": "{{now}}"}}}],
    )
    Record.objects.bulk_create(
        Record(workspace=tenant.workspace, module=module, values={"name": f"C{i}"})
        for i in range(count)
    )
    runs = Run.objects.filter(automation=automation)
    drop_handed_over()

    # One by one: `sample` records through record_update (one run and one message each).
    singles = list(Record.objects.filter(module=module).order_by("id")[:sample])
    started = time.perf_counter()
    for record in singles:
        record_update(record=record, data={"status": "open"}, actor=tenant.user)
    one_by_one = (time.perf_counter() - started) / sample
    drop_handed_over()
    runs.delete()

    # In bulk: all of them.
    started = time.perf_counter()
    changed = records_bulk_update(
        module=module, records_or_filter={}, data={"status": "closed"}, actor=tenant.user
    )
    bulk = (time.perf_counter() - started) / count
    messages = queue_length()
    listed = ready_length()
    written = runs.count()
    assert changed == count and written == count == listed, (changed, written, listed)
    with Worker() as _worker:
        await_condition(
            lambda: runs.filter(status__in=Run.FINAL_STATUSES).count() >= count,
            timeout=600,
            interval=0.5,
            message=f"{count} bulk runs",
        )
    span = runs.aggregate(first=Min("started_at"), last=Max("completed_at"))
    drain_s = (span["last"] - span["first"]).total_seconds()
    failed = runs.exclude(status=Run.Status.SUCCESS).count()
    per_thousand = messages / (count / 1000)
    return Result(
        scenario="S8",
        title=f"bulk update of {count:,} records (records_bulk_update)",
        figures=[
            Figure(
                name="Celery messages per 1,000 records",
                value=per_thousand,
                baseline=1,
                baseline_name="limit",
                unit="messages",
                target="<= 1",
                passed=per_thousand <= 1 and failed == 0,
            ),
            Figure(
                name="time per record in bulk",
                value=bulk * 1000,
                baseline=one_by_one * 1000,
                baseline_name="record_update one by one",
                unit="ms",
                target="info",
                ratio=bulk / one_by_one,
            ),
        ],
        params={
            "records": count,
            "messages": messages,
            "runs": written,
            "failed_runs": failed,
            "drain_seconds": drain_s,
            "runs_per_second": count / drain_s,
            "one_by_one_sample": sample,
        },
    )
