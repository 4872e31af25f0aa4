from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.services import api_key_revoke

pytestmark = pytest.mark.django_db


def _client(header: str | None) -> APIClient:
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ", "Token abc", "Basic dXNlcjpwYXNz", "Bearer a b", "crm_x"],
    ids=["missing", "no-key", "empty-key", "wrong-scheme", "basic", "two-parts", "no-scheme"],
)
def test_missing_or_malformed_key_is_401_in_error_shape(tenant, header):
    response = _client(header).get("/v1/modules")
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == "unauthorized"
    assert body["error"]["message"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_unknown_key_is_401(tenant):
    response = _client("Bearer crm_" + "x" * 43).get("/v1/modules")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_valid_key_reaches_its_workspace(tenant):
    response = tenant.client.get("/v1/users/me")
    assert response.status_code == 200
    assert response.json()["data"]["workspace"] == "acme"
    assert response.json()["data"]["id"] == tenant.user.id


def test_revoked_key_is_401_on_the_very_next_request(tenant):
    assert tenant.client.get("/v1/modules").status_code == 200
    api_key_revoke(api_key=tenant.api_key)
    assert tenant.client.get("/v1/modules").status_code == 401


def test_key_is_stored_only_as_a_hash(tenant):
    stored = ApiKey.objects.get(pk=tenant.api_key.pk)
    assert tenant.key not in (stored.key_hash, stored.prefix)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apikey")
        dump = repr(cursor.fetchall())
    assert tenant.key not in dump
    assert tenant.key[:20] not in dump


def test_last_used_at_is_recorded_at_most_once_a_minute(tenant):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        tenant.client.get("/v1/modules")
    first = ApiKey.objects.get(pk=tenant.api_key.pk).last_used_at
    assert first == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        tenant.client.get("/v1/modules")
    assert ApiKey.objects.get(pk=tenant.api_key.pk).last_used_at == first
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        tenant.client.get("/v1/modules")
    assert ApiKey.objects.get(pk=tenant.api_key.pk).last_used_at == start + timedelta(seconds=90)
