"""The moment between a record's commit and the hand-over of its run to the broker.

A run is committed with its record, already marked as handed over (dispatched_at); publishing
it happens after the commit, and a failed publish undoes the mark so that the relay publishes
the run on its next tick. If the broker is down and the database connection dies in that moment
too (a PostgreSQL restart cut connections exactly there in test_postgres_restart), the request
must still succeed, since its record and run are safely committed, and the relay must publish
the run once its mark is AUTOMATIONS_REDISPATCH_AFTER old. Deterministic here: publishing fails,
and a database execute wrapper fails the UPDATE that undoes the mark as a dropped connection
would.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import OperationalError, connection
from django.utils import timezone

from automations.models import Run
from automations.runtime.relay import relay
from tests.runtime.support import make_automation

pytestmark = pytest.mark.django_db(transaction=True)


def _fail_handover(execute, sql, params, many, context):
    if sql.startswith('UPDATE "automations_run" SET "dispatched_at"'):
        raise OperationalError("server closed the connection unexpectedly")
    return execute(sql, params, many, context)


def test_a_database_error_while_handing_over_a_committed_run_does_not_fail_the_request(
    tenant, published_runs, settings
):
    settings.AUTOMATIONS_REDISPATCH_AFTER = 30
    published_runs.reachable = False  # publishing after the commit fails
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[{"type": "update_record", "config": {"updates": {"status": "seen"}}}],
    )
    with connection.execute_wrapper(_fail_handover):
        response = tenant.client.post(
            "/v1/modules/contacts/records", {"name": "Ada"}, format="json"
        )
    assert response.status_code == 201
    [run] = Run.objects.filter(automation=automation)
    assert run.status == "pending" and run.dispatched_at is not None  # the mark stayed
    assert relay()["published"] == 0
    published_runs.reachable = True  # the broker is back for the relay
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        relay()
    assert published_runs.batches == [[run.id]]
