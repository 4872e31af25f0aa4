from automations.models import Notification
from automations.notifications import notification_create


def _notify(tenant, title="Deal won", link="", user=None):
    return notification_create(
        workspace=tenant.workspace, user=user or tenant.user, title=title, message="m", link=link
    )


def test_the_header_shows_the_unread_count(web, tenant):
    _notify(tenant)
    _notify(tenant)

    html = web.get("/automations/").content.decode()

    assert 'aria-label="2 unread"' in html


def test_the_list_shows_notifications_newest_first(web, tenant):
    _notify(tenant, title="First")
    _notify(tenant, title="Second")

    html = web.get("/notifications/").content.decode()

    assert html.index("Second") < html.index("First")


def test_an_empty_list_says_so(web):
    assert b"No notifications yet" in web.get("/notifications/").content


def test_marking_one_as_read(web, tenant):
    notification = _notify(tenant)

    web.post(f"/notifications/{notification.id}/read")

    notification.refresh_from_db()
    assert notification.read_at is not None
    assert b"unread" not in web.get("/automations/").content.split(b"</header>")[0]


def test_marking_all_as_read(web, tenant):
    _notify(tenant)
    _notify(tenant)

    web.post("/notifications/read-all")

    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_the_unread_filter_hides_read_ones(web, tenant):
    read = _notify(tenant, title="Old news")
    web.post(f"/notifications/{read.id}/read")
    _notify(tenant, title="Fresh")

    html = web.get("/notifications/?show=unread").content.decode()

    assert "Fresh" in html and "Old news" not in html


def test_opening_a_notification_marks_it_read_and_follows_its_link(web, tenant):
    notification = _notify(tenant, link="/deals/rec_abcd1234")

    response = web.get(f"/notifications/{notification.id}/open")

    notification.refresh_from_db()
    assert response["Location"] == "/deals/rec_abcd1234"
    assert notification.read_at is not None


def test_a_link_to_another_site_is_not_followed(web, tenant):
    notification = _notify(tenant, link="https://evil.example/")

    assert web.get(f"/notifications/{notification.id}/open")["Location"] == "/notifications/"


def test_other_peoples_notifications_are_private(web, tenant, other_tenant):
    theirs = _notify(other_tenant, title="Not for you")

    assert b"Not for you" not in web.get("/notifications/").content
    assert web.post(f"/notifications/{theirs.id}/read").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
