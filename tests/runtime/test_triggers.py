"""Record triggers: which record changes start runs, and what the runs see."""

import pytest
from django.db import transaction

from automations.models import Run
from records.services import record_delete, record_update
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db

MARK = [{"type": "update_record", "config": {"updates": {"status": "seen"}}}]


def test_record_created_starts_one_run_with_the_event_snapshot(tenant):
    automation = make_automation(
        tenant, trigger={"type": "record.created", "module": "contacts"}, actions=MARK
    )
    record = make_record(tenant, "contacts", name="Ada", email="ada@example.com")
    [run] = runs_of(automation)
    assert run.status == Run.Status.PENDING
    assert run.record_id == record.id
    data = run.trigger_data
    assert data["event"] == "record.created"
    assert data["record"]["name"] == "Ada"
    assert data["previous"] is None
    assert data["user"] == {"id": tenant.user.id, "email": tenant.user.email}
    assert run.chain["depth"] == 1
    assert run.chain["visited"] == [f"{automation.id}:{record.id}"]


def test_record_updated_fires_only_when_a_value_changed(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.updated", "module": "contacts"},
        actions=[{"type": "delay", "config": {"duration": 1, "unit": "seconds"}}],
    )
    record = make_record(tenant, "contacts", name="Ada")
    record_update(record=record, data={"name": "Ada"}, actor=tenant.user)
    assert runs_of(automation) == []
    record_update(record=record, data={"name": "Ada L."}, actor=tenant.user)
    [run] = runs_of(automation)
    assert run.trigger_data["previous"]["name"] == "Ada"
    assert run.trigger_data["record"]["name"] == "Ada L."
    assert run.trigger_data["changed_fields"] == ["name"]


def test_field_changed_fires_only_for_its_field(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "field.changed", "module": "deals", "field": "stage"},
        actions=MARK,
    )
    deal = make_record(tenant, "deals", name="Big", stage="prospecting", value=10)
    record_update(record=deal, data={"value": 20}, actor=tenant.user)
    assert runs_of(automation) == []
    record_update(record=deal, data={"stage": "proposal"}, actor=tenant.user)
    assert len(runs_of(automation)) == 1


def test_record_deleted_run_sees_the_last_values(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.deleted", "module": "tasks"},
        actions=[
            {
                "type": "create_record",
                "config": {"module": "tasks", "data": {"name": "Deleted: {{record.name}}"}},
            }
        ],
    )
    task = make_record(tenant, "tasks", name="Call Bob", priority="high")
    record_delete(record=task, actor=tenant.user)
    [run] = runs_of(automation)
    assert run.trigger_data["record"]["name"] == "Call Bob"
    assert run.trigger_data["record"]["priority"] == "high"
    drain()
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCESS
    assert tenant.module("tasks").records.get().values["name"] == "Deleted: Call Bob"


def test_conditions_are_evaluated_on_the_event_not_the_current_record(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "field.changed", "module": "deals", "field": "stage"},
        conditions=[{"field": "stage", "operator": "changed_to", "value": "proposal"}],
        actions=MARK,
    )
    deal = make_record(tenant, "deals", name="Big", stage="prospecting")
    record_update(record=deal, data={"stage": "proposal"}, actor=tenant.user)
    # Moves on before any worker looks at the run: the run still belongs to the first change.
    record_update(record=deal, data={"stage": "negotiation"}, actor=tenant.user)
    [run] = runs_of(automation)
    assert run.trigger_data["record"]["stage"] == "proposal"
    assert run.conditions_evaluated == [
        {
            "field": "stage",
            "operator": "changed_to",
            "value": "proposal",
            "actual_value": "proposal",
            "previous_value": "prospecting",
            "passed": True,
        }
    ]


def test_failing_conditions_write_no_run(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "deals"},
        conditions=[{"field": "value", "operator": "greater_than", "value": 50000}],
        actions=MARK,
    )
    make_record(tenant, "deals", name="Small", value=100)
    assert runs_of(automation) == []
    make_record(tenant, "deals", name="Large", value=60000)
    assert len(runs_of(automation)) == 1


@pytest.mark.parametrize(
    "stored",
    [{"field": "value", "operator": "equals", "value": 1}, 7],
    ids=["a bare condition object", "a number"],
)
def test_stored_conditions_of_no_known_shape_fail_the_run_instead_of_being_skipped(tenant, stored):
    automation = make_automation(
        tenant, trigger={"type": "record.created", "module": "deals"}, actions=MARK
    )
    type(automation).objects.filter(pk=automation.pk).update(conditions=stored)
    from automations.runtime import matching

    matching.invalidate(tenant.workspace.id)
    make_record(tenant, "deals", name="X", value=1)
    [run] = runs_of(automation)
    assert run.status == Run.Status.FAILED
    assert run.error_code == "condition_evaluation_failed"


def test_a_condition_that_cannot_be_evaluated_logs_a_failed_run(tenant):
    automation = make_automation(
        tenant, trigger={"type": "record.created", "module": "deals"}, actions=MARK
    )
    # A definition that validation would refuse, as if written around it (e.g. an old row).
    type(automation).objects.filter(pk=automation.pk).update(
        conditions=[{"field": "value", "operator": "bogus", "value": 1}]
    )
    from automations.runtime import matching

    matching.invalidate(tenant.workspace.id)
    make_record(tenant, "deals", name="X", value=1)
    [run] = runs_of(automation)
    assert run.status == Run.Status.FAILED
    assert run.error_code == "condition_evaluation_failed"
    automation.refresh_from_db()
    assert automation.consecutive_failures == 1
    assert automation.last_run_status == "failed"


def test_a_rolled_back_change_leaves_no_run_and_publishes_nothing(tenant, published):
    automation = make_automation(
        tenant, trigger={"type": "record.created", "module": "contacts"}, actions=MARK
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        make_record(tenant, "contacts", name="Ghost")
        raise RuntimeError("rollback")
    assert runs_of(automation) == []
    assert published == []


def test_disabled_automations_do_not_run(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=MARK,
        enabled=False,
    )
    make_record(tenant, "contacts", name="Ada")
    assert runs_of(automation) == []


def test_other_modules_and_workspaces_are_not_matched(tenant, other_tenant):
    automation = make_automation(
        tenant, trigger={"type": "record.created", "module": "contacts"}, actions=MARK
    )
    make_record(tenant, "leads", name="Lead")
    make_record(other_tenant, "contacts", name="Other")
    assert runs_of(automation) == []
