"""A contact's or lead's name is made from its first/last name or email when not given
(records.vendor.person_name through records.services); other modules keep "name" required."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from config.errors import ValidationFailed
from records.models import Record
from records.services import record_create, record_update
from records.vendor import person_name
from tests.factories import make_record

pytestmark = pytest.mark.django_db


def test_creating_a_contact_without_a_name_answers_201_with_the_derived_name(api):
    response = api.post(
        "/v1/modules/contacts/records",
        {"first_name": " Ada ", "last_name": "Lovelace", "email": "ada@x.example"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["data"]["name"] == "Ada Lovelace"


def test_a_lead_with_only_an_email_is_named_by_it(api):
    response = api.post("/v1/modules/leads/records", {"email": "lead@x.example"}, format="json")

    assert response.status_code == 201
    assert response.json()["data"]["name"] == "lead@x.example"


def test_a_given_name_is_kept(tenant):
    record = make_record(tenant, "contacts", name="Countess", first_name="Ada", last_name="L")

    assert record.values["name"] == "Countess"


def test_a_contact_with_nothing_to_derive_from_is_refused_in_plain_words(api):
    response = api.post("/v1/modules/contacts/records", {"phone": "555"}, format="json")

    assert response.status_code == 400
    (message,) = response.json()["error"]["details"]["name"]
    assert message.startswith("is required") and "first name, last name or email" in message


@pytest.mark.parametrize("module", ["deals", "tasks", "accounts"])
def test_other_modules_keep_name_required(tenant, module):
    with pytest.raises(ValidationFailed) as exc:
        record_create(module=tenant.module(module), data={"first_name": "Ada"}, actor=tenant.user)

    assert "name" in (exc.value.details or {})


def test_an_update_never_overwrites_a_name(tenant):
    record = make_record(tenant, "contacts", name="Countess", first_name="Ada")

    updated = record_update(record=record, data={"last_name": "Lovelace"}, actor=tenant.user)

    assert updated.values["name"] == "Countess"


def test_clearing_the_name_on_update_derives_it_from_the_record(tenant):
    record = make_record(tenant, "contacts", name="Countess", first_name="Ada", last_name="L")

    updated = record_update(record=record, data={"name": None}, actor=tenant.user)

    assert Record.objects.get(pk=updated.pk).values["name"] == "Ada L"


def test_a_record_stored_without_a_name_gets_one_on_its_next_update(tenant):
    record = make_record(tenant, "contacts", name="x", email="old@x.example")
    Record.objects.filter(pk=record.pk).update(values={"email": "old@x.example"})
    record.refresh_from_db()

    updated = record_update(record=record, data={"phone": "555"}, actor=tenant.user)

    assert updated.values["name"] == "old@x.example"


def test_the_form_creates_a_contact_without_a_name(tenant):
    client = Client()
    client.force_login(tenant.user)

    response = client.post(
        "/records/contacts/new", {"first_name": "Grace", "last_name": "Hopper", "name": ""}
    )

    assert response.status_code == 302
    assert Record.objects.get(module__slug="contacts").values["name"] == "Grace Hopper"


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"first_name": "Ada", "last_name": "Lovelace"}, "Ada Lovelace"),
        ({"first_name": "Ada"}, "Ada"),
        ({"last_name": " Lovelace "}, "Lovelace"),
        ({"first_name": " ", "email": "a@x.example"}, "a@x.example"),
        ({}, None),
    ],
)
def test_person_name(values, name):
    assert person_name(values) == name


def test_the_admin_creates_a_contact_without_a_name(admin_client, tenant):
    response = admin_client.post(
        reverse("admin:records_record_add"),
        {"module": tenant.module("contacts").pk, "values": json.dumps({"email": "a@x.example"})},
    )

    assert response.status_code == 302
    assert Record.objects.get().values["name"] == "a@x.example"
