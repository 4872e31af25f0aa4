"""send_notification: in-app notifications to workspace members."""

import pytest

from accounts.services import user_get_or_create
from automations.models import Notification
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db

CONFIG = {
    "user_id": "{{record.owner_id}}",
    "title": "New high-value deal",
    "message": "{{record.name}} - ${{record.value}}",
    "link": "/deals/{{record.id}}",
}


def _automation(tenant):
    return make_automation(
        tenant,
        trigger={"type": "record.created", "module": "deals"},
        actions=[{"type": "send_notification", "config": CONFIG}],
    )


def test_a_member_gets_the_notification(tenant, api):
    automation = _automation(tenant)
    deal = make_record(tenant, "deals", name="Big", value=75000, owner_id=tenant.user.id)
    drain()
    notice = Notification.objects.get()
    assert (notice.user, notice.title) == (tenant.user, "New high-value deal")
    assert notice.message == "Big - $75000"
    assert notice.link == f"/deals/{deal.id}"
    run = runs_of(automation)[0]
    assert run.action_runs.get().output == {"notification_id": notice.id, "user_id": tenant.user.id}
    listed = api.get("/v1/notifications").json()
    assert listed["data"][0]["log_id"] == run.id
    assert listed["data"][0]["automation_id"] == automation.id


def test_a_user_outside_the_workspace_is_a_permanent_failure(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "deals"},
        actions=[
            {"type": "send_notification", "config": {**CONFIG, "user_id": "{{record.value}}"}}
        ],
    )
    stranger, _ = user_get_or_create(email="stranger@example.com")
    make_record(tenant, "deals", name="Big", value=stranger.id)
    drain()
    run = runs_of(automation)[0]
    assert (run.status, run.error_code, run.attempts) == ("failed", "user_not_member", 1)
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "rendered",
    ["²", "١٢", "9" * 5000, str(2**63), "0", "-3", "12abc"],
    ids=["superscript", "arabic-indic", "5000 digits", "past bigint", "zero", "negative", "mixed"],
)
def test_a_user_id_that_renders_to_no_id_is_a_permanent_failure(tenant, rendered):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "deals"},
        actions=[{"type": "send_notification", "config": {**CONFIG, "user_id": "{{record.name}}"}}],
    )
    make_record(tenant, "deals", name=rendered)
    drain()
    run = runs_of(automation)[0]
    assert (run.status, run.error_code, run.attempts) == ("failed", "user_not_member", 1)
    assert "is not a user id" in run.error_message
    assert not Notification.objects.exists()


@pytest.mark.parametrize("literal", ["²", "١٢", "9" * 5000, 2**63, True, 0])
def test_a_literal_user_id_that_is_no_id_is_refused_at_save(api, literal):
    definition = {
        "name": "Notify",
        "trigger": {"type": "record.created", "module": "deals"},
        "actions": [{"type": "send_notification", "config": {**CONFIG, "user_id": literal}}],
    }
    response = api.post("/v1/automations", definition, format="json")
    assert response.status_code == 400, response.content
    details = response.json()["error"]["details"]
    assert details == {
        "actions[0].config.user_id": ["must be a user id or a template such as {{record.owner_id}}"]
    }
