"""Log retention."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from automations.models import ActionRun, InboundDelivery, Run
from automations.runtime.retention import purge
from tests.factories import make_record
from tests.runtime.support import drain, make_automation

pytestmark = pytest.mark.django_db


def test_finished_runs_older_than_the_retention_are_deleted(tenant, settings):
    settings.AUTOMATIONS_LOG_RETENTION_DAYS = 30
    make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[{"type": "delay", "config": {"duration": 7, "unit": "days"}}],
    )
    long_ago = timezone.now() - timedelta(days=31)
    with time_machine.travel(long_ago):
        make_record(tenant, "contacts", name="old, finished")
        make_record(tenant, "contacts", name="old, still waiting")
    Run.objects.filter(trigger_data__record__name="old, finished").update(status="success")
    make_record(tenant, "contacts", name="recent")
    drain()
    assert purge()["runs"] == 1
    assert sorted(Run.objects.values_list("trigger_data__record__name", flat=True)) == [
        "old, still waiting",
        "recent",
    ]


def _finished_long_ago(tenant, settings, *, count: int, automations: int = 1):
    """`count` successful runs (each with its action run) older than the retention, spread
    over `automations` automations, plus one recent run of each automation."""
    settings.AUTOMATIONS_LOG_RETENTION_DAYS = 30
    made = [
        make_automation(
            tenant,
            trigger={"type": "record.created", "module": "contacts"},
            actions=[
                {"type": "update_record", "config": {"updates": {"email": f"seen{n}@example.com"}}}
            ],
        )
        for n in range(automations)
    ]
    with time_machine.travel(timezone.now() - timedelta(days=31)):
        for n in range(count // automations):
            make_record(tenant, "contacts", name=f"old {n}")
        drain()
    make_record(tenant, "contacts", name="recent")
    drain()
    return made


def test_a_purge_larger_than_one_batch_deletes_every_old_run_and_its_action_runs(
    tenant, settings, monkeypatch
):
    from automations.runtime import retention

    monkeypatch.setattr(retention, "BATCH", 2)
    sleeps: list[float] = []
    monkeypatch.setattr(retention, "sleep", sleeps.append)
    automations = _finished_long_ago(tenant, settings, count=10, automations=2)
    assert Run.objects.count() == 12
    assert ActionRun.objects.count() == 12

    assert purge()["runs"] == 10

    left = Run.objects.all()
    assert sorted(run.automation_id for run in left) == sorted(a.id for a in automations)
    assert {run.trigger_data["record"]["name"] for run in left} == {"recent"}
    assert ActionRun.objects.count() == 2
    assert set(ActionRun.objects.values_list("run_id", flat=True)) == {r.id for r in left}
    # A pause after each batch: at least 5 batches of 2.
    assert len(sleeps) >= 5


def test_the_purge_pauses_in_proportion_to_each_batch(tenant, settings, monkeypatch):
    from automations.runtime import retention

    clock = iter(range(0, 1000, 3))  # every monotonic() reading is 3 s after the last one
    monkeypatch.setattr(retention, "monotonic", lambda: float(next(clock)))
    sleeps: list[float] = []
    monkeypatch.setattr(retention, "sleep", sleeps.append)
    _finished_long_ago(tenant, settings, count=3)

    assert purge()["runs"] == 3
    # Every batch (one here, or one per range of pages on PostgreSQL, however large the table
    # has grown) reads as taking 3 s: the purge then pauses PAUSE times as long.
    assert sleeps
    assert set(sleeps) == {3 * retention.PAUSE}


def test_inbound_delivery_ids_are_kept_a_week_and_then_deleted(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "webhook", "webhook_path": "orders"},
        actions=[{"type": "create_record", "config": {"module": "tasks", "data": {"name": "x"}}}],
    )
    with time_machine.travel(timezone.now() - timedelta(days=8)):
        InboundDelivery.objects.create(automation=automation, webhook_id="old")
    with time_machine.travel(timezone.now() - timedelta(days=6)):
        InboundDelivery.objects.create(automation=automation, webhook_id="this week")
    InboundDelivery.objects.create(automation=automation, webhook_id="today")

    assert purge()["deliveries"] == 1
    assert sorted(InboundDelivery.objects.values_list("webhook_id", flat=True)) == [
        "this week",
        "today",
    ]


def test_a_purge_with_nothing_old_deletes_nothing(tenant, settings):
    settings.AUTOMATIONS_LOG_RETENTION_DAYS = 30
    make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[{"type": "update_record", "config": {"updates": {"email": "seen@example.com"}}}],
    )
    make_record(tenant, "contacts", name="recent")
    drain()
    assert purge() == {"runs": 0, "deliveries": 0}
    assert Run.objects.count() == 1


def test_on_postgresql_the_purge_deletes_each_page_s_old_runs_in_one_batch(
    tenant, settings, monkeypatch
):
    # The point of the page walk: each page of the runs table is changed by one batch, so it
    # is written to the WAL whole at most once per purge (runs of several automations share
    # pages, so a walk automation by automation changes each page once per automation).
    from django.db import connection

    from automations.runtime import retention

    if connection.vendor != "postgresql":
        pytest.skip("the page walk is PostgreSQL's (a TID range scan)")
    monkeypatch.setattr(retention, "PAGES", 1)
    monkeypatch.setattr(retention, "sleep", lambda seconds: None)
    _finished_long_ago(tenant, settings, count=80, automations=2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, (ctid::text::point)[0]::int FROM automations_run")
        page_of = dict(cursor.fetchall())
    assert max(page_of.values()) >= 2, "the old runs should fill several pages"
    batches: list[set[int]] = []
    delete_all = retention._delete_all

    def recording(runs):
        batches.append({page_of[run_id] for run_id in runs.values_list("id", flat=True)})
        return delete_all(runs)

    monkeypatch.setattr(retention, "_delete_all", recording)

    assert purge()["runs"] == 80

    changed = [pages for pages in batches if pages]
    assert all(len(pages) == 1 for pages in changed)  # a batch changes one page (PAGES=1)
    assert len({page for (page,) in changed}) == len(changed)  # and no page twice
    assert list(Run.objects.values_list("trigger_data__record__name", flat=True)) == [
        "recent",
        "recent",
    ]
    assert ActionRun.objects.count() == 2
