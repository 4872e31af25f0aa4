import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient

from accounts import api as accounts_api
from config.api.fallback import handler404, handler500

pytestmark = pytest.mark.django_db


def _assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_unknown_api_route_is_json_404(api):
    _assert_error(api.get("/v1/does-not-exist"), 404, "not_found")


def test_unknown_api_route_is_json_404_without_a_key():
    _assert_error(Client().get("/v1/nothing/here"), 404, "not_found")


def test_wrong_method_is_json_405(api):
    _assert_error(api.put("/v1/modules", {}, format="json"), 405, "method_not_allowed")


def test_a_form_encoded_body_is_415_saying_to_send_json(api, tenant):
    # curl -d without -H "Content-Type: application/json" sends exactly this.
    response = api.generic(
        "POST",
        "/v1/automations",
        "name=Welcome&enabled=true",
        content_type="application/x-www-form-urlencoded",
    )

    _assert_error(response, 415, "unsupported_media_type")
    error = response.json()["error"]
    assert "application/x-www-form-urlencoded" in error["message"]
    assert "Content-Type: application/json" in error["message"]
    assert error["details"] == {
        "Content-Type": [
            '"application/x-www-form-urlencoded" is not accepted; use application/json'
        ]
    }
    assert not tenant.workspace.automations.exists()


def test_the_415_names_the_type_sent_without_its_parameters(api):
    response = api.generic(
        "POST",
        "/v1/modules/contacts/records",
        "<a/>",
        content_type="text/xml; charset=utf-8",
    )

    _assert_error(response, 415, "unsupported_media_type")
    assert response.json()["error"]["message"].startswith('Unsupported Content-Type "text/xml":')


@override_settings(API_MAX_BODY_BYTES=2048)
def test_oversized_body_is_json_413(api):
    response = api.post("/v1/modules/contacts/records", {"name": "x" * 5000}, format="json")
    _assert_error(response, 413, "payload_too_large")


def test_unhandled_error_in_a_view_is_json_500(api, monkeypatch):
    def boom(self, request):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(accounts_api.MeView, "get", boom)
    response = api.get("/v1/users/me")
    _assert_error(response, 500, "internal_error")
    assert "kaboom" not in response.content.decode()


def test_django_level_404_and_500_are_json_under_v1_and_html_elsewhere():
    request = RequestFactory().get("/v1/x")
    _assert_error(handler404(request, Exception()), 404, "not_found")
    _assert_error(handler500(request), 500, "internal_error")
    page = handler404(RequestFactory().get("/x"), Exception())
    assert page["Content-Type"].startswith("text/html")


def test_schema_and_offline_docs_are_served():
    client = Client()
    schema = client.get("/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/v1/modules" in schema.content.decode()
    docs = client.get("/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()


def test_healthz_reports_database_and_broker():
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True


def test_rate_limit_is_json_429_with_retry_after(api, settings):
    settings.API_RATE_LIMIT = "3/min"
    # A stopped clock 15 s into a minute: the window cannot roll over between requests.
    with time_machine.travel(datetime(2030, 1, 1, 12, 0, 15, tzinfo=UTC), tick=False):
        statuses = [api.get("/v1/modules").status_code for _ in range(4)]
        response = api.get("/v1/modules")
    assert statuses == [200, 200, 200, 429]
    _assert_error(response, 429, "rate_limited")
    assert response["Retry-After"] == "45"
    assert "3/min" in response.json()["error"]["message"]
    with time_machine.travel(datetime(2030, 1, 1, 12, 1, 0, tzinfo=UTC), tick=False):
        assert api.get("/v1/modules").status_code == 200  # the next window


def test_the_rate_limit_is_per_api_key(tenant, settings):
    from accounts.services import api_key_create

    settings.API_RATE_LIMIT = "2/min"
    _, second_key = api_key_create(workspace=tenant.workspace, user=tenant.user)
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {second_key}")
    with time_machine.travel(datetime(2030, 1, 1, 12, 0, 15, tzinfo=UTC), tick=False):
        statuses = [tenant.client.get("/v1/modules").status_code for _ in range(3)]
        assert other.get("/v1/modules").status_code == 200
    assert statuses == [200, 200, 429]
