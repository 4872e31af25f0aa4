import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import ApiKey, Membership
from accounts.services import api_key_create, membership_ensure, user_get_or_create


def test_creating_a_key_shows_it_once(web, tenant):
    response = web.post("/settings/api-keys/", {"name": "Zapier"})

    html = response.content.decode()
    key = ApiKey.objects.get(name="Zapier")
    plain = html.split('id="new-key" class="mono" type="text" readonly value="')[1].split('"')[0]
    assert plain.startswith(key.prefix)
    assert response["Cache-Control"] == "no-store"
    assert plain not in web.get("/settings/api-keys/").content.decode()


def test_the_new_key_works_on_the_api(web, client):
    html = web.post("/settings/api-keys/", {"name": "CI"}).content.decode()
    plain = html.split('readonly value="')[1].split('"')[0]

    response = client.get("/v1/automations", HTTP_AUTHORIZATION=f"Bearer {plain}")

    assert response.status_code == 200


def test_the_list_shows_prefix_owner_and_last_use(web, tenant):
    html = web.get("/settings/api-keys/").content.decode()

    assert f"{tenant.api_key.prefix}…" in html
    assert "never" in html
    assert tenant.key not in html


def test_revoking_a_key(web, tenant):
    response = web.post(f"/settings/api-keys/{tenant.api_key.id}/revoke")

    tenant.api_key.refresh_from_db()
    assert response.status_code == 302
    assert tenant.api_key.revoked_at is not None


def test_another_workspaces_key_cannot_be_revoked(web, other_tenant):
    response = web.post(f"/settings/api-keys/{other_tenant.api_key.id}/revoke")

    other_tenant.api_key.refresh_from_db()
    assert response.status_code == 404
    assert other_tenant.api_key.revoked_at is None


def test_api_keys_page_shows_the_outbound_webhook_signing_secret(web, tenant):
    from automations.signing import current_secret

    page = web.get("/settings/api-keys/")
    assert current_secret(tenant.workspace) in page.content.decode()
    assert page["Cache-Control"] == "no-store"  # a browser must not keep the secret


def _colleague(tenant, role: str):
    """A second member of the tenant's workspace, signed in, with a key of their own."""
    user, _ = user_get_or_create(email=f"{role}@{tenant.workspace.slug}.example")
    membership_ensure(workspace=tenant.workspace, user=user, role=role)
    key, _ = api_key_create(workspace=tenant.workspace, user=user)
    client = Client()
    client.force_login(user)
    return client, key


def test_a_member_cannot_revoke_the_owners_key(tenant):
    member, _ = _colleague(tenant, Membership.Role.MEMBER)

    response = member.post(f"/settings/api-keys/{tenant.api_key.id}/revoke")

    tenant.api_key.refresh_from_db()
    assert response.status_code == 403
    assert "Members may revoke only their own keys" in response.content.decode()
    assert tenant.api_key.revoked_at is None
    assert tenant.client.get("/v1/users/me").status_code == 200


def test_a_member_revokes_their_own_key(tenant):
    member, own_key = _colleague(tenant, Membership.Role.MEMBER)

    response = member.post(f"/settings/api-keys/{own_key.id}/revoke")

    own_key.refresh_from_db()
    assert response.status_code == 302
    assert own_key.revoked_at is not None


@pytest.mark.parametrize("role", [Membership.Role.ADMIN, Membership.Role.OWNER])
def test_owners_and_admins_revoke_any_key_of_the_workspace(tenant, role):
    manager, _ = _colleague(tenant, role)
    _, others_key = _colleague(tenant, Membership.Role.MEMBER)

    for key in (tenant.api_key, others_key):
        assert manager.post(f"/settings/api-keys/{key.id}/revoke").status_code == 302
        key.refresh_from_db()
        assert key.revoked_at is not None
    assert tenant.client.get("/v1/users/me").status_code == 401


def test_a_member_sees_a_revoke_button_only_on_their_own_keys(tenant):
    member, own_key = _colleague(tenant, Membership.Role.MEMBER)

    page = member.get("/settings/api-keys/").content.decode()

    assert f"/settings/api-keys/{own_key.id}/revoke" in page
    assert f"/settings/api-keys/{tenant.api_key.id}/revoke" not in page


def test_a_key_whose_user_left_is_listed_as_not_in_use(web, tenant):
    user, _ = user_get_or_create(email="leaver@acme.example")
    membership = membership_ensure(workspace=tenant.workspace, user=user)
    api_key_create(workspace=tenant.workspace, user=user, name="leavers key")
    membership.delete()

    page = web.get("/settings/api-keys/").content.decode()

    row = page.split("leavers key")[1].split("</tr>")[0]
    assert "not in use" in row


def test_the_admins_revoke_action_needs_the_change_permission(tenant):
    staff = get_user_model().objects.create_user(username="viewer", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_apikey"))
    client = Client()
    client.force_login(staff)

    response = client.post(
        reverse("admin:accounts_apikey_changelist"),
        {"action": "revoke_keys", "_selected_action": [tenant.api_key.pk]},
    )

    tenant.api_key.refresh_from_db()
    assert response.status_code in (200, 302)
    assert tenant.api_key.revoked_at is None
