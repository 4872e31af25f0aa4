"""config.rows.value_rows: list(queryset) of a values() queryset, read with psycopg's C
timestamp loader on PostgreSQL; it must give exactly what the ORM gives, everywhere."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext

from automations.models import Run
from config.rows import value_rows
from tests.runtime.support import make_automation

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 1, 16, 14, 0, 5, 123456, tzinfo=UTC)


@pytest.fixture
def runs(tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[{"type": "update_record", "config": {"updates": {"status": "seen"}}}],
    )
    made = []
    for i in range(3):
        run = Run.objects.create(
            automation=automation,
            workspace=tenant.workspace,
            status="success" if i else "waiting",
            trigger_data={"event": "record.created", "record": {"name": f"Ada {i}", "n": 1.5}},
            conditions_evaluated=[{"field": "name", "result": True}] if i else [],
            due_at=None if i else T0 + timedelta(days=400),
            started_at=T0,
            completed_at=T0 + timedelta(seconds=i),
        )
        Run.objects.filter(pk=run.pk).update(created_at=T0 - timedelta(minutes=i))
        made.append(run)
    return made


def test_value_rows_give_what_the_orm_gives(runs):
    fields = ("id", "status", "trigger_data", "conditions_evaluated", "due_at", "created_at")
    queryset = Run.objects.order_by("-created_at").values(*fields)
    expected = list(queryset)

    rows = value_rows(queryset)

    assert rows == expected
    assert [list(row) for row in rows] == [list(fields)] * 3
    for row, orm in zip(rows, expected, strict=True):
        for name in ("due_at", "created_at"):
            if orm[name] is not None:
                assert row[name].utcoffset() == timedelta(0)
                assert row[name].tzinfo == orm[name].tzinfo


def test_value_rows_slices_annotations_and_empty_results(runs):
    base = Run.objects.order_by("created_at", "id")
    assert value_rows(base.values("id")[1:3]) == list(base.values("id")[1:3])
    annotated = base.values("status").annotate(n=Count("id"), later=F("completed_at"))
    assert value_rows(annotated) == list(annotated)
    assert value_rows(base.filter(id__in=[]).values("id")) == []
    assert value_rows(base.filter(status="nope").values("id")) == []


def test_value_rows_is_one_logged_query(runs):
    with CaptureQueriesContext(connection) as queries:
        value_rows(Run.objects.values("id", "created_at"))
    assert len(queries) == 1
