"""Links between runs and records: a run names and links the records its actions wrote, and
a record page lists the runs that wrote it as well as the runs it triggered."""

from __future__ import annotations

from automations.models import ActionRun, Run
from records.services import record_delete
from tests.factories import make_record
from tests.web.helpers import make_automation
from tests.web.test_runs_page import make_run


def wrote(run, record, *, action_type="create_record", index=0):
    return ActionRun.objects.create(
        run=run,
        index=index,
        type=action_type,
        status=ActionRun.Status.SUCCESS,
        output={"record_id": record.id, "module": record.module.slug},
    )


def test_a_run_links_to_the_record_it_created_by_name(web, tenant):
    task = make_record(tenant, "tasks", name="Call Ann back")
    run = make_run(make_automation(tenant), status=Run.Status.SUCCESS)
    wrote(run, task)

    html = web.get(f"/runs/{run.id}/").content.decode()

    assert f'href="/records/tasks/{task.id}/">Call Ann back</a>' in html
    assert "Created" in html


def test_a_run_names_an_updated_record_and_says_when_it_is_gone(web, tenant):
    deal = make_record(tenant, "deals", name="Big deal")
    run = make_run(make_automation(tenant), status=Run.Status.SUCCESS)
    wrote(run, deal, action_type="update_record")
    record_delete(record=deal, actor=tenant.user)

    html = web.get(f"/runs/{run.id}/").content.decode()

    assert "Updated" in html and deal.id in html and "since deleted" in html


def test_a_record_created_by_a_run_lists_that_run(web, tenant):
    task = make_record(tenant, "tasks", name="Call Ann back")
    automation = make_automation(tenant, name="Create follow-up task")
    run = make_run(automation, status=Run.Status.SUCCESS)  # triggered by another record
    wrote(run, task)

    html = web.get(f"/records/tasks/{task.id}/").content.decode()

    assert "No automation has run for this record yet" not in html
    assert f'href="/runs/{run.id}/"' in html
    assert "created this record" in html


def test_a_record_page_lists_triggered_and_updating_runs_newest_first(web, tenant):
    contact = make_record(tenant, "contacts", name="Ann")
    automation = make_automation(tenant)
    triggered = make_run(automation, record_id=contact.id, ago=5)
    updating = make_run(automation, record_id="rec_other001", ago=1)
    wrote(updating, contact, action_type="update_record")
    unrelated = make_run(automation, record_id="rec_other001")

    html = web.get(f"/records/contacts/{contact.id}/").content.decode()

    assert html.find(updating.id) < html.find(triggered.id)
    assert html.find(updating.id) >= 0 and unrelated.id not in html
    assert "updated this record" in html


def test_a_record_page_does_not_list_another_workspaces_runs(web, tenant, other_tenant):
    contact = make_record(tenant, "contacts", name="Ann")
    theirs = make_run(make_automation(other_tenant))
    wrote(theirs, contact)

    html = web.get(f"/records/contacts/{contact.id}/").content.decode()

    assert theirs.id not in html
