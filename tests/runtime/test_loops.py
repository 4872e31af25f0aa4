"""Loop protection: chains of runs stop, and what they stopped is logged as blocked."""

import pytest

from automations.models import Run
from records.services import record_update
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db


def test_a_self_updating_automation_runs_once_and_logs_the_blocked_repeat(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.updated", "module": "contacts"},
        actions=[{"type": "update_record", "config": {"updates": {"processed_at": "{{now}}"}}}],
    )
    contact = make_record(tenant, "contacts", name="Ada")
    record_update(record=contact, data={"name": "Ada L."}, actor=tenant.user)
    drain()
    runs = runs_of(automation)
    assert [r.status for r in runs] == ["success", "blocked"]
    blocked = runs[1]
    assert blocked.error_code == "loop_detected"
    assert automation.id in blocked.error_message
    assert blocked.chain["root"] == runs[0].chain["root"]
    assert blocked.chain["depth"] == 2


def test_ping_pong_between_two_automations_stops(tenant):
    account = make_record(tenant, "accounts", name="Acme")
    contact = make_record(tenant, "contacts", name="Ada", account_id=account.id)
    ping = make_automation(
        tenant,
        name="ping",
        trigger={"type": "record.updated", "module": "contacts"},
        actions=[
            {
                "type": "update_record",
                "config": {
                    "record": "related",
                    "module": "accounts",
                    "record_id": "{{record.account_id}}",
                    "updates": {"status": "ping {{record.status}}"},
                },
            }
        ],
    )
    pong = make_automation(
        tenant,
        name="pong",
        trigger={"type": "record.updated", "module": "accounts"},
        actions=[
            {
                "type": "update_record",
                "config": {
                    "record": "related",
                    "module": "contacts",
                    "record_id": contact.id,
                    "updates": {"status": "pong {{record.status}}"},
                },
            }
        ],
    )
    record_update(record=contact, data={"status": "go"}, actor=tenant.user)
    drain()
    assert [r.status for r in runs_of(ping)] == ["success", "blocked"]
    assert [r.status for r in runs_of(pong)] == ["success"]
    account.refresh_from_db()
    contact.refresh_from_db()
    assert account.values["status"] == "ping go"
    assert contact.values["status"] == "pong ping go"


def test_chains_stop_at_the_depth_limit(tenant, settings):
    settings.AUTOMATIONS_MAX_CHAIN_DEPTH = 2
    # Each created task creates another task: a new record every time, so only depth stops it.
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "tasks"},
        actions=[
            {
                "type": "create_record",
                "config": {"module": "tasks", "data": {"name": "child of {{record.name}}"}},
            }
        ],
    )
    make_record(tenant, "tasks", name="t0")
    drain()
    runs = runs_of(automation)
    assert [r.status for r in runs] == ["success", "success", "blocked"]
    assert runs[-1].error_code == "chain_depth_exceeded"
    assert tenant.module("tasks").records.count() == 3


def test_blocked_runs_count_as_runs_but_not_as_failures(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.updated", "module": "contacts"},
        actions=[{"type": "update_record", "config": {"updates": {"processed_at": "{{now}}"}}}],
    )
    contact = make_record(tenant, "contacts", name="Ada")
    record_update(record=contact, data={"name": "B"}, actor=tenant.user)
    drain()
    automation.refresh_from_db()
    assert automation.run_count == 2
    assert automation.consecutive_failures == 0
    assert Run.objects.filter(automation=automation, status="blocked").count() == 1
