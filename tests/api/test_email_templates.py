"""/v1/email_templates: the starter templates the seed's send_email examples name, editable."""

import pytest

from automations.email_templates import STARTER_TEMPLATES
from automations.models import EmailTemplate

NEW = {
    "name": "renewal_reminder",
    "subject": "Renewal for {{ record.name }}",
    "body": "Hi {{ first_name | default: 'there' }}, your plan renews {{ now | date_format: 'MMM D, YYYY' }}.",
}


def uses(name):
    return {
        "name": f"Uses {name}",
        "trigger": {"type": "record.created", "module": "contacts"},
        "actions": [{"type": "send_email", "config": {"to": "{{record.email}}", "template": name}}],
    }


def test_a_new_workspace_has_the_starter_templates(api):
    response = api.get("/v1/email_templates")

    assert response.status_code == 200
    names = [t["name"] for t in response.json()["data"]]
    assert names == sorted(spec["name"] for spec in STARTER_TEMPLATES)
    assert "welcome_email" in names
    assert response.json()["meta"]["total"] == len(STARTER_TEMPLATES)


def test_get_a_template_by_name(api):
    response = api.get("/v1/email_templates/welcome_email")

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["name"] == "welcome_email"
    assert set(data) == {"name", "subject", "body", "created_at", "updated_at"}


def test_create_a_template(api):
    response = api.post("/v1/email_templates", NEW, format="json")

    assert response.status_code == 201
    assert {k: response.json()["data"][k] for k in NEW} == NEW
    assert api.post("/v1/automations", uses("renewal_reminder"), format="json").status_code == 201


@pytest.mark.parametrize(
    ("body", "path", "fragment"),
    [
        ({**NEW, "name": "welcome_email"}, "name", "already exists"),
        ({**NEW, "name": "has spaces"}, "name", "letters, digits"),
        ({k: v for k, v in NEW.items() if k != "subject"}, "subject", "required"),
        ({k: v for k, v in NEW.items() if k != "body"}, "body", "required"),
        ({**NEW, "subject": "Line one\nline two"}, "subject", "one line"),
        ({**NEW, "body": "Hi {{ record.name "}, "body", "syntax"),
        ({**NEW, "subject": "{{ record.name | shout }}"}, "subject", "unknown filter 'shout'"),
        ({**NEW, "body": "{% include 'other' %}"}, "body", ""),
        ({**NEW, "body": "{{ record.__class__ }}"}, "body", "private"),
        ({**NEW, "colour": "red"}, "colour", "unknown key"),
    ],
    ids=[
        "duplicate name",
        "bad name",
        "subject missing",
        "body missing",
        "two-line subject",
        "syntax error",
        "unknown filter",
        "include tag",
        "private name",
        "unknown key",
    ],
)
def test_create_rejects_a_bad_template(api, body, path, fragment):
    response = api.post("/v1/email_templates", body, format="json")

    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert path in details, details
    assert any(fragment in message for message in details[path])


def test_patch_a_template(api):
    response = api.patch(
        "/v1/email_templates/welcome_email", {"subject": "Hello {{ first_name }}"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["data"]["subject"] == "Hello {{ first_name }}"
    assert response.json()["data"]["body"].startswith("Hi ")


def test_patch_validates_the_template(api):
    response = api.patch("/v1/email_templates/welcome_email", {"body": "{{ oops "}, format="json")

    assert response.status_code == 400
    assert "body" in response.json()["error"]["details"]


def test_rename_an_unused_template(api):
    response = api.patch("/v1/email_templates/deal_won", {"name": "deal_closed"}, format="json")

    assert response.status_code == 200
    assert api.get("/v1/email_templates/deal_closed").status_code == 200


def test_renaming_a_template_in_use_is_409(api):
    automation = api.post("/v1/automations", uses("welcome_email"), format="json").json()["data"]

    response = api.patch("/v1/email_templates/welcome_email", {"name": "hello"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["details"]["automations"] == [
        {"id": automation["id"], "name": automation["name"]}
    ]


def test_delete_an_unused_template(api):
    response = api.delete("/v1/email_templates/deal_won")

    assert response.status_code == 200
    assert response.json() == {"data": {"name": "deal_won", "deleted": True}}
    assert api.get("/v1/email_templates/deal_won").status_code == 404


def test_deleting_a_template_in_use_is_409_naming_the_automations(api, tenant):
    automation = api.post("/v1/automations", uses("welcome_email"), format="json").json()["data"]

    response = api.delete("/v1/email_templates/welcome_email")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "template_in_use"
    assert automation["id"] in error["message"]
    assert error["details"]["automations"] == [{"id": automation["id"], "name": automation["name"]}]
    assert EmailTemplate.objects.filter(workspace=tenant.workspace, name="welcome_email").exists()


def test_a_template_is_free_again_once_its_automation_is_deleted(api):
    automation = api.post("/v1/automations", uses("welcome_email"), format="json").json()["data"]
    api.delete(f"/v1/automations/{automation['id']}")

    assert api.delete("/v1/email_templates/welcome_email").status_code == 200


def test_another_workspaces_use_does_not_block_a_delete(api, other_tenant):
    other_tenant.client.post("/v1/automations", uses("welcome_email"), format="json")

    assert api.delete("/v1/email_templates/welcome_email").status_code == 200


def test_unknown_template_is_404(api):
    response = api.get("/v1/email_templates/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "body"), [("get", None), ("patch", {"subject": "mine"}), ("delete", None)]
)
def test_another_workspaces_template_is_404(api, other_tenant, method, body):
    other_tenant.client.post("/v1/email_templates", NEW, format="json")

    response = getattr(api, method)("/v1/email_templates/renewal_reminder", body, format="json")

    assert response.status_code == 404
    assert (
        EmailTemplate.objects.get(workspace=other_tenant.workspace, name="renewal_reminder").subject
        == NEW["subject"]
    )


def test_the_list_shows_only_the_callers_templates(api, other_tenant):
    other_tenant.client.post("/v1/email_templates", NEW, format="json")
    names = [t["name"] for t in api.get("/v1/email_templates").json()["data"]]
    assert "renewal_reminder" not in names
