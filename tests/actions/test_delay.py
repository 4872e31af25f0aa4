"""delay: every unit parks the run for the right time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("duration", "unit", "seconds"),
    [
        (30, "seconds", 30),
        (5, "minutes", 300),
        (2, "hours", 7200),
        (7, "days", 604800),
    ],
)
def test_delay_units(tenant, duration, unit, seconds):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[{"type": "delay", "config": {"duration": duration, "unit": unit}}],
    )
    before = timezone.now()
    make_record(tenant, "contacts", name="Ada")
    drain()
    [run] = runs_of(automation)
    assert run.status == "waiting"
    assert timedelta(seconds=seconds) <= run.due_at - before < timedelta(seconds=seconds + 5)
    assert run.action_runs.get().output["seconds"] == seconds


def test_a_short_delay_is_also_published_with_a_countdown(
    tenant, published, django_capture_on_commit_callbacks
):
    make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[{"type": "delay", "config": {"duration": 2, "unit": "seconds"}}],
    )
    make_record(tenant, "contacts", name="Ada")
    with django_capture_on_commit_callbacks(execute=True):
        drain()
    assert published[-1][1] == 2
