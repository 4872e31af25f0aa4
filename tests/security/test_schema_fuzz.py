"""Schema fuzzing: schemathesis against /v1/schema, in process through the Django WSGI app.

Every operation in the schema is called with generated valid and invalid input (schemathesis'
positive and negative modes; its examples, coverage and fuzzing phases) with a workspace's
key, and every response goes through all of schemathesis' checks: no 5xx, status codes,
content types, headers and bodies as the schema documents them, invalid input refused, valid
input accepted, unsupported methods refused. Path parameters are half the time replaced with
ids of real objects of the caller's workspace, so the fuzz reaches past the 404s.

FUZZ_EXAMPLES bounds the examples per operation (the whole fuzz takes about a minute here).
"""

from __future__ import annotations

import json
import os
import random

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import load_all_checks
from schemathesis.config import SchemathesisConfig

from automations.models import Run
from automations.notifications import notification_create
from automations.services import email_template_create
from records.services import field_create, module_create
from tests.factories import make_record
from tests.runtime.support import make_automation

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
STATS: dict = {"calls": 0, "operations": set(), "statuses": {}}


@pytest.fixture(scope="module", autouse=True)
def _fuzz_stats():
    """FUZZ_STATS_FILE=path writes what the fuzz did (for docs/RELIABILITY.md)."""
    yield
    path = os.environ.get("FUZZ_STATS_FILE")
    if path:
        with open(path, "w") as out:
            json.dump({**STATS, "operations": len(STATS["operations"])}, out, sort_keys=True)


@pytest.fixture
def _wsgi_keeps_the_test_transaction():
    # Django closes "old" connections at each request's start and end; inside a test's
    # transaction that would end it. The test client disconnects these handlers the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(tenant, settings):
    """Real objects of the caller's workspace for path parameters."""
    settings.API_RATE_LIMIT = ""  # the fuzz is one key sending thousands of requests
    settings.AUTOMATIONS_WEBHOOK_RATE_LIMIT = ""
    module = module_create(workspace=tenant.workspace, slug="fuzz-vault", name="Vault")
    field_create(module=module, key="codename", label="Codename", type="text")
    automation = make_automation(
        tenant,
        trigger={"type": "manual", "module": "contacts"},
        actions=[{"type": "delay", "config": {"duration": 1, "unit": "seconds"}}],
    )
    hook = make_automation(
        tenant,
        trigger={"type": "webhook", "webhook_path": "fuzz"},
        actions=[{"type": "delay", "config": {"duration": 1, "unit": "seconds"}}],
    )
    run = Run.objects.create(
        automation=automation,
        workspace_id=tenant.workspace.id,
        status=Run.Status.SUCCESS,
        trigger_data={"event": "manual"},
    )
    record = make_record(tenant, "contacts", name="Fuzz", email="fuzz@example.com")
    template = email_template_create(
        workspace=tenant.workspace, data={"name": "fuzz", "subject": "s", "body": "b"}
    )
    notification = notification_create(workspace=tenant.workspace, user=tenant.user, title="t")
    return {
        "automation_id": [automation.id, hook.id],
        "log_id": [run.id],
        "record_id": [record.id],
        "slug": ["contacts", "fuzz-vault"],
        "name": [template.name],
        "notification_id": [notification.id],
        "webhook_path": ["fuzz"],
    }


# Operations whose input is valid or not depending on the workspace's data or on rules a JSON
# schema cannot state (an automation's definition against the workspace's modules and fields,
# template syntax, a record's values against its module's fields, unique names and slugs):
# for these, schema-valid input may also be refused with 400. Every other check applies to
# them as to the rest, and every other operation must accept every schema-valid request.
SEMANTIC_VALIDATION = [
    "automations_create",
    "automations_partial_update",
    "automations_test",
    "automations_trigger",
    "email_templates_create",
    "email_templates_partial_update",
    "modules_create",
    "module_fields_create",
    "records_list",
    "records_create",
    "records_partial_update",
    "webhooks_receive",
]

CONFIG = f"""
[checks]
enabled = true

[generation]
mode = "all"
max-examples = {FUZZ_EXAMPLES}
deterministic = true
# The key is sent by the test; generated Authorization headers would be overwritten by it.
with-security-parameters = false
# NUL is refused everywhere with 400 (pinned by the tests at the end of this file); generating
# it in "valid" strings would only re-find that.
allow-x00 = false

[[operations]]
include-operation-id = {SEMANTIC_VALIDATION!r}
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "404", "409", "422"]
"""


def _load_schema():
    from config.wsgi import application

    return schemathesis.openapi.from_wsgi(
        "/v1/schema", application, config=SchemathesisConfig.from_str(CONFIG)
    )


# Loaded when the module is collected (the schema view needs no database); pytest 9 cannot use
# schemathesis.pytest.from_fixture (it sets a node attribute pytest no longer has).
schema = _load_schema()
load_all_checks()


@schema.parametrize()
@settings(
    # CI replays the same examples every run (a landing must not depend on luck);
    # FUZZ_RANDOM=1 explores new ones, and what it finds becomes a regression test.
    derandomize=os.environ.get("FUZZ_RANDOM") != "1",
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_the_api_matches_its_schema_under_fuzzing(
    case, tenant, fuzz_world, _wsgi_keeps_the_test_transaction
):
    # Only valid cases get real ids: swapping one into an invalid case would make it valid
    # while schemathesis still expects it to be refused.
    if case.meta is not None and case.meta.generation.mode.is_positive:
        real = random.Random(repr(case.path_parameters))
        for name, values in fuzz_world.items():
            if case.path_parameters and name in case.path_parameters and real.random() < 0.5:
                case.path_parameters[name] = real.choice(values)
    response = case.call_and_validate(headers={"Authorization": f"Bearer {tenant.key}"})
    STATS["calls"] += 1
    STATS["operations"].add(case.operation.label)
    STATS["statuses"][response.status_code] = STATS["statuses"].get(response.status_code, 0) + 1


# --- What the fuzz showed, pinned down -------------------------------------------------------
# NUL and lone surrogates reached PostgreSQL and came back as 500s (text and jsonb cannot hold
# them); pages took "", " 5" and "+5". Each case is a request on a real object.


UNSTORABLE_BODIES = [
    ("post", "/v1/modules/contacts/records", b'{"name": "a\\u0000b"}'),
    ("post", "/v1/modules/contacts/records", b'{"name": "a\\ud800b"}'),
    ("post", "/v1/modules/contacts/records", b'{"name": "x", "a\\u0000": 1}'),
    ("post", "/v1/email_templates", b'{"name": "t1", "subject": "\\udfff", "body": "b"}'),
    ("post", "/v1/email_templates", b'{"name": "t1", "subject": "s", "body": "\\u0000"}'),
    ("post", "/v1/modules", b'{"slug": "xx", "name": "\\ud800"}'),
    (
        "post",
        "/v1/automations",
        b'{"name": "a\\u0000", "trigger": {"type": "manual", '
        b'"module": "contacts"}, "actions": [{"type": "delay", "config": {"duration": 1, '
        b'"unit": "seconds"}}]}',
    ),
    ("patch", "/v1/automations/{automation_id}", b'{"description": "\\u0000"}'),
    ("post", "/v1/automations/{automation_id}/test", b'{"record": {"name": "\\u0000"}}'),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url", "body"), UNSTORABLE_BODIES)
def test_unstorable_text_in_a_body_is_400_not_500(tenant, fuzz_world, method, url, body):
    url = url.format(automation_id=fuzz_world["automation_id"][0])
    response = tenant.client.generic(method.upper(), url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/v1/automations?search=a%00b",
        "/v1/modules/contacts/records?search=%00",
        "/v1/modules/contacts/records?name=a%00b",
        "/v1/automations/auto_%00x",
        "/v1/modules/contacts/records/rec_%00",
        "/v1/email_templates/a%00",
    ],
)
def test_nul_in_the_url_is_400_not_500(tenant, url):
    response = tenant.client.get(url)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["", " 5", "+5", "5 ", "\u0665", "1.0", "0x1"])
def test_page_numbers_are_plain_digits(tenant, value):
    response = tenant.client.get("/v1/automations", {"page": value})
    assert response.status_code == 400, value
    assert response.json()["error"]["details"] == {
        "page": [f"must be a whole number, got {value!r}"]
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/v1/email_templates", "/v1/notifications", "/v1/automations", "/v1/modules/contacts/records"],
)
def test_a_page_beyond_any_list_is_400_not_500(tenant, url):
    """A page of 10^22 made an OFFSET PostgreSQL's bigint cannot hold."""
    response = tenant.client.get(url, {"page": "59415937088050218139648"})
    assert response.status_code == 400, response.content
    assert "page" in response.json()["error"]["details"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "value", "status"),
    [
        ("/v1/notifications", " true", 400),
        ("/v1/notifications", "TRUE", 200),
        ("/v1/notifications", "", 200),
        ("/v1/automations", "yes ", 400),
        ("/v1/automations", "No", 200),
    ],
)
def test_flags_accept_exactly_what_the_schema_documents(tenant, url, value, status):
    name = "unread" if "notifications" in url else "enabled"
    assert tenant.client.get(url, {name: value}).status_code == status
