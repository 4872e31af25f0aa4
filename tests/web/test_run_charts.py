"""Run charts: an automation's runs per day by outcome with p50/p95 durations, and the
automations list's 14-day sparklines (one query for the whole page)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from automations.models import Run
from automations.run_queries import Sparkline, daily_outcomes, duration_percentiles, sparklines
from automations.web.charts import daily_bars, sparkline
from tests.web.helpers import make_automation
from tests.web.test_runs_page import NOW, make_run

DAY = 24 * 60


def test_daily_outcomes_count_success_failed_and_other_per_day(tenant):
    automation = make_automation(tenant)
    make_run(automation, status=Run.Status.SUCCESS)
    make_run(automation, status=Run.Status.SUCCESS)
    make_run(automation, status=Run.Status.FAILED)
    make_run(automation, status=Run.Status.BLOCKED, ago=DAY)
    make_run(automation, status=Run.Status.SUCCESS, ago=40 * DAY)  # outside the 30 days

    days = daily_outcomes(automation, days=30, now=NOW)

    assert len(days) == 30
    assert (days[-1].success, days[-1].failed, days[-1].other) == (2, 1, 0)
    assert (days[-2].success, days[-2].failed, days[-2].other) == (0, 0, 1)
    assert sum(d.total for d in days) == 4


def test_duration_percentiles_are_nearest_rank(tenant):
    automation = make_automation(tenant)
    for ms in range(10, 210, 10):  # 20 runs: 10, 20, ..., 200 ms
        make_run(automation, status=Run.Status.SUCCESS, duration_ms=ms)
    make_run(automation)  # unfinished: no duration, not counted

    durations = duration_percentiles(automation, days=30, now=NOW)

    assert (durations.count, durations.p50, durations.p95) == (20, 100, 190)


def test_duration_percentiles_of_no_runs_are_empty(tenant):
    durations = duration_percentiles(make_automation(tenant), days=30, now=NOW)

    assert (durations.count, durations.p50, durations.p95) == (0, None, None)


def test_the_bars_stack_to_the_busiest_days_height():
    from automations.run_queries import DayOutcomes

    today = NOW.date()
    chart = daily_bars(
        [DayOutcomes(today - timedelta(days=1), 1, 0, 0), DayOutcomes(today, 2, 1, 1)]
    )

    busiest = chart.bars[1]
    assert [s.outcome for s in busiest.segments] == ["success", "failed", "other"]
    assert sum(s.height for s in busiest.segments) == chart.height
    assert chart.bars[0].segments[0].height == chart.height / 4
    assert chart.summary == "5 runs in the last 2 days: 3 succeeded, 1 failed, 1 other."


def test_a_sparkline_of_no_runs_is_a_flat_line():
    spark = sparkline(Sparkline([0] * 14, 0))

    assert {float(p.split(",")[1]) for p in spark.points.split()} == {spark.height - 1}


def test_the_logs_page_draws_the_runs_per_day_with_a_text_alternative(web, tenant):
    automation = make_automation(tenant)
    make_run(automation, status=Run.Status.SUCCESS, duration_ms=120)
    make_run(automation, status=Run.Status.FAILED, duration_ms=80)

    html = web.get(f"/automations/{automation.id}/logs").content.decode()

    assert '<svg class="chart" role="img"' in html
    assert "2 runs in the last 30 days: 1 succeeded, 1 failed, 0 other." in html
    assert re.search(r'data-outcome="success" data-count="1"', html)
    assert re.search(r'data-outcome="failed" data-count="1"', html)
    assert 'id="daily-runs-table"' in html
    assert "median (p50) <strong>80 ms</strong>, p95 <strong>120 ms</strong>" in html


def test_the_automations_list_draws_a_sparkline_per_automation(web, tenant):
    busy = make_automation(tenant, name="Busy")
    make_run(busy, status=Run.Status.SUCCESS)
    make_run(busy, status=Run.Status.FAILED, ago=DAY)
    make_automation(tenant, name="Quiet")

    html = web.get("/automations/").content.decode()

    assert 'aria-label="2 runs in the last 14 days, 1 failed"' in html
    assert 'aria-label="0 runs in the last 14 days, 0 failed"' in html


def test_the_sparklines_cost_one_query_for_the_whole_page(web, tenant):
    make_automation(tenant, name="First")
    web.get("/automations/")
    with CaptureQueriesContext(connection) as one:
        web.get("/automations/")
    for i in range(5):
        make_run(make_automation(tenant, name=f"More {i}"), status=Run.Status.SUCCESS)
    with CaptureQueriesContext(connection) as six:
        web.get("/automations/")

    assert len(six) == len(one)


def test_sparklines_count_each_automations_days(tenant):
    a = make_automation(tenant, name="A")
    b = make_automation(tenant, name="B")
    make_run(a)
    make_run(a, ago=DAY)
    make_run(b, ago=20 * DAY)  # outside the 14 days

    lines = sparklines([a.id, b.id], days=14, now=NOW)

    assert lines[a.id].counts[-2:] == [1, 1] and lines[a.id].total == 2
    assert lines[b.id].total == 0
