"""The API's JSON for automations and runs (the seed's "logs"). Plain functions over loaded
rows: they never query, so list endpoints cost the same number of queries for any page size.

A single run (run_data) must come with prefetch_related("action_runs"), as selectors.runs_for
does. A page of runs (runs_data) is read as plain rows instead: the RUN_FIELDS of the runs
(selectors.run_rows_for) and the ACTION_RUN_FIELDS of all their action runs in one query
(selectors.action_run_rows), grouped here; building model instances and Django's per-instance
prefetch machinery cost more than the rest of the request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from automations.definition.model import DEFINITION_PARTS, Trigger
from automations.engine.schedule import describe_cron, next_runs
from automations.models import ActionRun, Automation, Run
from automations.redaction import redacted_trigger_data
from automations.trigger_types import SCHEDULE, WEBHOOK
from primitives.timestamps import iso

NEXT_RUNS_PREVIEW = 5


def webhook_url(automation: Automation) -> str:
    return _webhook_url(automation.id, automation.webhook_path)


def _webhook_url(automation_id: str, webhook_path: str | None) -> str:
    return f"{settings.PUBLIC_BASE_URL}/v1/webhooks/{automation_id}/{webhook_path}"


def schedule_preview(automation: Automation, *, now: datetime | None = None) -> list[str]:
    """The next runs of a schedule trigger in its timezone, whether or not it is enabled."""
    return _schedule_preview(automation.trigger, automation.timezone, now)


def _schedule_preview(trigger: Any, tz_name: str, now: datetime | None) -> list[str]:
    schedule = Trigger.from_json(trigger).schedule
    if not schedule:
        return []
    try:
        runs = next_runs(schedule, tz_name, now or timezone.now(), NEXT_RUNS_PREVIEW)
    except ValueError:
        return []  # a definition saved before validation existed; never a 500 on read
    return [iso(run) for run in runs]


# The columns automation_data reads; the list endpoint fetches only these, as rows.
AUTOMATION_FIELDS = (
    "id",
    "name",
    "description",
    "enabled",
    *DEFINITION_PARTS,
    "timezone",
    "version",
    "created_at",
    "updated_at",
    "last_run_at",
    "last_run_status",
    "run_count",
    "consecutive_failures",
    "disabled_reason",
    "trigger_type",
    "next_run_at",
    "webhook_path",
    "webhook_secret",
)


def automation_data(automation: Automation, *, now: datetime | None = None) -> dict[str, Any]:
    return automation_row_data({f: getattr(automation, f) for f in AUTOMATION_FIELDS}, now=now)


def automation_row_data(row: Mapping[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """automation_data of a row (a dict of AUTOMATION_FIELDS, e.g. from values())."""
    data: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "enabled": row["enabled"],
        "trigger": row["trigger"],
        "conditions": row["conditions"],
        "actions": row["actions"],
        "error_handling": row["error_handling"],
        "timezone": row["timezone"],
        "version": row["version"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "last_run_at": iso(row["last_run_at"]),
        "last_run_status": row["last_run_status"] or None,
        "run_count": row["run_count"],
        "consecutive_failures": row["consecutive_failures"],
        "disabled_reason": row["disabled_reason"] or None,
    }
    if row["trigger_type"] == SCHEDULE:
        data["next_run_at"] = iso(row["next_run_at"])
        data["next_runs"] = _schedule_preview(row["trigger"], row["timezone"], now)
        data["schedule_description"] = describe_cron(
            Trigger.from_json(row["trigger"]).schedule or ""
        )
    if row["trigger_type"] == WEBHOOK:
        data["webhook_url"] = _webhook_url(row["id"], row["webhook_path"])
        data["webhook_secret_set"] = bool(row["webhook_secret"])
    return data


# The columns the log representation reads; list endpoints fetch only these.
RUN_FIELDS = (
    "id",
    "automation_id",
    "status",
    "trigger_data",
    "conditions_evaluated",
    "error_code",
    "error_message",
    "version",
    "attempts",
    "due_at",
    "created_at",
    "started_at",
    "completed_at",
    "duration_ms",
)
ACTION_RUN_FIELDS = (
    "run_id",
    "index",
    "type",
    "status",
    "duration_ms",
    "attempt",
    "error_code",
    "error_message",
)


def _action_row_data(row: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "index": row["index"],
        "type": row["type"],
        "status": row["status"],
        "duration_ms": row["duration_ms"],
        "attempt": row["attempt"],
    }
    if row["error_message"] or row["error_code"]:
        data["error"] = row["error_message"] or row["error_code"]
        data["error_code"] = row["error_code"] or None
    return data


def action_run_data(action_run: ActionRun) -> dict[str, Any]:
    return _action_row_data({f: getattr(action_run, f) for f in ACTION_RUN_FIELDS})


def _run_row_data(row: Mapping[str, Any], actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "automation_id": row["automation_id"],
        "status": row["status"],
        "trigger_data": redacted_trigger_data(row["trigger_data"]),
        "conditions_evaluated": row["conditions_evaluated"],
        "actions_executed": actions,
        "error_code": row["error_code"] or None,
        "error_message": row["error_message"] or None,
        "version": row["version"],
        "attempts": row["attempts"],
        "resumes_at": iso(row["due_at"]) if row["status"] in Run.ACTIVE_STATUSES else None,
        "created_at": iso(row["created_at"]),
        "started_at": iso(row["started_at"]),
        "completed_at": iso(row["completed_at"]),
        "duration_ms": row["duration_ms"],
    }


def run_data(run: Run) -> dict[str, Any]:
    """One run, loaded with prefetch_related("action_runs")."""
    return _run_row_data(
        {f: getattr(run, f) for f in RUN_FIELDS},
        [action_run_data(a) for a in run.action_runs.all()],
    )


def runs_data(
    rows: Iterable[Mapping[str, Any]], action_rows: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """A page of runs read as rows of RUN_FIELDS, with the rows (ACTION_RUN_FIELDS) of all
    their action runs in index order; the same JSON as run_data gives for each run."""
    actions: dict[str, list[dict[str, Any]]] = {}
    for action in action_rows:
        actions.setdefault(action["run_id"], []).append(_action_row_data(action))
    return [_run_row_data(row, actions.get(row["id"], [])) for row in rows]
