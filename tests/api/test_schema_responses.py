"""/v1/schema against what the API really answers.

Every operation of the schema is driven with real requests over real data (two workspaces,
records, an automation of every trigger type, runs executed by the real executor: successful,
failed with an action's error, waiting, from a webhook; dry runs with rendered emails and a
render error; notifications), and every response, errors included, is validated against the
schema of its operation and status by a strict OpenAPI 3.0 validator (tests/api/
openapi_contract.py). The operations are read from the schema itself: one without a real 2xx
response, or (when it has them) without a 401 and a 404, fails the test, so a new endpoint
cannot be left out.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.services import api_key_create, membership_ensure, user_get_or_create
from automations.models import EmailTemplate, Run
from automations.notifications import notification_create
from automations.services import automation_create, email_template_create
from records.services import field_create
from tests.api.openapi_contract import Contract, load_schema, operations
from tests.factories import make_record
from tests.runtime.conftest import _fresh_matching_index, published
from tests.runtime.support import drain, make_automation

# The engine's fixtures: a fresh matching index per test (ids repeat across tests on SQLite,
# so one test's index must not serve another) and no broker (runs are drained in process).
__all__ = ["_fresh_matching_index", "published"]
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("_fresh_matching_index", "published"),
]


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict[str, Any]:
    with django_db_blocker.unblock():
        return load_schema()


@pytest.fixture
def engine(settings):
    """Runs are executed in this process by the real executor (tests.runtime.support.drain)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AUTOMATIONS_RETRY_DELAYS = []  # a failed action fails its run at once
    settings.API_RATE_LIMIT = ""
    settings.AUTOMATIONS_WEBHOOK_RATE_LIMIT = ""


class Driver:
    """Sends requests and holds each response to the schema."""

    def __init__(self, contract: Contract, client: APIClient) -> None:
        self.contract = contract
        self.client = client

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        status: int,
        client: APIClient | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        **headers: str,
    ) -> Any:
        client = client or self.client
        send = getattr(client, method.lower())
        if raw is not None:
            response = send(path, raw, content_type=content_type, **headers)
        elif body is not None:
            response = send(path, body, format="json", **headers)
        else:
            response = send(path, **headers)
        assert response.status_code == status, (
            f"{method} {path}: expected {status}, got {response.status_code}: "
            f"{response.content[:400]!r}"
        )
        self.contract.check(method, path, response)
        return json.loads(response.content)


def _welcome_template(tenant) -> EmailTemplate:
    return email_template_create(
        workspace=tenant.workspace,
        data={
            "name": "schema_welcome",
            "subject": "Welcome {{ record.name }}",
            "body": "Hello {{ record.name }} from {{ company }}",
        },
    )


def _notify(tenant) -> dict[str, Any]:
    return {
        "type": "send_notification",
        "config": {
            "user_id": tenant.user.id,
            "title": "Saw {{ record.name }}",
            "message": "{{ record.email }}",
            "link": "/records/contacts/{{ record.id }}",
        },
    }


def _world(tenant, other_tenant) -> dict[str, Any]:
    """Objects of every kind in the caller's workspace, and another workspace's."""
    field_create(module=tenant.module("contacts"), key="score", label="Score", type="number")
    _welcome_template(tenant)
    ann = make_record(tenant, "contacts", name="Ann", email="ann@example.com", status="new")
    bob = make_record(tenant, "contacts", name="Bob", email="bob@example.com")
    group = {
        "any": [
            {"field": "email", "operator": "is_not_empty"},
            {"all": [{"field": "name", "operator": "starts_with", "value": "A"}]},
        ]
    }
    notify = _notify(tenant)
    created = make_automation(
        tenant,
        name="Welcome",
        trigger={"type": "record.created", "module": "contacts"},
        conditions=group,
        actions=[
            {
                "type": "send_email",
                "config": {
                    "to": "{{ record.email }}",
                    "template": "schema_welcome",
                    "data": {"company": "Acme"},
                },
            },
            # Renders for a date only: the dry run of a contact shows the render error.
            {
                "type": "send_notification",
                "config": {
                    "user_id": tenant.user.id,
                    "title": "{{ record.name | add_days: 1 }}",
                    "message": "m",
                },
            },
        ],
        enabled=False,
    )
    automations = {
        "created": created,
        "updated": make_automation(
            tenant,
            name="Status moved",
            trigger={"type": "record.updated", "module": "contacts"},
            conditions=[{"field": "status", "operator": "changed_to", "value": "won"}],
            actions=[notify],
            enabled=False,
        ),
        "deleted": make_automation(
            tenant,
            name="Gone",
            trigger={"type": "record.deleted", "module": "contacts"},
            actions=[notify],
            enabled=False,
        ),
        "field": make_automation(
            tenant,
            name="Score changed",
            trigger={"type": "field.changed", "module": "contacts", "field": "score"},
            actions=[notify],
            enabled=False,
        ),
        "schedule": make_automation(
            tenant,
            name="Mondays",
            trigger={"type": "schedule", "schedule": "0 9 * * 1"},
            timezone="Europe/Paris",
            actions=[
                {"type": "create_record", "config": {"module": "tasks", "data": {"name": "Weekly"}}}
            ],
        ),
        "webhook": make_automation(
            tenant,
            name="Orders",
            trigger={"type": "webhook", "webhook_path": "orders"},
            actions=[{"type": "delay", "config": {"duration": 1, "unit": "hours"}}],
        ),
        "manual": make_automation(
            tenant,
            name="Qualify",
            trigger={"type": "manual", "module": "contacts"},
            conditions=[{"field": "email", "operator": "ends_with", "value": "example.com"}],
            actions=[
                {"type": "update_record", "config": {"updates": {"status": "qualified"}}},
                notify,
            ],
        ),
        "broken": make_automation(
            tenant,
            name="Broken",
            trigger={"type": "manual", "module": "contacts"},
            actions=[
                notify,
                {
                    "type": "update_record",
                    "config": {
                        "record": "related",
                        "module": "accounts",
                        "record_id": "rec_missing1",
                        "updates": {"status": "x"},
                    },
                },
            ],
            error_handling={"disable_after_failures": 1},
        ),
    }
    # A version saved by no one (seed_demo, migrations): created_by is null.
    automation_create(
        workspace=tenant.workspace,
        user=None,
        data={
            "name": "Seeded",
            "trigger": {"type": "manual", "module": "contacts"},
            "actions": [notify],
        },
    )
    # The other workspace's objects: each is "not found" for the caller.
    theirs = make_automation(
        other_tenant,
        name="Theirs",
        trigger={"type": "manual", "module": "contacts"},
        actions=[_notify(other_tenant)],
    )
    their_record = make_record(other_tenant, "contacts", name="Zed")
    their_run = Run.objects.create(
        automation=theirs,
        workspace=other_tenant.workspace,
        status=Run.Status.SUCCESS,
        trigger_data={"event": "manual", "record_id": their_record.id},
    )
    their_note = notification_create(
        workspace=other_tenant.workspace, user=other_tenant.user, title="theirs"
    )
    return {
        "notify": notify,
        "ann": ann,
        "bob": bob,
        "automations": automations,
        "foreign": {
            "automation_id": theirs.id,
            "log_id": their_run.id,
            "record_id": their_record.id,
            "slug": "no-such-module",
            "name": "no_such_template",
            "notification_id": their_note.id,
            "webhook_path": "no-such-path",
        },
    }


def test_every_operation_answers_as_the_schema_says(schema, tenant, other_tenant, engine, settings):
    contract = Contract(schema)
    call = Driver(contract, tenant.client)
    world = _world(tenant, other_tenant)
    autos = world["automations"]
    ann, bob = world["ann"], world["bob"]
    manual, broken, hook = autos["manual"], autos["broken"], autos["webhook"]

    # --- runs, through the API and the real executor ---------------------------------------
    queued = call("POST", f"/v1/automations/{manual.id}/trigger", {"record_id": ann.id}, status=202)
    failing = call(
        "POST", f"/v1/automations/{broken.id}/trigger", {"record_id": bob.id}, status=202
    )
    delivery = call(
        "POST",
        f"/v1/webhooks/{hook.id}/orders?src=shop&tag=a&tag=b",
        raw=b'{"order": {"id": 7, "total": 12.5}}',
        status=202,
        HTTP_WEBHOOK_ID="msg_1",
        HTTP_AUTHORIZATION="Bearer not-for-logs",
    )
    again = call(
        "POST",
        f"/v1/webhooks/{hook.id}/orders",
        raw=b'{"order": {"id": 7}}',
        status=200,
        HTTP_WEBHOOK_ID="msg_1",
    )
    assert again["data"]["duplicate"] is True
    assert again["data"]["log_id"] == delivery["data"]["log_id"]
    call(
        "POST",
        f"/v1/webhooks/{hook.id}/orders",
        raw=b"a=1&a=2&b=",
        content_type="application/x-www-form-urlencoded",
        status=202,
    )
    drain()

    # --- automations ------------------------------------------------------------------------
    page = call("GET", "/v1/automations?per_page=100", status=200)
    assert {a["trigger"]["type"] for a in page["data"]} == {
        "record.created",
        "record.updated",
        "record.deleted",
        "field.changed",
        "schedule",
        "webhook",
        "manual",
    }
    # The circuit breaker tripped on the failed run: disabled_reason is an object.
    tripped = call("GET", f"/v1/automations/{broken.id}", status=200)["data"]
    assert tripped["disabled_reason"]["code"] == "automation_disabled"
    assert (
        call("GET", f"/v1/automations/{manual.id}", status=200)["data"]["disabled_reason"] is None
    )
    call("GET", "/v1/automations?trigger_type=cron", status=400)
    call("GET", "/v1/automations?enabled=maybe", status=400)
    created = call(
        "POST",
        "/v1/automations",
        {
            "name": "Via API",
            "trigger": {"type": "record.created", "module": "contacts"},
            "conditions": {"all": [{"field": "name", "operator": "is_not_empty"}]},
            "actions": [world["notify"]],
        },
        status=201,
    )["data"]
    call("POST", "/v1/automations", {"name": "x", "trigger": {"type": "nope"}}, status=400)
    call(
        "PATCH",
        f"/v1/automations/{created['id']}",
        {"name": "Renamed"},
        status=200,
    )
    # The seed's rule: a change beside "enabled": true is a 400 (test first, then enable).
    call(
        "PATCH",
        f"/v1/automations/{created['id']}",
        {"name": "Renamed again", "enabled": True},
        status=400,
    )
    call("PATCH", f"/v1/automations/{created['id']}", {"actions": "none"}, status=400)
    call("POST", f"/v1/automations/{created['id']}/disable", status=200)
    call("POST", f"/v1/automations/{created['id']}/enable", status=200)
    versions = call("GET", f"/v1/automations/{created['id']}/versions", status=200)
    assert versions["data"][0]["created_by"] is not None
    seeded = next(a for a in page["data"] if a["name"] == "Seeded")
    unsigned = call("GET", f"/v1/automations/{seeded['id']}/versions", status=200)
    assert unsigned["data"][0]["created_by"] is None
    call("GET", f"/v1/automations/{created['id']}/versions?page=0", status=400)

    # --- logs -------------------------------------------------------------------------------
    ok = call("GET", f"/v1/automations/{manual.id}/logs", status=200)["data"]
    assert [run["status"] for run in ok] == ["success"]
    assert ok[0]["conditions_evaluated"][0]["passed"] is True
    failed = call("GET", f"/v1/automations/{broken.id}/logs?status=failed", status=200)["data"]
    assert failed[0]["id"] == failing["data"]["log_id"]
    assert failed[0]["actions_executed"][-1]["error_code"] == "record_not_found"
    hooked = call("GET", f"/v1/automations/{hook.id}/logs?limit=10", status=200)["data"]
    assert {run["status"] for run in hooked} == {"waiting"}
    assert all(run["resumes_at"] for run in hooked)
    call("GET", f"/v1/automations/{hook.id}/logs?status=done", status=400)
    one = call("GET", f"/v1/automations/{manual.id}/logs/{queued['data']['log_id']}", status=200)
    assert one["data"]["trigger_data"]["user"]["email"] == tenant.user.email
    call("POST", f"/v1/automations/{broken.id}/logs/{failed[0]['id']}/retry", status=202)
    call("POST", f"/v1/automations/{manual.id}/logs/{ok[0]['id']}/retry", status=409)

    # --- dry runs ---------------------------------------------------------------------------
    dry = call(
        "POST", f"/v1/automations/{autos['created'].id}/test", {"record_id": ann.id}, status=200
    )["data"]
    email, notice = dry["actions_preview"]
    assert email["email"]["subject"] == "Welcome Ann"
    assert notice["error"]["code"] == "template_render_failed"  # the run's code
    call(
        "POST",
        f"/v1/automations/{autos['updated'].id}/test",
        {"record": {"name": "Ann", "status": "won"}, "previous": {"status": "new"}},
        status=200,
    )
    call(
        "POST",
        f"/v1/automations/{autos['field'].id}/test",
        {"record_id": ann.id, "previous": {"score": 1}},
        status=200,
    )
    call("POST", f"/v1/automations/{autos['deleted'].id}/test", {"record_id": bob.id}, status=200)
    call("POST", f"/v1/automations/{autos['schedule'].id}/test", {}, status=200)
    call(
        "POST",
        f"/v1/automations/{hook.id}/test",
        {"webhook": {"body": {"order": 1}, "query": {"q": "1"}}},
        status=200,
    )
    call("POST", f"/v1/automations/{manual.id}/test", {"record_id": ann.id, "x": 1}, status=400)
    call("POST", f"/v1/automations/{manual.id}/test", {"record_id": "rec_nope"}, status=404)

    # --- manual trigger errors --------------------------------------------------------------
    call("POST", f"/v1/automations/{hook.id}/trigger", {"record_id": ann.id}, status=400)
    call("POST", f"/v1/automations/{manual.id}/trigger", {"record_id": "rec_nope"}, status=404)
    disabled = call(
        "POST", f"/v1/automations/{autos['created'].id}/trigger", {"record_id": ann.id}, status=400
    )
    assert disabled["error"]["code"] == "not_manual_trigger"
    refused = call(
        "POST", f"/v1/automations/{broken.id}/trigger", {"record_id": ann.id}, status=409
    )
    assert refused["error"]["last_error"] == "record_not_found"
    nobody = make_record(tenant, "contacts", name="No mail")
    unmet = call(
        "POST", f"/v1/automations/{manual.id}/trigger", {"record_id": nobody.id}, status=422
    )
    assert unmet["error"]["details"]["conditions_evaluated"][0]["passed"] is False

    # --- inbound webhook errors -------------------------------------------------------------
    call("POST", f"/v1/webhooks/{hook.id}/orders", raw=b"{nope", status=400)
    call(
        "POST",
        f"/v1/webhooks/{hook.id}/orders",
        raw=b"<xml/>",
        content_type="application/xml",
        status=415,
    )
    signed = make_automation(
        tenant,
        name="Signed",
        trigger={"type": "webhook", "webhook_path": "signed"},
        webhook_secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        actions=[{"type": "delay", "config": {"duration": 1, "unit": "hours"}}],
    )
    call("POST", f"/v1/webhooks/{signed.id}/signed", raw=b"{}", status=401)

    # --- email templates --------------------------------------------------------------------
    call("GET", "/v1/email_templates", status=200)
    call(
        "POST",
        "/v1/email_templates",
        {"name": "bye", "subject": "Bye {{ record.name }}", "body": "See you"},
        status=201,
    )
    call("POST", "/v1/email_templates", {"name": "bye", "subject": "s", "body": "b"}, status=400)
    call("GET", "/v1/email_templates/bye", status=200)
    call("PATCH", "/v1/email_templates/bye", {"subject": "Farewell"}, status=200)
    call("PATCH", "/v1/email_templates/bye", {"subject": 3}, status=400)
    call("PATCH", "/v1/email_templates/schema_welcome", {"name": "renamed"}, status=409)
    call("DELETE", "/v1/email_templates/schema_welcome", status=409)
    call("DELETE", "/v1/email_templates/bye", status=200)

    # --- modules, fields, records -----------------------------------------------------------
    modules = call("GET", "/v1/modules", status=200)["data"]
    assert {"contacts", "deals"} <= {m["slug"] for m in modules}
    call("POST", "/v1/modules", {"slug": "vaults", "name": "Vaults"}, status=201)
    call("POST", "/v1/modules", {"slug": "Bad Slug!", "name": "x"}, status=400)
    call("GET", "/v1/modules/vaults", status=200)
    call("GET", "/v1/modules/vaults/fields", status=200)
    call(
        "POST",
        "/v1/modules/vaults/fields",
        {"key": "level", "label": "Level", "type": "select", "options": ["a", "b"]},
        status=201,
    )
    call("POST", "/v1/modules/vaults/fields", {"key": "x", "label": "X", "type": "?"}, status=400)
    vault = call("POST", "/v1/modules/vaults/records", {"level": "a"}, status=201)["data"]
    call("POST", "/v1/modules/vaults/records", {"level": "z"}, status=400)
    listed = call("GET", "/v1/modules/contacts/records?ordering=name", status=200)
    assert listed["meta"]["total"] >= 3
    call("GET", "/v1/modules/contacts/records?shoe_size=9", status=400)
    call("GET", f"/v1/modules/contacts/records/{ann.id}", status=200)
    call("PATCH", f"/v1/modules/contacts/records/{ann.id}", {"score": 41.5}, status=200)
    call("PATCH", f"/v1/modules/contacts/records/{ann.id}", {"score": "many"}, status=400)
    call("DELETE", f"/v1/modules/vaults/records/{vault['id']}", status=200)
    call("GET", f"/v1/modules/vaults/records/{vault['id']}", status=404)

    # --- notifications, users, workspace ----------------------------------------------------
    notes = call("GET", "/v1/notifications", status=200)
    assert notes["meta"]["unread_count"] >= 1
    assert any(n["log_id"] for n in notes["data"])
    call("GET", "/v1/notifications?unread=sometimes", status=400)
    call("POST", f"/v1/notifications/{notes['data'][0]['id']}/read", status=200)
    call("POST", "/v1/notifications/read_all", status=200)
    call("GET", "/v1/users", status=200)
    call("GET", "/v1/users/me", status=200)
    call("GET", "/v1/workspace", status=200)
    call("POST", "/v1/workspace/webhook_secret/rotate", status=200)
    rotated = call("GET", "/v1/workspace", status=200)["data"]
    assert rotated["previous_outbound_webhook_secret_expires_at"] is not None
    member, _ = user_get_or_create(email="member@acme.example")
    membership_ensure(workspace=tenant.workspace, user=member, role=Membership.Role.MEMBER)
    _, member_key = api_key_create(workspace=tenant.workspace, user=member)
    member_client = APIClient()
    member_client.credentials(HTTP_AUTHORIZATION=f"Bearer {member_key}")
    call("POST", "/v1/workspace/webhook_secret/rotate", status=403, client=member_client)

    # --- what any operation can answer ------------------------------------------------------
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(tenant.user)
    call("GET", "/v1/users/me", status=200, client=session)
    call("POST", "/v1/notifications/read_all", status=403, client=session)
    call("POST", "/v1/automations", raw=b"x" * 1_048_577, status=413)
    call("POST", "/v1/automations", raw=b"name=x", content_type="text/plain", status=415)
    call("POST", "/v1/automations", raw=b'{"name": ', status=400)

    anonymous = APIClient()
    for op in operations(schema):
        if op.authenticated:
            params = {name: world["foreign"][name] for name in op.path_parameters}
            call(op.method, op.url(**params), status=401, client=anonymous)
    for op in operations(schema):
        if op.path_parameters:
            body = {} if op.method in ("post", "patch") else None
            call(op.method, op.url(**world["foreign"]), body, status=404)

    # Deletions last: they take away what the calls above use.
    call("DELETE", f"/v1/automations/{created['id']}", status=200)
    call("GET", f"/v1/automations/{created['id']}", status=404)

    # Over the per-key rate limit: 429 in the error shape. (Windows are fixed: should the
    # first two requests fall in two windows, the third is over the limit.)
    settings.API_RATE_LIMIT = "1/day"
    _, key = api_key_create(workspace=tenant.workspace, user=tenant.user)
    limited = APIClient()
    limited.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    answers = []
    for _ in range(3):
        answers.append(limited.get("/v1/users/me"))
        contract.check("GET", "/v1/users/me", answers[-1])
        if answers[-1].status_code == 429:
            break
    assert [a.status_code for a in answers][-1] == 429
    assert "Retry-After" in answers[-1].headers  # its value is checked against the schema

    missing = _missing_coverage(schema, contract)
    assert not missing, "operations without the real responses they must have:\n" + "\n".join(
        missing
    )


def _missing_coverage(schema: dict[str, Any], contract: Contract) -> list[str]:
    missing = []
    for op in operations(schema):
        seen = contract.seen.get(op.operation_id, set())
        wanted = {"a 2xx": any(200 <= s < 300 for s in seen)}
        if op.authenticated:
            wanted["401"] = 401 in seen
        if op.path_parameters:
            wanted["404"] = 404 in seen
        lacking = [name for name, ok in wanted.items() if not ok]
        if lacking:
            missing.append(f"  {op.method.upper()} {op.template} ({op.operation_id}): {lacking}")
    return missing
