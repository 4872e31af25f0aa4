"""records_bulk_update: many records changed in batches, one records_changed signal per batch."""

import pytest
from django.db import transaction
from django.db.models import Q

from config.errors import ValidationFailed
from records import services
from records.models import Record
from records.services import records_bulk_update
from records.signals import record_changed, records_changed
from tests.factories import make_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def batches():
    received: list[dict] = []

    def receiver(sender, **kwargs):
        kwargs["in_atomic_block"] = transaction.get_connection().in_atomic_block
        received.append(kwargs)

    records_changed.connect(receiver, dispatch_uid="test-batches")
    yield received
    records_changed.disconnect(dispatch_uid="test-batches")


@pytest.fixture
def single_events():
    received: list[dict] = []
    record_changed.connect(lambda sender, **kw: received.append(kw), dispatch_uid="test-single")
    yield received
    record_changed.disconnect(dispatch_uid="test-single")


def _contacts(tenant, count, **values):
    return [make_record(tenant, "contacts", name=f"C{i}", **values) for i in range(count)]


def test_bulk_update_changes_every_selected_record_and_returns_the_count(tenant):
    records = _contacts(tenant, 3, status="new")
    changed = records_bulk_update(
        module=tenant.module("contacts"),
        records_or_filter=records,
        data={"status": "done"},
        actor=tenant.user,
    )
    assert changed == 3
    for record in records:
        record.refresh_from_db()
        assert record.values["status"] == "done"


def test_bulk_update_sends_one_signal_per_batch_inside_its_transaction(
    tenant, batches, single_events, monkeypatch
):
    monkeypatch.setattr(services, "BULK_BATCH", 2)
    _contacts(tenant, 5, status="new")
    records_bulk_update(
        module=tenant.module("contacts"),
        records_or_filter={"values__status": "new"},
        data={"status": "done"},
        actor=tenant.user,
    )
    assert [len(b["changes"]) for b in batches] == [2, 2, 1]
    assert all(b["in_atomic_block"] and b["event"] == "updated" for b in batches)
    assert single_events == []  # no per-record record_changed on the bulk path
    change = batches[0]["changes"][0]
    assert change.previous["status"] == "new"
    assert change.record["status"] == "done"
    assert change.changed_fields == ["status"]
    assert batches[0]["actor"] == tenant.user


def test_records_the_data_does_not_change_are_neither_written_nor_events(tenant, batches):
    done = make_record(tenant, "contacts", name="Done", status="done")
    new = make_record(tenant, "contacts", name="New", status="new")
    changed = records_bulk_update(
        module=tenant.module("contacts"),
        records_or_filter=[done.id, new.id],
        data={"status": "done"},
    )
    assert changed == 1
    [batch] = batches
    assert [c.record["id"] for c in batch["changes"]] == [new.id]
    before = done.updated_at
    done.refresh_from_db()
    assert done.updated_at == before


def test_invalid_data_is_refused_before_anything_is_written(tenant, batches):
    record = make_record(tenant, "contacts", name="Ada")
    with pytest.raises(ValidationFailed):
        records_bulk_update(
            module=tenant.module("contacts"),
            records_or_filter=[record],
            data={"email": "not an email"},
        )
    assert batches == []


def test_only_records_of_the_given_module_are_touched(tenant, other_tenant):
    contact = make_record(tenant, "contacts", name="Ada")
    lead = make_record(tenant, "leads", name="Lead")
    foreign = make_record(other_tenant, "contacts", name="Foreign")
    changed = records_bulk_update(
        module=tenant.module("contacts"),
        records_or_filter=Q(pk__in=[contact.id, lead.id, foreign.id]),
        data={"status": "done"},
    )
    assert changed == 1
    lead.refresh_from_db()
    foreign.refresh_from_db()
    assert "status" not in lead.values and "status" not in foreign.values


def test_a_record_that_stopped_matching_before_its_batch_is_locked_is_left_alone(
    tenant, monkeypatch
):
    records = _contacts(tenant, 3, status="new")
    real_batch = services._bulk_update_batch

    def someone_changes_one_first(**kwargs):
        # Between listing the ids and locking them, another request moves one record on.
        Record.objects.filter(pk=records[0].pk).update(values={"name": "C0", "status": "lost"})
        return real_batch(**kwargs)

    monkeypatch.setattr(services, "_bulk_update_batch", someone_changes_one_first)
    changed = records_bulk_update(
        module=tenant.module("contacts"),
        records_or_filter={"values__status": "new"},
        data={"status": "contacted"},
    )
    assert changed == 2
    statuses = [Record.objects.get(pk=r.pk).values["status"] for r in records]
    assert statuses == ["lost", "contacted", "contacted"]


@pytest.mark.parametrize("one", ["id", "record"])
def test_a_single_record_or_id_is_refused_rather_than_misread(tenant, one):
    [record] = _contacts(tenant, 1, status="new")
    with pytest.raises(TypeError, match="pass a list"):
        records_bulk_update(
            module=tenant.module("contacts"),
            records_or_filter=record.pk if one == "id" else record,
            data={"status": "done"},
        )
