"""The API's JSON for automations and runs (the seed's "logs"). Plain functions over loaded
rows: they never query, so list endpoints cost the same number of queries for any page size
(runs must come with prefetch_related("action_runs"), as selectors.runs_for does)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from automations.engine.schedule import describe_cron, next_runs
from automations.models import ActionRun, Automation, Run
from automations.trigger_types import SCHEDULE, WEBHOOK

NEXT_RUNS_PREVIEW = 5
_SENSITIVE_HEADER_PARTS = (
    "authorization",
    "cookie",
    "token",
    "secret",
    "signature",
    "api-key",
    "apikey",
    "password",
)
_REDACTED = "[redacted]"


def iso(value: datetime | None) -> str | None:
    """The seed's timestamp format: UTC, seconds, Z."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def webhook_url(automation: Automation) -> str:
    return f"{settings.PUBLIC_BASE_URL}/v1/webhooks/{automation.id}/{automation.webhook_path}"


def schedule_preview(automation: Automation, *, now: datetime | None = None) -> list[str]:
    """The next runs of a schedule trigger in its timezone, whether or not it is enabled."""
    schedule = (automation.trigger or {}).get("schedule")
    if not schedule:
        return []
    try:
        runs = next_runs(schedule, automation.timezone, now or timezone.now(), NEXT_RUNS_PREVIEW)
    except ValueError:
        return []  # a definition saved before validation existed; never a 500 on read
    return [iso(run) for run in runs]


def automation_data(automation: Automation, *, now: datetime | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": automation.id,
        "name": automation.name,
        "description": automation.description,
        "enabled": automation.enabled,
        "trigger": automation.trigger,
        "conditions": automation.conditions,
        "actions": automation.actions,
        "error_handling": automation.error_handling,
        "timezone": automation.timezone,
        "version": automation.version,
        "created_at": iso(automation.created_at),
        "updated_at": iso(automation.updated_at),
        "last_run_at": iso(automation.last_run_at),
        "last_run_status": automation.last_run_status or None,
        "run_count": automation.run_count,
        "consecutive_failures": automation.consecutive_failures,
        "disabled_reason": automation.disabled_reason or None,
    }
    if automation.trigger_type == SCHEDULE:
        data["next_run_at"] = iso(automation.next_run_at)
        data["next_runs"] = schedule_preview(automation, now=now)
        data["schedule_description"] = describe_cron(automation.trigger.get("schedule", ""))
    if automation.trigger_type == WEBHOOK:
        data["webhook_url"] = webhook_url(automation)
        data["webhook_secret_set"] = bool(automation.webhook_secret)
    return data


def action_run_data(action_run: ActionRun) -> dict[str, Any]:
    data: dict[str, Any] = {
        "index": action_run.index,
        "type": action_run.type,
        "status": action_run.status,
        "duration_ms": action_run.duration_ms,
        "attempt": action_run.attempt,
    }
    if action_run.error_message or action_run.error_code:
        data["error"] = action_run.error_message or action_run.error_code
        data["error_code"] = action_run.error_code or None
    return data


def _redacted_trigger_data(trigger_data: dict[str, Any]) -> dict[str, Any]:
    """The event snapshot as stored, with secrets in inbound webhook headers masked."""
    data = {"record_id": None, "event": None, **(trigger_data or {})}
    webhook = data.get("webhook")
    if isinstance(webhook, dict) and isinstance(webhook.get("headers"), dict):
        headers = {
            name: _REDACTED
            if any(part in name.lower() for part in _SENSITIVE_HEADER_PARTS)
            else value
            for name, value in webhook["headers"].items()
        }
        data["webhook"] = {**webhook, "headers": headers}
    return data


def run_data(run: Run) -> dict[str, Any]:
    waiting = run.status in (Run.Status.WAITING, Run.Status.RETRYING, Run.Status.PENDING)
    return {
        "id": run.id,
        "automation_id": run.automation_id,
        "status": run.status,
        "trigger_data": _redacted_trigger_data(run.trigger_data),
        "conditions_evaluated": run.conditions_evaluated,
        "actions_executed": [action_run_data(a) for a in run.action_runs.all()],
        "error_code": run.error_code or None,
        "error_message": run.error_message or None,
        "version": run.version,
        "attempts": run.attempts,
        "resumes_at": iso(run.due_at) if waiting else None,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "completed_at": iso(run.completed_at),
        "duration_ms": run.duration_ms,
    }
