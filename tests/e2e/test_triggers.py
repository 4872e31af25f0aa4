"""Every trigger type, end to end through a real worker."""

import json

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from automations.models import Run
from records.services import record_delete, record_update
from tests.e2e.helpers import create_via_api, finished_runs
from tests.factories import make_record

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

NOTE_TASK = {
    "type": "create_record",
    "config": {"module": "tasks", "data": {"name": "{{trigger.event}}: {{record.name}}"}},
}
WEBHOOK_NOTE = {
    "type": "create_record",
    "config": {"module": "tasks", "data": {"name": "{{trigger.event}}: {{webhook.body.name}}"}},
}


def test_record_created(celery_worker, settle, api, tenant):
    automation = create_via_api(
        api,
        {
            "name": "created",
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [NOTE_TASK],
        },
    )
    response = api.post("/v1/modules/contacts/records", {"name": "Ada"}, format="json")
    assert response.status_code == 201
    [run] = settle(lambda: finished_runs(automation))
    assert run.status == "success"
    assert tenant.module("tasks").records.get().values["name"] == "record.created: Ada"


def test_record_updated_sees_previous_values(celery_worker, settle, api, tenant):
    automation = create_via_api(
        api,
        {
            "name": "updated",
            "trigger": {"type": "record.updated", "module": "contacts"},
            "actions": [
                {
                    "type": "create_record",
                    "config": {
                        "module": "tasks",
                        "data": {"name": "{{previous.name}} became {{record.name}}"},
                    },
                }
            ],
        },
    )
    contact = make_record(tenant, "contacts", name="Ada")
    response = api.patch(
        f"/v1/modules/contacts/records/{contact.id}", {"name": "Ada L."}, format="json"
    )
    assert response.status_code == 200
    api.patch(f"/v1/modules/contacts/records/{contact.id}", {"name": "Ada L."}, format="json")
    [run] = settle(lambda: finished_runs(automation))
    assert tenant.module("tasks").records.get().values["name"] == "Ada became Ada L."
    assert run.trigger_data["changed_fields"] == ["name"]


def test_record_deleted(celery_worker, settle, api, tenant):
    automation = create_via_api(
        api,
        {
            "name": "deleted",
            "trigger": {"type": "record.deleted", "module": "contacts"},
            "actions": [NOTE_TASK],
        },
    )
    contact = make_record(tenant, "contacts", name="Gone")
    assert api.delete(f"/v1/modules/contacts/records/{contact.id}").status_code in (200, 204)
    [run] = settle(lambda: finished_runs(automation))
    assert run.status == "success"
    assert tenant.module("tasks").records.get().values["name"] == "record.deleted: Gone"


def test_field_changed(celery_worker, settle, api, tenant):
    automation = create_via_api(
        api,
        {
            "name": "stage",
            "trigger": {"type": "field.changed", "module": "deals", "field": "stage"},
            "actions": [NOTE_TASK],
        },
    )
    deal = make_record(tenant, "deals", name="D", stage="prospecting")
    record_update(record=deal, data={"value": 5}, actor=tenant.user)
    record_update(record=deal, data={"stage": "proposal"}, actor=tenant.user)
    [run] = settle(lambda: finished_runs(automation))
    assert run.trigger_data["previous"]["stage"] == "prospecting"
    assert tenant.module("tasks").records.count() == 1


def test_webhook(celery_worker, settle, api, tenant):
    automation = create_via_api(
        api,
        {
            "name": "hook",
            "trigger": {"type": "webhook", "webhook_path": "inbound"},
            "actions": [WEBHOOK_NOTE],
        },
    )
    response = APIClient().post(
        f"/v1/webhooks/{automation.id}/inbound",
        data=json.dumps({"name": "Bob"}),
        content_type="application/json",
    )
    assert response.status_code == 202
    log_id = response.json()["data"]["log_id"]
    settle(lambda: finished_runs(automation))
    assert Run.objects.get(id=log_id).status == "success"
    assert tenant.module("tasks").records.get().values["name"] == "webhook: Bob"


def test_manual(celery_worker, settle, api, tenant):
    automation = create_via_api(
        api,
        {
            "name": "button",
            "trigger": {"type": "manual", "module": "contacts"},
            "actions": [
                {
                    "type": "update_record",
                    "config": {"updates": {"status": "pressed by {{user.email}}"}},
                }
            ],
        },
    )
    contact = make_record(tenant, "contacts", name="Ada")
    response = api.post(
        f"/v1/automations/{automation.id}/trigger", {"record_id": contact.id}, format="json"
    )
    assert response.status_code == 202
    [run] = settle(lambda: finished_runs(automation))
    assert run.id == response.json()["data"]["log_id"]
    contact.refresh_from_db()
    assert contact.values["status"] == f"pressed by {tenant.user.email}"


def test_a_rolled_back_change_never_runs(celery_worker, settle, api, tenant):
    automation = create_via_api(
        api,
        {
            "name": "created",
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [NOTE_TASK],
        },
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        make_record(tenant, "contacts", name="Ghost")
        raise RuntimeError("the request failed after the save")
    make_record(tenant, "contacts", name="Real")
    [run] = settle(lambda: finished_runs(automation))
    assert run.trigger_data["record"]["name"] == "Real"
    assert Run.objects.count() == 1


def test_a_deleted_records_automation_in_the_same_request(celery_worker, settle, api, tenant):
    automation = create_via_api(
        api,
        {
            "name": "deleted",
            "trigger": {"type": "record.deleted", "module": "tasks"},
            "actions": [
                {
                    "type": "create_record",
                    "config": {
                        "module": "contacts",
                        "data": {"name": "{{record.name}} ({{record.priority}})"},
                    },
                }
            ],
        },
    )
    task = make_record(tenant, "tasks", name="Call", priority="urgent")
    record_delete(record=task, actor=tenant.user)
    settle(lambda: finished_runs(automation))
    assert tenant.module("contacts").records.get().values["name"] == "Call (urgent)"
