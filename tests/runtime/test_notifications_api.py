"""GET /v1/notifications, POST /v1/notifications/{id}/read and /read_all."""

import pytest

from automations.notifications import notification_create

pytestmark = pytest.mark.django_db


def _notify(tenant, title, user=None):
    return notification_create(
        workspace=tenant.workspace,
        user=user or tenant.user,
        title=title,
        message="m",
        link="/deals/1",
    )


def test_the_list_has_the_callers_notifications_newest_first_with_an_unread_count(api, tenant):
    _notify(tenant, "one")
    two = _notify(tenant, "two")
    response = api.get("/v1/notifications")
    assert response.status_code == 200
    body = response.json()
    assert [n["title"] for n in body["data"]] == ["two", "one"]
    assert body["data"][0] == {
        "id": two.id,
        "title": "two",
        "message": "m",
        "link": "/deals/1",
        "read": False,
        "read_at": None,
        "created_at": body["data"][0]["created_at"],
        "log_id": None,
        "automation_id": None,
    }
    assert body["meta"] == {"total": 2, "page": 1, "per_page": 25, "unread_count": 2}


def test_marking_one_read_and_filtering_unread(api, tenant):
    one = _notify(tenant, "one")
    _notify(tenant, "two")
    response = api.post(f"/v1/notifications/{one.id}/read")
    assert response.status_code == 200
    assert response.json()["data"]["read"] is True
    unread = api.get("/v1/notifications?unread=true").json()
    assert [n["title"] for n in unread["data"]] == ["two"]
    assert unread["meta"]["unread_count"] == 1
    read = api.get("/v1/notifications?unread=false").json()
    assert [n["title"] for n in read["data"]] == ["one"]


def test_read_all_marks_everything_read(api, tenant):
    _notify(tenant, "one")
    _notify(tenant, "two")
    response = api.post("/v1/notifications/read_all")
    assert response.json()["data"]["updated"] == 2
    assert api.get("/v1/notifications").json()["meta"]["unread_count"] == 0


def test_other_users_notifications_are_invisible(api, tenant, other_tenant):
    theirs = _notify(other_tenant, "theirs")
    assert api.get("/v1/notifications").json()["data"] == []
    assert api.post(f"/v1/notifications/{theirs.id}/read").status_code == 404


def test_a_bad_unread_filter_is_400(api):
    response = api.get("/v1/notifications?unread=maybe")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_notifications_need_an_api_key():
    from rest_framework.test import APIClient

    assert APIClient().get("/v1/notifications").status_code == 401
