"""The moment between a record's commit and the hand-over of its run to the broker.

A run is committed with its record; handing it over (marking dispatched_at, publishing) happens
after the commit. If the database connection dies in that moment (a PostgreSQL restart did
exactly this in test_postgres_restart), the request must still succeed, since its record and run
are safely committed, and the relay must publish the run later. Deterministic here: a database
execute wrapper fails the hand-over's UPDATE as a dropped connection would.
"""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from automations.models import Run
from automations.runtime.relay import relay
from tests.runtime.support import make_automation

pytestmark = pytest.mark.django_db(transaction=True)


def _fail_handover(execute, sql, params, many, context):
    if sql.startswith('UPDATE "automations_run" SET "dispatched_at"'):
        raise OperationalError("server closed the connection unexpectedly")
    return execute(sql, params, many, context)


def test_a_database_error_while_handing_over_a_committed_run_does_not_fail_the_request(
    tenant, monkeypatch
):
    published: list[str] = []
    monkeypatch.setattr(
        "automations.runtime.runs.publish",
        lambda run_id, **kwargs: published.append(run_id) or True,
    )
    monkeypatch.setattr(
        "automations.runtime.relay.publish",
        lambda run_id, **kwargs: published.append(run_id) or True,
    )
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
    assert (run.status, run.dispatched_at) == ("pending", None)
    assert published == []
    relay()
    assert published == [run.id]
