"""The schedule dispatcher (a django-celery-beat task every SCHEDULE_TICK seconds).

One indexed query per tick finds the enabled schedule automations whose next_run_at has come
(auto_schedule_due: next_run_at where enabled and trigger_type = 'schedule'), so ten thousand
schedules that are not due cost that one query. Due ones are taken BATCH at a time, until none
is left (at most MAX_BATCHES per tick), so ten thousand due in the same minute all start
within seconds.

Each due automation is claimed with
    UPDATE automation SET next_run_at = <next> WHERE id = X AND next_run_at = <old>
in the same transaction as its run, so a due time runs once even with two dispatchers, and a
crash cannot claim a slot without writing its run. In a batch, automations that share both
times are claimed by one such UPDATE (id IN ...); if it claims fewer rows than asked, another
dispatcher got some of them, and the UPDATE is undone and repeated row by row to know which.
A batch's runs are written with one bulk_create and handed over 1,000 at once
(runs.dispatch_many).

Catch-up rule: when the dispatcher was down and next_run_at lies in the past, the automation
runs ONCE, for the most recent missed due time (not once per missed slot: a daily report
should not arrive five times after an outage), and next_run_at moves to the first due time
after now. The run's trigger_data.scheduled_for says which due time it is for. Times are cron
in the automation's timezone (automations.engine.schedule handles DST).
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from croniter import croniter
from django.db import transaction
from django.utils import timezone

from automations.definition.model import definition_of
from automations.engine.schedule import ALIASES, next_run_after, resolve_wall_time
from automations.engine.templates import format_datetime
from automations.models import Automation
from automations.runtime.runs import chain_for, run_build, runs_create_pending, trigger_data_for
from automations.trigger_types import SCHEDULE

logger = logging.getLogger(__name__)

SCHEDULE_TICK = 10  # seconds between dispatcher runs (setup_periodic_tasks)
BATCH = 1_000
MAX_BATCHES = 100  # up to 100,000 due automations per tick


def latest_due_time(
    expr: str, tz_name: str, *, earliest: dt.datetime, now: dt.datetime
) -> dt.datetime:
    """The most recent due time in [earliest, now] (earliest is itself a due time)."""
    following = next_run_after(expr, tz_name, earliest)
    if following > now:
        return earliest  # the usual case: nothing was missed
    # Several slots were missed: step back from now instead of walking every slot forward.
    tz = ZoneInfo(tz_name)
    wall_now = now.astimezone(tz).replace(tzinfo=None) + dt.timedelta(seconds=1)
    source = ALIASES.get(expr.strip().lower(), expr.strip())
    wall = croniter(source, wall_now).get_prev(dt.datetime)
    instant = resolve_wall_time(wall, tz)
    if earliest <= instant <= now:
        return instant
    return following


def dispatch_due(
    *, now: dt.datetime | None = None, limit: int = BATCH, max_batches: int = MAX_BATCHES
) -> int:
    """Start one run for each due schedule automation; returns how many started."""
    now = now or timezone.now()
    started = 0
    for _ in range(max_batches):
        due = list(
            Automation.objects.filter(
                enabled=True, trigger_type=SCHEDULE, next_run_at__lte=now
            ).order_by("next_run_at")[:limit]
        )
        if not due:
            break
        # Claimed or not, none of these is due any more (claimed here, moved on by another
        # dispatcher, or unscheduled), so the next query returns the next ones.
        started += _start_batch(due, now=now)
        if len(due) < limit:
            break
    return started


def _start(automation: Automation, *, now: dt.datetime) -> bool:
    return _start_batch([automation], now=now) == 1


def _start_batch(automations: list[Automation], *, now: dt.datetime) -> int:
    """Claim the due time of each automation and write its run; returns how many started."""
    times: dict[tuple, tuple[dt.datetime, dt.datetime]] = {}  # most share a cron expression
    groups: dict[tuple[dt.datetime, dt.datetime], list[tuple[Automation, dt.datetime]]] = {}
    for automation in automations:
        old = automation.next_run_at
        if old is None:
            continue  # unscheduled since it was read: nothing of it is due
        expr = definition_of(automation).trigger.schedule or ""
        key = (expr, automation.timezone, old)
        try:
            if key not in times:
                times[key] = (
                    next_run_after(expr, automation.timezone, now),
                    latest_due_time(expr, automation.timezone, earliest=old, now=now),
                )
        except ValueError:
            logger.exception(
                "Automation %s has an unusable schedule; unscheduling it", automation.id
            )
            Automation.objects.filter(id=automation.id, next_run_at=old).update(next_run_at=None)
            continue
        following, slot = times[key]
        groups.setdefault((old, following), []).append((automation, slot))
    runs = []
    with transaction.atomic():
        for (old, following), members in groups.items():
            claimed = _claim([a for a, _ in members], old=old, following=following)
            for automation, slot in members:
                if automation.id not in claimed:
                    continue  # another dispatcher took this due time, or it was disabled
                chain, _, _ = chain_for(cause=None, automation_id=automation.id, record_id=None)
                runs.append(
                    run_build(
                        automation=automation,
                        trigger_data=trigger_data_for(
                            event=SCHEDULE, scheduled_for=format_datetime(slot)
                        ),
                        chain=chain,
                    )
                )
        runs_create_pending(runs)
    return len(runs)


class _PartialClaim(Exception):
    pass


def _claim(automations: list[Automation], *, old: dt.datetime, following: dt.datetime) -> set:
    """Ids of the automations whose due time `old` this dispatcher claimed."""
    ids = [a.id for a in automations]
    due_at_old = Automation.objects.filter(enabled=True, next_run_at=old)
    if len(ids) > 1:
        try:
            with transaction.atomic():
                if due_at_old.filter(id__in=ids).update(next_run_at=following) == len(ids):
                    return set(ids)
                raise _PartialClaim  # undo, then find out row by row which ones are ours
        except _PartialClaim:
            pass
    return {i for i in ids if due_at_old.filter(id=i).update(next_run_at=following)}
