"""POST /v1/automations/{id}/trigger: accept and queue a manual run (the run is the engine's)."""

import pytest

from automations.models import Automation, Run
from tests.factories import make_record

MANUAL = {
    "name": "Manual follow-up",
    "enabled": True,
    "trigger": {"type": "manual", "module": "contacts"},
    "actions": [{"type": "update_record", "config": {"updates": {"status": "contacted"}}}],
}


def create(api, **overrides):
    response = api.post("/v1/automations", {**MANUAL, **overrides}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def test_trigger_with_the_seed_body_queues_a_run(api, tenant):
    automation = create(api)
    record = make_record(tenant, "contacts", name="Xyz")

    response = api.post(
        f"/v1/automations/{automation['id']}/trigger", {"record_id": record.id}, format="json"
    )

    assert response.status_code == 202
    data = response.json()["data"]
    run = Run.objects.get(pk=data["log_id"])
    assert data["log_id"].startswith("log_")
    assert data["status"] == run.status
    assert run.automation_id == automation["id"]
    assert run.record_id == record.id
    assert run.trigger_data["event"] == "manual"


def test_trigger_unknown_record_is_404_record_not_found(api):
    automation = create(api)

    response = api.post(
        f"/v1/automations/{automation['id']}/trigger",
        {"record_id": "rec_missing123"},
        format="json",
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "record_not_found"
    assert not Run.objects.exists()


def test_trigger_a_record_of_another_module_is_404(api, tenant):
    automation = create(api)
    deal = make_record(tenant, "deals", name="Deal")

    response = api.post(
        f"/v1/automations/{automation['id']}/trigger", {"record_id": deal.id}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "record_not_found"


def test_trigger_needs_a_record_id(api):
    automation = create(api)

    response = api.post(f"/v1/automations/{automation['id']}/trigger", {}, format="json")

    assert response.status_code == 400
    assert "record_id" in response.json()["error"]["details"]


def test_trigger_of_a_non_manual_automation_is_400(api, tenant):
    automation = create(api, trigger={"type": "record.created", "module": "contacts"})
    record = make_record(tenant, "contacts", name="Xyz")

    response = api.post(
        f"/v1/automations/{automation['id']}/trigger", {"record_id": record.id}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_manual_trigger"


def test_trigger_of_a_disabled_automation_is_409(api, tenant):
    automation = create(api, enabled=False)
    record = make_record(tenant, "contacts", name="Xyz")

    response = api.post(
        f"/v1/automations/{automation['id']}/trigger", {"record_id": record.id}, format="json"
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "automation_disabled"
    assert error["message"]
    assert error["details"]["automation_id"] == automation["id"]
    assert not Run.objects.exists()


def test_trigger_after_the_circuit_breaker_answers_the_seeds_error(api, tenant):
    automation = create(api, enabled=False)
    reason = {
        "code": "automation_disabled",
        "message": "Automation disabled after 5 consecutive failures",
        "last_error": "webhook_connection_failed",
    }
    Automation.objects.filter(pk=automation["id"]).update(disabled_reason=reason)
    record = make_record(tenant, "contacts", name="Xyz")

    response = api.post(
        f"/v1/automations/{automation['id']}/trigger", {"record_id": record.id}, format="json"
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert {k: error[k] for k in ("code", "message", "last_error")} == reason


@pytest.mark.parametrize("body", [{"record_id": 5}, {"record_id": "x", "extra": 1}])
def test_trigger_rejects_a_malformed_body(api, body):
    automation = create(api)

    response = api.post(f"/v1/automations/{automation['id']}/trigger", body, format="json")

    assert response.status_code == 400
