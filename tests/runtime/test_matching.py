"""The matching index: no query for saves that match nothing; changes are seen everywhere."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from automations.models import Automation, Run
from automations.runtime import matching
from records.services import record_create, record_update
from records.signals import record_changed
from tests.factories import make_record
from tests.runtime.support import make_automation

pytestmark = pytest.mark.django_db

ACTIONS = [{"type": "update_record", "config": {"updates": {"status": "x"}}}]


def _queries(fn) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [q["sql"] for q in ctx.captured_queries]


def test_a_save_that_matches_nothing_does_no_extra_query(tenant, django_assert_num_queries):
    # An automation elsewhere, so the workspace's index is not empty.
    make_automation(tenant, trigger={"type": "record.created", "module": "deals"}, actions=ACTIONS)
    module = tenant.module("contacts")
    make_record(tenant, "contacts", name="warm-up")  # loads the index once
    with_engine = _queries(
        lambda: record_create(module=module, data={"name": "A"}, actor=tenant.user)
    )
    assert not any("automations_" in sql for sql in with_engine)
    record_changed.disconnect(dispatch_uid="automations.record_changed")
    try:
        without_engine = _queries(
            lambda: record_create(module=module, data={"name": "B"}, actor=tenant.user)
        )
    finally:
        from automations.runtime.triggers import on_record_changed

        record_changed.connect(on_record_changed, dispatch_uid="automations.record_changed")
    assert len(with_engine) == len(without_engine)
    with django_assert_num_queries(len(without_engine)):
        record_create(module=module, data={"name": "C"}, actor=tenant.user)
    assert not Run.objects.exists()


def test_the_index_is_loaded_with_one_query_and_reused(tenant, django_assert_num_queries):
    automation = make_automation(
        tenant, trigger={"type": "record.created", "module": "contacts"}, actions=ACTIONS
    )
    module_id = tenant.module("contacts").id
    ws = tenant.workspace.id
    with django_assert_num_queries(1):
        found = matching.automations_for(
            workspace_id=ws, module_id=module_id, trigger_types=["record.created"]
        )
    assert [a.id for a in found] == [automation.id]
    with django_assert_num_queries(0):
        matching.automations_for(
            workspace_id=ws, module_id=module_id, trigger_types=["record.created"]
        )


def test_a_change_made_by_another_process_is_seen(tenant):
    automation = make_automation(
        tenant, trigger={"type": "record.created", "module": "contacts"}, actions=ACTIONS
    )
    ws, module_id = tenant.workspace.id, tenant.module("contacts").id
    assert matching.automations_for(
        workspace_id=ws, module_id=module_id, trigger_types=["record.created"]
    )
    Automation.objects.filter(pk=automation.pk).update(enabled=False)
    # Another process invalidated: only the shared version token changes here.
    key = matching._KEY.format(ws)
    matching._cache().set(key, "another-process-version", timeout=None)
    assert (
        matching.automations_for(
            workspace_id=ws, module_id=module_id, trigger_types=["record.created"]
        )
        == []
    )


def test_field_changed_matches_only_its_watched_field(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "field.changed", "module": "deals", "field": "stage"},
        actions=ACTIONS,
    )
    ws, module_id = tenant.workspace.id, tenant.module("deals").id
    assert (
        matching.automations_for(
            workspace_id=ws,
            module_id=module_id,
            trigger_types=["field.changed"],
            changed_fields=["value"],
        )
        == []
    )
    assert matching.automations_for(
        workspace_id=ws,
        module_id=module_id,
        trigger_types=["field.changed"],
        changed_fields=["stage", "value"],
    ) == [automation]


def test_saving_an_automation_through_the_orm_invalidates_after_commit(
    tenant, django_capture_on_commit_callbacks
):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=ACTIONS,
        enabled=False,
    )
    contact = make_record(tenant, "contacts", name="A")
    with django_capture_on_commit_callbacks(execute=True):
        automation.enabled = True
        automation.save()  # e.g. the admin
    record_update(record=contact, data={"name": "B"}, actor=tenant.user)
    make_record(tenant, "contacts", name="C")
    assert Run.objects.filter(automation=automation).count() == 1
