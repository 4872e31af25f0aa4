"""A finished run's bookkeeping on its automation, and the circuit breaker.

Everything is a single conditional UPDATE with F() expressions (never read-modify-write), so
runs finishing at once on several workers count correctly.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from automations.definition.model import definition_of
from automations.models import Automation, Run


def disable_after(automation: Automation) -> int:
    """How many consecutive failed runs trip the breaker (the definition's default when its
    error_handling does not say, or says something unusable)."""
    return definition_of(automation).error_handling.disable_after_failures


def record_outcome(*, run: Run, automation: Automation, status: str, error_code: str = "") -> bool:
    """Count the finished run on its automation; returns True when this run tripped the breaker.

    success resets consecutive_failures; failed adds one and, at disable_after_failures,
    disables the automation with disabled_reason. blocked counts as a run but is neither.
    A run finished again after a manual retry is not counted twice in run_count.
    """
    now = timezone.now()
    updates: dict[str, Any] = {"last_run_at": now, "last_run_status": status}
    if not (run.context or {}).get("retried"):
        updates["run_count"] = F("run_count") + 1
    if status == Run.Status.SUCCESS:
        updates["consecutive_failures"] = 0
    elif status == Run.Status.FAILED:
        updates["consecutive_failures"] = F("consecutive_failures") + 1
    Automation.objects.filter(id=automation.id).update(**updates)
    if status != Run.Status.FAILED:
        return False
    limit = disable_after(automation)
    tripped = Automation.objects.filter(
        id=automation.id, enabled=True, consecutive_failures__gte=limit
    ).update(
        enabled=False,
        next_run_at=None,
        disabled_reason={
            "code": "automation_disabled",
            "message": f"Automation disabled after {limit} consecutive failures",
            "last_error": error_code or "unknown_error",
        },
    )
    if tripped:
        from automations.runtime.matching import invalidate

        workspace_id = automation.workspace_id
        transaction.on_commit(lambda: invalidate(workspace_id))
    return bool(tripped)
