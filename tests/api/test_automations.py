"""The Automation API's endpoints as the seed documents them (requests and example responses)."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from automations import services
from automations.models import Automation, AutomationVersion, Run

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

# The seed's "Create Automation" request body, verbatim.
SEED_CREATE = {
    "name": "Welcome email for new contacts",
    "description": "Send a welcome email when a contact is added",
    "trigger": {"type": "record.created", "module": "contacts"},
    "conditions": [{"field": "email", "operator": "is_not_empty"}],
    "actions": [
        {"type": "send_email", "config": {"to": "{{record.email}}", "template": "welcome_email"}}
    ],
}
# The automation the seed's List/Get examples show.
SEED_LEAD = {
    "name": "Notify on new lead",
    "description": "Send Slack notification when a lead is created",
    "enabled": True,
    "trigger": {"type": "record.created", "module": "leads"},
    "conditions": [{"field": "source", "operator": "equals", "value": "website"}],
    "actions": [
        {
            "type": "call_webhook",
            "config": {
                "url": "https://hooks.slack.com/services/...",
                "method": "POST",
                "body": {"text": "New lead: {{record.name}} from {{record.source}}"},
            },
        }
    ],
}
SEED_LIST_KEYS = {
    "id",
    "name",
    "description",
    "enabled",
    "trigger",
    "conditions",
    "actions",
    "created_at",
    "updated_at",
    "last_run_at",
    "run_count",
}


def create(api, body=None, **overrides):
    response = api.post("/v1/automations", {**(body or SEED_CREATE), **overrides}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


# --- Create -------------------------------------------------------------------------------


def test_create_with_the_seed_body_answers_201_disabled(api):
    response = api.post("/v1/automations", SEED_CREATE, format="json")

    assert response.status_code == 201
    data = response.json()["data"]
    assert re.match(r"^auto_[a-z0-9]+$", data["id"])
    assert data["name"] == SEED_CREATE["name"]
    assert data["description"] == SEED_CREATE["description"]
    assert data["enabled"] is False
    assert data["trigger"] == SEED_CREATE["trigger"]
    assert data["conditions"] == SEED_CREATE["conditions"]
    assert data["actions"] == SEED_CREATE["actions"]
    assert ISO.match(data["created_at"])


def test_create_enables_when_the_body_asks(api):
    assert create(api, enabled=True)["enabled"] is True


def test_create_fills_error_handling_timezone_and_counters(api):
    data = create(api)

    assert data["error_handling"] == {
        "notify_on_failure": True,
        "notify_email": None,
        "disable_after_failures": 5,
    }
    assert data["timezone"] == "UTC"
    assert data["run_count"] == 0
    assert data["last_run_at"] is None
    assert data["version"] == 1
    assert data["consecutive_failures"] == 0
    assert data["disabled_reason"] is None


def test_create_stores_derived_columns_and_version_one(api, tenant):
    data = create(
        api,
        body={
            "name": "Stage watcher",
            "trigger": {"type": "field.changed", "module": "deals", "field": "stage"},
            "actions": [{"type": "delay", "config": {"duration": 5, "unit": "minutes"}}],
        },
    )

    automation = Automation.objects.get(pk=data["id"])
    assert automation.trigger_type == "field.changed"
    assert automation.module == tenant.module("deals")
    assert automation.watched_field == "stage"
    assert automation.webhook_path is None
    assert automation.created_by == tenant.user
    version = AutomationVersion.objects.get(automation=automation)
    assert version.version == 1
    assert version.definition["trigger"] == data["trigger"]


def test_create_accepts_the_error_handling_example(api):
    error_handling = {
        "notify_on_failure": True,
        "notify_email": "admin@example.com",
        "disable_after_failures": 5,
    }
    assert create(api, error_handling=error_handling)["error_handling"] == error_handling


@pytest.mark.parametrize(
    "trigger",
    [
        {"type": "record.created", "module": "contacts"},
        {"type": "record.updated", "module": "deals"},
        {"type": "record.deleted", "module": "tasks"},
        {"type": "field.changed", "module": "deals", "field": "stage"},
        {"type": "schedule", "schedule": "0 9 * * 1-5"},
        {"type": "webhook", "webhook_path": "my-custom-webhook"},
        {"type": "manual", "module": "contacts"},
    ],
    ids=lambda trigger: trigger["type"],
)
def test_every_seed_trigger_example_is_accepted(api, trigger):
    body = {
        "name": "Trigger example",
        "trigger": trigger,
        "actions": [{"type": "call_webhook", "config": {"url": "https://example.com/hook"}}],
    }
    assert create(api, body=body)["trigger"] == trigger


SEED_ACTIONS = {
    "update_record": {
        "record": "trigger",
        "updates": {"status": "processed", "processed_at": "{{now}}"},
    },
    "update_record_related": {
        "record": "related",
        "module": "accounts",
        "record_id": "{{record.account_id}}",
        "updates": {"last_contact_date": "{{now}}"},
    },
    "create_record": {
        "module": "tasks",
        "data": {
            "name": "Follow up with {{record.name}}",
            "due_date": "{{now | add_days: 3}}",
            "assigned_to": "{{record.owner_id}}",
            "related_contact": "{{record.id}}",
        },
    },
    "send_email": {
        "to": "{{record.email}}",
        "template": "welcome_email",
        "data": {"first_name": "{{record.first_name}}", "company": "{{record.company}}"},
    },
    "send_email_custom": {
        "to": "{{record.email}}",
        "subject": "Welcome to our platform",
        "body": "Hi {{record.first_name}},\n\nThank you for signing up!",
    },
    "send_notification": {
        "user_id": "{{record.owner_id}}",
        "title": "New high-value deal",
        "message": "{{record.name}} - ${{record.value}}",
        "link": "/deals/{{record.id}}",
    },
    "call_webhook": {
        "url": "https://hooks.slack.com/services/...",
        "method": "POST",
        "headers": {"Content-Type": "application/json"},
        "body": {"text": "New deal closed: {{record.name}} for ${{record.value}}"},
    },
    "delay": {"duration": 300, "unit": "seconds"},
}


@pytest.mark.parametrize("example", list(SEED_ACTIONS))
def test_every_seed_action_example_is_accepted(api, example):
    action_type = example.removesuffix("_related").removesuffix("_custom")
    # The examples use contact fields (first_name) and deal fields (value).
    module = "deals" if example in ("send_notification", "call_webhook") else "contacts"
    body = {
        "name": "Action example",
        "trigger": {"type": "record.updated", "module": module},
        "actions": [{"type": action_type, "config": SEED_ACTIONS[example]}],
    }
    data = create(api, body=body)
    assert data["actions"][0]["config"] == SEED_ACTIONS[example]


SEED_EXAMPLES = [
    {
        "name": "High-value deal notification",
        "trigger": {"type": "record.created", "module": "deals"},
        "conditions": [{"field": "value", "operator": "greater_than", "value": 50000}],
        "actions": [
            {
                "type": "send_notification",
                "config": {
                    "user_id": "{{record.owner_id}}",
                    "title": "High-value deal created",
                    "message": "{{record.name}} - ${{record.value}}",
                },
            },
            {
                "type": "call_webhook",
                "config": {
                    "url": "https://hooks.slack.com/services/...",
                    "method": "POST",
                    "body": {
                        "text": ":moneybag: New high-value deal: {{record.name}} (${{record.value}})"
                    },
                },
            },
        ],
    },
    {
        "name": "Create follow-up on stage change",
        "trigger": {"type": "field.changed", "module": "deals", "field": "stage"},
        "conditions": [{"field": "stage", "operator": "changed_to", "value": "proposal"}],
        "actions": [
            {
                "type": "create_record",
                "config": {
                    "module": "tasks",
                    "data": {
                        "name": "Send proposal to {{record.name}}",
                        "due_date": "{{now | add_days: 2}}",
                        "assigned_to": "{{record.owner_id}}",
                        "priority": "high",
                    },
                },
            }
        ],
    },
    {
        "name": "Daily deals summary",
        "trigger": {"type": "schedule", "schedule": "0 9 * * 1-5"},
        "actions": [
            {
                "type": "call_webhook",
                "config": {"url": "https://your-app.com/api/generate-summary", "method": "POST"},
            }
        ],
    },
]


@pytest.mark.parametrize("example", SEED_EXAMPLES, ids=lambda e: e["name"])
def test_every_seed_example_automation_is_accepted(api, example):
    data = create(api, body=example)
    assert data["actions"] == example["actions"]
    assert data["conditions"] == example.get("conditions", [])


def test_create_fills_the_webhook_method_default(api):
    data = create(
        api,
        body={
            "name": "Hook",
            "trigger": {"type": "manual", "module": "contacts"},
            "actions": [{"type": "call_webhook", "config": {"url": "https://example.com/x"}}],
        },
    )
    assert data["actions"][0]["config"]["method"] == "POST"


# --- List ---------------------------------------------------------------------------------


def test_list_answers_the_seed_shape_with_meta(api):
    created = create(api, body=SEED_LEAD)

    response = api.get("/v1/automations")

    assert response.status_code == 200
    body = response.json()
    assert body["meta"] == {"total": 1, "page": 1, "per_page": 25}
    [item] = body["data"]
    assert SEED_LIST_KEYS <= set(item)
    assert item == created


def test_list_is_newest_first(api):
    with time_machine.travel(datetime(2024, 1, 15, 10, 30, tzinfo=UTC)):
        first = create(api, name="first")
    with time_machine.travel(datetime(2024, 1, 16, 10, 30, tzinfo=UTC)):
        second = create(api, name="second")
    ids = [a["id"] for a in api.get("/v1/automations").json()["data"]]
    assert ids == [second["id"], first["id"]]


def test_list_filters_by_module(api):
    contacts = create(api)
    create(api, body=SEED_LEAD)

    data = api.get("/v1/automations?module=contacts").json()["data"]

    assert [a["id"] for a in data] == [contacts["id"]]


def test_list_filters_by_enabled(api):
    create(api)
    enabled = create(api, body=SEED_LEAD)

    assert [a["id"] for a in api.get("/v1/automations?enabled=true").json()["data"]] == [
        enabled["id"]
    ]
    assert len(api.get("/v1/automations?enabled=false").json()["data"]) == 1


def test_list_filters_by_trigger_type(api):
    create(api)
    scheduled = create(api, body=SEED_EXAMPLES[2])

    data = api.get("/v1/automations?trigger_type=schedule").json()["data"]

    assert [a["id"] for a in data] == [scheduled["id"]]


def test_list_searches_names(api):
    create(api)
    lead = create(api, body=SEED_LEAD)
    assert [a["id"] for a in api.get("/v1/automations?search=lead").json()["data"]] == [lead["id"]]


def test_list_paginates(api):
    for index in range(5):
        create(api, name=f"automation {index}")

    body = api.get("/v1/automations?page=2&per_page=2").json()

    assert body["meta"] == {"total": 5, "page": 2, "per_page": 2}
    assert len(body["data"]) == 2


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("enabled=maybe", "enabled"),
        ("trigger_type=record.exploded", "trigger_type"),
        ("per_page=101", "per_page"),
        ("colour=red", "colour"),
    ],
)
def test_list_rejects_bad_query_parameters(api, query, path):
    response = api.get(f"/v1/automations?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert path in response.json()["error"]["details"]


def test_list_shows_only_the_callers_workspace(api, other_tenant):
    create(other_tenant.client)
    assert api.get("/v1/automations").json()["data"] == []


def test_list_query_count_does_not_grow_with_rows(api, tenant):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/v1/automations?per_page=100").status_code == 200
        return len(queries)

    create(api)
    create(api, body=SEED_EXAMPLES[2])
    few = count_queries()
    for index in range(15):
        create(api, body=SEED_LEAD if index % 2 else SEED_EXAMPLES[2], name=f"a{index}")
    assert count_queries() == few


def test_list_stays_under_a_query_budget(api, django_assert_max_num_queries):
    for index in range(10):
        create(api, name=f"a{index}")
    # key lookup, count, page (modules joined), and a spare for the key's last_used_at touch.
    with django_assert_max_num_queries(4):
        api.get("/v1/automations")


def test_a_listed_automation_reads_as_the_same_automation_alone(api, settings):
    # The list reads rows (automation_row_data), a single automation an instance
    # (automation_data): both must give the same JSON, for every kind of trigger.
    settings.PUBLIC_BASE_URL = "https://crm.example.com"
    create(api, body=SEED_LEAD)
    create(api, body=SEED_EXAMPLES[2])
    create(
        api,
        name="Nightly",
        conditions=[],
        trigger={"type": "schedule", "schedule": "0 9 * * 1-5"},
        timezone="Europe/Berlin",
        actions=[{"type": "create_record", "config": {"module": "tasks", "data": {"name": "x"}}}],
    )
    create(
        api,
        name="Hook",
        conditions=[],
        trigger={"type": "webhook", "webhook_path": "orders"},
        actions=[{"type": "create_record", "config": {"module": "tasks", "data": {"name": "x"}}}],
    )
    with time_machine.travel(datetime(2024, 3, 8, 12, 0, 30, tzinfo=UTC), tick=False):
        listed = api.get("/v1/automations").json()["data"]
        assert len(listed) == 4
        for item in listed:
            assert api.get(f"/v1/automations/{item['id']}").json()["data"] == item


@pytest.mark.django_db(transaction=True)
def test_the_list_total_follows_every_change_to_the_workspaces_automations(tenant):
    """The total is cached until the workspace's automations change (committed writes replace
    the matching index's version token); every kind of write shows at once."""
    from automations.runtime import matching
    from automations.runtime.breaker import record_outcome

    api = tenant.client

    def total(query: str = "") -> int:
        response = api.get(f"/v1/automations{query}")
        assert response.status_code == 200
        return response.json()["meta"]["total"]

    def list_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            total()
        return len(queries)

    matching.clear()
    assert total() == 0
    first = create(api, enabled=True, error_handling={"disable_after_failures": 1})
    assert total() == 1
    second = create(api, name="Second")
    assert (total(), total("?enabled=true"), total("?enabled=false")) == (2, 1, 1)
    assert total("?search=second") == 1
    api.patch(f"/v1/automations/{second['id']}", {"name": "Renamed"}, format="json")
    assert total("?search=second") == 0
    assert api.post(f"/v1/automations/{second['id']}/enable").status_code == 200
    assert total("?enabled=true") == 2
    # The circuit breaker disables with a QuerySet.update() and invalidates after commit.
    automation = Automation.objects.get(id=first["id"])
    run = Run.objects.create(automation=automation, workspace=tenant.workspace, status="failed")
    assert record_outcome(run=run, automation=automation, status="failed", error_code="x")
    assert total("?enabled=true") == 1
    assert api.delete(f"/v1/automations/{first['id']}").status_code == 200
    assert total() == 1
    Automation.objects.get(id=second["id"]).delete()  # a direct delete (the admin's way)
    assert total() == 0
    if matching._shared_cache():
        # Unchanged since the last list: the total comes from the cache, not a COUNT; the
        # key's lookup is then the only query (an empty list has no page to read).
        assert list_queries() == list_queries() == 1
        create(api, name="Third")
        total()
        # key lookup + the page; the total again from the cache
        assert list_queries() == list_queries() == 2


def test_list_requires_an_api_key(client):
    response = client.get("/v1/automations")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


# --- Get ----------------------------------------------------------------------------------


def test_get_answers_the_seed_example(api):
    with time_machine.travel(datetime(2024, 1, 15, 10, 30, tzinfo=UTC), tick=False):
        created = create(api, body=SEED_LEAD)
    Automation.objects.filter(pk=created["id"]).update(
        run_count=47, last_run_at=datetime(2024, 1, 16, 14, 22, tzinfo=UTC)
    )

    response = api.get(f"/v1/automations/{created['id']}")

    assert response.status_code == 200
    data = response.json()["data"]
    expected = {
        **SEED_LEAD,
        "id": created["id"],
        "created_at": "2024-01-15T10:30:00Z",
        "updated_at": "2024-01-15T10:30:00Z",
        "last_run_at": "2024-01-16T14:22:00Z",
        "run_count": 47,
    }
    assert {key: data[key] for key in expected} == expected


def test_get_unknown_automation_is_404(api):
    response = api.get("/v1/automations/auto_doesnotexist")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_get_shows_the_circuit_breakers_reason(api):
    created = create(api, body=SEED_LEAD)
    reason = {
        "code": "automation_disabled",
        "message": "Automation disabled after 5 consecutive failures",
        "last_error": "webhook_connection_failed",
    }
    Automation.objects.filter(pk=created["id"]).update(
        enabled=False, disabled_reason=reason, consecutive_failures=5, last_run_status="failed"
    )

    data = api.get(f"/v1/automations/{created['id']}").json()["data"]

    assert data["disabled_reason"] == reason
    assert data["consecutive_failures"] == 5
    assert data["last_run_status"] == "failed"


# --- Schedules and webhooks ---------------------------------------------------------------


@time_machine.travel(datetime(2024, 1, 15, 12, 0, tzinfo=UTC), tick=False)
def test_schedule_shows_the_next_runs_in_its_timezone(api):
    data = create(api, body={**SEED_EXAMPLES[2], "timezone": "Europe/Berlin"})

    # 09:00 in Berlin is 08:00Z in winter; Monday the 15th at 12:00Z is past today's run.
    assert data["next_runs"] == [
        "2024-01-16T08:00:00Z",
        "2024-01-17T08:00:00Z",
        "2024-01-18T08:00:00Z",
        "2024-01-19T08:00:00Z",
        "2024-01-22T08:00:00Z",
    ]
    assert data["next_run_at"] is None  # disabled: nothing is scheduled
    assert data["timezone"] == "Europe/Berlin"


@time_machine.travel(datetime(2024, 1, 15, 12, 0, tzinfo=UTC), tick=False)
def test_enabling_a_schedule_sets_its_next_run(api):
    created = create(api, body=SEED_EXAMPLES[2])

    api.post(f"/v1/automations/{created['id']}/enable")

    data = api.get(f"/v1/automations/{created['id']}").json()["data"]
    assert data["next_run_at"] == "2024-01-16T09:00:00Z"
    assert Automation.objects.get(pk=created["id"]).next_run_at == datetime(
        2024, 1, 16, 9, 0, tzinfo=UTC
    )


@time_machine.travel(datetime(2024, 1, 15, 12, 0, tzinfo=UTC), tick=False)
def test_disabling_a_schedule_clears_its_next_run(api):
    created = create(api, body=SEED_EXAMPLES[2], enabled=True)
    assert created["next_run_at"] == "2024-01-16T09:00:00Z"

    api.post(f"/v1/automations/{created['id']}/disable")

    assert Automation.objects.get(pk=created["id"]).next_run_at is None


def test_webhook_trigger_shows_its_url(api, settings):
    data = create(
        api,
        body={
            "name": "Inbound",
            "trigger": {"type": "webhook", "webhook_path": "my-custom-webhook"},
            "actions": [{"type": "call_webhook", "config": {"url": "https://example.com/x"}}],
        },
    )

    assert data["webhook_url"] == (
        f"{settings.PUBLIC_BASE_URL}/v1/webhooks/{data['id']}/my-custom-webhook"
    )
    assert Automation.objects.get(pk=data["id"]).webhook_path == "my-custom-webhook"


# --- Update -------------------------------------------------------------------------------

SEED_PATCH = {
    "name": "Updated automation name",
    "conditions": [{"field": "status", "operator": "equals", "value": "qualified"}],
}


def test_patch_with_the_seed_body_updates_and_disables(api):
    created = create(api, body=SEED_LEAD)
    assert created["enabled"] is True

    response = api.patch(f"/v1/automations/{created['id']}", SEED_PATCH, format="json")

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["name"] == "Updated automation name"
    assert data["conditions"] == SEED_PATCH["conditions"]
    assert data["actions"] == SEED_LEAD["actions"]  # parts not given are kept
    assert data["enabled"] is False
    assert Automation.objects.get(pk=created["id"]).enabled is False


def test_patch_that_changes_something_and_says_enabled_true_is_400(api):
    created = create(api, body=SEED_LEAD)
    assert created["enabled"] is True

    response = api.patch(
        f"/v1/automations/{created['id']}", {**SEED_PATCH, "enabled": True}, format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == ["enabled"]
    assert f"POST /v1/automations/{created['id']}/enable" in error["message"]
    assert f"POST /v1/automations/{created['id']}/test" in error["message"]
    automation = Automation.objects.get(pk=created["id"])  # nothing written
    assert (automation.name, automation.enabled, automation.version) == (
        SEED_LEAD["name"],
        True,
        1,
    )
    assert AutomationVersion.objects.filter(automation=automation).count() == 1


def test_patch_that_changes_something_with_enabled_false_saves_it_disabled(api):
    created = create(api, body=SEED_LEAD)

    data = api.patch(
        f"/v1/automations/{created['id']}", {**SEED_PATCH, "enabled": False}, format="json"
    ).json()["data"]

    assert (data["name"], data["enabled"], data["version"]) == (SEED_PATCH["name"], False, 2)


def test_patch_with_the_same_values_neither_disables_nor_makes_a_version(api):
    created = create(api, body=SEED_LEAD)
    same = {key: created[key] for key in ("name", "trigger", "conditions", "actions")}

    response = api.patch(f"/v1/automations/{created['id']}", same, format="json")

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["enabled"], data["version"]) == (True, 1)
    assert AutomationVersion.objects.filter(automation_id=created["id"]).count() == 1


def test_patch_with_the_same_values_and_enabled_true_enables(api):
    created = create(api, body=SEED_LEAD, enabled=False)

    data = api.patch(
        f"/v1/automations/{created['id']}",
        {"name": created["name"], "enabled": True},
        format="json",
    ).json()["data"]

    assert (data["enabled"], data["version"]) == (True, 1)


def test_patch_with_only_enabled_false_disables_without_a_version(api):
    created = create(api, body=SEED_LEAD)

    data = api.patch(f"/v1/automations/{created['id']}", {"enabled": False}, format="json").json()[
        "data"
    ]

    assert (data["enabled"], data["version"]) == (False, 1)


def test_patch_with_only_enabled_true_resets_the_breaker_as_enable_does(api):
    created = create(api, body=SEED_LEAD, enabled=False)
    Automation.objects.filter(pk=created["id"]).update(
        consecutive_failures=5,
        disabled_reason={"code": "automation_disabled", "message": "m", "last_error": "e"},
    )

    data = api.patch(f"/v1/automations/{created['id']}", {"enabled": True}, format="json").json()[
        "data"
    ]

    assert data["enabled"] is True
    automation = Automation.objects.get(pk=created["id"])
    assert (automation.consecutive_failures, automation.disabled_reason) == (0, None)


def test_patch_with_a_non_boolean_enabled_is_400(api):
    created = create(api, body=SEED_LEAD)

    response = api.patch(f"/v1/automations/{created['id']}", {"enabled": "yes"}, format="json")

    assert response.status_code == 400
    assert "enabled" in response.json()["error"]["details"]
    assert Automation.objects.get(pk=created["id"]).enabled is True


@time_machine.travel(datetime(2024, 1, 15, 12, 0, tzinfo=UTC), tick=False)
def test_patch_that_changes_a_schedule_clears_its_next_run(api):
    created = create(api, body=SEED_EXAMPLES[2], enabled=True)
    assert created["next_run_at"] is not None

    api.patch(f"/v1/automations/{created['id']}", {"name": "Daily, renamed"}, format="json")

    assert Automation.objects.get(pk=created["id"]).next_run_at is None


def test_patch_bumps_the_version_and_keeps_history(api):
    created = create(api)

    data = api.patch(f"/v1/automations/{created['id']}", SEED_PATCH, format="json").json()["data"]

    assert data["version"] == 2
    versions = AutomationVersion.objects.filter(automation_id=created["id"]).order_by("version")
    assert [v.definition["name"] for v in versions] == [SEED_CREATE["name"], SEED_PATCH["name"]]
    history = api.get(f"/v1/automations/{created['id']}/versions").json()
    assert [v["version"] for v in history["data"]] == [2, 1]


def test_patch_that_only_enables_does_not_bump_the_version(api):
    created = create(api)
    data = api.patch(f"/v1/automations/{created['id']}", {"enabled": True}, format="json").json()[
        "data"
    ]
    assert data["enabled"] is True
    assert data["version"] == 1


def test_patch_replaces_a_part_whole(api):
    created = create(api, body=SEED_EXAMPLES[0])
    actions = [{"type": "delay", "config": {"duration": 1, "unit": "hours"}}]

    data = api.patch(
        f"/v1/automations/{created['id']}", {"actions": actions}, format="json"
    ).json()["data"]

    assert data["actions"] == actions


def test_patch_revalidates_the_merged_definition(api):
    created = create(api)  # conditions on contacts.email

    response = api.patch(
        f"/v1/automations/{created['id']}",
        {"trigger": {"type": "record.created", "module": "tasks"}},
        format="json",
    )

    assert response.status_code == 400
    assert "conditions[0].field" in response.json()["error"]["details"]


def test_invalid_patch_changes_nothing(api):
    created = create(api, body=SEED_LEAD)

    response = api.patch(f"/v1/automations/{created['id']}", {"name": ""}, format="json")

    assert response.status_code == 400
    automation = Automation.objects.get(pk=created["id"])
    assert automation.name == SEED_LEAD["name"]
    assert automation.enabled is True


def test_patch_with_an_empty_body_is_400(api):
    created = create(api)
    response = api.patch(f"/v1/automations/{created['id']}", {}, format="json")
    assert response.status_code == 400


def test_patch_unknown_key_is_400(api):
    created = create(api)
    response = api.patch(f"/v1/automations/{created['id']}", {"colour": "red"}, format="json")
    assert response.status_code == 400
    assert "colour" in response.json()["error"]["details"]


def test_patch_keeps_the_counters_the_engine_writes(api):
    created = create(api, body=SEED_LEAD)
    Automation.objects.filter(pk=created["id"]).update(run_count=47)

    data = api.patch(f"/v1/automations/{created['id']}", SEED_PATCH, format="json").json()["data"]

    assert data["run_count"] == 47


def test_patch_can_move_its_own_webhook_path(api):
    body = {
        "name": "Inbound",
        "trigger": {"type": "webhook", "webhook_path": "a"},
        "actions": [{"type": "call_webhook", "config": {"url": "https://example.com/x"}}],
    }
    created = create(api, body=body)

    response = api.patch(f"/v1/automations/{created['id']}", {"name": "Renamed"}, format="json")

    assert response.status_code == 200


# --- Delete -------------------------------------------------------------------------------


def test_delete_answers_the_seed_shape(api):
    created = create(api)

    response = api.delete(f"/v1/automations/{created['id']}")

    assert response.status_code == 200
    assert response.json() == {"data": {"id": created["id"], "deleted": True}}
    assert api.get(f"/v1/automations/{created['id']}").status_code == 404


def test_delete_removes_the_logs(api, tenant):
    created = create(api)
    Run.objects.create(automation_id=created["id"], workspace=tenant.workspace)

    api.delete(f"/v1/automations/{created['id']}")

    assert not Run.objects.filter(automation_id=created["id"]).exists()


# --- Enable / disable ---------------------------------------------------------------------


def test_enable_answers_the_seed_shape(api):
    created = create(api)

    response = api.post(f"/v1/automations/{created['id']}/enable")

    assert response.status_code == 200
    assert response.json() == {"data": {"id": created["id"], "enabled": True}}
    assert Automation.objects.get(pk=created["id"]).enabled is True


def test_disable_answers_the_seed_shape(api):
    created = create(api, enabled=True)

    response = api.post(f"/v1/automations/{created['id']}/disable")

    assert response.json() == {"data": {"id": created["id"], "enabled": False}}
    assert Automation.objects.get(pk=created["id"]).enabled is False


def test_enable_resets_the_circuit_breaker(api):
    created = create(api)
    Automation.objects.filter(pk=created["id"]).update(
        consecutive_failures=5,
        disabled_reason={"code": "automation_disabled", "message": "x", "last_error": "y"},
    )

    api.post(f"/v1/automations/{created['id']}/enable")

    automation = Automation.objects.get(pk=created["id"])
    assert automation.consecutive_failures == 0
    assert automation.disabled_reason is None


# --- Workspaces ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"name": "stolen"}),
        ("delete", "", None),
        ("post", "/enable", None),
        ("post", "/disable", None),
        ("get", "/logs", None),
        ("get", "/versions", None),
        ("post", "/test", {"record": {}}),
        ("post", "/trigger", {"record_id": "rec_abcd1234"}),
    ],
)
def test_another_workspaces_automation_is_404(api, other_tenant, method, suffix, body):
    theirs = create(other_tenant.client, enabled=True)

    response = getattr(api, method)(f"/v1/automations/{theirs['id']}{suffix}", body, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    automation = Automation.objects.get(pk=theirs["id"])
    assert automation.name == SEED_CREATE["name"]
    assert automation.enabled is True


# --- Cache invalidation and schema --------------------------------------------------------


def test_every_write_invalidates_the_matching_index_after_commit(
    api, tenant, monkeypatch, django_capture_on_commit_callbacks
):
    from automations.runtime import matching

    calls = []
    monkeypatch.setattr(matching, "invalidate", calls.append)
    with django_capture_on_commit_callbacks(execute=True):
        created = create(api)
    writes = [
        lambda: api.patch(f"/v1/automations/{created['id']}", {"name": "x"}, format="json"),
        lambda: api.post(f"/v1/automations/{created['id']}/enable"),
        lambda: api.post(f"/v1/automations/{created['id']}/disable"),
        lambda: api.delete(f"/v1/automations/{created['id']}"),
    ]
    assert tenant.workspace.id in calls
    for write in writes:
        calls.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert write().status_code == 200
        assert tenant.workspace.id in calls


def test_a_failed_write_does_not_invalidate(api, monkeypatch, django_capture_on_commit_callbacks):
    from automations.runtime import matching

    calls = []
    monkeypatch.setattr(matching, "invalidate", calls.append)
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/v1/automations", {**SEED_CREATE, "name": ""}, format="json")
    assert calls == []


def test_services_create_is_usable_without_a_request(tenant):
    automation = services.automation_create(
        workspace=tenant.workspace, user=tenant.user, data=SEED_CREATE
    )
    assert automation.pk.startswith("auto_")
    assert automation.enabled is False


def test_openapi_schema_documents_the_automation_api(api):
    from drf_spectacular.validation import validate_schema

    response = api.get("/v1/schema?format=json")

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    for path in (
        "/v1/automations",
        "/v1/automations/{automation_id}",
        "/v1/automations/{automation_id}/logs",
        "/v1/automations/{automation_id}/test",
        "/v1/automations/{automation_id}/trigger",
        "/v1/email_templates",
    ):
        assert path in schema["paths"], path


def test_patch_with_only_enabled_false_disables_a_definition_todays_checks_refuse(api):
    """`{"enabled": false}` is the disable endpoint: it must work on an automation stored
    before a save-time rule existed (here a loopback webhook URL, refused at save since),
    as POST .../disable does, rather than re-validating the definition and answering 400."""
    created = create(api, body=SEED_LEAD)
    stored = [{"type": "call_webhook", "config": {"url": "http://127.0.0.1:9/hook"}}]
    Automation.objects.filter(pk=created["id"]).update(actions=stored)

    response = api.patch(f"/v1/automations/{created['id']}", {"enabled": False}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["data"]["enabled"], response.json()["data"]["version"]) == (False, 1)
    assert Automation.objects.get(pk=created["id"]).enabled is False


def test_patch_with_unchanged_values_and_enabled_false_disables_such_a_definition_too(api):
    """The same values sent back beside `"enabled": false` change nothing but the state: they
    are not a reason to re-validate (and refuse) what was stored before a newer rule."""
    created = create(api, body=SEED_LEAD)
    stored = [{"type": "call_webhook", "config": {"url": "http://127.0.0.1:9/hook"}}]
    Automation.objects.filter(pk=created["id"]).update(actions=stored)

    response = api.patch(
        f"/v1/automations/{created['id']}",
        {"name": created["name"], "actions": stored, "enabled": False},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["data"]["enabled"], response.json()["data"]["version"]) == (False, 1)


def test_patch_sending_1_where_true_is_stored_is_a_change(api):
    """Unchanged means the same JSON: 1 is not true (Python's 1 == True must not hide an edit)."""

    def actions(flag):
        config = {"url": "https://example.com/hook", "body": {"flag": flag}}
        return [{"type": "call_webhook", "config": config}]

    created = create(api, body={**SEED_LEAD, "actions": actions(True)})

    data = api.patch(
        f"/v1/automations/{created['id']}", {"actions": actions(1)}, format="json"
    ).json()["data"]

    assert (data["actions"][0]["config"]["body"], data["version"]) == ({"flag": 1}, 2)
    assert data["enabled"] is False
