"""The django-celery-beat rows the engine needs; created idempotently by
`manage.py setup_periodic_tasks` and after every migrate (so a fresh install has them)."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connections

from automations.runtime.schedules import SCHEDULE_TICK

RELAY = "automations: relay"
SCHEDULES = "automations: schedule dispatcher"
PURGE = "automations: purge old logs"


def _tables_exist(using: str) -> bool:
    tables = set(connections[using].introspection.table_names())
    return {"django_celery_beat_periodictask", "django_celery_beat_intervalschedule"} <= tables


def setup_periodic_tasks(*, using: str = "default") -> list[str]:
    """Create or correct the engine's periodic tasks; returns their names."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    if not _tables_exist(using):
        return []
    relay_every = max(1, round(settings.AUTOMATIONS_RELAY_INTERVAL))
    relay_interval, _ = IntervalSchedule.objects.using(using).get_or_create(
        every=relay_every, period=IntervalSchedule.SECONDS
    )
    schedule_interval, _ = IntervalSchedule.objects.using(using).get_or_create(
        every=SCHEDULE_TICK, period=IntervalSchedule.SECONDS
    )
    daily, _ = CrontabSchedule.objects.using(using).get_or_create(
        minute="17",
        hour="3",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    specs = [
        # A tick that could not start in time is dropped (expires): the next one does its work.
        (RELAY, "automations.relay", {"interval": relay_interval, "crontab": None}, relay_every),
        (
            SCHEDULES,
            "automations.dispatch_schedules",
            {"interval": schedule_interval, "crontab": None},
            SCHEDULE_TICK,
        ),
        (PURGE, "automations.purge_logs", {"interval": None, "crontab": daily}, 3600),
    ]
    for name, task, schedule, expires in specs:
        PeriodicTask.objects.using(using).update_or_create(
            name=name,
            defaults={
                "task": task,
                **schedule,
                "enabled": True,
                "args": json.dumps([]),
                "kwargs": json.dumps({}),
                "expire_seconds": expires,
            },
        )
    return [name for name, *_ in specs]
