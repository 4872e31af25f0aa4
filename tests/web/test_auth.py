import pytest
from django.test import Client

from accounts.models import Membership
from accounts.services import membership_ensure, user_get_or_create

PAGES = [
    "/automations/",
    "/automations/new",
    "/records/",
    "/records/contacts/",
    "/notifications/",
    "/settings/api-keys/",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_send_anonymous_visitors_to_the_login_page(db, url):
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(f"/login/?next={url}")


def test_login_with_username_and_password_opens_the_automations(tenant):
    tenant.user.set_password("s3cret-pass")
    tenant.user.save()

    response = Client().post(
        "/login/", {"username": tenant.user.username, "password": "s3cret-pass"}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/automations/"
    assert b"Automations" in response.content


def test_login_with_a_wrong_password_shows_an_error(tenant):
    response = Client().post("/login/", {"username": tenant.user.username, "password": "nope"})

    assert response.status_code == 200
    assert b"error-summary" in response.content


def test_home_redirects_to_the_automations(web):
    assert web.get("/")["Location"] == "/automations/"


def test_a_user_of_no_workspace_is_told_so(db):
    user, _ = user_get_or_create(email="lonely@example.com")
    client = Client()
    client.force_login(user)

    response = client.get("/automations/")

    assert response.status_code == 403
    assert b"No workspace yet" in response.content


def test_switching_workspace_stores_it_in_the_session(web, tenant, other_tenant):
    membership_ensure(workspace=other_tenant.workspace, user=tenant.user)

    response = web.post("/workspace/switch", {"workspace": "globex"})

    assert response.status_code == 302
    assert web.session["workspace_slug"] == "globex"
    assert b"Globex" in web.get("/automations/").content


def test_the_switcher_lists_every_workspace_of_the_user(web, tenant, other_tenant):
    membership_ensure(workspace=other_tenant.workspace, user=tenant.user)

    html = web.get("/automations/").content.decode()

    assert 'name="workspace"' in html
    assert 'value="acme"' in html and 'value="globex"' in html


def test_switching_to_a_workspace_the_user_is_not_in_is_refused(web, other_tenant):
    web.post("/workspace/switch", {"workspace": "globex"})

    assert web.session.get("workspace_slug") != "globex"


def test_the_session_api_acts_in_the_workspace_chosen_in_the_ui(web, tenant, other_tenant):
    membership_ensure(
        workspace=other_tenant.workspace, user=tenant.user, role=Membership.Role.MEMBER
    )
    web.post("/workspace/switch", {"workspace": "globex"})

    assert web.get("/v1/users/me").json()["data"]["workspace"] == "globex"


def test_forms_are_protected_against_cross_site_requests(tenant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant.user)

    response = client.post("/settings/api-keys/", {"name": "forged"})

    assert response.status_code == 403


def test_signing_out_needs_a_post(web):
    assert web.get("/logout/").status_code == 405
    assert web.post("/logout/")["Location"] == "/login/"
