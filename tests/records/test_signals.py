import pytest
from django.db import transaction

from records.services import record_create, record_delete, record_update
from records.signals import record_changed


@pytest.fixture
def events():
    received: list[dict] = []

    def receiver(sender, **kwargs):
        kwargs["in_atomic_block"] = transaction.get_connection().in_atomic_block
        received.append(kwargs)

    record_changed.connect(receiver, dispatch_uid="test-events")
    yield received
    record_changed.disconnect(dispatch_uid="test-events")


@pytest.mark.django_db
def test_create_update_delete_each_send_one_signal_inside_the_transaction(tenant, events):
    module = tenant.module("deals")
    record = record_create(module=module, data={"name": "D", "value": 10}, actor=tenant.user)
    record_update(record=record, data={"value": 20, "stage": "proposal"}, actor=tenant.user)
    record_delete(record=record, actor=tenant.user)
    assert [e["event"] for e in events] == ["created", "updated", "deleted"]
    assert all(e["in_atomic_block"] for e in events)
    created, updated, deleted = events
    assert created["record"]["value"] == 10 and created["previous"] is None
    assert created["actor"] == tenant.user and created["module"] == module
    assert updated["previous"]["value"] == 10 and updated["record"]["value"] == 20
    assert updated["changed_fields"] == ["stage", "value"]
    assert deleted["record"]["stage"] == "proposal"


@pytest.mark.django_db
def test_update_that_changes_nothing_sends_no_signal_and_writes_nothing(tenant, events):
    record = record_create(module=tenant.module("deals"), data={"name": "D", "value": 10})
    before = record.updated_at
    record_update(record=record, data={"value": "10", "name": "D"})
    assert [e["event"] for e in events] == ["created"]
    record.refresh_from_db()
    assert record.updated_at == before


@pytest.mark.django_db
def test_cause_is_passed_through(tenant, events):
    cause = {"root": "evt", "depth": 1, "visited": ["auto_x:rec_y"]}
    record_create(module=tenant.module("tasks"), data={"name": "T"}, cause=cause)
    assert events[0]["cause"] == cause
