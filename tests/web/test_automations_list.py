from automations.models import Automation
from tests.web.helpers import make_automation, reload

WEBHOOK_ACTION = [{"type": "call_webhook", "config": {"url": "https://example.com/x"}}]


def test_an_empty_workspace_invites_to_create_the_first_automation(web):
    html = web.get("/automations/").content.decode()

    assert "Create your first automation" in html


def test_the_list_shows_name_trigger_module_state_and_run_counts(web, tenant):
    automation = make_automation(tenant, name="Welcome", enabled=True)
    Automation.objects.filter(pk=automation.pk).update(run_count=47, last_run_status="failed")

    html = web.get("/automations/").content.decode()

    assert "Welcome" in html
    assert "record.created" in html
    assert "Contacts" in html
    assert 'aria-checked="true"' in html
    assert ">47</a>" in html


def test_the_list_shows_why_the_circuit_breaker_disabled_an_automation(web, tenant):
    automation = make_automation(tenant)
    Automation.objects.filter(pk=automation.pk).update(
        disabled_reason={
            "code": "automation_disabled",
            "message": "Automation disabled after 5 consecutive failures",
            "last_error": "webhook_connection_failed",
        }
    )

    html = web.get("/automations/").content.decode()

    assert "Circuit breaker: Automation disabled after 5 consecutive failures" in html
    assert "webhook_connection_failed" in html


def test_filters_narrow_the_list(web, tenant):
    make_automation(tenant, name="Contacts created", enabled=True)
    make_automation(tenant, name="Deals manual", trigger={"type": "manual", "module": "deals"})
    make_automation(
        tenant,
        name="Nightly",
        trigger={"type": "schedule", "schedule": "0 2 * * *"},
        actions=WEBHOOK_ACTION,
    )

    def names(query):
        html = web.get(f"/automations/?{query}").content.decode()
        return {n for n in ("Contacts created", "Deals manual", "Nightly") if n in html}

    assert names("module=deals") == {"Deals manual"}
    assert names("enabled=true") == {"Contacts created"}
    assert names("enabled=false") == {"Deals manual", "Nightly"}
    assert names("trigger_type=schedule") == {"Nightly"}
    assert names("q=night") == {"Nightly"}


def test_the_toggle_enables_and_disables_through_the_services(web, tenant):
    automation = make_automation(tenant)

    response = web.post(f"/automations/{automation.id}/enable", {"next": "/automations/"})
    assert response["Location"] == "/automations/"
    assert reload(automation).enabled is True

    web.post(f"/automations/{automation.id}/disable")
    assert reload(automation).enabled is False


def test_enabling_clears_the_circuit_breakers_reason(web, tenant):
    automation = make_automation(tenant)
    Automation.objects.filter(pk=automation.pk).update(
        disabled_reason={"message": "x"}, consecutive_failures=5
    )

    web.post(f"/automations/{automation.id}/enable")

    assert reload(automation).disabled_reason is None
    assert reload(automation).consecutive_failures == 0


def test_the_toggle_needs_a_post(web, tenant):
    automation = make_automation(tenant)

    assert web.get(f"/automations/{automation.id}/enable").status_code == 405
    assert reload(automation).enabled is False


def test_an_unsafe_next_is_ignored(web, tenant):
    automation = make_automation(tenant)

    response = web.post(f"/automations/{automation.id}/enable", {"next": "https://evil.example/"})

    assert response["Location"] == "/automations/"


def test_deleting_asks_first_then_deletes(web, tenant):
    automation = make_automation(tenant)

    assert b"cannot be undone" in web.get(f"/automations/{automation.id}/delete").content
    assert Automation.objects.filter(pk=automation.pk).exists()

    web.post(f"/automations/{automation.id}/delete")
    assert not Automation.objects.filter(pk=automation.pk).exists()


def test_another_workspaces_automations_are_neither_listed_nor_changeable(web, other_tenant):
    theirs = make_automation(other_tenant, name="Their secret")

    assert b"Their secret" not in web.get("/automations/").content
    assert web.post(f"/automations/{theirs.id}/enable").status_code == 404
    assert web.post(f"/automations/{theirs.id}/delete").status_code == 404
    assert reload(theirs).enabled is False
