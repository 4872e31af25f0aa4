"""S1 and S1b: the cost of the engine on a record save through records.services.

S1: a workspace with 1,000 enabled automations on other modules (every record trigger type)
against a workspace with none: time per save and queries per save. S1b: a workspace where the
save matches one automation (its run is written and handed over: pushed to the ready list,
with a Celery message to wake a worker when none is on its way; no worker runs, and what was
handed over is dropped afterwards) against the workspace with none.

Method: record_update of one contacts record, alternating blocks of saves between the two
workspaces (ABAB...) so both sides see the same machine; per-save time = block time / block
size; figure = median of the blocks. Queries are counted on one warmed-up save of each.
"""

from __future__ import annotations

import time

from bench.common import (
    Config,
    Figure,
    Result,
    clone_automations,
    drop_handed_over,
    make_automation,
    make_tenant,
    median,
    ready_length,
    reset_state,
)

OTHER_MODULE_TRIGGERS = [
    {"type": "record.created", "module": "deals"},
    {"type": "record.updated", "module": "leads"},
    {"type": "record.deleted", "module": "tasks"},
    {"type": "field.changed", "module": "accounts", "field": "status"},
]
MARK = [{"type": "update_record", "config": {"updates": {"status": "seen"}}}]


class Saver:
    """One contacts record of a workspace, saved again and again with a changed value."""

    def __init__(self, tenant) -> None:
        from records.services import record_create

        self.tenant = tenant
        module = tenant.module("contacts")
        self.record = record_create(module=module, data={"name": "Bench"}, actor=tenant.user)
        self.n = 0

    def save(self) -> None:
        from records.services import record_update

        self.n += 1
        self.record = record_update(
            record=self.record, data={"phone": str(self.n)}, actor=self.tenant.user
        )

    def block(self, size: int) -> float:
        """Seconds per save over `size` saves."""
        started = time.perf_counter()
        for _ in range(size):
            self.save()
        return (time.perf_counter() - started) / size

    def queries(self) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            self.save()
        return len(captured.captured_queries)


def compare(a: Saver, b: Saver, *, rounds: int, block: int) -> tuple[float, float, float]:
    """(median seconds per save of a, of b, median of the per-round ratios a / b)."""
    a.block(20)  # warm up: the matching index, connections, caches
    b.block(20)
    times_a, times_b, ratios = [], [], []
    for i in range(rounds):
        # Alternate which side goes first, so a drift in the machine's load favours neither.
        if i % 2:
            tb, ta = b.block(block), a.block(block)
        else:
            ta, tb = a.block(block), b.block(block)
        times_a.append(ta)
        times_b.append(tb)
        ratios.append(ta / tb)
    return median(times_a), median(times_b), median(ratios)


def setup_busy(count: int) -> Saver:
    tenant = make_tenant("s1-busy")
    per_type = count // len(OTHER_MODULE_TRIGGERS)
    for trigger in OTHER_MODULE_TRIGGERS:
        notify = {"user_id": tenant.user.id, "title": "Changed", "message": "{{record.name}}"}
        template = make_automation(
            tenant,
            name="other module",
            trigger=trigger,
            actions=[{"type": "send_notification", "config": notify}],
        )
        clone_automations(template, per_type - 1)
    return Saver(tenant)


def run(cfg: Config, *, count: int = 1_000) -> Result:
    from automations.models import Automation, Run

    reset_state()
    busy = setup_busy(count)
    idle = Saver(make_tenant("s1-idle"))
    rounds, block = cfg.pick(20, quick=6), cfg.pick(50, quick=25)
    mean_busy, mean_idle, ratio = compare(busy, idle, rounds=rounds, block=block)
    q_busy, q_idle = busy.queries(), idle.queries()
    runs = Run.objects.count()
    enabled = Automation.objects.filter(workspace=busy.tenant.workspace, enabled=True).count()
    assert enabled == count, enabled
    assert runs == 0, "no automation should have matched"
    return Result(
        scenario="S1",
        title=f"record save with {count:,} enabled automations on other modules",
        figures=[
            Figure(
                name="time per save",
                value=mean_busy * 1000,
                baseline=mean_idle * 1000,
                baseline_name="no automations",
                unit="ms",
                target="<= 1.15x",
                ratio=ratio,
                passed=ratio <= 1.15,
            ),
            Figure(
                name="queries per save",
                value=q_busy,
                baseline=q_idle,
                baseline_name="no automations",
                unit="queries",
                target="0 extra",
                ratio=None,
                passed=q_busy - q_idle == 0,
            ),
        ],
        params={"automations": count, "rounds": rounds, "saves_per_block": block},
        notes=["save = records.services.record_update of one field of a contacts record"],
    )


def run_matching(cfg: Config) -> Result:
    from automations.models import Run

    reset_state()
    tenant = make_tenant("s1b-match")
    make_automation(
        tenant,
        name="matches every save",
        trigger={"type": "record.updated", "module": "contacts"},
        actions=MARK,
    )
    matching = Saver(tenant)
    idle = Saver(make_tenant("s1b-idle"))
    rounds, block = cfg.pick(20, quick=6), cfg.pick(50, quick=25)
    try:
        mean_match, mean_idle, ratio = compare(matching, idle, rounds=rounds, block=block)
        q_match, q_idle = matching.queries(), idle.queries()
        runs = Run.objects.filter(workspace=tenant.workspace)
        written, handed = runs.count(), runs.filter(dispatched_at__isnull=False).count()
        queued = ready_length()
    finally:
        drop_handed_over()  # no worker: drop what was handed over
    assert written == matching.n and handed == written, (written, handed, matching.n)
    assert queued >= written
    return Result(
        scenario="S1b",
        title="record save that matches one automation (run written and handed over)",
        figures=[
            Figure(
                name="time per save",
                value=mean_match * 1000,
                baseline=mean_idle * 1000,
                baseline_name="no automations",
                unit="ms",
                target="<= 3x",
                ratio=ratio,
                passed=ratio <= 3,
            ),
            Figure(
                name="queries per save",
                value=q_match,
                baseline=q_idle,
                baseline_name="no automations",
                unit="queries",
                target="info",
            ),
        ],
        params={"rounds": rounds, "saves_per_block": block, "runs_written": written},
        notes=["each matching save writes a run and pushes its id to the ready list after commit"],
    )
