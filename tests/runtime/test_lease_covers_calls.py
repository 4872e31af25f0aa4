"""A worker's lease outlasts its external action's longest call, whatever AUTOMATIONS_RUN_LEASE
says: otherwise the relay could hand the run to another worker in the middle of a slow webhook,
which would call the receiver a second time.

The receiver reads the run's lease while the call is in flight, from its own thread and
database connection (so the claim must be committed: transactional database)."""

from datetime import timedelta

import pytest
from django.db import connection
from werkzeug import Response

from automations.models import Run
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lease_seen(httpserver):
    """The run's lease_expires_at minus the time, read while the receiver holds the call."""
    seen: list[timedelta] = []

    def receiver(request):
        try:
            run = Run.objects.get(status=Run.Status.RUNNING)
            seen.append(run.lease_expires_at - run.started_at)
        finally:
            connection.close()  # this thread's own connection
        return Response("ok")

    httpserver.expect_request("/slow").respond_with_handler(receiver)
    return seen


def _webhook_run(tenant, httpserver, **config):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[
            {"type": "call_webhook", "config": {"url": httpserver.url_for("/slow"), **config}}
        ],
    )
    make_record(tenant, "contacts", name="Ada")
    drain()
    [run] = runs_of(automation)
    return run


def test_a_short_lease_is_extended_to_cover_the_webhooks_timeout(
    tenant, httpserver, lease_seen, settings
):
    settings.AUTOMATIONS_RUN_LEASE = 3
    run = _webhook_run(tenant, httpserver, timeout=20)
    assert run.status == Run.Status.SUCCESS
    # connect (3 s) + the response's deadline (20 s) + the margin for the outcome (5 s)
    [held] = lease_seen
    assert held >= timedelta(seconds=3 + 20 + 5) - timedelta(seconds=1)


def test_a_lease_longer_than_the_call_is_left_as_configured(
    tenant, httpserver, lease_seen, settings
):
    settings.AUTOMATIONS_RUN_LEASE = 120
    _webhook_run(tenant, httpserver, timeout=2)
    [held] = lease_seen
    assert timedelta(seconds=115) <= held <= timedelta(seconds=121)
