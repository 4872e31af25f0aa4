from django.utils import timezone

from automations.models import ActionRun, Run
from automations.runtime.runs import run_create
from tests.factories import make_record
from tests.web.helpers import make_automation


def _run(automation, *, status=Run.Status.SUCCESS, record_id="rec_abcd1234", **fields):
    run = run_create(
        automation=automation,
        trigger_data={
            "event": "record.created",
            "record_id": record_id,
            "module": "contacts",
            "record": {"id": record_id, "name": "Ann"},
        },
    )
    Run.objects.filter(pk=run.pk).update(status=status, **fields)
    run.refresh_from_db()
    return run


def test_the_logs_list_an_automations_runs_with_their_status(web, tenant):
    automation = make_automation(tenant)
    ok = _run(automation)
    failed = _run(automation, status=Run.Status.FAILED, error_code="webhook_connection_failed")

    html = web.get(f"/automations/{automation.id}/logs").content.decode()

    assert ok.id in html and failed.id in html
    assert "webhook_connection_failed" in html


def test_the_logs_can_be_filtered_by_status(web, tenant):
    automation = make_automation(tenant)
    ok = _run(automation)
    failed = _run(automation, status=Run.Status.FAILED)

    html = web.get(f"/automations/{automation.id}/logs?status=failed").content.decode()

    assert failed.id in html
    assert ok.id not in html


def test_a_run_page_shows_trigger_data_conditions_and_each_action(web, tenant):
    automation = make_automation(tenant)
    run = _run(
        automation,
        status=Run.Status.FAILED,
        error_code="webhook_connection_failed",
        error_message="Connection timeout after 30000ms",
        duration_ms=30000,
        conditions_evaluated=[
            {"field": "email", "operator": "is_not_empty", "actual_value": "a@b.c", "passed": True}
        ],
    )
    ActionRun.objects.create(
        run=run,
        index=0,
        type="call_webhook",
        status="failed",
        duration_ms=30000,
        error_code="webhook_connection_failed",
        error_message="Connection timeout after 30000ms",
    )

    html = web.get(f"/runs/{run.id}/").content.decode()

    assert "Connection timeout after 30000ms" in html
    assert "call_webhook" in html
    assert "30000 ms" in html
    assert "is_not_empty" in html
    assert "&quot;event&quot;: &quot;record.created&quot;" in html
    assert 'id="retry-run"' in html
    assert 'http-equiv="refresh"' not in html


def test_a_run_in_progress_updates_in_place_without_a_reload(web, tenant):
    run = _run(make_automation(tenant), status=Run.Status.RUNNING)

    html = web.get(f"/runs/{run.id}/").content.decode()

    # live_status.js polls web:run_status for the element's run; no meta refresh reloads it.
    assert 'http-equiv="refresh"' not in html
    assert "js/live_status.js" in html
    assert f'data-run-id="{run.id}" data-status="running"' in html
    assert 'id="retry-run"' not in html


def test_the_failure_notice_link_opens_the_run(web, tenant):
    automation = make_automation(tenant)
    run = _run(automation, status=Run.Status.FAILED)

    assert web.get(f"/automations/{automation.id}/logs/{run.id}").status_code == 200


def test_retrying_a_failed_run_puts_it_back_in_the_queue(web, tenant):
    run = _run(
        make_automation(tenant),
        status=Run.Status.FAILED,
        error_code="x",
        completed_at=timezone.now(),
    )

    response = web.post(f"/runs/{run.id}/retry")

    run.refresh_from_db()
    assert response["Location"] == f"/runs/{run.id}/"
    assert run.status == Run.Status.PENDING


def test_a_successful_run_cannot_be_retried(web, tenant):
    run = _run(make_automation(tenant))

    response = web.post(f"/runs/{run.id}/retry", follow=True)

    run.refresh_from_db()
    assert run.status == Run.Status.SUCCESS
    assert "Could not retry" in response.content.decode()


def test_a_run_links_to_its_record(web, tenant):
    record = make_record(tenant, "contacts", name="Ann")
    run = _run(make_automation(tenant), record_id=record.id)

    html = web.get(f"/runs/{run.id}/").content.decode()

    assert f'href="/records/contacts/{record.id}/"' in html


def test_another_workspaces_runs_are_not_found(web, other_tenant):
    theirs = make_automation(other_tenant)
    run = _run(theirs, status=Run.Status.FAILED)

    assert web.get(f"/runs/{run.id}/").status_code == 404
    assert web.get(f"/automations/{theirs.id}/logs").status_code == 404
    assert web.post(f"/runs/{run.id}/retry").status_code == 404


def test_a_runs_not_started_actions_are_those_of_the_version_it_started_with(web, tenant):
    from automations.services import automation_update

    automation = make_automation(tenant)
    run = _run(automation, status=Run.Status.WAITING)
    automation_update(
        automation=automation,
        user=tenant.user,
        data={"actions": [{"type": "delay", "config": {"duration": 1, "unit": "minutes"}}]},
    )

    html = web.get(f"/automations/{automation.id}/logs/{run.id}").content.decode()

    assert "<td>send_notification</td>" in html
    assert "<td>delay</td>" not in html
