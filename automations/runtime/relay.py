"""The relay (a django-celery-beat task every AUTOMATIONS_RELAY_INTERVAL seconds).

1. Reclaims runs whose worker died: status running with an expired lease go back to pending
   (attempts + 1) and resume at next_action_index; a run whose worker died more often than
   there are retries fails with `worker_lost` instead of looping forever (and so does the log
   of the action its last lost try left running).
2. Publishes every runnable run that is due and not handed over: pending runs whose on-commit
   publish failed (broker down, process died after commit), and waiting/retrying runs whose
   delay or retry is due. A run handed over but still unclaimed AUTOMATIONS_REDISPATCH_AFTER
   seconds later (a message lost with a broker restart) is published again; duplicates are
   harmless because a worker must win the claim to run it. Runs of record triggers and inbound
   webhooks are written already marked as handed over (runs.publish_marked): one whose process
   died between its commit and its publish is published this way, once its mark is that old.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from automations.models import ActionRun, Run
from automations.runtime import handover
from automations.runtime.outcome import finish, max_retries

logger = logging.getLogger(__name__)

BATCH = 500


def relay(*, now: datetime | None = None, limit: int = BATCH) -> dict[str, int]:
    now = now or timezone.now()
    reclaimed = reclaim_expired(now=now, limit=limit)
    published = publish_due(now=now, limit=limit)
    if reclaimed or published:
        logger.info("relay: reclaimed %s, published %s", reclaimed, published)
    return {"reclaimed": reclaimed, "published": published}


def reclaim_expired(*, now: datetime, limit: int = BATCH) -> int:
    # run_running_lease: running runs by lease expiry.
    expired = list(
        Run.objects.filter(status=Run.Status.RUNNING, lease_expires_at__lt=now)
        .order_by("lease_expires_at")
        .values_list("id", "lease_expires_at", "attempts")[:limit]
    )
    max_tries = max_retries()
    count = 0
    for run_id, lease, attempts in expired:
        expect = {"status": Run.Status.RUNNING, "lease_expires_at": lease}
        if attempts >= max_tries:
            with transaction.atomic():
                run = Run.objects.select_related("automation").filter(id=run_id).first()
                message = f"The worker running this run stopped {attempts + 1} times; giving up"
                if run is not None and finish(
                    run,
                    run.automation,
                    status=Run.Status.FAILED,
                    error_code="worker_lost",
                    error_message=message,
                    expect=expect,
                    attempts=attempts + 1,  # the lost try counts (runtime.outcome: attempts)
                ):
                    # An external action logs "running" before it acts: the try lost there ends
                    # with the run, not left running for good.
                    ActionRun.objects.filter(run_id=run_id, status=ActionRun.Status.RUNNING).update(
                        status=ActionRun.Status.FAILED,
                        error_code="worker_lost",
                        error_message=message,
                        completed_at=now,
                    )
                    count += 1
            continue
        count += Run.objects.filter(id=run_id, **expect).update(
            status=Run.Status.PENDING,
            due_at=now,
            lease_expires_at=None,
            dispatched_at=None,
            attempts=F("attempts") + 1,
        )
    return count


def publish_due(*, now: datetime, limit: int = BATCH) -> int:
    stale = now - timedelta(seconds=settings.AUTOMATIONS_REDISPATCH_AFTER)
    # run_relay_due: runnable runs by due time.
    due = list(
        Run.objects.filter(status__in=Run.ACTIVE_STATUSES, due_at__lte=now)
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale))
        .order_by("due_at")
        .values_list("id", flat=True)[:limit]
    )
    if not due:
        return 0
    # Mark first, so a worker that claims and releases a run meanwhile keeps its own marks.
    Run.objects.filter(id__in=due, status__in=Run.ACTIVE_STATUSES).update(dispatched_at=now)
    # One hand-over for the lot, as for a bulk change: one push to the ready list with Redis
    # (drains spread the runs over the pool processes), one message on the embedded broker.
    if not handover.publish(due, force=True):
        # The broker is down: unmark them so the next tick tries them again.
        Run.objects.filter(id__in=due, dispatched_at=now).update(dispatched_at=None)
        return 0
    return len(due)
