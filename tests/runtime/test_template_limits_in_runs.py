"""Template limits in real runs, the run page and the dry run (issue 15.2): a template bomb ends
as that action's template failure naming the field, and nothing stored or served is large.

Before the limits, ``{{ (1..10000000) | join: ',' }}`` in a record field answered the dry run
with a 78.9 MB body and stored a 38.9 MB action-run config that the run page served whole.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from automations.engine.template_limits import LOGGED_TEXT_CHARS, MAX_TEXT_CHARS
from automations.models import ActionRun, Run
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db

BOMB = "{{ (1..10000000) | join: ',' }}"
CONTACT_CREATED = {"type": "record.created", "module": "contacts"}


def _create_task(name: str) -> dict:
    return {"type": "create_record", "config": {"module": "tasks", "data": {"name": name}}}


def test_a_template_bomb_fails_its_action_naming_the_field_and_stores_little(tenant):
    automation = make_automation(tenant, trigger=CONTACT_CREATED, actions=[_create_task(BOMB)])
    make_record(tenant, "contacts", name="Ada")
    drain()

    [run] = runs_of(automation)
    assert run.status == Run.Status.FAILED
    log = ActionRun.objects.get(run=run)
    assert log.status == ActionRun.Status.FAILED
    assert log.error_code == "template_render_failed"
    assert log.error_message.startswith("actions[0].config.data.name: join: the list would have")
    assert len(json.dumps(log.config)) < 1_000
    assert not tenant.module("tasks").records.exists()

    client = Client()
    client.force_login(tenant.user)
    page = client.get(f"/runs/{run.id}/")
    assert page.status_code == 200
    assert len(page.content) < 200_000
    assert b"actions[0].config.data.name" in page.content


def test_a_large_rendered_value_is_sent_whole_but_logged_cut(tenant, httpserver):
    # 300,000 characters: under the limit, so the action gets all of it; the log keeps 2,000.
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    body = {"notes": "{% for i in (1..5000) %}{{ record.name }}{% endfor %}"}
    automation = make_automation(
        tenant,
        trigger=CONTACT_CREATED,
        actions=[
            {"type": "call_webhook", "config": {"url": httpserver.url_for("/hook"), "body": body}}
        ],
    )
    name = "n" * 60
    make_record(tenant, "contacts", name=name)
    drain()

    [run] = runs_of(automation)
    assert run.status == Run.Status.SUCCESS
    [(request, _)] = httpserver.log
    assert json.loads(request.get_data(as_text=True)) == {"notes": name * 5000}
    logged = ActionRun.objects.get(run=run).config["body"]["notes"]
    assert logged == (name * 5000)[:LOGGED_TEXT_CHARS] + "… [298,000 more characters]"


def test_the_dry_run_of_a_bomb_is_small_and_names_the_field(api, tenant):
    created = api.post(
        "/v1/automations",
        {"name": "bomb", "trigger": CONTACT_CREATED, "actions": [_create_task(BOMB)]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    response = api.post(
        f"/v1/automations/{created.json()['data']['id']}/test",
        {"record": {"name": "Ada"}},
        format="json",
    )
    assert response.status_code == 200
    assert len(response.content) < 10_000
    [preview] = response.json()["data"]["actions_preview"]
    assert preview["error"]["code"] == "template_render_failed"  # the run's code
    assert preview["error"]["message"].startswith("actions[0].config.data.name: join:")


def test_the_dry_run_shows_a_long_value_cut_like_the_log(api, tenant):
    created = api.post(
        "/v1/automations",
        {
            "name": "long",
            "trigger": CONTACT_CREATED,
            "actions": [_create_task("{% for i in (1..5000) %}{{ record.name }}{% endfor %}")],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    response = api.post(
        f"/v1/automations/{created.json()['data']['id']}/test",
        {"record": {"name": "n" * 100}},
        format="json",
    )
    assert response.status_code == 200
    [preview] = response.json()["data"]["actions_preview"]
    shown = preview["config"]["data"]["name"]
    assert shown == "n" * LOGGED_TEXT_CHARS + "… [498,000 more characters]"
    assert len(response.content) < MAX_TEXT_CHARS // 100
