"""primitives.timestamps.iso: the API's, snapshots' and templates' one timestamp format."""

from datetime import UTC, datetime, timedelta, timezone

from automations.engine.templates import format_datetime
from primitives.timestamps import iso


def test_aware_times_are_written_in_utc_to_the_second():
    paris = timezone(timedelta(hours=1))
    assert iso(datetime(2026, 3, 1, 10, 0, 5, 999_999, tzinfo=paris)) == "2026-03-01T09:00:05Z"
    assert iso(datetime(2026, 3, 1, 9, 0, tzinfo=UTC)) == "2026-03-01T09:00:00Z"


def test_naive_times_are_taken_as_utc_and_none_stays_none():
    assert iso(datetime(2026, 12, 31, 23, 59, 59)) == "2026-12-31T23:59:59Z"
    assert iso(None) is None


def test_early_years_keep_four_digits():
    assert iso(datetime(999, 1, 2, tzinfo=UTC)) == "0999-01-02T00:00:00Z"


def test_templates_print_times_the_same_way():
    moment = datetime(2026, 3, 1, 9, 0, 0, 123, tzinfo=UTC)
    assert format_datetime(moment) == iso(moment)
