"""Workspace isolation, generated from the OpenAPI schema so new routes are covered unasked.

Workspace A's key is used against workspace B's objects on every route and method the schema
lists. The caller's user is a member of B too (so user-scoped routes such as notifications are
tested on workspace scoping, not only on user scoping). Path parameters are filled by name from
PATH_VALUES; a route with a parameter not in there fails the test, naming the mapping to add.
Every call that names one of B's objects must answer 404; every GET answered with A's own
values (lists, /users/me, ...) must not contain any of B's identifiers; afterwards B's objects
must be exactly as they were.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.services import membership_ensure
from automations.models import Automation, EmailTemplate, Notification, Run
from automations.notifications import notification_create
from automations.services import email_template_create
from records.models import Record
from records.services import field_create, module_create
from tests.factories import make_record
from tests.runtime.support import make_automation

pytestmark = pytest.mark.django_db

MARK = "zzb0"  # in B's identifiers (slugs, template name)
SECRET = "SECRETB"  # in B's values (names, titles, bodies): what a caller cannot already know

# Routes that name no object of a workspace through their path: checked by the tests below.
UNSCOPED = {
    ("post", "/v1/webhooks/{automation_id}/{webhook_path}"): (
        "authenticated by its URL, not a key: test_inbound_webhook_urls_are_per_automation"
    ),
}
# /v1 routes deliberately outside the schema (they serve the schema itself).
OUTSIDE_SCHEMA = {"/v1/schema", "/v1/docs"}


@dataclass
class World:
    a: object  # tests.conftest.Tenant
    b: object
    b_automation: Automation
    b_webhook: Automation
    b_run: Run
    b_contact: Record
    b_vault_record: Record
    b_template: EmailTemplate
    b_notification: Notification
    a_automation: Automation
    a_run: Run
    a_record: Record
    a_template: EmailTemplate
    a_notification: Notification


def _objects(tenant, prefix: str, user, secret: str) -> dict:
    module = module_create(workspace=tenant.workspace, slug=f"{prefix}-vault", name="Vault")
    field_create(module=module, key="codename", label="Codename", type="text")
    automation = make_automation(
        tenant,
        name=f"{prefix} {secret} manual",
        trigger={"type": "manual", "module": "contacts"},
        actions=[
            {
                "type": "send_notification",
                "config": {
                    "user_id": "{{user.id}}",
                    "title": f"{prefix} {secret} done",
                    "message": "done",
                },
            }
        ],
    )
    run = Run.objects.create(
        automation=automation,
        workspace_id=tenant.workspace.id,
        status=Run.Status.SUCCESS,
        trigger_data={"event": "manual", "marker": secret},
    )
    return {
        "automation": automation,
        "run": run,
        "contact": make_record(
            tenant, "contacts", name=f"{secret} contact", email=f"{prefix}@example.com"
        ),
        "vault_record": Record.objects.get(
            pk=make_record(tenant, f"{prefix}-vault", codename=f"{secret} codename").pk
        ),
        "template": email_template_create(
            workspace=tenant.workspace,
            data={
                "name": f"{prefix}-template",
                "subject": f"{secret} subject",
                "body": f"{secret} body",
            },
        ),
        "notification": notification_create(
            workspace=tenant.workspace, user=user, title=f"{secret} notice", run=run
        ),
    }


@pytest.fixture
def world(tenant, other_tenant) -> World:
    # A's user also belongs to B: only the key's workspace may decide what A's key sees.
    membership_ensure(
        workspace=other_tenant.workspace, user=tenant.user, role=Membership.Role.OWNER
    )
    b = _objects(other_tenant, MARK, tenant.user, SECRET)
    a = _objects(tenant, "zza0", tenant.user, "zza0")
    b_webhook = make_automation(
        other_tenant,
        name=f"{SECRET} hook",
        trigger={"type": "webhook", "webhook_path": "zzb0-hook"},
        actions=[{"type": "delay", "config": {"duration": 1, "unit": "seconds"}}],
    )
    return World(
        a=tenant,
        b=other_tenant,
        b_automation=b["automation"],
        b_webhook=b_webhook,
        b_run=b["run"],
        b_contact=b["contact"],
        b_vault_record=b["vault_record"],
        b_template=b["template"],
        b_notification=b["notification"],
        a_automation=a["automation"],
        a_run=a["run"],
        a_record=a["contact"],
        a_template=a["template"],
        a_notification=a["notification"],
    )


def b_values(w: World) -> dict[str, list[tuple[str, bool]]]:
    """Path parameter -> candidate values, each flagged True when only B has it. Every call is
    made with at least one B-only value; A's own values are mixed in to test the inner scoping
    (A's automation with B's log, the shared `contacts` slug with B's record)."""
    return {
        "automation_id": [(w.b_automation.id, True), (w.a_automation.id, False)],
        "log_id": [(w.b_run.id, True)],
        "record_id": [(w.b_contact.id, True), (w.b_vault_record.id, True)],
        "slug": [(f"{MARK}-vault", True), ("contacts", False)],
        "name": [(w.b_template.name, True)],
        "notification_id": [(str(w.b_notification.id), True)],
    }


def a_values(w: World) -> dict[str, str]:
    """A's own objects: GET with these must answer, and never with B's data."""
    return {
        "automation_id": w.a_automation.id,
        "log_id": w.a_run.id,
        "record_id": w.a_record.id,
        "slug": "contacts",
        "name": w.a_template.name,
        "notification_id": str(w.a_notification.id),
    }


def b_markers(w: World) -> list[str]:
    return [
        MARK,
        SECRET,
        w.b_automation.id,
        w.b_webhook.id,
        w.b_run.id,
        w.b_contact.id,
        w.b_vault_record.id,
        w.b.user.email,
    ]


def schema_operations() -> list[tuple[str, str, list[str]]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
                operations.append((method, path, names))
    return operations


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def _call(client: APIClient, method: str, url: str, body: dict | None = None):
    if method in ("post", "put", "patch"):
        return getattr(client, method)(url, body or {}, format="json")
    return getattr(client, method)(url)


def _snapshot(w: World) -> dict:
    b = w.b.workspace
    return {
        "automations": sorted(
            Automation.objects.filter(workspace=b).values_list("id", "name", "enabled", "version")
        ),
        "runs": sorted(Run.objects.filter(workspace_id=b.id).values_list("id", "status")),
        "records": sorted(
            (r.id, json.dumps(r.values, sort_keys=True))
            for r in Record.objects.filter(module__workspace=b)
        ),
        "modules": sorted(b.modules.values_list("slug", flat=True)),
        "fields": sorted(b.modules.values_list("fields__key", flat=True).exclude(fields=None)),
        "templates": sorted(
            EmailTemplate.objects.filter(workspace=b).values_list("name", "subject", "body")
        ),
        "notifications": sorted(
            Notification.objects.filter(workspace=b).values_list("id", "read_at")
        ),
    }


def test_every_api_route_is_in_the_schema():
    """Routes outside the schema would escape the generated isolation test."""
    routes = set()

    def walk(patterns, prefix):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and route.startswith("v1/"):
                routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))

    walk(get_resolver().url_patterns, "")
    documented = {path for _, path, _ in schema_operations()}
    missing = routes - documented - OUTSIDE_SCHEMA
    assert not missing, f"API routes not in the OpenAPI schema (add extend_schema): {missing}"


def test_workspace_a_gets_404_on_every_route_naming_workspace_b_objects(world):
    w = world
    before = _snapshot(w)
    candidates = b_values(w)
    body = {"name": "pwned", "record_id": w.b_contact.id, "subject": "x", "body": "x"}
    checked_routes, calls, failures = set(), 0, []
    for method, path, names in schema_operations():
        if not names or (method, path) in UNSCOPED:
            continue
        unmapped = [name for name in names if name not in candidates]
        assert not unmapped, (
            f"{method.upper()} {path}: no value for path parameter(s) {unmapped}; add a mapping "
            f"to b_values() (and a_values()) in {__name__} so the route is checked"
        )
        for combo in itertools.product(*(candidates[name] for name in names)):
            if not any(b_only for _, b_only in combo):
                continue
            url = _fill(path, {name: value for name, (value, _) in zip(names, combo, strict=True)})
            response = _call(w.a.client, method, url, body)
            calls += 1
            checked_routes.add((method, path))
            text = response.content.decode()
            if response.status_code != 404 or SECRET in text:
                failures.append(f"{method.upper()} {url}: {response.status_code} {text[:200]}")
    assert not failures, "\n".join(failures)
    assert len(checked_routes) >= 20 and calls >= len(checked_routes)
    assert _snapshot(w) == before, "a request with A's key changed B's objects"


def test_workspace_a_never_sees_b_objects_on_routes_answered_with_its_own_values(world):
    w = world
    before = _snapshot(w)
    own = a_values(w)
    markers = b_markers(w)
    leaks, statuses = [], {}
    for method, path, names in schema_operations():
        if (method, path) in UNSCOPED:
            continue
        if names and method != "get":
            continue  # writes on A's own objects are the API tests' business
        missing = [name for name in names if name not in own]
        assert not missing, f"{method.upper()} {path}: add {missing} to a_values()"
        url = _fill(path, own)
        response = _call(w.a.client, method, url)
        statuses[f"{method.upper()} {path}"] = response.status_code
        text = response.content.decode()
        leaks += [f"{method.upper()} {url} shows {m!r}" for m in markers if m in text]
        assert response.status_code < 500, f"{method.upper()} {url}: {text[:300]}"
    for url in sorted(OUTSIDE_SCHEMA):
        text = w.a.client.get(url).content.decode()
        leaks += [f"GET {url} shows {m!r}" for m in markers if m in text]
    assert not leaks, "\n".join(leaks)
    gets = [k for k, status in statuses.items() if k.startswith("GET")]
    assert all(statuses[k] == 200 for k in gets), statuses
    assert _snapshot(w) == before, "a request with A's key changed B's objects"


def test_lists_filtered_by_b_values_stay_empty(world):
    w = world
    for url in (
        f"/v1/automations?module={MARK}-vault",
        f"/v1/automations?search={MARK}",
        f"/v1/modules/contacts/records?search={MARK}",
        f"/v1/modules/contacts/records?email={MARK}@example.com",
    ):
        response = w.a.client.get(url)
        assert response.status_code in (200, 400), url
        if response.status_code == 200:
            assert response.json()["data"] == [], url


def test_inbound_webhook_urls_are_per_automation(world):
    """The webhook route is reached without a key: its URL names one automation and its path.
    B's path under A's automation id, or B's automation with another path, is 404."""
    w = world
    anonymous = APIClient()
    for url in (
        f"/v1/webhooks/{w.a_automation.id}/zzb0-hook",
        f"/v1/webhooks/{w.b_webhook.id}/other-path",
        f"/v1/webhooks/{w.b_automation.id}/zzb0-hook",
    ):
        response = anonymous.post(url, {}, format="json")
        assert response.status_code == 404, url
        assert SECRET not in response.content.decode()
    assert not Run.objects.filter(automation=w.b_webhook).exists()
