"""run_manual and run_retry, the services behind the API's trigger and retry endpoints."""

import pytest

from automations.models import Run
from automations.runtime.runs import run_manual, run_retry
from config.errors import DomainError
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db


def test_run_manual_runs_for_the_record_as_the_calling_user(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "manual", "module": "contacts"},
        actions=[
            {
                "type": "update_record",
                "config": {"updates": {"status": "touched by {{user.email}}"}},
            }
        ],
    )
    contact = make_record(tenant, "contacts", name="Ada")
    run = run_manual(automation=automation, record=contact, user=tenant.user)
    assert run.status == Run.Status.PENDING
    assert run.triggered_by == tenant.user
    assert run.trigger_data["event"] == "manual"
    drain()
    contact.refresh_from_db()
    assert contact.values["status"] == f"touched by {tenant.user.email}"


def test_run_manual_refuses_a_record_that_fails_the_conditions(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "manual", "module": "contacts"},
        conditions=[{"field": "email", "operator": "is_not_empty"}],
        actions=[{"type": "update_record", "config": {"updates": {"status": "x"}}}],
    )
    contact = make_record(tenant, "contacts", name="Ada")
    with pytest.raises(DomainError) as caught:
        run_manual(automation=automation, record=contact, user=tenant.user)
    assert caught.value.code == "conditions_not_met"
    assert caught.value.status == 422
    assert caught.value.details["conditions_evaluated"][0]["passed"] is False
    assert runs_of(automation) == []


def _failing(tenant, httpserver):
    httpserver.expect_request("/hook").respond_with_data("gone", status=410)
    return make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[
            {"type": "create_record", "config": {"module": "tasks", "data": {"name": "t"}}},
            {"type": "call_webhook", "config": {"url": httpserver.url_for("/hook")}},
        ],
    )


def test_run_retry_resumes_a_failed_run_at_the_failed_action(tenant, httpserver):
    automation = _failing(tenant, httpserver)
    make_record(tenant, "contacts", name="Ada")
    drain()
    [run] = runs_of(automation)
    assert run.status == Run.Status.FAILED
    httpserver.clear()
    httpserver.expect_request("/hook").respond_with_data("ok")
    retried = run_retry(run=run, user=tenant.user)
    assert retried.status == Run.Status.PENDING
    assert retried.next_action_index == 1
    drain()
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCESS
    assert tenant.module("tasks").records.count() == 1
    automation.refresh_from_db()
    assert automation.run_count == 1  # the same run, not a second one
    assert automation.consecutive_failures == 0


def test_run_retry_refuses_a_run_that_did_not_fail(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[{"type": "update_record", "config": {"updates": {"status": "x"}}}],
    )
    make_record(tenant, "contacts", name="Ada")
    drain()
    [run] = runs_of(automation)
    with pytest.raises(DomainError) as caught:
        run_retry(run=run, user=tenant.user)
    assert (caught.value.code, caught.value.status) == ("run_not_retryable", 409)


def test_the_retry_endpoint_resumes_a_failed_run(api, tenant, httpserver):
    automation = _failing(tenant, httpserver)
    make_record(tenant, "contacts", name="Ada")
    drain()
    [run] = runs_of(automation)
    response = api.post(f"/v1/automations/{automation.id}/logs/{run.id}/retry")
    assert response.status_code == 202
    assert response.json()["data"]["status"] == "pending"
    again = api.post(f"/v1/automations/{automation.id}/logs/{run.id}/retry")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "run_not_retryable"
    missing = api.post(f"/v1/automations/{automation.id}/logs/log_nope/retry")
    assert missing.status_code == 404


def test_another_workspace_cannot_retry_a_run(other_tenant, tenant, httpserver):
    automation = _failing(tenant, httpserver)
    make_record(tenant, "contacts", name="Ada")
    drain()
    [run] = runs_of(automation)
    response = other_tenant.client.post(f"/v1/automations/{automation.id}/logs/{run.id}/retry")
    assert response.status_code == 404


def _run_updates(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if 'UPDATE "automations_run"' in q["sql"]]


def test_a_manual_run_is_written_handed_over_and_not_updated_after_commit(
    tenant, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    automation = make_automation(
        tenant,
        trigger={"type": "manual", "module": "contacts"},
        actions=[{"type": "update_record", "config": {"updates": {"status": "x"}}}],
    )
    contact = make_record(tenant, "contacts", name="Ada")
    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=True) as published:
            run = run_manual(automation=automation, record=contact, user=tenant.user)
    assert len(published) == 1
    assert not _run_updates(queries)  # no mark after the commit: the INSERT carried it
    run.refresh_from_db()
    assert run.dispatched_at == run.due_at is not None


def test_a_retry_marks_the_run_in_its_own_update_and_publishes_after_commit(
    tenant, httpserver, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    automation = _failing(tenant, httpserver)
    make_record(tenant, "contacts", name="Ada")
    drain()
    [run] = runs_of(automation)
    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=True) as published:
            retried = run_retry(run=run, user=tenant.user)
    assert len(published) == 1
    assert len(_run_updates(queries)) == 1  # the retry's own; nothing after the commit
    assert (retried.status, retried.dispatched_at) == ("pending", retried.due_at)
    drain()
    retried.refresh_from_db()
    assert retried.status == "failed" and retried.context["retried"] == 1
