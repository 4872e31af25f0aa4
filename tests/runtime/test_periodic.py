"""The beat rows the engine needs exist after migrate and are created idempotently."""

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

pytestmark = pytest.mark.django_db

TASKS = {"automations.relay", "automations.dispatch_schedules", "automations.purge_logs"}


def test_migrate_leaves_the_periodic_tasks_in_place():
    assert TASKS <= set(PeriodicTask.objects.values_list("task", flat=True))


def test_setup_periodic_tasks_is_idempotent(settings):
    settings.AUTOMATIONS_RELAY_INTERVAL = 3
    call_command("setup_periodic_tasks")
    call_command("setup_periodic_tasks")
    rows = PeriodicTask.objects.filter(task__in=TASKS)
    assert rows.count() == 3
    relay = rows.get(task="automations.relay")
    assert (relay.interval.every, relay.interval.period) == (3, "seconds")
    assert rows.get(task="automations.dispatch_schedules").interval.every == 10
    assert rows.get(task="automations.purge_logs").crontab is not None
