"""Log retention: finished runs older than AUTOMATIONS_LOG_RETENTION_DAYS are deleted (with
their action runs), in batches so one purge never holds a long lock."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from automations.models import InboundDelivery, Run

BATCH = 1_000
# Replays are refused for 5 minutes by the signature's timestamp; ids are kept much longer.
DELIVERY_RETENTION = timedelta(days=7)


def purge(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.AUTOMATIONS_LOG_RETENTION_DAYS)
    runs = 0
    while True:
        ids = list(
            Run.objects.filter(status__in=Run.FINAL_STATUSES, created_at__lt=cutoff).values_list(
                "id", flat=True
            )[:BATCH]
        )
        if not ids:
            break
        Run.objects.filter(id__in=ids).delete()
        runs += len(ids)
    deliveries, _ = InboundDelivery.objects.filter(
        received_at__lt=now - DELIVERY_RETENTION
    ).delete()
    return {"runs": runs, "deliveries": deliveries}
