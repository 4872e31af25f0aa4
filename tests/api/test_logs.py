"""GET /v1/automations/{id}/logs: the seed's execution logs, from runs inserted directly."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from automations.models import ActionRun, Run

CREATED = {
    "name": "Welcome",
    "trigger": {"type": "record.created", "module": "contacts"},
    "actions": [
        {"type": "send_email", "config": {"to": "{{record.email}}", "template": "welcome_email"}},
        {"type": "update_record", "config": {"updates": {"status": "processed"}}},
    ],
}
T0 = datetime(2024, 1, 16, 14, 0, tzinfo=UTC)


@pytest.fixture
def automation_id(api):
    response = api.post("/v1/automations", CREATED, format="json")
    assert response.status_code == 201
    return response.json()["data"]["id"]


def make_run(
    automation_id,
    workspace,
    *,
    status,
    created_at,
    record_id="rec_abc123",
    actions=(),
    started_at=None,
    completed_at=None,
    duration_ms=None,
    **fields,
):
    run = Run.objects.create(
        automation_id=automation_id,
        workspace=workspace,
        status=status,
        trigger_data={"record_id": record_id, "event": "record.created"},
        record_id=record_id,
        started_at=started_at,
        completed_at=completed_at,
        duration_ms=duration_ms,
        **fields,
    )
    # created_at is auto_now_add: set the time the test needs afterwards.
    Run.objects.filter(pk=run.pk).update(created_at=created_at)
    for index, spec in enumerate(actions):
        ActionRun.objects.create(run=run, index=index, **spec)
    return run


def seed_runs(automation_id, workspace):
    """The two logs of the seed's example response."""
    ok = make_run(
        automation_id,
        workspace,
        id="log_xyz789",
        status="success",
        created_at=T0 + timedelta(minutes=22),
        started_at=datetime(2024, 1, 16, 14, 22, 0, tzinfo=UTC),
        completed_at=datetime(2024, 1, 16, 14, 22, 1, tzinfo=UTC),
        duration_ms=277,
        actions=[
            {"type": "send_email", "status": "success", "duration_ms": 245},
            {"type": "update_record", "status": "success", "duration_ms": 32},
        ],
    )
    failed = make_run(
        automation_id,
        workspace,
        id="log_xyz788",
        status="failed",
        created_at=T0,
        record_id="rec_abc122",
        started_at=datetime(2024, 1, 16, 14, 0, 0, tzinfo=UTC),
        completed_at=datetime(2024, 1, 16, 14, 0, 30, tzinfo=UTC),
        duration_ms=30000,
        error_code="webhook_connection_failed",
        error_message="Connection timeout after 30000ms",
        actions=[
            {
                "type": "call_webhook",
                "status": "failed",
                "duration_ms": 30000,
                "error_code": "action_timeout",
                "error_message": "Connection timeout after 30000ms",
            }
        ],
    )
    return ok, failed


def test_logs_answer_the_seed_example(api, tenant, automation_id):
    seed_runs(automation_id, tenant.workspace)

    response = api.get(f"/v1/automations/{automation_id}/logs")

    assert response.status_code == 200
    body = response.json()
    assert body["meta"] == {"total": 2, "page": 1, "per_page": 25}
    first, second = body["data"]
    assert {
        k: first[k]
        for k in (
            "id",
            "automation_id",
            "status",
            "trigger_data",
            "started_at",
            "completed_at",
            "duration_ms",
        )
    } == {
        "id": "log_xyz789",
        "automation_id": automation_id,
        "status": "success",
        "trigger_data": {"record_id": "rec_abc123", "event": "record.created"},
        "started_at": "2024-01-16T14:22:00Z",
        "completed_at": "2024-01-16T14:22:01Z",
        "duration_ms": 277,
    }
    assert [
        {k: a[k] for k in ("type", "status", "duration_ms")} for a in first["actions_executed"]
    ] == [
        {"type": "send_email", "status": "success", "duration_ms": 245},
        {"type": "update_record", "status": "success", "duration_ms": 32},
    ]
    assert all("error" not in a for a in first["actions_executed"])
    assert second["id"] == "log_xyz788"
    assert second["status"] == "failed"
    assert second["duration_ms"] == 30000
    [failed_action] = second["actions_executed"]
    assert failed_action["type"] == "call_webhook"
    assert failed_action["status"] == "failed"
    assert failed_action["error"] == "Connection timeout after 30000ms"
    assert failed_action["error_code"] == "action_timeout"
    assert second["error_code"] == "webhook_connection_failed"


def test_logs_filter_by_status(api, tenant, automation_id):
    seed_runs(automation_id, tenant.workspace)

    data = api.get(f"/v1/automations/{automation_id}/logs?status=failed").json()["data"]

    assert [run["id"] for run in data] == ["log_xyz788"]


def test_logs_filter_since_a_timestamp(api, tenant, automation_id):
    seed_runs(automation_id, tenant.workspace)

    data = api.get(f"/v1/automations/{automation_id}/logs?since=2024-01-16T14:10:00Z").json()[
        "data"
    ]

    assert [run["id"] for run in data] == ["log_xyz789"]


def test_since_is_inclusive(api, tenant, automation_id):
    seed_runs(automation_id, tenant.workspace)

    data = api.get(f"/v1/automations/{automation_id}/logs?since=2024-01-16T14:00:00Z").json()[
        "data"
    ]

    assert len(data) == 2


def test_logs_limit_sets_the_page_size(api, tenant, automation_id):
    for minute in range(5):
        make_run(
            automation_id,
            tenant.workspace,
            status="success",
            created_at=T0 + timedelta(minutes=minute),
        )

    body = api.get(f"/v1/automations/{automation_id}/logs?limit=2&page=2").json()

    assert body["meta"] == {"total": 5, "page": 2, "per_page": 2}
    assert len(body["data"]) == 2


def test_logs_are_newest_first(api, tenant, automation_id):
    runs = [
        make_run(
            automation_id,
            tenant.workspace,
            status="success",
            created_at=T0 + timedelta(minutes=minute),
        )
        for minute in (5, 1, 9)
    ]

    data = api.get(f"/v1/automations/{automation_id}/logs").json()["data"]

    assert [run["id"] for run in data] == [runs[2].id, runs[0].id, runs[1].id]


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("status=exploded", "status"),
        ("since=yesterday", "since"),
        ("since=9999-12-31T23:59:59-23:00", "since"),
        ("since=0001-01-01T00:00:00%2B23:00", "since"),
        ("colour=red", "colour"),
        ("since=" + "x" * 5000, "since"),
        ("limit=" + "9" * 5000, "limit"),
    ],
)
def test_logs_reject_bad_parameters(api, automation_id, query, path):
    response = api.get(f"/v1/automations/{automation_id}/logs?{query}")

    assert response.status_code == 400
    assert path in response.json()["error"]["details"]
    assert len(response.content) < 1000  # a bad value is quoted cut short, not echoed whole


def test_logs_only_show_this_automations_runs(api, tenant, automation_id):
    other = api.post("/v1/automations", CREATED, format="json").json()["data"]["id"]
    make_run(other, tenant.workspace, status="success", created_at=T0)

    assert api.get(f"/v1/automations/{automation_id}/logs").json()["data"] == []


def test_logs_query_count_does_not_grow_with_rows(api, tenant, automation_id):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"/v1/automations/{automation_id}/logs?limit=100").status_code == 200
        return len(queries)

    steps = [
        {"type": "send_email", "status": "success", "duration_ms": 1},
        {"type": "update_record", "status": "success", "duration_ms": 1},
    ]
    make_run(automation_id, tenant.workspace, status="success", created_at=T0, actions=steps)
    few = count_queries()
    for minute in range(1, 30):
        make_run(
            automation_id,
            tenant.workspace,
            status="success",
            created_at=T0 + timedelta(minutes=minute),
            actions=steps,
        )
    assert count_queries() == few


def test_logs_totals_follow_the_filters_and_the_workspace(api, tenant, other_tenant):
    automation_id = api.post("/v1/automations", CREATED, format="json").json()["data"]["id"]
    seed_runs(automation_id, tenant.workspace)
    make_run(automation_id, tenant.workspace, status="failed", created_at=T0 - timedelta(days=1))
    url = f"/v1/automations/{automation_id}/logs"

    def total(query: str = "", client=api) -> int:
        response = client.get(f"{url}{query}")
        assert response.status_code == 200, response.json()
        return response.json()["meta"]["total"]

    assert total() == 3
    assert total("?status=failed") == 2
    assert total("?since=2024-01-16T14:00:00Z") == 2
    assert total("?status=failed&since=2024-01-16T14:00:00Z") == 1
    assert total("?status=running") == 0
    assert total("?limit=1&page=9") == 3
    # Another workspace's key: the automation is not found, whatever the query says.
    for query in ("", "?status=failed", "?limit=0", "?colour=red"):
        response = other_tenant.client.get(f"{url}{query}")
        assert response.status_code == 404, query
        assert response.json()["error"]["code"] == "not_found"


def test_logs_query_count_does_not_grow_with_actions_per_run(api, tenant, automation_id):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"/v1/automations/{automation_id}/logs?limit=100").status_code == 200
        return len(queries)

    step = {"type": "update_record", "status": "success", "duration_ms": 1}
    make_run(automation_id, tenant.workspace, status="success", created_at=T0, actions=[step])
    few = count_queries()
    for minute in range(1, 10):
        make_run(
            automation_id,
            tenant.workspace,
            status="success",
            created_at=T0 + timedelta(minutes=minute),
            actions=[step] * 8,
        )
    assert count_queries() == few


def test_each_logs_actions_are_its_own_in_index_order(api, tenant, automation_id):
    # The page's action runs are read in one query and grouped by run: written out of order
    # and interleaved between runs, each log still lists exactly its own, by index.
    first = make_run(automation_id, tenant.workspace, status="success", created_at=T0)
    second = make_run(
        automation_id, tenant.workspace, status="success", created_at=T0 + timedelta(minutes=1)
    )
    make_run(automation_id, tenant.workspace, status="success", created_at=T0 - timedelta(days=1))
    for run, index, kind in [
        (second, 2, "delay"),
        (first, 1, "send_email"),
        (second, 0, "update_record"),
        (first, 0, "create_record"),
        (second, 1, "send_notification"),
    ]:
        ActionRun.objects.create(run=run, index=index, type=kind, status="success")

    data = api.get(f"/v1/automations/{automation_id}/logs").json()["data"]

    assert [(log["id"], [a["type"] for a in log["actions_executed"]]) for log in data] == [
        (second.id, ["update_record", "send_notification", "delay"]),
        (first.id, ["create_record", "send_email"]),
        (data[2]["id"], []),
    ]
    assert [a["index"] for a in data[0]["actions_executed"]] == [0, 1, 2]


def test_a_listed_log_reads_as_the_same_log_alone(api, tenant, automation_id):
    # The list reads rows (runs_data), a single log an instance (run_data): same JSON.
    seed_runs(automation_id, tenant.workspace)
    make_run(
        automation_id,
        tenant.workspace,
        status="waiting",
        created_at=T0 + timedelta(hours=1),
        due_at=T0 + timedelta(hours=2),
        attempts=1,
        conditions_evaluated=[{"field": "email", "operator": "is_not_empty", "result": True}],
        actions=[
            {"type": "update_record", "status": "success", "duration_ms": 3},
            {"type": "delay", "status": "waiting", "error_code": "", "error_message": ""},
        ],
    )
    make_run(
        automation_id,
        tenant.workspace,
        status="retrying",
        created_at=T0 + timedelta(hours=3),
        due_at=T0 + timedelta(hours=4),
        actions=[{"type": "call_webhook", "status": "retrying", "error_code": "http_500"}],
    )

    listed = api.get(f"/v1/automations/{automation_id}/logs").json()["data"]

    assert len(listed) == 4
    assert listed[0]["resumes_at"] == "2024-01-16T18:00:00Z"
    for log in listed:
        assert api.get(f"/v1/automations/{automation_id}/logs/{log['id']}").json()["data"] == log


def test_logs_stay_under_a_query_budget(api, tenant, automation_id, django_assert_max_num_queries):
    seed_runs(automation_id, tenant.workspace)
    # key lookup, count (a total above zero proves the automation is the caller's), page, and
    # the action runs of the whole page in one query.
    with django_assert_max_num_queries(4):
        api.get(f"/v1/automations/{automation_id}/logs")


def test_one_log_can_be_fetched(api, tenant, automation_id):
    seed_runs(automation_id, tenant.workspace)

    response = api.get(f"/v1/automations/{automation_id}/logs/log_xyz788")

    assert response.status_code == 200
    assert response.json()["data"]["status"] == "failed"


def test_a_log_of_another_automation_is_404(api, tenant, automation_id):
    other = api.post("/v1/automations", CREATED, format="json").json()["data"]["id"]
    run = make_run(other, tenant.workspace, status="success", created_at=T0)

    response = api.get(f"/v1/automations/{automation_id}/logs/{run.id}")

    assert response.status_code == 404


def test_logs_mask_secrets_in_inbound_webhook_headers(api, tenant, automation_id):
    run = make_run(automation_id, tenant.workspace, status="success", created_at=T0)
    Run.objects.filter(pk=run.pk).update(
        trigger_data={
            "event": "webhook",
            "record_id": None,
            "webhook": {
                "headers": {"Authorization": "Bearer s3cret", "X-Order": "42"},
                "body": {"a": 1},
            },
        }
    )

    [data] = api.get(f"/v1/automations/{automation_id}/logs").json()["data"]

    assert data["trigger_data"]["webhook"]["headers"] == {
        "Authorization": "[redacted]",
        "X-Order": "42",
    }


def test_a_waiting_run_says_when_it_resumes(api, tenant, automation_id):
    due = datetime(2024, 1, 16, 15, 0, tzinfo=UTC)
    make_run(automation_id, tenant.workspace, status="waiting", created_at=T0, due_at=due)

    [data] = api.get(f"/v1/automations/{automation_id}/logs").json()["data"]

    assert data["resumes_at"] == "2024-01-16T15:00:00Z"
