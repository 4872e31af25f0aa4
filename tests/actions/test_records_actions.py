"""update_record and create_record."""

import json
import time

import pytest
from rest_framework.test import APIClient

from automations.models import Run
from records.services import record_update
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db


def _on_contact(tenant, *actions):
    return make_automation(
        tenant, trigger={"type": "record.created", "module": "contacts"}, actions=list(actions)
    )


def test_update_record_changes_the_trigger_record_with_typed_values(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "leads"},
        actions=[
            {
                "type": "update_record",
                "config": {
                    "record": "trigger",
                    "updates": {
                        "status": "processed",
                        "processed_at": "{{now}}",
                        "score": "{{record.score}}1",
                    },
                },
            }
        ],
    )
    lead = make_record(tenant, "leads", name="L", score=4)
    drain()
    lead.refresh_from_db()
    assert lead.values["status"] == "processed"
    assert lead.values["score"] == 41  # rendered text, stored as a number by field type
    assert lead.values["processed_at"].endswith("Z")
    output = runs_of(automation)[0].action_runs.get().output
    assert output == {
        "record_id": lead.id,
        "module": "leads",
        "changed_fields": ["processed_at", "score", "status"],
    }


def test_update_record_changes_a_related_record(tenant):
    account = make_record(tenant, "accounts", name="Acme")
    _on_contact(
        tenant,
        {
            "type": "update_record",
            "config": {
                "record": "related",
                "module": "accounts",
                "record_id": "{{record.account_id}}",
                "updates": {"last_contact_date": "{{now}}"},
            },
        },
    )
    make_record(tenant, "contacts", name="Ada", account_id=account.id)
    drain()
    account.refresh_from_db()
    assert len(account.values["last_contact_date"]) == 10  # a date field keeps the date


def test_update_record_of_a_missing_record_fails_permanently(tenant):
    automation = _on_contact(
        tenant,
        {
            "type": "update_record",
            "config": {
                "record": "related",
                "module": "accounts",
                "record_id": "rec_doesnotexist",
                "updates": {"status": "x"},
            },
        },
    )
    make_record(tenant, "contacts", name="Ada")
    drain()
    [run] = runs_of(automation)
    assert (run.status, run.error_code) == ("failed", "record_not_found")
    assert run.attempts == 1  # tried once, never retried


def test_update_record_refuses_a_value_of_the_wrong_type(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "leads"},
        actions=[{"type": "update_record", "config": {"updates": {"score": "{{record.name}}"}}}],
    )
    make_record(tenant, "leads", name="not a number")
    drain()
    [run] = runs_of(automation)
    assert (run.status, run.error_code) == ("failed", "validation_error")
    assert "score" in run.error_message


@pytest.mark.parametrize(
    ("kind", "config", "reason"),
    [
        ("update_record", {"updates": {"score": "{{record.name}}"}}, "score: is too large"),
        (
            "create_record",
            {"module": "deals", "data": {"name": "D", "value": "{{record.name}}0"}},
            "value: is too large",
        ),
        (
            "update_record",
            {"updates": {"processed_at": "{{record.status}}"}},
            "processed_at: is out of range",
        ),
    ],
)
def test_a_rendered_value_past_the_bounds_is_that_actions_clear_failure(
    tenant, kind, config, reason
):
    """A template may render a huge number or an impossible moment: the action fails at once
    (permanent: the same data renders the same value) with the field and the bound."""
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "leads"},
        actions=[{"type": kind, "config": config}],
    )
    make_record(tenant, "leads", name="9" * 5000, status="0001-01-01T00:00:00+23:00")
    drain()
    [run] = runs_of(automation)
    [action_run] = run.action_runs.all()
    assert (run.status, run.error_code) == ("failed", "validation_error")
    assert (action_run.status, action_run.error_code) == ("failed", "validation_error")
    assert reason in action_run.error_message
    assert len(action_run.error_message) < 300  # no echo of the 5,000 digits


def test_update_record_of_another_workspaces_record_is_not_found(tenant, other_tenant):
    foreign = make_record(other_tenant, "accounts", name="Theirs")
    automation = _on_contact(
        tenant,
        {
            "type": "update_record",
            "config": {
                "record": "related",
                "module": "accounts",
                "record_id": foreign.id,
                "updates": {"status": "mine now"},
            },
        },
    )
    make_record(tenant, "contacts", name="Ada")
    drain()
    assert runs_of(automation)[0].error_code == "record_not_found"
    foreign.refresh_from_db()
    assert "status" not in foreign.values


def test_create_record_creates_in_any_module_and_reports_the_id(tenant):
    automation = _on_contact(
        tenant,
        {
            "type": "create_record",
            "config": {
                "module": "deals",
                "data": {
                    "name": "Deal for {{record.name}}",
                    "value": 100,
                    "stage": "proposal",
                    "related_contact": "{{record.id}}",
                },
            },
        },
    )
    contact = make_record(tenant, "contacts", name="Ada")
    drain()
    deal = tenant.module("deals").records.get()
    assert deal.values == {
        "name": "Deal for Ada",
        "value": 100,
        "stage": "proposal",
        "related_contact": contact.id,
    }
    assert runs_of(automation)[0].action_runs.get().output == {
        "record_id": deal.id,
        "module": "deals",
    }


def test_records_changed_by_actions_trigger_other_automations_with_the_chain(tenant):
    creator = _on_contact(
        tenant,
        {
            "type": "create_record",
            "config": {"module": "tasks", "data": {"name": "Call {{record.name}}"}},
        },
    )
    follower = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "tasks"},
        actions=[{"type": "update_record", "config": {"updates": {"priority": "high"}}}],
    )
    make_record(tenant, "contacts", name="Ada")
    drain()
    [first] = runs_of(creator)
    [second] = runs_of(follower)
    assert second.status == Run.Status.SUCCESS
    assert second.chain["root"] == first.chain["root"]
    assert second.chain["depth"] == 2
    assert tenant.module("tasks").records.get().values["priority"] == "high"


def test_an_update_that_changes_nothing_causes_no_further_event(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.updated", "module": "contacts"},
        actions=[{"type": "update_record", "config": {"updates": {"status": "done"}}}],
    )
    contact = make_record(tenant, "contacts", name="Ada", status="done")
    record_update(record=contact, data={"name": "Ada L."}, actor=tenant.user)
    drain()
    assert [r.status for r in runs_of(automation)] == ["success"]  # no blocked echo


@pytest.mark.parametrize("amount", ["1e1000000", "9" * 5000, "0." + "9" * 5000])
def test_a_webhook_delivering_a_number_past_the_bounds_fails_the_action_cleanly(tenant, amount):
    """The inbound webhook entrance: the payload reaches the record write through a template."""
    automation = make_automation(
        tenant,
        trigger={"type": "webhook", "webhook_path": "deals"},
        actions=[
            {
                "type": "create_record",
                "config": {
                    "module": "deals",
                    "data": {"name": "From shop", "value": "{{webhook.body.amount}}"},
                },
            }
        ],
    )
    response = APIClient().post(
        f"/v1/webhooks/{automation.id}/deals",
        data=json.dumps({"amount": amount}),
        content_type="application/json",
    )
    assert response.status_code == 202
    started = time.process_time()
    drain()
    assert time.process_time() - started < 5  # no million-digit arithmetic
    [run] = runs_of(automation)
    assert (run.status, run.error_code) == ("failed", "validation_error")
    assert run.error_message.startswith("value: ")
    assert not tenant.module("deals").records.exists()


def test_a_computed_number_more_precise_than_kept_is_rounded_not_refused(tenant):
    # 100 / 3.0 is 33.333333333333336 as a double: 17 significant digits, which the first
    # bounded reader refused, failing an automation that splits an amount three ways.
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "deals"},
        actions=[
            {
                "type": "update_record",
                "config": {
                    "record": "trigger",
                    "updates": {"value": "{{record.value | divided_by: 3.0}}"},
                },
            }
        ],
    )
    deal = make_record(tenant, "deals", name="Big", value=100)
    drain()
    [run] = runs_of(automation)
    assert run.status == "success", run.error_message
    deal.refresh_from_db()
    assert deal.values["value"] == 33.3333333333333
