import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import Membership, Workspace
from automations.models import EmailTemplate

pytestmark = pytest.mark.django_db


def _create_key(*args: str) -> str:
    out = io.StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


def test_create_api_key_makes_workspace_with_vendor_modules_and_templates():
    key = _create_key("--workspace", "initech", "--email", "bill@initech.example")
    workspace = Workspace.objects.get(slug="initech")
    assert set(workspace.modules.values_list("slug", flat=True)) >= {
        "contacts",
        "leads",
        "deals",
        "tasks",
        "accounts",
    }
    assert EmailTemplate.objects.filter(workspace=workspace, name="welcome_email").exists()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    me = client.get("/v1/users/me").json()["data"]
    assert me["email"] == "bill@initech.example"
    assert me["workspace"] == "initech"


def test_create_api_key_reuses_existing_user_and_workspace(django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456")
    _create_key("--workspace", "initech", "--email", "root@example.com")
    _create_key("--workspace", "initech", "--email", "root@example.com")
    assert Workspace.objects.filter(slug="initech").count() == 1
    assert Membership.objects.get(user=user).role == "owner"
    assert user.api_keys.count() == 2


def test_second_user_of_a_workspace_is_a_member_not_owner():
    _create_key("--workspace", "initech", "--email", "a@initech.example")
    _create_key("--workspace", "initech", "--email", "b@initech.example")
    roles = dict(Membership.objects.values_list("user__email", "role"))
    assert roles == {"a@initech.example": "owner", "b@initech.example": "member"}


def test_create_api_key_rejects_a_bad_email():
    with pytest.raises(CommandError, match="not an email"):
        _create_key("--workspace", "initech", "--email", "nope")
