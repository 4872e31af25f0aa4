"""The variables templates see, built from a run's trigger_data (the event snapshot).

trigger_data, as stored on a Run:
  {"event": "record.created" | ... | "schedule" | "webhook" | "manual",
   "record_id": "rec_..." | None, "module": "contacts" | None,
   "record": {...flat record...} | None, "previous": {...} | None,
   "changed_fields": [...], "user": {"id", "email"} | None,
   "webhook": {"method", "body", "headers", "query"} | None,
   "scheduled_for": "2024-01-15T09:00:00Z" | None}
"""

from datetime import datetime
from typing import Any


def template_context(
    *, automation_id: str, trigger_data: dict[str, Any], now: datetime, run_id: str | None = None
) -> dict[str, Any]:
    return {
        "record": trigger_data.get("record") or {},
        "previous": trigger_data.get("previous") or {},
        "user": trigger_data.get("user") or {},
        "webhook": trigger_data.get("webhook") or {},
        "now": now,
        "trigger": {
            "event": trigger_data.get("event"),
            "automation_id": automation_id,
            "run_id": run_id,
            "scheduled_for": trigger_data.get("scheduled_for"),
            "changed_fields": trigger_data.get("changed_fields") or [],
        },
    }


def user_snapshot(user) -> dict[str, Any] | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return {"id": user.id, "email": user.email}
