"""A notification's link is a path on this site or an http(s) URL, at every entrance: the
send_notification validator (literal links and a template's literal start), the action after
rendering, the admin's form, notification_create itself; and it is never served or shown as an
unsafe href (GET /v1/notifications, the web UI), even for rows stored before the rule."""

import pytest
from django.test import Client

from automations.models import Automation, Notification
from automations.notifications import notification_create
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db

UNSAFE = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "  javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "\\\\evil.example/phish",
    "/\t/evil.example/phish",
    "/\n/evil.example/phish",
    "/deals/\x00",
    "http:/evil.example/phish",
    "ftp://evil.example/",
    "mailto:someone@example.com",
    "evil.example/phish",
    "https://",
]
SAFE = [
    "/deals/rec_abcd1234",
    "/automations/auto_x/logs/log_y?tab=actions#top",
    "/contacts/Ada Lovelace",
    "https://crm.example.com/deals/1",
    "http://example.com/",
]


def _definition(link):
    return {
        "name": "Notify",
        "trigger": {"type": "record.created", "module": "deals"},
        "actions": [
            {
                "type": "send_notification",
                "config": {
                    "user_id": "{{record.owner_id}}",
                    "title": "t",
                    "message": "m",
                    "link": link,
                },
            }
        ],
    }


@pytest.mark.parametrize("link", UNSAFE)
def test_an_unsafe_literal_link_is_refused_at_save(api, link):
    response = api.post("/v1/automations", _definition(link), format="json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == ["actions[0].config.link"], error["details"]
    assert not Automation.objects.exists()


@pytest.mark.parametrize(
    "link",
    ["javascript:{{record.name}}", "//{{record.name}}", "/\\{{record.name}}", "x{{record.id}}"],
)
def test_a_template_whose_literal_start_is_unsafe_is_refused_at_save(api, link):
    response = api.post("/v1/automations", _definition(link), format="json")

    assert response.status_code == 400, response.json()
    assert "actions[0].config.link" in response.json()["error"]["details"]


@pytest.mark.parametrize("link", [*SAFE, "/deals/{{record.id}}", "{{record.name}}"])
def test_safe_links_and_templates_are_accepted(api, link):
    response = api.post("/v1/automations", _definition(link), format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("template", "name"),
    [
        ("{{record.name}}", "javascript:alert(1)"),
        ("{{record.name}}", " javascript:alert(1)"),
        ("/{{record.name}}", "/evil.example/phish"),
        ("/{{record.name}}", "\\evil.example/phish"),
        ("/{{record.name}}", "\t/evil.example"),
    ],
)
def test_a_link_that_renders_unsafe_fails_the_action_and_writes_nothing(tenant, template, name):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "deals"},
        actions=[{"type": "send_notification", "config": _config(template)}],
    )
    make_record(tenant, "deals", name=name, owner_id=tenant.user.id)
    drain()

    [run] = runs_of(automation)
    assert (run.status, run.error_code) == ("failed", "validation_error")
    assert "link" in run.error_message and "refused" in run.error_message
    assert not Notification.objects.exists()


def test_a_link_that_renders_safe_is_stored_as_rendered(tenant):
    make_automation(
        tenant,
        trigger={"type": "record.created", "module": "deals"},
        actions=[{"type": "send_notification", "config": _config("/deals/{{record.name}}")}],
    )
    make_record(tenant, "deals", name="big-one", owner_id=tenant.user.id)
    drain()
    assert Notification.objects.get().link == "/deals/big-one"


@pytest.mark.parametrize("link", UNSAFE[:8])
def test_notification_create_refuses_an_unsafe_link(tenant, link):
    with pytest.raises(ValueError, match="notification link"):
        notification_create(workspace=tenant.workspace, user=tenant.user, title="t", link=link)
    assert not Notification.objects.exists()


def test_the_admin_form_refuses_an_unsafe_link(admin_client, tenant):
    response = admin_client.post(
        "/admin/automations/notification/add/",
        {
            "workspace": tenant.workspace.id,
            "user": tenant.user.id,
            "title": "Click me",
            "message": "",
            "link": "//evil.example/phish",
        },
    )
    assert response.status_code == 200  # the form again, with its error
    assert "another site" in response.content.decode()
    assert not Notification.objects.exists()


def _stored(tenant, link, title):
    """A row as an older version (or a hand edit) may have left it: no rule applied."""
    return Notification.objects.create(
        workspace=tenant.workspace, user=tenant.user, title=title, link=link
    )


def test_the_api_never_serves_an_unsafe_stored_link(api, tenant):
    for index, link in enumerate(UNSAFE[:8]):
        _stored(tenant, link, f"bad {index}")
    for index, link in enumerate(SAFE):
        _stored(tenant, link, f"good {index}")

    listed = api.get("/v1/notifications?per_page=100").json()["data"]

    links = {item["title"]: item["link"] for item in listed}
    assert {links[f"bad {i}"] for i in range(8)} == {None}
    assert [links[f"good {i}"] for i in range(len(SAFE))] == SAFE


def test_the_notifications_page_never_renders_an_unsafe_href(tenant):
    web = Client()
    web.force_login(tenant.user)
    bad = [_stored(tenant, link, f"bad {index}") for index, link in enumerate(UNSAFE[:8])]
    _stored(tenant, "https://crm.example.com/deals/1", "external")
    site = _stored(tenant, "/deals/rec_abcd1234", "on site")

    html = web.get("/notifications/").content.decode()

    assert "javascript:" not in html.lower() and "evil.example" not in html
    for notification in bad:  # no Open button at all for a link that is not safe
        assert f'/notifications/{notification.id}/open"' not in html
    assert f'href="/notifications/{site.id}/open"' in html
    assert 'href="https://crm.example.com/deals/1" rel="noopener noreferrer nofollow"' in html
    # Opening a bad stored link directly leads back to the list, never elsewhere.
    for notification in bad:
        response = web.get(f"/notifications/{notification.id}/open")
        assert response["Location"] == "/notifications/"
    assert web.get(f"/notifications/{site.id}/open")["Location"] == "/deals/rec_abcd1234"


def _config(link):
    return {"user_id": "{{record.owner_id}}", "title": "t", "message": "m", "link": link}
