"""The schedule dispatcher (a django-celery-beat task every SCHEDULE_TICK seconds).

One indexed query per tick finds the enabled schedule automations whose next_run_at has come
(auto_schedule_due: next_run_at where enabled and trigger_type = 'schedule'), so ten thousand
schedules that are not due cost that one query.

Each due automation is claimed with
    UPDATE automation SET next_run_at = <next> WHERE id = X AND next_run_at = <old>
in the same transaction as its run, so a due time runs once even with two dispatchers, and a
crash cannot claim a slot without writing its run.

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

from automations.engine.schedule import ALIASES, next_run_after, resolve_wall_time
from automations.engine.templates import format_datetime
from automations.models import Automation
from automations.runtime.runs import chain_for, run_create, trigger_data_for
from automations.trigger_types import SCHEDULE

logger = logging.getLogger(__name__)

SCHEDULE_TICK = 10  # seconds between dispatcher runs (setup_periodic_tasks)
BATCH = 1_000


def next_run_at_for(
    automation: Automation, *, after: dt.datetime | None = None
) -> dt.datetime | None:
    """The first due time after `after` (default now) of an enabled schedule automation."""
    if not automation.enabled or automation.trigger_type != SCHEDULE:
        return None
    return next_run_after(
        automation.trigger.get("schedule", ""), automation.timezone, after or timezone.now()
    )


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


def dispatch_due(*, now: dt.datetime | None = None, limit: int = BATCH) -> int:
    """Start one run for each due schedule automation; returns how many started."""
    now = now or timezone.now()
    due = list(
        Automation.objects.filter(
            enabled=True, trigger_type=SCHEDULE, next_run_at__lte=now
        ).order_by("next_run_at")[:limit]
    )
    started = 0
    for automation in due:
        if _start(automation, now=now):
            started += 1
    return started


def _start(automation: Automation, *, now: dt.datetime) -> bool:
    old = automation.next_run_at
    expr = (automation.trigger or {}).get("schedule", "")
    try:
        following = next_run_after(expr, automation.timezone, now)
        slot = latest_due_time(expr, automation.timezone, earliest=old, now=now)
    except ValueError:
        logger.exception("Automation %s has an unusable schedule; unscheduling it", automation.id)
        Automation.objects.filter(id=automation.id, next_run_at=old).update(next_run_at=None)
        return False
    with transaction.atomic():
        claimed = Automation.objects.filter(id=automation.id, enabled=True, next_run_at=old).update(
            next_run_at=following
        )
        if not claimed:
            return False  # another dispatcher took this due time, or it was disabled
        chain, _, _ = chain_for(cause=None, automation_id=automation.id, record_id=None)
        run_create(
            automation=automation,
            trigger_data=trigger_data_for(event=SCHEDULE, scheduled_for=format_datetime(slot)),
            chain=chain,
        )
    return True
