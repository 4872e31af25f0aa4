from tests.factories import make_record
from tests.web.helpers import make_automation


def test_a_dry_run_shows_each_condition_with_its_actual_value(web, tenant):
    record = make_record(tenant, "contacts", name="Ann", email="ann@x.example", source="ads")
    automation = make_automation(
        tenant,
        conditions=[
            {"field": "source", "operator": "equals", "value": "website"},
            {"field": "email", "operator": "is_not_empty"},
        ],
    )

    response = web.post(f"/automations/{automation.id}/test", {"record": record.id})

    html = response.content.decode()
    assert response.status_code == 200
    assert "It would not run" in html
    assert 'data-condition-result="source"' in html
    assert "<code>ads</code>" in html
    assert html.count('badge-ok">passed') == 1
    assert html.count('badge-bad">failed') == 1


def test_a_dry_run_renders_the_actions_with_the_record(web, tenant):
    record = make_record(tenant, "contacts", name="Ann")
    automation = make_automation(tenant)

    html = web.post(f"/automations/{automation.id}/test", {"record_id": record.id}).content.decode()

    assert "It would run" in html
    assert "Hi Ann" in html


def test_a_dry_run_can_pretend_a_field_changed(web, tenant):
    record = make_record(tenant, "deals", name="Big", stage="proposal")
    automation = make_automation(
        tenant,
        trigger={"type": "field.changed", "module": "deals", "field": "stage"},
        conditions=[{"field": "stage", "operator": "changed_to", "value": "proposal"}],
    )

    html = web.post(
        f"/automations/{automation.id}/test",
        {"record": record.id, "changed_field": "stage", "previous_value": "qualification"},
    ).content.decode()

    assert "It would run" in html


def test_a_dry_run_needs_a_record_of_the_automations_module(web, tenant, other_tenant):
    theirs = make_record(other_tenant, "contacts", name="Not yours")
    automation = make_automation(tenant)

    response = web.post(f"/automations/{automation.id}/test", {"record_id": theirs.id})

    assert response.status_code == 400
    assert f"No Contacts record {theirs.id}" in response.content.decode()


def test_a_schedule_dry_run_needs_no_record(web, tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "schedule", "schedule": "0 9 * * *"},
        actions=[
            {"type": "call_webhook", "config": {"url": "https://example.com/{{trigger.event}}"}}
        ],
    )

    html = web.post(f"/automations/{automation.id}/test", {}).content.decode()

    assert "https://example.com/schedule" in html


def test_another_workspaces_automation_cannot_be_tested(web, other_tenant):
    theirs = make_automation(other_tenant)

    assert web.get(f"/automations/{theirs.id}/test").status_code == 404
