"""The benchmark harness works (bench/, `python -m bench`): S1 and a small S4 run end to end
with tiny counts, on PostgreSQL and Redis as the benchmarks require (skipped otherwise). No
figure is judged here: the benchmarks' targets are for `python -m bench` on a quiet machine."""

import json

import pytest
from django.conf import settings
from django.db import connection

from bench import common, s1_save, s4_schedules
from bench.common import Config

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _benchmark_services(tmp_path, monkeypatch):
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("the benchmarks run on PostgreSQL and Redis only")
    monkeypatch.setattr(common, "RESULTS", tmp_path)  # leave bench/results/ alone


def test_s1_measures_both_sides_and_writes_its_result(tmp_path):
    result = s1_save.run(Config(quick=True), count=40)
    result.write()
    saved = json.loads((tmp_path / "S1.json").read_text())
    time_per_save, queries = saved["figures"]
    assert time_per_save["value"] > 0 and time_per_save["baseline"] > 0
    assert time_per_save["ratio"] > 0
    assert queries["value"] == queries["baseline"]  # matching nothing costs no query
    assert result.line().startswith("S1 ")


def test_s4_at_small_scale_runs_every_schedule_once_through_a_real_worker(tmp_path):
    result = s4_schedules.run(Config(quick=True), count=30)
    assert result.params["duplicates"] == 0
    assert result.params["missed"] == 0
    assert result.params["failed"] == 0
    assert all(f.value is not None for f in result.figures)
