"""Rotating a workspace's outbound webhook signing secret (automations.signing): through the
API, the web page and the admin; who may; what receivers see during and after the grace day."""

import base64
import hashlib
import hmac
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from accounts.models import Membership, Workspace
from accounts.services import api_key_create, membership_ensure, user_get_or_create
from automations import signing
from tests.factories import make_record
from tests.runtime.support import drain, make_automation

pytestmark = pytest.mark.django_db

ROTATE = "/v1/workspace/webhook_secret/rotate"


def _fresh(tenant) -> Workspace:
    return Workspace.objects.get(pk=tenant.workspace.pk)


def _member_client(tenant, role: str) -> tuple[APIClient, object]:
    user, _ = user_get_or_create(email=f"{role}@{tenant.workspace.slug}.example")
    membership_ensure(workspace=tenant.workspace, user=user, role=role)
    _, key = api_key_create(workspace=tenant.workspace, user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client, user


def test_a_workspace_never_rotated_keeps_the_secret_it_always_had(tenant):
    # The derivation every workspace had before rotation existed: receivers set up then work.
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"automations.outbound-webhook:{tenant.workspace.id}".encode(),
        hashlib.sha256,
    ).digest()
    expected = "whsec_" + base64.b64encode(digest).decode()
    shown = tenant.client.get("/v1/workspace").json()["data"]
    assert shown["outbound_webhook_secret"] == expected
    assert shown["previous_outbound_webhook_secret_expires_at"] is None


def test_an_owner_rotates_through_the_api_and_the_old_secret_has_a_day_left(tenant, other_tenant):
    before = tenant.client.get("/v1/workspace").json()["data"]["outbound_webhook_secret"]
    theirs = other_tenant.client.get("/v1/workspace").json()["data"]["outbound_webhook_secret"]

    response = tenant.client.post(ROTATE)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    data = response.json()["data"]
    assert data["outbound_webhook_secret"].startswith("whsec_")
    assert data["outbound_webhook_secret"] != before
    expires = timezone.datetime.fromisoformat(data["previous_outbound_webhook_secret_expires_at"])
    assert abs(expires - (timezone.now() + timedelta(hours=24))) < timedelta(minutes=1)
    assert tenant.client.get("/v1/workspace").json()["data"] == data
    # Another workspace's secret does not move.
    assert other_tenant.client.get("/v1/workspace").json()["data"]["outbound_webhook_secret"] == (
        theirs
    )


def test_an_admin_may_rotate_and_a_member_may_not(tenant):
    admin, _ = _member_client(tenant, Membership.Role.ADMIN)
    assert admin.post(ROTATE).status_code == 200
    secret = signing.current_secret(_fresh(tenant))

    member, _ = _member_client(tenant, Membership.Role.MEMBER)
    response = member.post(ROTATE)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert signing.current_secret(_fresh(tenant)) == secret


def test_rotate_accepts_only_post(tenant):
    response = tenant.client.get(ROTATE)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_the_database_alone_holds_no_secret(tenant):
    signing.rotate(workspace=tenant.workspace)
    workspace = _fresh(tenant)
    stored = {
        workspace.webhook_secret_nonce,
        workspace.previous_webhook_secret_nonce,
    }
    current = signing.current_secret(workspace)
    previous = signing.secret_for(workspace.id, workspace.previous_webhook_secret_nonce)
    for secret in (current, previous):
        assert secret not in stored
        assert secret.removeprefix("whsec_") not in stored


def test_rotating_twice_in_the_grace_day_drops_the_oldest_secret(tenant):
    first = signing.current_secret(tenant.workspace)
    second = signing.current_secret(signing.rotate(workspace=tenant.workspace))
    workspace = signing.rotate(workspace=tenant.workspace)
    assert signing.secret_for(workspace.id, workspace.previous_webhook_secret_nonce) == second
    assert first not in (signing.current_secret(workspace), second)


def _deliver(tenant, httpserver):
    httpserver.expect_request("/in").respond_with_data("ok")
    make_automation(
        tenant,
        trigger={"type": "record.created", "module": "deals"},
        actions=[{"type": "call_webhook", "config": {"url": httpserver.url_for("/in")}}],
    )
    make_record(tenant, "deals", name="Big")
    drain()
    request, _ = httpserver.log[-1]
    return request.get_data(as_text=True), dict(request.headers)


@pytest.fixture
def _private_urls(settings):
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = True  # the receiver lives on 127.0.0.1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.mark.usefixtures("_private_urls")
def test_during_the_grace_day_either_secret_verifies_a_delivery(tenant, httpserver):
    old = signing.current_secret(tenant.workspace)
    new = signing.current_secret(signing.rotate(workspace=tenant.workspace))

    body, headers = _deliver(tenant, httpserver)

    assert len(headers["Webhook-Signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)  # a receiver not yet switched
    Webhook(new).verify(body, headers)  # a receiver already switched


@pytest.mark.usefixtures("_private_urls")
def test_after_the_grace_day_only_the_new_secret_verifies(tenant, httpserver):
    old = signing.current_secret(tenant.workspace)
    new = signing.current_secret(signing.rotate(workspace=tenant.workspace))

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        body, headers = _deliver(tenant, httpserver)
        assert len(headers["Webhook-Signature"].split(" ")) == 1
        Webhook(new).verify(body, headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(old).verify(body, headers)
        assert (
            tenant.client.get("/v1/workspace").json()["data"][
                "previous_outbound_webhook_secret_expires_at"
            ]
            is None
        )


def _browser(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_the_api_keys_page_rotates_for_an_owner(tenant):
    web = _browser(tenant.user)
    before = signing.current_secret(tenant.workspace)
    page = web.get("/settings/api-keys/").content.decode()
    assert "Rotate secret" in page

    response = web.post("/settings/webhook-secret/rotate", follow=True)

    after = signing.current_secret(_fresh(tenant))
    assert after != before
    page = response.content.decode()
    assert after in page and before not in page
    assert "New signing secret created" in page
    assert 'id="previous-secret-note"' in page


def test_the_api_keys_page_does_not_offer_rotation_to_a_member(tenant):
    _, user = _member_client(tenant, Membership.Role.MEMBER)
    browser = _browser(user)
    before = signing.current_secret(tenant.workspace)

    assert "Rotate secret" not in browser.get("/settings/api-keys/").content.decode()
    assert browser.post("/settings/webhook-secret/rotate").status_code == 403
    assert browser.get("/settings/webhook-secret/rotate").status_code == 405
    assert signing.current_secret(_fresh(tenant)) == before


def test_the_admin_action_rotates_the_selected_workspaces(tenant, other_tenant, admin_client):
    mine, theirs = (
        signing.current_secret(tenant.workspace),
        signing.current_secret(other_tenant.workspace),
    )
    response = admin_client.post(
        "/admin/accounts/workspace/",
        {"action": "rotate_webhook_secret", "_selected_action": [tenant.workspace.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert signing.current_secret(_fresh(tenant)) != mine
    assert signing.current_secret(_fresh(other_tenant)) == theirs
    # The admin never shows what the secrets derive from.
    form = admin_client.get(f"/admin/accounts/workspace/{tenant.workspace.pk}/change/")
    assert "webhook_secret_nonce" not in form.content.decode()
