"""A key or a session acts for its user: it stops working on the next request once the user is
inactive or no longer a member of the workspace, and what it may do follows the user's current
role (issue 15, item 1)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.selectors import api_key_by_plain
from accounts.services import api_key_create, membership_ensure, user_get_or_create
from automations.models import Automation
from records.models import Record
from tests.runtime.support import make_automation

pytestmark = pytest.mark.django_db

ROTATE = "/v1/workspace/webhook_secret/rotate"
TRIGGER = {"type": "record.created", "module": "contacts"}
ACTIONS = [
    {
        "type": "send_notification",
        "config": {"user_id": "{{user.id}}", "title": "Hi", "message": "Hello"},
    }
]


class Colleague:
    """A second user of the tenant's workspace, with an API key and a browser session."""

    def __init__(self, tenant, role: str = Membership.Role.ADMIN) -> None:
        self.user, _ = user_get_or_create(email=f"{role}-colleague@{tenant.workspace.slug}.example")
        self.membership = membership_ensure(workspace=tenant.workspace, user=self.user, role=role)
        self.api_key, key = api_key_create(workspace=tenant.workspace, user=self.user)
        self.key = key
        self.api = APIClient()
        self.api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        self.web = Client()
        self.web.force_login(self.user)

    def deactivate(self) -> None:
        get_user_model().objects.filter(pk=self.user.pk).update(is_active=False)

    def set_role(self, role: str) -> None:
        Membership.objects.filter(pk=self.membership.pk).update(role=role)


@pytest.fixture
def colleague(tenant) -> Colleague:
    return Colleague(tenant)


def _refused_everywhere(colleague: Colleague, tenant) -> None:
    """Reading the secret, deleting an automation and creating a record: all 401, nothing
    changed."""
    automation = make_automation(tenant, trigger=TRIGGER, actions=ACTIONS)
    records_before = Record.objects.count()

    workspace = colleague.api.get("/v1/workspace")
    deleted = colleague.api.delete(f"/v1/automations/{automation.id}")
    created = colleague.api.post("/v1/modules/contacts/records", {"name": "Mallory"}, format="json")

    for response in (workspace, deleted, created):
        assert response.status_code == 401, response.content
        assert response.json()["error"]["code"] == "unauthorized"
    assert "whsec_" not in workspace.content.decode()
    assert Automation.objects.filter(pk=automation.pk).exists()
    assert Record.objects.count() == records_before


def test_a_key_works_while_its_user_is_an_active_member(colleague):
    response = colleague.api.get("/v1/workspace")

    assert response.status_code == 200
    assert response.json()["data"]["outbound_webhook_secret"].startswith("whsec_")


def test_a_deactivated_users_key_stops_on_the_next_request(colleague, tenant):
    assert colleague.api.get("/v1/workspace").status_code == 200

    colleague.deactivate()

    _refused_everywhere(colleague, tenant)


def test_a_key_stops_once_its_user_leaves_the_workspace(colleague, tenant):
    assert colleague.api.get("/v1/workspace").status_code == 200

    colleague.membership.delete()

    _refused_everywhere(colleague, tenant)


def test_membership_of_another_workspace_does_not_keep_the_key_alive(
    colleague, tenant, other_tenant
):
    membership_ensure(workspace=other_tenant.workspace, user=colleague.user)
    colleague.membership.delete()

    response = colleague.api.get("/v1/workspace")

    assert response.status_code == 401


def test_removing_the_member_in_the_admin_stops_their_key(colleague, tenant, admin_client):
    response = admin_client.post(
        reverse("admin:accounts_membership_delete", args=[colleague.membership.pk]),
        {"post": "yes"},
    )
    assert response.status_code == 302

    _refused_everywhere(colleague, tenant)


def test_a_demoted_admins_key_loses_the_admins_rights_at_once(colleague, tenant):
    assert colleague.api.post(ROTATE).status_code == 200

    colleague.set_role(Membership.Role.MEMBER)
    response = colleague.api.post(ROTATE)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_promoted_members_key_gains_the_rights_at_once(tenant):
    member = Colleague(tenant, Membership.Role.MEMBER)
    assert member.api.post(ROTATE).status_code == 403

    member.set_role(Membership.Role.ADMIN)

    assert member.api.post(ROTATE).status_code == 200


def test_the_key_check_costs_no_extra_query(colleague):
    """Active user, membership and role come with the key in its one lookup query."""
    with CaptureQueriesContext(connection) as queries:
        key = api_key_by_plain(colleague.key)

    assert key is not None and key.member_role == Membership.Role.ADMIN
    assert len(queries.captured_queries) == 1
    colleague.deactivate()
    assert api_key_by_plain(colleague.key) is None


def test_the_session_api_stops_once_the_user_leaves_the_workspace(colleague):
    assert colleague.web.get("/v1/workspace").status_code == 200

    colleague.membership.delete()
    response = colleague.web.get("/v1/workspace")

    assert response.status_code == 401
    assert "whsec_" not in response.content.decode()


def test_the_session_ui_loses_a_workspace_the_user_left(colleague, tenant, other_tenant):
    membership_ensure(workspace=other_tenant.workspace, user=colleague.user)
    colleague.web.post("/workspace/switch", {"workspace": tenant.workspace.slug})
    assert colleague.web.get("/v1/users/me").json()["data"]["workspace"] == tenant.workspace.slug

    colleague.membership.delete()

    # The next request acts in the workspace the user still has, never in the one they left.
    assert colleague.web.get("/v1/users/me").json()["data"]["workspace"] == "globex"
    assert colleague.web.get("/settings/api-keys/").status_code == 200
    assert colleague.web.session["workspace_slug"] == "globex"


def test_the_session_ui_of_a_user_left_with_no_workspace_is_refused(colleague):
    colleague.membership.delete()

    response = colleague.web.get("/automations/")

    assert response.status_code == 403


def test_an_inactive_users_session_ends(colleague):
    assert colleague.web.get("/automations/").status_code == 200

    colleague.deactivate()

    page = colleague.web.get("/automations/")
    assert page.status_code == 302 and page["Location"].startswith("/login/")
    assert colleague.web.get("/v1/workspace").status_code == 401


def test_a_session_demoted_to_member_can_no_longer_rotate(colleague):
    colleague.set_role(Membership.Role.MEMBER)

    api = colleague.web.post(ROTATE)
    page = colleague.web.post(reverse("web:webhook_secret_rotate"))

    assert api.status_code == 403
    assert page.status_code == 403
