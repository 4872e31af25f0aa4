"""Hostile JSON (tests/security/hostile.py) through every entrance: each API operation that
takes a body, the inbound webhook endpoint (signed or not, and a retry of the same delivery),
the builder, the other web forms and the admin's JSON fields.

What must hold everywhere: a payload the JSON policy refuses is a 400 in the error shape (a
form error on the web and in the admin) and nothing is stored; no payload is ever a 500.
Found by the adversarial pass of issue 15 (items 4-7); before, most of these were 500s.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from automations.runtime import matching
from automations.services import email_template_create
from primitives import jsonpolicy
from records.services import field_create, module_create
from tests.factories import make_record
from tests.runtime.support import make_automation
from tests.security.hostile import (
    AUTOMATION,
    DATE_AUTOMATION,
    GROUPED_AUTOMATION,
    HOLE,
    PAYLOADS,
    Payload,
    body_with,
    stored_state,
)

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(b"hostile-json-test-secret-32-byte").decode()
DELAY = [{"type": "delay", "config": {"duration": 1, "unit": "seconds"}}]
WEBHOOK_BODY = [{"type": "call_webhook", "config": {"url": "https://hooks.example.com/h"}}]


@pytest.fixture
def world(tenant, settings):
    settings.API_RATE_LIMIT = ""
    settings.AUTOMATIONS_WEBHOOK_RATE_LIMIT = ""
    manual = make_automation(
        tenant, trigger={"type": "manual", "module": "contacts"}, actions=DELAY
    )
    hook = make_automation(
        tenant, trigger={"type": "webhook", "webhook_path": "hostile"}, actions=DELAY
    )
    signed = make_automation(
        tenant,
        trigger={"type": "webhook", "webhook_path": "signed"},
        actions=DELAY,
        webhook_secret=SECRET,
    )
    module = module_create(workspace=tenant.workspace, slug="vault", name="Vault")
    field_create(module=module, key="codename", label="Codename", type="text")
    email_template_create(
        workspace=tenant.workspace, data={"name": "hostile", "subject": "s", "body": "b"}
    )
    record = make_record(tenant, "contacts", name="Ann", email="ann@example.com")
    deal = make_record(tenant, "deals", name="Big", value=10)
    matching.invalidate(tenant.workspace.id)
    return {
        "manual": manual,
        "hook": hook,
        "signed": signed,
        "record": record,
        "deal": deal,
    }


# --- the API: every operation with a body --------------------------------------------------

# Bodies beyond the schema's own properties (which every operation also gets): where the
# payload is deepest and most dangerous (a condition value, a call_webhook body, a dry run's
# record, a record's typed fields).
API_CASES: dict[str, tuple[str, str, list[str]]] = {
    "automations_create": (
        "POST",
        "/v1/automations",
        [AUTOMATION, DATE_AUTOMATION, GROUPED_AUTOMATION],
    ),
    "automations_partial_update": (
        "PATCH",
        "/v1/automations/{manual}",
        [
            '{"conditions": [{"field": "name", "operator": "equals", "value": @HOLE@}]}',
            '{"actions": [{"type": "call_webhook", "config": '
            '{"url": "https://hooks.example.com/h", "body": @HOLE@}}]}',
        ],
    ),
    "automations_test": (
        "POST",
        "/v1/automations/{manual}/test",
        ['{"record": {"name": @HOLE@}}', '{"record": {"last_contact_date": @HOLE@}}'],
    ),
    "automations_trigger": ("POST", "/v1/automations/{manual}/trigger", []),
    "email_templates_create": (
        "POST",
        "/v1/email_templates",
        ['{"name": "t2", "subject": @HOLE@, "body": "b"}'],
    ),
    "email_templates_partial_update": ("PATCH", "/v1/email_templates/hostile", []),
    "modules_create": ("POST", "/v1/modules", ['{"slug": "m2", "name": @HOLE@}']),
    "module_fields_create": (
        "POST",
        "/v1/modules/vault/fields",
        ['{"key": "k2", "label": "K", "type": "select", "options": @HOLE@}'],
    ),
    "records_create": (
        "POST",
        "/v1/modules/deals/records",
        ['{"name": "d", "value": @HOLE@}', '{"name": "d", "close_date": @HOLE@}'],
    ),
    "records_partial_update": (
        "PATCH",
        "/v1/modules/contacts/records/{record}",
        ['{"last_contact_date": @HOLE@}', '{"email": @HOLE@}'],
    ),
    "webhooks_receive": (
        "POST",
        "/v1/webhooks/{hook}/hostile",
        ['{"order": {"lines": [@HOLE@]}}'],
    ),
}


def _operations_with_bodies() -> dict[str, list[str]]:
    """operationId -> its JSON body's top-level properties, from the served schema."""
    response = Client().get("/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    components = schema.get("components", {}).get("schemas", {})
    found: dict[str, list[str]] = {}
    for operations in schema["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            body = operation["requestBody"]["content"].get("application/json", {}).get("schema")
            while isinstance(body, dict) and "$ref" in body:
                body = components[body["$ref"].rsplit("/", 1)[-1]]
            found[operation["operationId"]] = sorted((body or {}).get("properties", {}))
    return found


OPERATIONS = _operations_with_bodies()


def test_every_operation_with_a_body_gets_the_hostile_payloads():
    assert set(API_CASES) == set(OPERATIONS)


def _api_params():
    for operation in sorted(API_CASES):
        for payload in PAYLOADS:
            yield pytest.param(operation, payload, id=f"{operation}-{payload}")


@pytest.mark.parametrize(("operation", "payload"), list(_api_params()))
def test_hostile_json_through_the_api(tenant, world, operation: str, payload: Payload):
    method, url, templates = API_CASES[operation]
    url = url.format(**{k: v.id for k, v in world.items()})
    bodies = [HOLE, *(f'{{"{name}": {HOLE}}}' for name in OPERATIONS[operation]), *templates]
    for template in bodies:
        before = stored_state()
        response = tenant.client.generic(
            method, url, body_with(template, payload), content_type="application/json"
        )
        where = f"{method} {url} {template[:80]}"
        assert response.status_code < 500, (where, response.content[:300])
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["code"] and error["message"], where
        if payload.refused:
            assert response.status_code == 400, (where, response.content[:300])
            assert error["code"] in ("validation_error", "invalid_json"), where
            assert stored_state() == before, where


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        ('{"name": NaN}', "name", "must be a finite number"),
        ('{"name": "x", "data": {"v": [1, 1e400]}}', "data.v[1]", "must be a finite number"),
        ('{"name": ' + "9" * 5000 + "}", "name", "more than 4300 digits"),
        ('{"a": ' + "[" * 64 + "]" * 64 + "}", "a" + "[0]" * 63, "nests deeper than 64"),
    ],
)
def test_the_error_names_the_path_and_the_reason(api, body, path, message):
    response = api.post("/v1/modules/contacts/records", body, content_type="application/json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == [path]
    assert message in error["details"][path][0]
    assert error["message"].startswith(f"{path}: ")


def test_a_definition_as_deep_as_the_bound_allows_is_accepted(api):
    """The bound refuses hostile depth, not real definitions: a call_webhook body 59 levels
    deep inside a definition (64 levels in all) still saves."""
    body = AUTOMATION.replace('"value": @HOLE@', '"value": 5').replace(
        "@HOLE@", "[" * 59 + "]" * 59
    )

    response = api.post("/v1/automations", body, content_type="application/json")

    assert response.status_code == 201, response.content


def test_the_poison_call_webhook_body_is_refused_at_save_not_at_run_time(api, world):
    """`[`x500 `]`x500 (1 KB) used to save with 201; its dry run was a 500 and its run died
    with RecursionError in the worker."""
    body = AUTOMATION.replace('"value": @HOLE@', '"value": 5').replace(
        "@HOLE@", "[" * 500 + "]" * 500
    )
    before = stored_state()

    response = api.post("/v1/automations", body, content_type="application/json")

    assert response.status_code == 400
    (path,) = response.json()["error"]["details"]
    assert path.startswith("actions[0].config.body[0]")
    assert stored_state() == before


# --- the inbound webhook endpoint ----------------------------------------------------------


def _signed_headers(body: bytes, msg_id: str) -> dict[str, str]:
    when = datetime.now(UTC)
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(when.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": Webhook(SECRET).sign(msg_id, when, body.decode()),
    }


@pytest.mark.parametrize("payload", PAYLOADS, ids=str)
@pytest.mark.parametrize("template", [HOLE, '{"event": "x", "data": @HOLE@}'])
def test_hostile_json_through_the_inbound_webhook(world, payload: Payload, template: str):
    """Unauthenticated, and signed (a valid signature must not get further); the retry of the
    same webhook-id is answered the same way, with nothing stored either time."""
    body = body_with(template, payload)
    sends = [
        (f"/v1/webhooks/{world['hook'].id}/hostile", {}),
        (f"/v1/webhooks/{world['signed'].id}/signed", _signed_headers(body, "msg_hostile")),
        (f"/v1/webhooks/{world['signed'].id}/signed", _signed_headers(body, "msg_hostile")),
    ]
    for (url, headers), accepted in zip(sends, (202, 202, 200), strict=True):
        before = stored_state()
        response = APIClient().post(url, body, content_type="application/json", **headers)
        assert response.status_code < 500, response.content[:300]
        if payload.refused:
            assert response.status_code == 400, response.content[:300]
            error = response.json()["error"]
            assert error["code"] == "validation_error"
            assert next(iter(error["details"])).startswith("body"), error
            assert stored_state() == before
        else:  # stored once; the retry names the run the first delivery started
            assert response.status_code == accepted, response.content[:300]
            assert response.json()["data"].get("duplicate", False) is (accepted == 200)


def test_a_refused_webhook_body_names_the_path_inside_the_body(world):
    response = APIClient().post(
        f"/v1/webhooks/{world['hook'].id}/hostile",
        '{"order": {"total": 1e400}}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["body.order.total"]


def test_a_webhook_body_as_deep_as_the_bound_allows_is_accepted(world):
    """The body's depth is counted from the body, as its refusal message says (the bound is
    MAX_DEPTH levels), not from the run's wrapper around it; one level more is refused."""
    url = f"/v1/webhooks/{world['hook'].id}/hostile"
    deepest = "[" * jsonpolicy.MAX_DEPTH + "]" * jsonpolicy.MAX_DEPTH

    accepted = APIClient().post(url, deepest, content_type="application/json")
    refused = APIClient().post(url, f"[{deepest}]", content_type="application/json")

    assert accepted.status_code == 202, accepted.content[:300]
    assert refused.status_code == 400
    assert jsonpolicy.TOO_DEEP in refused.json()["error"]["message"]


# --- the web: builder and the other forms --------------------------------------------------


@pytest.fixture
def web(tenant) -> Client:
    client = Client()
    client.force_login(tenant.user)
    return client


BUILDER_DEFINITIONS = [AUTOMATION, DATE_AUTOMATION, GROUPED_AUTOMATION]


def _form_error_page(response, where: str) -> str:
    assert response.status_code == 400, (where, response.status_code)
    page = response.content.decode()
    assert "The automation was not saved" in page, where
    return page


@pytest.mark.parametrize("payload", PAYLOADS, ids=str)
def test_hostile_json_in_the_builders_definition(web, world, payload: Payload):
    """The builder parses with the API's policy and validates through the same service: a
    refused value is shown on the definition field (with its path), kept as typed."""
    for template in BUILDER_DEFINITIONS:
        raw = body_with(template, payload).decode()
        definition = json.loads(raw) if not payload.refused else None
        before = stored_state()
        response = web.post("/automations/new", {"name": "h", "description": "", "definition": raw})
        assert response.status_code < 500, template
        if payload.refused:
            page = _form_error_page(response, template)
            assert 'data-error-for="definition"' in page
            assert stored_state() == before
        elif response.status_code == 400:
            assert definition is not None


TYPED = [p for p in PAYLOADS if p.typed is not None]
# Typed into a number field, these are not numbers (finite ones) and must be a form error.
NOT_NUMBERS = {"nan", "infinity", "minus-infinity", "nul"}


def _text_posts(world, text: str) -> list[tuple[str, dict[str, str]]]:
    definition = json.dumps({"trigger": {"type": "manual", "module": "contacts"}, "actions": DELAY})
    return [
        ("/automations/new", {"name": text, "description": "", "definition": definition}),
        ("/automations/new", {"name": "h", "description": text, "definition": definition}),
        ("/records/contacts/new", {"name": text}),
        (f"/records/contacts/{world['record'].id}/edit", {"name": text}),
        ("/settings/api-keys/", {"name": text}),
        (
            f"/automations/{world['manual'].id}/test",
            {"record_id": world["record"].id, "changed_field": "name", "previous_value": text},
        ),
    ]


@pytest.mark.parametrize("payload", TYPED, ids=str)
def test_hostile_text_in_the_web_forms_text_fields(web, world, payload: Payload):
    """Any text may be typed where text goes, except NUL: that is a form error (the same
    policy as the API's), never a 500; nothing is stored for a refused form."""
    for url, data in _text_posts(world, payload.typed):
        before = stored_state()
        response = web.post(url, data)
        assert response.status_code < 500, url
        if "\x00" in payload.typed:
            assert response.status_code in (200, 400), (url, response.status_code)
            assert stored_state() == before, url


def _typed_params():
    for payload in TYPED:
        yield pytest.param(payload, id=str(payload))


@pytest.mark.parametrize("payload", list(_typed_params()))
def test_hostile_text_in_the_record_forms_typed_fields(web, world, payload: Payload):
    posts = [
        ("/records/deals/new", {"name": "d", "value": payload.typed}),
        ("/records/deals/new", {"name": "d", "close_date": payload.typed}),
        ("/records/contacts/new", {"name": "c", "last_contact_date": payload.typed}),
    ]
    for url, data in posts:
        before = stored_state()
        response = web.post(url, data)
        assert response.status_code < 500, (url, data)
        if payload.name in NOT_NUMBERS and "value" in data:
            assert response.status_code in (200, 400), (url, response.status_code)
            assert stored_state() == before, url


# --- the admin ------------------------------------------------------------------------------


def _admin_automation_form(tenant, **overrides: str) -> dict[str, str]:
    form = {
        "workspace": str(tenant.workspace.pk),
        "name": "From admin",
        "description": "",
        "trigger": json.dumps({"type": "record.updated", "module": "deals"}),
        "conditions": "[]",
        "actions": json.dumps(WEBHOOK_BODY),
        "error_handling": "{}",
        "timezone": "UTC",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
    }
    return {**form, **overrides}


def _admin_params():
    for payload in PAYLOADS:
        yield pytest.param(payload, id=str(payload))


@pytest.mark.parametrize("payload", list(_admin_params()))
def test_hostile_json_in_the_admins_json_fields(admin_client, tenant, world, payload: Payload):
    condition = '[{"field": "value", "operator": "greater_than", "value": @HOLE@}]'
    webhook = (
        '[{"type": "call_webhook", "config": {"url": "https://hooks.example.com/h", '
        '"body": @HOLE@}}]'
    )
    posts = [
        (
            reverse("admin:automations_automation_add"),
            _admin_automation_form(tenant, conditions=body_with(condition, payload).decode()),
        ),
        (
            reverse("admin:automations_automation_add"),
            _admin_automation_form(tenant, actions=body_with(webhook, payload).decode()),
        ),
        (
            reverse("admin:automations_automation_add"),
            _admin_automation_form(tenant, error_handling=payload.json),
        ),
        (
            reverse("admin:records_record_add"),
            {
                "module": str(tenant.module("deals").pk),
                "values": body_with('{"name": "d", "value": @HOLE@}', payload).decode(),
            },
        ),
        (
            reverse("admin:records_field_add"),
            {
                "module": str(tenant.module("deals").pk),
                "key": "k2",
                "label": "K",
                "type": "select",
                "options": payload.json,
                "position": "0",
            },
        ),
    ]
    for url, data in posts:
        before = stored_state()
        response = admin_client.post(url, data)
        assert response.status_code < 500, url
        if payload.refused:
            assert response.status_code == 200, (url, response.status_code)  # the form again
            assert "errorlist" in response.content.decode(), url
            assert stored_state() == before, url
