"""The workspace-wide Runs page, its keyset pages, and the live-status endpoint."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from automations.models import Run
from automations.run_queries import Cursor
from automations.runtime.runs import run_create
from tests.web.helpers import make_automation

NOW = timezone.now()


def make_run(
    automation, *, name="Ann", record_id="rec_ann00001", module="contacts", ago=0, **fields
):
    """A run of `automation` for a record called `name`, created `ago` minutes before NOW."""
    run = run_create(
        automation=automation,
        trigger_data={
            "event": "record.created",
            "record_id": record_id,
            "module": module,
            "record": {"id": record_id, "name": name},
        },
    )
    Run.objects.filter(pk=run.pk).update(created_at=NOW - timedelta(minutes=ago), **fields)
    run.refresh_from_db()
    return run


def ids_in(html: str, runs) -> list[str]:
    """The ids of `runs` in the order the page shows them."""
    found = [(html.find(f'data-run-id="{r.id}"'), r.id) for r in runs]
    return [run_id for at, run_id in sorted(found) if at >= 0]


def test_the_runs_page_lists_every_automations_runs_newest_first(web, tenant):
    welcome = make_automation(tenant, name="Welcome")
    follow_up = make_automation(tenant, name="Follow up")
    old = make_run(welcome, ago=10)
    new = make_run(follow_up, ago=1)

    html = web.get("/runs/").content.decode()

    assert ids_in(html, [old, new]) == [new.id, old.id]
    assert "Welcome" in html and "Follow up" in html
    assert "Record created" in html  # the event in words, not record.created


def test_the_runs_page_shows_no_other_workspaces_runs(web, tenant, other_tenant):
    mine = make_run(make_automation(tenant))
    theirs = make_run(make_automation(other_tenant))

    html = web.get("/runs/").content.decode()

    assert mine.id in html and theirs.id not in html


def test_the_runs_page_filters_by_status_automation_module_and_record(web, tenant):
    contacts = make_automation(tenant, name="On contacts")
    deals = make_automation(
        tenant, name="On deals", trigger={"type": "record.created", "module": "deals"}
    )
    ok = make_run(contacts, status=Run.Status.SUCCESS)
    failed = make_run(contacts, status=Run.Status.FAILED, record_id="rec_bob00001", name="Bob")
    deal = make_run(deals, module="deals", record_id="rec_deal0001", name="Big deal")
    every = [ok, failed, deal]

    assert ids_in(web.get("/runs/?status=failed").content.decode(), every) == [failed.id]
    by_automation = web.get(f"/runs/?automation={deals.id}").content.decode()
    assert ids_in(by_automation, every) == [deal.id]
    assert set(ids_in(web.get("/runs/?module=contacts").content.decode(), every)) == {
        ok.id,
        failed.id,
    }
    assert ids_in(web.get("/runs/?record=rec_bob00001").content.decode(), every) == [failed.id]


def test_the_runs_page_filters_by_days_in_the_browsers_timezone(web, tenant):
    automation = make_automation(tenant)
    today = make_run(automation)
    last_week = make_run(automation, ago=7 * 24 * 60)
    day = timezone.localdate(NOW).isoformat()

    html = web.get(f"/runs/?since={day}&until={day}&tz=UTC").content.decode()

    assert ids_in(html, [today, last_week]) == [today.id]


def test_the_runs_page_searches_by_record_name(web, tenant, settings):
    from tests.factories import make_record

    ann = make_record(tenant, "contacts", name="Ann Archer")
    bob = make_record(tenant, "contacts", name="Bob Baker")
    automation = make_automation(tenant)
    ann_run = make_run(automation, record_id=ann.id, name="Ann Archer")
    bob_run = make_run(automation, record_id=bob.id, name="Bob Baker")

    html = web.get("/runs/?q=archer").content.decode()

    assert ids_in(html, [ann_run, bob_run]) == [ann_run.id]
    assert "No runs match" in web.get("/runs/?q=nobody").content.decode()


def test_the_runs_page_pages_by_cursor_without_gaps_or_repeats(web, tenant):
    automation = make_automation(tenant)
    runs = [make_run(automation, ago=i) for i in range(60)]  # runs[0] is the newest
    seen: list[str] = []
    query = ""
    for _ in range(3):
        response = web.get(f"/runs/?{query}")
        html = response.content.decode()
        seen += ids_in(html, runs)
        older = response.context["older_query"]
        if not older:
            break
        query = older

    assert seen == [r.id for r in runs]


def test_the_newer_link_goes_back_to_the_page_before(web, tenant):
    automation = make_automation(tenant)
    runs = [make_run(automation, ago=i) for i in range(30)]
    second = web.get("/runs/?before=" + Cursor.of(runs[24]).encode())

    back = web.get("/runs/?" + second.context["newer_query"]).content.decode()

    assert ids_in(back, runs) == [r.id for r in runs[:25]]


def test_runs_with_the_same_created_at_are_neither_skipped_nor_repeated(web, tenant):
    automation = make_automation(tenant)
    runs = [make_run(automation) for _ in range(30)]  # all at NOW: the id breaks the tie
    first = web.get("/runs/")
    second = web.get("/runs/?" + first.context["older_query"])

    shown = ids_in(first.content.decode(), runs) + ids_in(second.content.decode(), runs)

    assert sorted(shown) == sorted(r.id for r in runs) and len(shown) == 30


def test_a_deep_page_costs_the_same_queries_as_the_first(web, tenant):
    automation = make_automation(tenant)
    runs = [make_run(automation, ago=i) for i in range(80)]
    web.get("/runs/")  # warm the session and the matching caches

    with CaptureQueriesContext(connection) as first:
        web.get("/runs/")
    with CaptureQueriesContext(connection) as deep:
        web.get("/runs/?before=" + Cursor.of(runs[70]).encode())

    assert len(deep) == len(first)
    assert not any("OFFSET" in q["sql"].upper() for q in deep.captured_queries)


def test_a_malformed_cursor_shows_the_newest_runs(web, tenant):
    run = make_run(make_automation(tenant))

    html = web.get("/runs/?before=not-a-cursor").content.decode()

    assert run.id in html


def test_the_nav_links_to_the_runs_page(web, tenant):
    html = web.get("/automations/").content.decode()

    assert 'href="/runs/"' in html


def test_the_status_endpoint_answers_the_workspaces_runs_only(web, tenant, other_tenant):
    pending = make_run(make_automation(tenant))
    done = make_run(make_automation(tenant), status=Run.Status.SUCCESS)
    theirs = make_run(make_automation(other_tenant))

    data = web.get(f"/runs/status?ids={pending.id},{done.id},{theirs.id}").json()

    assert data["runs"] == {
        pending.id: {"status": "pending", "label": "Pending", "tone": "busy", "final": False},
        done.id: {"status": "success", "label": "Success", "tone": "ok", "final": True},
    }


def test_the_runs_page_and_the_run_page_poll_while_a_run_is_unfinished(web, tenant):
    run = make_run(make_automation(tenant))

    for html in (web.get("/runs/").content.decode(), web.get(f"/runs/{run.id}/").content.decode()):
        assert "js/live_status.js" in html
        assert 'data-run-status-url="/runs/status"' in html
        assert f'data-run-id="{run.id}" data-status="pending"' in html


def test_an_automations_logs_name_the_record_and_the_event_in_words(web, tenant):
    automation = make_automation(tenant)
    make_run(automation, name="Ann Archer", record_id="rec_ann00001")

    html = web.get(f"/automations/{automation.id}/logs").content.decode()

    assert 'href="/records/contacts/rec_ann00001/">Ann Archer</a>' in html
    assert "Record created" in html
