"""Cron schedules: validation, descriptions and DST-correct next runs."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from automations.engine.schedule import (
    describe_cron,
    next_run_after,
    next_runs,
    validate_cron,
    validate_timezone,
)

UTC = dt.UTC
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(moment: dt.datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr",
    [
        "0 9 * * *",
        "0 9 * * 1-5",
        "0 0 1 * *",
        "*/15 * * * *",
        "0 9 * * MON-FRI",
        "0 9 * JAN,MAR *",
        "0 9 * * THU",
        "0 9 * * 7",
        "0 9 L * *",
        " 0 9 * * * ",
        "@hourly",
        "@daily",
        "@weekly",
        "@monthly",
        "@yearly",
        "@annually",
        "@midnight",
        "@DAILY",
    ],
)
def test_valid_cron_expressions(expr: str) -> None:
    assert validate_cron(expr) is None


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("", "cron expression is required"),
        (None, "cron expression is required"),
        ("@reboot", "unsupported cron alias '@reboot'"),
        ("@every 5m", "unsupported cron alias '@every 5m'"),
        ("* * * * * *", "cron expression must have 5 fields"),
        ("0 0 9 * * * 2024", "got 7"),
        ("0 9 * *", "got 4"),
        ("61 * * * *", "invalid cron expression"),
        ("*/0 * * * *", "invalid cron expression"),
        ("a b c d e", "invalid cron expression"),
        ("R * * * *", "random or hashed values"),
        ("0 H * * *", "random or hashed values (R, H) are not supported in the hour field"),
        ("0 0 30 2 *", "cron expression never matches a real date"),
    ],
)
def test_invalid_cron_expressions(expr: str | None, message: str) -> None:
    error = validate_cron(expr)
    assert error is not None
    assert message in error


def test_valid_timezones() -> None:
    assert validate_timezone("Europe/Berlin") is None
    assert validate_timezone("UTC") is None


@pytest.mark.parametrize("name", ["Mars/Base", "../../etc/passwd", "europe/berlin", ""])
def test_invalid_timezones(name: str) -> None:
    assert validate_timezone(name) is not None


# --- descriptions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "description"),
    [
        ("0 9 * * 1-5", "At 09:00 AM, Monday through Friday"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("0 0 1 * *", "At 12:00 AM, on day 1 of the month"),
        ("@daily", "At 12:00 AM"),
    ],
)
def test_describe_cron_in_english(expr: str, description: str) -> None:
    assert describe_cron(expr) == description


@pytest.mark.parametrize("expr", ["not a cron", "61 * * * *", ""])
def test_describe_cron_falls_back_to_the_raw_expression(expr: str) -> None:
    assert describe_cron(expr) == expr


# --- next runs, ordinary days ---------------------------------------------------------------


def test_next_run_is_wall_clock_time_in_the_timezone_as_utc() -> None:
    run = next_run_after("0 9 * * *", BERLIN, utc(2024, 1, 15, 12, 0))
    assert run == utc(2024, 1, 16, 8, 0)
    assert run.tzinfo is UTC


def test_next_run_is_strictly_after_the_given_instant() -> None:
    assert next_run_after("0 9 * * *", "UTC", utc(2024, 1, 15, 9, 0)) == utc(2024, 1, 16, 9, 0)
    assert next_run_after("0 9 * * *", "UTC", utc(2024, 1, 15, 8, 59, 59)) == utc(2024, 1, 15, 9)


def test_weekday_schedule_skips_the_weekend() -> None:
    # 2024-01-19 is a Friday.
    runs = next_runs("0 9 * * 1-5", NEW_YORK, utc(2024, 1, 19, 15, 0), count=2)
    assert [local(r, NEW_YORK) for r in runs] == ["2024-01-22 09:00 EST", "2024-01-23 09:00 EST"]


def test_next_runs_returns_count_increasing_runs() -> None:
    runs = next_runs("*/15 * * * *", "UTC", utc(2024, 1, 1, 0, 0), count=5)
    assert runs == [utc(2024, 1, 1, 0, m) for m in (15, 30, 45)] + [
        utc(2024, 1, 1, 1, 0),
        utc(2024, 1, 1, 1, 15),
    ]


def test_next_run_accepts_an_after_in_another_offset() -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    after = dt.datetime(2024, 1, 15, 21, 0, tzinfo=tokyo)  # 12:00 UTC
    assert next_run_after("0 13 * * *", "UTC", after) == utc(2024, 1, 15, 13, 0)


def test_next_run_refuses_a_naive_after() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_run_after("0 9 * * *", "UTC", dt.datetime(2024, 1, 1))


def test_next_run_refuses_an_invalid_expression_or_timezone() -> None:
    with pytest.raises(ValueError, match="5 fields"):
        next_run_after("* * * * * *", "UTC", utc(2024, 1, 1))
    with pytest.raises(ValueError, match="unknown timezone"):
        next_run_after("* * * * *", "Mars/Base", utc(2024, 1, 1))


def test_aliases_run_like_their_expansion() -> None:
    assert next_run_after("@daily", BERLIN, utc(2024, 1, 15, 12)) == utc(2024, 1, 15, 23, 0)


# --- DST: spring forward (the wall time does not exist) -------------------------------------
# Berlin 2024-03-31: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
# New York 2024-03-10: 02:00 EST jumps to 03:00 EDT (07:00 UTC).


def test_berlin_spring_forward_daily_0230_runs_once_at_0300() -> None:
    runs = next_runs("30 2 * * *", BERLIN, utc(2024, 3, 30, 12), count=3)
    assert [local(r, BERLIN) for r in runs] == [
        "2024-03-31 03:00 CEST",
        "2024-04-01 02:30 CEST",
        "2024-04-02 02:30 CEST",
    ]


def test_new_york_spring_forward_daily_0230_runs_once_at_0300() -> None:
    runs = next_runs("30 2 * * *", NEW_YORK, utc(2024, 3, 9, 12), count=2)
    assert [local(r, NEW_YORK) for r in runs] == ["2024-03-10 03:00 EDT", "2024-03-11 02:30 EDT"]


def test_berlin_spring_forward_hourly_neither_skips_nor_doubles() -> None:
    runs = next_runs("0 * * * *", BERLIN, utc(2024, 3, 30, 23, 30), count=4)
    assert [local(r, BERLIN) for r in runs] == [
        "2024-03-31 01:00 CET",
        "2024-03-31 03:00 CEST",
        "2024-03-31 04:00 CEST",
        "2024-03-31 05:00 CEST",
    ]
    assert runs[1] - runs[0] == dt.timedelta(hours=1)


def test_new_york_spring_forward_hourly_neither_skips_nor_doubles() -> None:
    runs = next_runs("0 * * * *", NEW_YORK, utc(2024, 3, 10, 5, 30), count=3)
    assert [local(r, NEW_YORK) for r in runs] == [
        "2024-03-10 01:00 EST",
        "2024-03-10 03:00 EDT",
        "2024-03-10 04:00 EDT",
    ]


def test_berlin_spring_forward_every_15_minutes_collapses_the_gap_into_one_run() -> None:
    runs = next_runs("*/15 * * * *", BERLIN, utc(2024, 3, 31, 0, 30), count=4)
    assert [local(r, BERLIN) for r in runs] == [
        "2024-03-31 01:45 CET",
        "2024-03-31 03:00 CEST",
        "2024-03-31 03:15 CEST",
        "2024-03-31 03:30 CEST",
    ]


def test_new_york_spring_forward_every_15_minutes_collapses_the_gap_into_one_run() -> None:
    runs = next_runs("*/15 * * * *", NEW_YORK, utc(2024, 3, 10, 6, 40), count=3)
    assert [local(r, NEW_YORK) for r in runs] == [
        "2024-03-10 01:45 EST",
        "2024-03-10 03:00 EDT",
        "2024-03-10 03:15 EDT",
    ]


# --- DST: fall back (the wall time happens twice) -------------------------------------------
# Berlin 2024-10-27: 03:00 CEST goes back to 02:00 CET (01:00 UTC).
# New York 2024-11-03: 02:00 EDT goes back to 01:00 EST (06:00 UTC).


def test_berlin_fall_back_daily_0230_runs_once_at_the_first_occurrence() -> None:
    runs = next_runs("30 2 * * *", BERLIN, utc(2024, 10, 26, 12), count=2)
    assert [local(r, BERLIN) for r in runs] == ["2024-10-27 02:30 CEST", "2024-10-28 02:30 CET"]


def test_new_york_fall_back_daily_0130_runs_once_at_the_first_occurrence() -> None:
    runs = next_runs("30 1 * * *", NEW_YORK, utc(2024, 11, 2, 12), count=2)
    assert [local(r, NEW_YORK) for r in runs] == ["2024-11-03 01:30 EDT", "2024-11-04 01:30 EST"]


def test_new_york_fall_back_daily_0230_is_not_ambiguous_and_runs_normally() -> None:
    runs = next_runs("30 2 * * *", NEW_YORK, utc(2024, 11, 2, 12), count=2)
    assert [local(r, NEW_YORK) for r in runs] == ["2024-11-03 02:30 EST", "2024-11-04 02:30 EST"]


def test_berlin_fall_back_hourly_runs_the_repeated_hour_once() -> None:
    runs = next_runs("0 * * * *", BERLIN, utc(2024, 10, 26, 23, 30), count=3)
    assert [local(r, BERLIN) for r in runs] == [
        "2024-10-27 02:00 CEST",
        "2024-10-27 03:00 CET",
        "2024-10-27 04:00 CET",
    ]


def test_new_york_fall_back_hourly_runs_the_repeated_hour_once() -> None:
    runs = next_runs("0 * * * *", NEW_YORK, utc(2024, 11, 3, 4, 30), count=3)
    assert [local(r, NEW_YORK) for r in runs] == [
        "2024-11-03 01:00 EDT",
        "2024-11-03 02:00 EST",
        "2024-11-03 03:00 EST",
    ]


def test_berlin_fall_back_every_15_minutes_does_not_repeat_wall_times() -> None:
    runs = next_runs("*/15 * * * *", BERLIN, utc(2024, 10, 26, 23, 50), count=6)
    assert [local(r, BERLIN) for r in runs] == [
        "2024-10-27 02:00 CEST",
        "2024-10-27 02:15 CEST",
        "2024-10-27 02:30 CEST",
        "2024-10-27 02:45 CEST",
        "2024-10-27 03:00 CET",
        "2024-10-27 03:15 CET",
    ]


def test_new_york_fall_back_every_15_minutes_does_not_repeat_wall_times() -> None:
    runs = next_runs("*/15 * * * *", NEW_YORK, utc(2024, 11, 3, 5, 40), count=3)
    assert [local(r, NEW_YORK) for r in runs] == [
        "2024-11-03 01:45 EDT",
        "2024-11-03 02:00 EST",
        "2024-11-03 02:15 EST",
    ]


def test_a_start_inside_the_repeated_hour_waits_for_the_hour_after_it() -> None:
    # 01:10 UTC is 02:10 CET, the second pass through 02:xx: those wall times already ran.
    assert local(next_run_after("*/15 * * * *", BERLIN, utc(2024, 10, 27, 1, 10)), BERLIN) == (
        "2024-10-27 03:00 CET"
    )


DST_WINDOWS = [
    (BERLIN, utc(2024, 3, 29)),
    (BERLIN, utc(2024, 10, 25)),
    (NEW_YORK, utc(2024, 3, 8)),
    (NEW_YORK, utc(2024, 11, 1)),
]


@pytest.mark.parametrize(("tz", "start"), DST_WINDOWS)
@pytest.mark.parametrize(
    ("expr", "count"), [("30 2 * * *", 5), ("0 * * * *", 120), ("*/15 * * * *", 480)]
)
def test_around_dst_no_wall_time_repeats_and_no_local_day_is_skipped(
    tz: str, start: dt.datetime, expr: str, count: int
) -> None:
    runs = next_runs(expr, tz, start, count=count)
    walls = [r.astimezone(ZoneInfo(tz)).replace(tzinfo=None) for r in runs]
    assert runs == sorted(set(runs))
    assert len(walls) == len(set(walls))
    days = sorted({w.date() for w in walls})
    assert days == [days[0] + dt.timedelta(days=i) for i in range(len(days))]
    if expr == "30 2 * * *":
        assert len(days) == len(walls)  # exactly one run per local day


@pytest.fixture
def host_timezone() -> Iterator[None]:
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "America/Los_Angeles"
    time.tzset()
    yield
    if saved is None:
        os.environ.pop("TZ")
    else:
        os.environ["TZ"] = saved
    time.tzset()


@pytest.mark.usefixtures("host_timezone")
def test_results_do_not_depend_on_the_host_timezone() -> None:
    runs = next_runs("0 * * * *", BERLIN, utc(2024, 10, 26, 23, 30), count=3)
    assert [local(r, BERLIN) for r in runs] == [
        "2024-10-27 02:00 CEST",
        "2024-10-27 03:00 CET",
        "2024-10-27 04:00 CET",
    ]
