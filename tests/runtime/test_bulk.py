"""Runs of a bulk record change: written together, handed over up to 1,000 per message."""

import pytest

from automations.models import Run
from automations.runtime import runs as runs_module
from automations.tasks import execute_runs
from records.services import record_update, records_bulk_update
from tests.factories import make_record
from tests.runtime.support import make_automation, runs_of

pytestmark = pytest.mark.django_db

MARK = [{"type": "update_record", "config": {"updates": {"processed_at": "{{now}}"}}}]


def _bulk(tenant, records, data):
    return records_bulk_update(
        module=tenant.module("contacts"), records_or_filter=records, data=data, actor=tenant.user
    )


def test_a_bulk_change_writes_one_run_per_record_and_hands_them_over_in_batches(
    tenant, published, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(runs_module, "PUBLISH_BATCH", 2)
    automation = make_automation(
        tenant, trigger={"type": "record.updated", "module": "contacts"}, actions=MARK
    )
    records = [make_record(tenant, "contacts", name=f"C{i}") for i in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        _bulk(tenant, records, {"status": "done"})
    runs = runs_of(automation)
    assert sorted(r.record_id for r in runs) == sorted(r.id for r in records)
    # Each hand-over is one push or one Celery message: none of them one by one.
    assert [len(batch) for batch in published.batches] == [2, 2, 1]
    assert all(r.dispatched_at is not None for r in runs)
    run = runs[0]
    assert run.trigger_data["previous"]["status"] is None
    assert run.trigger_data["record"]["status"] == "done"
    assert run.trigger_data["changed_fields"] == ["status"]
    assert run.triggered_by == tenant.user


def test_execute_runs_runs_every_run_of_its_message(
    tenant, published, django_capture_on_commit_callbacks
):
    automation = make_automation(
        tenant,
        trigger={"type": "field.changed", "module": "contacts", "field": "status"},
        actions=MARK,
    )
    records = [make_record(tenant, "contacts", name=f"C{i}") for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        _bulk(tenant, records, {"status": "done"})
    [message] = published.batches
    execute_runs(message)
    assert {r.status for r in runs_of(automation)} == {Run.Status.SUCCESS}
    execute_runs(message)  # delivered again: nothing runs twice
    assert all(r.values.get("processed_at") for r in _reloaded(records))


def test_conditions_and_watched_fields_are_applied_per_record(tenant):
    watcher = make_automation(
        tenant,
        trigger={"type": "field.changed", "module": "contacts", "field": "status"},
        conditions=[{"field": "company", "operator": "equals", "value": "Acme"}],
        actions=MARK,
    )
    acme = make_record(tenant, "contacts", name="A", company="Acme")
    other = make_record(tenant, "contacts", name="B", company="Other")
    _bulk(tenant, [acme, other], {"phone": "123"})
    assert runs_of(watcher) == []  # status did not change
    _bulk(tenant, [acme, other], {"status": "done"})
    assert [r.record_id for r in runs_of(watcher)] == [acme.id]


def test_the_single_record_path_still_publishes_each_run_on_its_own(
    tenant, published, django_capture_on_commit_callbacks
):
    automation = make_automation(
        tenant, trigger={"type": "record.updated", "module": "contacts"}, actions=MARK
    )
    record = make_record(tenant, "contacts", name="Ada")
    with django_capture_on_commit_callbacks(execute=True):
        record_update(record=record, data={"status": "done"}, actor=tenant.user)
    [run] = runs_of(automation)
    assert published == [(run.id, None)]
    assert published.batches == [[run.id]]


def _reloaded(records):
    for record in records:
        record.refresh_from_db()
    return records


def test_a_bulk_change_failing_an_automation_sends_no_notice_per_record_once_it_is_disabled(
    tenant, django_capture_on_commit_callbacks
):
    from automations.models import Notification
    from automations.runtime import matching

    automation = make_automation(
        tenant, trigger={"type": "record.updated", "module": "contacts"}, actions=MARK
    )
    # Conditions that cannot be evaluated (as if written around validation): every run fails.
    type(automation).objects.filter(pk=automation.pk).update(
        conditions=[{"field": "name", "operator": "bogus", "value": 1}]
    )
    matching.invalidate(tenant.workspace.id)
    records = [make_record(tenant, "contacts", name=f"C{i}") for i in range(20)]
    with django_capture_on_commit_callbacks(execute=True):
        _bulk(tenant, records, {"status": "seen"})
    runs = runs_of(automation)
    assert len(runs) == 20 and {r.status for r in runs} == {Run.Status.FAILED}
    automation.refresh_from_db()
    assert not automation.enabled  # the breaker tripped at its 5th failure
    titles = list(Notification.objects.filter(user=tenant.user).values_list("title", flat=True))
    # The notices are sent after the batch commits, when the breaker has tripped: one notice
    # that it was disabled (with the last error), not one per failed record.
    assert titles == [f"Automation disabled: {automation.name}"]
