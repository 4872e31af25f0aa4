"""Writing runs (the transactional outbox) and handing them to Celery after commit."""

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from automations.models import Automation, Run

logger = logging.getLogger(__name__)


def dispatch(run_id: str) -> None:
    """Publish a run to the broker. A failure here loses nothing: the relay republishes it."""
    from automations.tasks import execute_run

    try:
        execute_run.apply_async(args=[run_id], retry=False)
    except Exception:
        logger.warning("Could not publish run %s; the relay will", run_id, exc_info=True)


def run_create(
    *,
    automation: Automation,
    trigger_data: dict[str, Any],
    chain: dict[str, Any] | None = None,
    conditions_evaluated: list | None = None,
    triggered_by=None,
    status: str = Run.Status.PENDING,
) -> Run:
    """Write a run in the caller's transaction; hand it to Celery only once that commits."""
    run = Run.objects.create(
        automation=automation,
        workspace_id=automation.workspace_id,
        version=automation.version,
        status=status,
        trigger_data=trigger_data,
        conditions_evaluated=conditions_evaluated or [],
        chain=chain or {},
        triggered_by=triggered_by if getattr(triggered_by, "is_authenticated", False) else None,
        record_id=trigger_data.get("record_id") or "",
        due_at=timezone.now(),
    )
    if status == Run.Status.PENDING:
        transaction.on_commit(lambda: dispatch(run.id))
    return run
