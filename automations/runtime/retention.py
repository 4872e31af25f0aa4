"""Log retention: finished runs older than AUTOMATIONS_LOG_RETENTION_DAYS are deleted (with
their action runs), in batches so one purge never holds a long lock.

The purge shares the database with live traffic, so it is kept cheap and polite:
- on PostgreSQL it walks the runs table in physical order, a few pages per batch (a TID range
  scan), and deletes the old finished runs it finds there, so each page is modified once per
  purge. Old runs taken automation by automation are scattered over the whole table (the runs
  of many automations interleave as they are written): nearly every deleted row would dirty a
  page of its own, and the first change to a page after a checkpoint writes the whole page to
  the WAL. The cost is reading the whole table once per purge, in small range scans;
- elsewhere (SQLite) old runs are found automation by automation through
  run_automation_created (automation, created_at), an index range scan, where a filter on
  created_at alone would read the whole table for every batch;
- a batch is deleted without loading its runs' data (only their ids);
- batches are small and after each one it pauses PAUSE times as long as the batch took, so
  that it takes at most about a tenth of one CPU (its own and the database's work) and writes
  its WAL in small bursts, however many logs there are to delete.

The measurements behind these choices are in bench/README.md ("Notes from
measurements": log retention).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from time import monotonic, sleep

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from automations.models import Automation, InboundDelivery, Run

BATCH = 500
# Pages of the runs table per batch on PostgreSQL: about BATCH runs at the 16 or so a page holds.
PAGES = 32
PAUSE = 9.0
# Replays are refused for 5 minutes by the signature's timestamp; ids are kept much longer.
DELIVERY_RETENTION = timedelta(days=7)


def purge(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.AUTOMATIONS_LOG_RETENTION_DAYS)
    old = Run.objects.filter(created_at__lt=cutoff, status__in=Run.FINAL_STATUSES)
    if connection.vendor == "postgresql":
        runs = _purge_page_by_page(old)
    else:
        runs = _purge_automation_by_automation(old)
    deliveries, _ = InboundDelivery.objects.filter(
        received_at__lt=now - DELIVERY_RETENTION
    ).delete()
    return {"runs": runs, "deliveries": deliveries}


def _purge_page_by_page(old: QuerySet[Run]) -> int:
    """Old runs in pages [0, PAGES), then [PAGES, 2 * PAGES), ... up to the table's size when
    the purge started (pages added since hold runs written since: none is old)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_relation_size(%s) / current_setting('block_size')::int",
            [Run._meta.db_table],
        )
        (pages,) = cursor.fetchone()
    runs = 0
    for first in range(0, pages, PAGES):
        in_pages = RawSQL(
            "ctid >= %s::tid AND ctid < %s::tid",
            (f"({first},0)", f"({first + PAGES},0)"),
            output_field=BooleanField(),
        )
        runs += _delete_all(old.filter(in_pages))
    return runs


def _purge_automation_by_automation(old: QuerySet[Run]) -> int:
    automation_ids = list(Automation.objects.values_list("id", flat=True))
    return sum(_delete_all(old.filter(automation_id=pk)) for pk in automation_ids)


def _delete_all(runs: QuerySet[Run]) -> int:
    """Delete these runs (their action runs go with them) BATCH at a time, pausing after each
    batch; returns how many were deleted."""
    deleted = 0
    while True:
        started = monotonic()
        ids = list(runs.values_list("id", flat=True)[:BATCH])
        if ids:
            Run.objects.filter(id__in=ids).only("id").delete()
            deleted += len(ids)
        sleep((monotonic() - started) * PAUSE)
        if len(ids) < BATCH:
            return deleted
