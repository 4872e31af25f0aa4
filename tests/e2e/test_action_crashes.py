"""An exception inside an action (its rendering or its execution) ends as that action's
failure, logged on the run, through a real worker: never as a lost worker and a run reclaimed
over and over (issue 15.6, the executor side)."""

import logging

import pytest

from automations.actions.update_record import UpdateRecord
from automations.models import ActionRun, Automation, Run
from automations.runtime import executor
from tests.e2e.helpers import create_via_api, finished_runs
from tests.factories import make_record

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _automation(api, actions):
    return create_via_api(
        api,
        {
            "name": "crash",
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": actions,
        },
    )


def _poison(automation: Automation, index: int) -> None:
    """Write a call_webhook body as the issue found it (500 nested lists, which recursion
    through the template renderer cannot walk) straight into the row: save validation refuses
    it, but a definition stored earlier, or written around the validation, must still fail
    cleanly when it runs."""
    actions = list(automation.actions)
    actions[index] = {
        "type": "call_webhook",
        "config": {"url": "http://127.0.0.1:9/never", "method": "POST", "body": _nested(500)},
    }
    Automation.objects.filter(id=automation.id).update(actions=actions)


def test_a_config_stored_too_deep_is_that_actions_permanent_failure(
    celery_worker, settle, api, tenant
):
    automation = _automation(
        api,
        [
            {"type": "update_record", "config": {"updates": {"status": "seen"}}},
            {"type": "call_webhook", "config": {"url": "https://example.com/x", "method": "POST"}},
        ],
    )
    _poison(automation, 1)

    contact = make_record(tenant, "contacts", name="Ada")
    [run] = settle(lambda: finished_runs(automation))

    # The renderer stops at the JSON policy's depth before Python's recursion limit: a clean,
    # permanent template failure of that action, not a crash and not a lost worker.
    assert (run.status, run.error_code) == ("failed", "template_render_failed")
    first, second = ActionRun.objects.filter(run=run).order_by("index")
    assert (first.status, second.status) == ("success", "failed")
    assert second.attempt == 1 == run.attempts  # not retried, not reclaimed
    assert "nested too deeply" in second.error_message
    assert "actions[1].config.body" in second.error_message
    # The logged copy is cut where it nests too deeply, not stored 500 levels deep.
    logged, levels = second.config["body"], 0
    while isinstance(logged, list):
        logged, levels = logged[0], levels + 1
    assert (logged, levels < 70) == ("[nested too deeply to log]", True)
    contact.refresh_from_db()
    assert contact.values["status"] == "seen"  # the action before it stays done


def test_a_recursion_error_while_rendering_is_that_actions_permanent_failure(
    celery_worker, settle, api, tenant, caplog, monkeypatch
):
    automation = _automation(
        api,
        [
            {"type": "update_record", "config": {"updates": {"status": "seen"}}},
            {"type": "call_webhook", "config": {"url": "https://example.com/x", "method": "POST"}},
        ],
    )
    real_render = executor.render_value

    def render(value, context, *, path=""):
        if path == "actions[1].config":
            raise RecursionError("maximum recursion depth exceeded")
        return real_render(value, context, path=path)

    monkeypatch.setattr(executor, "render_value", render)
    caplog.set_level(logging.ERROR, logger="automations.runtime.executor")

    contact = make_record(tenant, "contacts", name="Ada")
    [run] = settle(lambda: finished_runs(automation))

    assert (run.status, run.error_code) == ("failed", "action_crashed")
    first, second = ActionRun.objects.filter(run=run).order_by("index")
    assert (first.status, second.status) == ("success", "failed")
    assert second.error_code == "action_crashed"
    assert second.attempt == 1 == run.attempts  # not retried, not reclaimed
    # What happened, in words, without Python's internals; the traceback is in the worker log.
    assert "nested too deeply" in second.error_message
    assert "RecursionError" not in second.error_message
    assert "Traceback" not in second.error_message
    assert any(
        record.exc_info and record.exc_info[0] is RecursionError for record in caplog.records
    )
    contact.refresh_from_db()
    assert contact.values["status"] == "seen"  # the action before it stays done
    logs = api.get(f"/v1/automations/{automation.id}/logs").json()["data"]
    assert logs[0]["status"] == "failed"
    assert logs[0]["actions_executed"][1]["error_code"] == "action_crashed"


@pytest.mark.parametrize(
    ("exception", "words"),
    [
        (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
        (MemoryError(), "more memory"),
        (KeyError("boom"), "unexpected error"),
    ],
)
def test_an_exception_raised_by_an_action_is_its_failure_not_a_lost_worker(
    celery_worker, settle, api, tenant, monkeypatch, exception, words
):
    def explode(self, config, ctx):
        raise exception

    monkeypatch.setattr(UpdateRecord, "execute", explode)
    automation = _automation(
        api, [{"type": "update_record", "config": {"updates": {"status": "seen"}}}]
    )

    make_record(tenant, "contacts", name="Ada")
    [run] = settle(lambda: finished_runs(automation))

    [action_run] = ActionRun.objects.filter(run=run)
    assert (run.status, run.error_code) == ("failed", "action_crashed")
    assert (action_run.status, action_run.error_code) == ("failed", "action_crashed")
    assert words in action_run.error_message
    assert type(exception).__name__ not in action_run.error_message
    assert action_run.attempt == 1 == run.attempts
    assert not Run.objects.filter(error_code="worker_lost").exists()


def test_a_crash_that_can_pass_is_retried_like_any_failure(
    celery_worker, settle, api, tenant, monkeypatch
):
    """The database or the network failing under an action may pass: such a crash is retried
    (AUTOMATIONS_RETRY_DELAYS, two here), a deterministic one above is not."""

    def flaky(self, config, ctx):
        raise ConnectionResetError("peer went away")

    monkeypatch.setattr(UpdateRecord, "execute", flaky)
    automation = _automation(
        api, [{"type": "update_record", "config": {"updates": {"status": "seen"}}}]
    )

    make_record(tenant, "contacts", name="Ada")
    [run] = settle(lambda: finished_runs(automation))

    [action_run] = ActionRun.objects.filter(run=run)
    assert (run.status, action_run.error_code) == ("failed", "action_crashed")
    assert action_run.attempt == 3 == run.attempts  # the first try and both retries
