"""The History tab, the diff, restore, Duplicate, Export and Import pages."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from automations.models import Automation
from automations.services import automation_set_enabled, automation_update
from tests.web.helpers import make_automation, reload

pytestmark = pytest.mark.django_db


def _two_versions(tenant):
    automation = make_automation(tenant, name="First")
    automation_update(automation=automation, user=tenant.user, data={"name": "Second"})
    return reload(automation)


def test_the_history_lists_each_version_with_who_saved_it(web, tenant):
    automation = _two_versions(tenant)

    html = web.get(f"/automations/{automation.id}/history").content.decode()

    assert "Version 2" in html and "Version 1" in html
    assert tenant.user.email in html
    assert html.count(">Restore this version<") == 1  # not for the current version


def test_the_diff_shows_the_changed_part_side_by_side(web, tenant):
    automation = _two_versions(tenant)

    response = web.get(f"/automations/{automation.id}/history/diff?from=1&to=2")

    html = response.content.decode()
    assert response.status_code == 200
    assert "1 part changed" in html
    assert "<del>First</del>" in html and "<ins>Second</ins>" in html


def test_an_unknown_version_is_404(web, tenant):
    automation = make_automation(tenant)

    assert web.get(f"/automations/{automation.id}/history/diff?from=9").status_code == 404
    assert web.get(f"/automations/{automation.id}/history/9/restore").status_code == 404


def test_restore_asks_first_then_saves_a_new_disabled_version(web, tenant):
    automation = _two_versions(tenant)
    automation_set_enabled(automation=automation, enabled=True)
    url = f"/automations/{automation.id}/history/1/restore"

    assert b"Restore version 1?" in web.get(url).content
    assert reload(automation).version == 2
    response = web.post(url)

    automation = reload(automation)
    assert response.status_code == 302
    assert (automation.name, automation.version, automation.enabled) == ("First", 3, False)


def test_restore_needs_a_post_with_csrf(tenant):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant.user)
    automation = _two_versions(tenant)

    assert client.post(f"/automations/{automation.id}/history/1/restore").status_code == 403
    assert reload(automation).version == 2


def test_duplicate_opens_the_disabled_copy(web, tenant):
    automation = make_automation(tenant, name="Welcome", enabled=True)

    response = web.post(f"/automations/{automation.id}/duplicate")

    copy = Automation.objects.exclude(pk=automation.pk).get()
    assert response["Location"] == f"/automations/{copy.id}/"
    assert (copy.name, copy.enabled) == ("Welcome (copy)", False)


def test_duplicate_is_post_only(web, tenant):
    automation = make_automation(tenant)

    assert web.get(f"/automations/{automation.id}/duplicate").status_code == 405


def test_export_downloads_a_json_file(web, tenant):
    automation = make_automation(tenant, name="Welcome mail")

    response = web.get(f"/automations/{automation.id}/export")

    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="welcome-mail.automation.json"'
    assert json.loads(response.content)["automations"][0]["name"] == "Welcome mail"


def test_import_creates_the_automation_disabled_and_opens_it(web, tenant):
    automation = make_automation(tenant, name="Welcome", enabled=True)
    exported = web.get(f"/automations/{automation.id}/export").content

    response = web.post(
        "/automations/import", {"file": SimpleUploadedFile("a.json", exported, "application/json")}
    )

    imported = Automation.objects.exclude(pk=automation.pk).get()
    assert response["Location"] == f"/automations/{imported.id}/"
    assert imported.name == "Welcome" and not imported.enabled


def test_import_problems_are_shown_in_words_with_the_automation_they_belong_to(web, tenant):
    document = {
        "format": "crm-automations",
        "version": 1,
        "automations": [{"name": "Projects", "trigger": {"type": "manual", "module": "projects"}}],
    }
    upload = SimpleUploadedFile("a.json", json.dumps(document).encode(), "application/json")

    response = web.post("/automations/import", {"file": upload})

    html = response.content.decode()
    assert response.status_code == 400
    assert "Automation 1 (“Projects”) → Trigger → module: unknown module" in html
    assert not Automation.objects.exists()


def test_a_file_of_another_format_is_refused_in_words(web):
    upload = SimpleUploadedFile("a.json", b'{"format": "other"}', "application/json")

    html = web.post("/automations/import", {"file": upload}).content.decode()

    assert "this is not an automations export" in html


def test_other_workspaces_automations_are_404(other_web, tenant):
    automation = _two_versions(tenant)
    base = f"/automations/{automation.id}"

    for url in (f"{base}/history", f"{base}/history/diff", f"{base}/export"):
        assert other_web.get(url).status_code == 404
    assert other_web.post(f"{base}/history/1/restore").status_code == 404
    assert other_web.post(f"{base}/duplicate").status_code == 404
    assert reload(automation).version == 2 and Automation.objects.count() == 1


def test_the_automation_page_links_history_duplicate_and_export(web, tenant):
    automation = make_automation(tenant)

    html = web.get(f"/automations/{automation.id}/").content.decode()

    assert f'href="/automations/{automation.id}/history"' in html
    assert f'action="/automations/{automation.id}/duplicate"' in html
    assert f'href="/automations/{automation.id}/export"' in html
    assert 'href="/automations/import"' in web.get("/automations/").content.decode()
