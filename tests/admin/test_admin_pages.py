import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from automations.models import ActionRun, Run
from automations.notifications import notification_create
from automations.runtime.runs import run_create
from tests.admin.helpers import change_url
from tests.factories import make_record
from tests.web.helpers import make_automation

OUR_APPS = ("accounts", "records", "automations")


def test_every_model_of_the_project_is_registered():
    models = [m for app in OUR_APPS for m in apps.get_app_config(app).get_models()]

    missing = [m.__name__ for m in models if m not in admin.site._registry]

    assert missing == []


@pytest.fixture
def data(tenant):
    record = make_record(tenant, "contacts", name="Ann", email="ann@x.example")
    automation = make_automation(tenant, enabled=True)
    run = run_create(
        automation=automation,
        trigger_data={"event": "record.created", "record_id": record.id, "record": {}},
    )
    ActionRun.objects.create(run=run, index=0, type="send_notification", status="success")
    notification_create(workspace=tenant.workspace, user=tenant.user, title="Hello")
    return {"record": record, "automation": automation, "run": run}


@pytest.mark.parametrize(
    "model",
    [m for app in OUR_APPS for m in apps.get_app_config(app).get_models()],
    ids=lambda m: m.__name__,
)
def test_every_changelist_opens(admin_client, data, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize(
    "model",
    [m for app in OUR_APPS for m in apps.get_app_config(app).get_models()],
    ids=lambda m: m.__name__,
)
def test_every_changelist_searches(admin_client, data, model):
    if not admin.site._registry[model].search_fields:
        pytest.skip("no search")
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    assert admin_client.get(url, {"q": "ann"}).status_code == 200


@pytest.mark.parametrize("key", ["record", "automation", "run"])
def test_the_main_change_pages_open(admin_client, data, key):
    obj = data[key]

    response = admin_client.get(change_url(obj))

    assert response.status_code == 200


def test_records_are_found_by_a_value(admin_client, data):
    response = admin_client.get(reverse("admin:records_record_changelist"), {"q": "ann@x"})

    assert data["record"].id in response.content.decode()


def test_an_automation_links_to_its_runs(admin_client, data):
    automation, run = data["automation"], data["run"]

    html = admin_client.get(change_url(automation)).content.decode()

    assert f"?automation__id__exact={automation.id}" in html
    assert run.id in html


@pytest.mark.parametrize("suffix", ["22", "40", "5f"])
def test_a_run_whose_id_looks_escaped_opens_from_the_automation_page(admin_client, data, suffix):
    # "_22" in an admin URL means '"': ids such as log_22... (about 1 in 200 of them) must be
    # quoted in every link, as the admin quotes its own.
    automation = data["automation"]
    run = Run.objects.create(
        id=f"log_{suffix}abcdefghijklmn",
        automation=automation,
        workspace=automation.workspace,
        trigger_data={"event": "record.created"},
    )

    html = admin_client.get(change_url(automation)).content.decode()
    [link] = re.findall(rf'href="([^"]*)">{run.id}</a>', html)

    assert admin_client.get(link).status_code == 200
    assert admin_client.get(change_url(run)).status_code == 200


def test_the_runs_of_one_automation_can_be_listed(admin_client, data, tenant):
    other = make_automation(tenant, name="Other")
    other_run = run_create(automation=other, trigger_data={"event": "record.created"})

    html = admin_client.get(
        reverse("admin:automations_run_changelist"),
        {"automation__id__exact": data["automation"].id},
    ).content.decode()

    assert data["run"].id in html
    assert other_run.id not in html


def test_a_run_is_read_only_with_its_actions(admin_client, data):
    run = data["run"]

    html = admin_client.get(change_url(run)).content.decode()

    assert "send_notification" in html
    assert 'name="_save"' not in html
    assert admin_client.post(change_url(run), {"status": "success"}).status_code == 403
    run.refresh_from_db()
    assert run.status == Run.Status.PENDING
