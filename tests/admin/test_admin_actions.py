import json

import pytest
from django.urls import reverse

from accounts.models import Workspace
from automations.models import Automation, EmailTemplate, Run
from automations.runtime.runs import run_create
from records.models import Record
from tests.admin.helpers import change_url
from tests.factories import make_record
from tests.web.helpers import NOTIFY_OWNER, make_automation


def _action(admin_client, model_url, action, objs):
    return admin_client.post(
        reverse(model_url),
        {"action": action, "_selected_action": [o.pk for o in objs]},
        follow=True,
    )


def test_enable_and_disable_are_admin_actions(admin_client, tenant):
    automation = make_automation(tenant)
    Automation.objects.filter(pk=automation.pk).update(disabled_reason={"message": "broken"})

    _action(
        admin_client, "admin:automations_automation_changelist", "enable_selected", [automation]
    )
    automation.refresh_from_db()
    assert automation.enabled is True
    assert automation.disabled_reason is None

    _action(
        admin_client, "admin:automations_automation_changelist", "disable_selected", [automation]
    )
    automation.refresh_from_db()
    assert automation.enabled is False


def _automation_form(automation, **changes):
    data = {
        "name": automation.name,
        "description": automation.description,
        "trigger": json.dumps(automation.trigger),
        "conditions": json.dumps(automation.conditions),
        "actions": json.dumps(automation.actions),
        "error_handling": json.dumps(automation.error_handling),
        "timezone": automation.timezone,
        "automationversion_set-TOTAL_FORMS": "0",
        "automationversion_set-INITIAL_FORMS": "0",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_editing_an_automation_in_the_admin_validates_like_the_api(admin_client, tenant):
    automation = make_automation(tenant, enabled=True)
    bad = json.dumps([{"type": "call_webhook", "config": {"url": "nope"}}])

    response = admin_client.post(
        change_url(automation),
        _automation_form(automation, actions=bad),
    )

    assert response.status_code == 200
    assert "actions[0].config.url" in response.content.decode()
    automation.refresh_from_db()
    assert automation.actions == [NOTIFY_OWNER]
    assert automation.enabled is True


def test_saving_an_automation_in_the_admin_goes_through_the_service(admin_client, tenant):
    automation = make_automation(tenant, enabled=True)

    response = admin_client.post(
        change_url(automation),
        _automation_form(automation, name="Renamed"),
    )

    automation.refresh_from_db()
    assert response.status_code == 302
    assert automation.name == "Renamed"
    assert automation.enabled is False  # the API's rule: an update disables
    assert automation.version == 2


def test_saving_an_automation_unchanged_in_the_admin_keeps_it_enabled(admin_client, tenant):
    automation = make_automation(tenant, enabled=True)

    response = admin_client.post(
        change_url(automation),
        _automation_form(automation),
        follow=True,
    )

    automation.refresh_from_db()
    assert response.status_code == 200
    assert (automation.enabled, automation.version) == (True, 1)
    assert "is disabled until you enable it again" not in response.content.decode()


def test_adding_an_automation_in_the_admin(admin_client, tenant):
    data = _automation_form(
        Automation(
            name="From admin",
            trigger={"type": "manual", "module": "contacts"},
            actions=[NOTIFY_OWNER],
            conditions=[],
            error_handling={},
            timezone="UTC",
        ),
    )
    data["workspace"] = tenant.workspace.pk

    response = admin_client.post(reverse("admin:automations_automation_add"), data)

    automation = Automation.objects.get(name="From admin")
    assert response.status_code == 302
    assert automation.trigger_type == "manual"
    assert automation.module.slug == "contacts"


def test_creating_a_record_in_the_admin_fires_automations(admin_client, tenant):
    automation = make_automation(tenant, enabled=True)

    response = admin_client.post(
        reverse("admin:records_record_add"),
        {"module": tenant.module("contacts").pk, "values": json.dumps({"name": "Ann"})},
    )

    record = Record.objects.get()
    assert response.status_code == 302
    assert record.workspace == tenant.workspace
    assert Run.objects.get(automation=automation).record_id == record.id


def test_invalid_record_values_are_refused_in_the_admin(admin_client, tenant):
    response = admin_client.post(
        reverse("admin:records_record_add"),
        {
            "module": tenant.module("contacts").pk,
            "values": json.dumps({"name": "Ann", "email": "nope"}),
        },
    )

    assert response.status_code == 200
    assert "email: must be an email address" in response.content.decode()
    assert not Record.objects.exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "D", "value": "1e1000000"}, "value: is too large"),
        ({"name": "D", "value": 1e300}, "value: is too large"),
        ({"name": "D", "close_date": "9999-12-31T23:59:59-23:00"}, "close_date: is out of range"),
    ],
)
def test_numbers_and_dates_past_the_bounds_are_refused_in_the_admin(
    admin_client, tenant, values, message
):
    response = admin_client.post(
        reverse("admin:records_record_add"),
        {"module": tenant.module("deals").pk, "values": json.dumps(values)},
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Record.objects.exists()


def test_changing_a_record_in_the_admin_fires_field_changed(admin_client, tenant):
    record = make_record(tenant, "deals", name="Big", stage="qualification")
    automation = make_automation(
        tenant, enabled=True, trigger={"type": "field.changed", "module": "deals", "field": "stage"}
    )

    admin_client.post(
        change_url(record),
        {"values": json.dumps({"name": "Big", "stage": "proposal"})},
    )

    record.refresh_from_db()
    assert record.values["stage"] == "proposal"
    run = Run.objects.get(automation=automation)
    assert run.trigger_data["previous"]["stage"] == "qualification"


def test_deleting_a_record_in_the_admin_fires_record_deleted(admin_client, tenant):
    record = make_record(tenant, "tasks", name="Old")
    automation = make_automation(
        tenant, enabled=True, trigger={"type": "record.deleted", "module": "tasks"}
    )

    admin_client.post(reverse("admin:records_record_delete", args=[record.pk]), {"post": "yes"})

    assert not Record.objects.filter(pk=record.pk).exists()
    assert Run.objects.get(automation=automation).record_id == record.id


def test_bulk_deleting_records_in_the_admin_fires_for_each(admin_client, tenant):
    records = [make_record(tenant, "tasks", name=f"T{i}") for i in range(2)]
    automation = make_automation(
        tenant, enabled=True, trigger={"type": "record.deleted", "module": "tasks"}
    )

    admin_client.post(
        reverse("admin:records_record_changelist"),
        {"action": "delete_selected", "_selected_action": [r.pk for r in records], "post": "yes"},
    )

    assert Run.objects.filter(automation=automation).count() == 2


def test_failed_runs_can_be_retried_from_the_admin(admin_client, tenant):
    automation = make_automation(tenant)
    run = run_create(automation=automation, trigger_data={"event": "record.created"})
    Run.objects.filter(pk=run.pk).update(status=Run.Status.FAILED, error_code="x")

    _action(admin_client, "admin:automations_run_changelist", "retry_selected", [run])

    run.refresh_from_db()
    assert run.status == Run.Status.PENDING


def test_api_keys_are_revoked_by_an_admin_action(admin_client, tenant):
    _action(admin_client, "admin:accounts_apikey_changelist", "revoke_keys", [tenant.api_key])

    tenant.api_key.refresh_from_db()
    assert tenant.api_key.revoked_at is not None


def test_a_workspace_added_in_the_admin_gets_its_modules(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_workspace_add"),
        {
            "slug": "initech",
            "name": "Initech",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    workspace = Workspace.objects.get(slug="initech")
    assert response.status_code == 302
    assert workspace.modules.filter(slug="contacts").exists()
    assert EmailTemplate.objects.filter(workspace=workspace, name="welcome_email").exists()


def test_an_email_template_with_bad_syntax_is_refused(admin_client, tenant):
    template = EmailTemplate.objects.get(workspace=tenant.workspace, name="follow_up")

    response = admin_client.post(
        change_url(template),
        {"name": "follow_up", "subject": "Hi {{ name", "body": "x"},
    )

    assert response.status_code == 200
    template.refresh_from_db()
    assert template.subject != "Hi {{ name"


def test_an_email_template_in_use_cannot_be_deleted(admin_client, tenant):
    make_automation(
        tenant,
        actions=[
            {
                "type": "send_email",
                "config": {"to": "{{record.email}}", "template": "welcome_email"},
            }
        ],
    )
    template = EmailTemplate.objects.get(workspace=tenant.workspace, name="welcome_email")

    response = admin_client.post(
        reverse("admin:automations_emailtemplate_delete", args=[template.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert EmailTemplate.objects.filter(pk=template.pk).exists()
