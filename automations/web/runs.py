"""The workspace-wide Runs page (every run of every automation, filtered, keyset-paged) and
the small JSON endpoint that pages poll for live run statuses (static/js/live_status.js)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.dateparse import parse_date

from automations.models import Automation, Run
from automations.run_queries import Cursor, RunFilters, run_statuses, runs_page
from automations.web.layout import WorkspaceRequest, workspace_view
from automations.web.statuses import STATUS_TONES
from records.selectors import modules_for

PER_PAGE = 25
# How often pages ask for the statuses of their unfinished runs (live_status.js reads it).
POLL_MILLISECONDS = 2000
FINAL = {str(s) for s in Run.FINAL_STATUSES}
# The words a person reads for a run's event; the raw name stays in the run's details.
EVENT_LABELS = {
    "record.created": "Record created",
    "record.updated": "Record updated",
    "record.deleted": "Record deleted",
    "field.changed": "Field changed",
    "schedule": "Schedule",
    "webhook": "Webhook call",
    "manual": "Started by hand",
}


def event_label(event: str | None) -> str:
    if not event:
        return "—"
    return EVENT_LABELS.get(event, event)


def record_name(run: Run) -> str:
    """The trigger record's name as the run saw it (its snapshot), else its id."""
    snapshot = (run.trigger_data or {}).get("record")
    if isinstance(snapshot, dict):
        name = snapshot.get("name")
        if isinstance(name, str) and name.strip():
            return name
    return run.record_id


def _zone(name: str) -> ZoneInfo:
    """The browser's timezone, sent by the filter form, so that day boundaries are the user's."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _day_start(text: str, zone: ZoneInfo, *, plus_days: int = 0) -> datetime | None:
    day = parse_date(text) if text else None
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=plus_days), time.min, tzinfo=zone)


def _filters(request: WorkspaceRequest) -> tuple[RunFilters, dict[str, str]]:
    """The filters of the query string, and the raw values to put back into the form."""
    raw = {
        key: request.GET.get(key, "").strip()
        for key in ("status", "automation", "module", "record", "since", "until", "q", "tz")
    }
    zone = _zone(raw["tz"])
    filters = RunFilters(
        status=raw["status"] if raw["status"] in Run.Status.values else "",
        automation_id=raw["automation"],
        module=raw["module"],
        record_id=raw["record"],
        since=_day_start(raw["since"], zone),
        # The "until" day is included: runs before the next day's start.
        until=_day_start(raw["until"], zone, plus_days=1),
        search=raw["q"],
    )
    return filters, raw


def _query(raw: dict[str, str], **cursor: str) -> str:
    return urlencode({**{k: v for k, v in raw.items() if v}, **cursor})


@workspace_view
def run_list(request: WorkspaceRequest) -> HttpResponse:
    filters, raw = _filters(request)
    page = runs_page(
        request.workspace,
        filters,
        per_page=PER_PAGE,
        before=Cursor.decode(request.GET.get("before")),
        after=Cursor.decode(request.GET.get("after")),
    )
    automations = list(
        Automation.objects.filter(workspace=request.workspace).order_by("name").only("id", "name")
    )
    rows = [
        {
            "run": run,
            "record_name": record_name(run),
            "event": event_label(run.trigger_data.get("event")),
        }
        for run in page.runs
    ]
    context: dict[str, Any] = {
        "nav": "runs",
        "rows": rows,
        "raw": raw,
        "statuses": Run.Status.choices,
        "automations": automations,
        "modules": list(modules_for(request.workspace)),
        "filtered": any(v for k, v in raw.items() if k != "tz"),
        "older_query": _query(raw, before=page.older.encode()) if page.older else "",
        "newer_query": _query(raw, after=page.newer.encode()) if page.newer else "",
        "first_query": _query(raw),
        "poll_ms": POLL_MILLISECONDS,
    }
    return render(request, "web/runs/list.html", context)


@workspace_view
def run_status(request: WorkspaceRequest) -> JsonResponse:
    """GET ?ids=log_a,log_b: {"runs": {id: {"status", "label", "tone", "final"}}} of this
    workspace's runs among the ids (unknown ids are left out)."""
    ids = [i for i in request.GET.get("ids", "").split(",") if i]
    labels = dict(Run.Status.choices)
    statuses = run_statuses(request.workspace, ids)
    return JsonResponse(
        {
            "runs": {
                run_id: {
                    "status": status,
                    "label": str(labels.get(status, status)),
                    "tone": STATUS_TONES.get(status, "muted"),
                    "final": status in FINAL,
                }
                for run_id, status in statuses.items()
            }
        }
    )
