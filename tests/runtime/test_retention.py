"""Log retention."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from automations.models import Run
from automations.runtime.retention import purge
from tests.factories import make_record
from tests.runtime.support import drain, make_automation

pytestmark = pytest.mark.django_db


def test_finished_runs_older_than_the_retention_are_deleted(tenant, settings):
    settings.AUTOMATIONS_LOG_RETENTION_DAYS = 30
    make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[{"type": "delay", "config": {"duration": 7, "unit": "days"}}],
    )
    long_ago = timezone.now() - timedelta(days=31)
    with time_machine.travel(long_ago):
        make_record(tenant, "contacts", name="old, finished")
        make_record(tenant, "contacts", name="old, still waiting")
    Run.objects.filter(trigger_data__record__name="old, finished").update(status="success")
    make_record(tenant, "contacts", name="recent")
    drain()
    assert purge()["runs"] == 1
    assert sorted(Run.objects.values_list("trigger_data__record__name", flat=True)) == [
        "old, still waiting",
        "recent",
    ]
