import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from automations.models import Run
from records.models import Record
from tests.factories import make_record
from tests.web.helpers import make_automation


def test_the_records_page_lists_the_modules(web):
    html = web.get("/records/").content.decode()

    for name in ("Contacts", "Leads", "Deals", "Tasks", "Accounts"):
        assert name in html


def test_a_module_list_shows_its_records_and_searches_them(web, tenant):
    make_record(tenant, "contacts", name="Ann Archer", email="ann@x.example")
    make_record(tenant, "contacts", name="Bob Baker")

    assert b"Bob Baker" in web.get("/records/contacts/").content
    html = web.get("/records/contacts/?q=archer").content.decode()
    assert "Ann Archer" in html and "Bob Baker" not in html


def test_an_empty_module_says_so(web):
    assert b"No tasks yet" in web.get("/records/tasks/").content


def test_the_form_has_an_input_fitting_each_field_type(web):
    html = web.get("/records/tasks/new").content.decode()

    assert 'type="date" name="due_date"' in html
    assert '<select name="priority"' in html
    assert '<select name="done"' in html
    assert '<select name="assigned_to"' in html
    assert '<label for="id_name">' in html


def test_creating_a_record_goes_through_the_services_and_fires_automations(web, tenant):
    automation = make_automation(tenant, enabled=True)

    response = web.post("/records/contacts/new", {"name": "Ann", "email": "ann@x.example"})

    record = Record.objects.get(module__slug="contacts")
    assert response["Location"] == f"/records/contacts/{record.id}/"
    assert record.values == {"name": "Ann", "email": "ann@x.example"}
    assert record.created_by == tenant.user
    assert Run.objects.get(automation=automation).record_id == record.id


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "Ann", "email": "not-an-email"}, "email", "must be an email address"),
        ({"phone": "555 0100"}, "name", "give a name, or a first name, last name or email"),
        ({"name": "Ann", "last_contact_date": "31/12/2024"}, "last_contact_date", "must be a date"),
    ],
)
def test_invalid_values_are_shown_at_their_field(web, data, field, message):
    response = web.post("/records/contacts/new", data)

    html = response.content.decode()
    assert response.status_code == 400
    assert f'id="id_{field}-error"' in html
    assert message in html
    assert not Record.objects.exists()


def test_editing_a_record_updates_it_through_the_services(web, tenant):
    record = make_record(tenant, "deals", name="Big", stage="qualification", value=10)
    automation = make_automation(
        tenant,
        enabled=True,
        trigger={"type": "field.changed", "module": "deals", "field": "stage"},
        conditions=[{"field": "stage", "operator": "changed_to", "value": "proposal"}],
    )

    with CaptureQueriesContext(connection) as queries:
        response = web.post(
            f"/records/deals/{record.id}/edit", {"name": "Big", "stage": "proposal", "value": "10"}
        )

    # The record is read once, locked (the form and the update share that read).
    reads = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len([sql for sql in reads if "records_record" in sql and record.id in sql]) == 1
    record.refresh_from_db()
    assert response.status_code == 302
    assert record.values["stage"] == "proposal"
    assert Run.objects.get(automation=automation).trigger_data["previous"]["stage"] == (
        "qualification"
    )


def test_the_edit_form_shows_the_current_values(web, tenant):
    record = make_record(tenant, "contacts", name="Ann", processed_at="2024-01-15T10:30:00Z")

    html = web.get(f"/records/contacts/{record.id}/edit").content.decode()

    assert 'value="Ann"' in html
    assert 'value="2024-01-15T10:30:00"' in html


def test_deleting_a_record_asks_first(web, tenant):
    record = make_record(tenant, "contacts", name="Ann")

    assert b"cannot be undone" in web.get(f"/records/contacts/{record.id}/delete").content
    web.post(f"/records/contacts/{record.id}/delete")

    assert not Record.objects.filter(pk=record.pk).exists()


def test_the_record_page_lists_the_runs_that_concerned_it(web, tenant):
    automation = make_automation(tenant, enabled=True, name="Greeter")
    record = make_record(tenant, "contacts", name="Ann")

    html = web.get(f"/records/contacts/{record.id}/").content.decode()

    run = Run.objects.get(automation=automation)
    assert f'href="/runs/{run.id}/"' in html
    assert "Greeter" in html


def test_the_record_page_has_a_button_per_enabled_manual_automation(web, tenant):
    record = make_record(tenant, "contacts", name="Ann")
    manual = make_automation(
        tenant,
        enabled=True,
        name="Mark contacted",
        trigger={"type": "manual", "module": "contacts"},
    )
    make_automation(
        tenant, enabled=False, name="Off button", trigger={"type": "manual", "module": "contacts"}
    )
    make_automation(
        tenant, enabled=True, name="Deals button", trigger={"type": "manual", "module": "deals"}
    )

    html = web.get(f"/records/contacts/{record.id}/").content.decode()

    assert f'data-automation="{manual.id}"' in html
    assert "Off button" not in html and "Deals button" not in html


def test_the_manual_button_runs_the_automation_and_shows_the_run(web, tenant):
    record = make_record(tenant, "contacts", name="Ann")
    manual = make_automation(tenant, enabled=True, trigger={"type": "manual", "module": "contacts"})

    response = web.post(f"/records/contacts/{record.id}/run/{manual.id}")

    run = Run.objects.get(automation=manual)
    assert response["Location"] == f"/runs/{run.id}/"
    assert run.record_id == record.id
    assert run.triggered_by == tenant.user


def test_a_manual_run_whose_conditions_fail_is_explained(web, tenant):
    record = make_record(tenant, "contacts", name="Ann")
    manual = make_automation(
        tenant,
        enabled=True,
        trigger={"type": "manual", "module": "contacts"},
        conditions=[{"field": "email", "operator": "is_not_empty"}],
    )

    response = web.post(f"/records/contacts/{record.id}/run/{manual.id}", follow=True)

    assert "does not meet the automation" in response.content.decode()
    assert not Run.objects.exists()


def test_a_disabled_manual_automation_cannot_be_run(web, tenant):
    record = make_record(tenant, "contacts", name="Ann")
    manual = make_automation(tenant, trigger={"type": "manual", "module": "contacts"})

    assert web.post(f"/records/contacts/{record.id}/run/{manual.id}").status_code == 404


def test_notification_style_links_open_the_record(web, tenant):
    record = make_record(tenant, "deals", name="Big")

    assert web.get(f"/deals/{record.id}")["Location"] == f"/records/deals/{record.id}/"


def test_another_workspaces_records_are_not_found(web, other_tenant):
    theirs = make_record(other_tenant, "contacts", name="Secret")

    for url in (
        f"/records/contacts/{theirs.id}/",
        f"/records/contacts/{theirs.id}/edit",
        f"/records/contacts/{theirs.id}/delete",
        f"/contacts/{theirs.id}",
    ):
        assert web.get(url).status_code == 404
    assert web.post(f"/records/contacts/{theirs.id}/delete").status_code == 404
    assert web.post(f"/records/contacts/{theirs.id}/edit", {"name": "Mine"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.values["name"] == "Secret"
    assert Record.objects.filter(pk=theirs.pk).exists()
    assert b"Secret" not in web.get("/records/contacts/").content


def test_an_unknown_module_is_not_found(web):
    assert web.get("/records/nope/").status_code == 404


def test_the_record_shortlink_leaves_other_urls_alone(web, client):
    assert client.get("/v1/does-not-exist").status_code == 404
    assert client.get("/v1/rec_abcd1234")["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("value", "1e1000000", "is too large"),
        ("value", "9" * 5000, "is too large"),
        ("close_date", "0001-01-01T00:00:00+23:00", "out of range"),
    ],
)
def test_numbers_and_dates_past_the_bounds_are_shown_at_their_field(web, field, value, message):
    response = web.post("/records/deals/new", {"name": "D", field: value})

    html = response.content.decode()
    assert response.status_code == 400
    assert f'id="id_{field}-error"' in html
    assert message in html
    assert not Record.objects.exists()
