"""Another workspace's objects are 404 (never 403, never data) on every records endpoint."""

import pytest

from tests.factories import make_record

pytestmark = pytest.mark.django_db


def test_other_workspaces_records_are_404_everywhere(tenant, other_tenant):
    foreign = make_record(other_tenant, "contacts", name="Secret")
    url = f"/v1/modules/contacts/records/{foreign.id}"
    for method, body in (("get", None), ("patch", {"name": "x"}), ("delete", None)):
        response = getattr(tenant.client, method)(url, body, format="json")
        assert response.status_code == 404, method
        assert "Secret" not in response.content.decode()
    listed = tenant.client.get("/v1/modules/contacts/records").json()
    assert listed["meta"]["total"] == 0
    foreign.refresh_from_db()
    assert foreign.values["name"] == "Secret"


def test_other_workspaces_custom_module_is_404(tenant, other_tenant):
    other_tenant.client.post("/v1/modules", {"slug": "secret", "name": "S"}, format="json")
    for url in ("/v1/modules/secret", "/v1/modules/secret/fields", "/v1/modules/secret/records"):
        assert tenant.client.get(url).status_code == 404
    assert tenant.client.post("/v1/modules/secret/records", {}, format="json").status_code == 404


def test_users_lists_only_own_members(tenant, other_tenant):
    emails = [u["email"] for u in tenant.client.get("/v1/users").json()["data"]]
    assert other_tenant.user.email not in emails


def test_each_workspace_sees_its_own_outbound_webhook_secret(tenant, other_tenant):
    response = tenant.client.get("/v1/workspace")
    assert response["Cache-Control"] == "no-store"  # it holds a secret
    mine = response.json()["data"]
    theirs = other_tenant.client.get("/v1/workspace").json()["data"]
    assert mine["slug"] == "acme" and theirs["slug"] == "globex"
    assert mine["outbound_webhook_secret"].startswith("whsec_")
    assert mine["outbound_webhook_secret"] != theirs["outbound_webhook_secret"]
