"""The load command (bench/load/loadtest.py) in a reduced form: 20 s at 20 requests/s of API
reads, record writes and inbound webhooks against gunicorn + 2 Celery workers + beat on a
PostgreSQL cluster and a Redis of its own. The full run is documented in docs/RELIABILITY.md."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from devtools.processes import BASE_DIR, PostgresCluster, RedisServer

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def test_a_short_mixed_load_has_no_errors_and_loses_no_run(tmp_path):
    ok, why = PostgresCluster.available()
    if not ok:
        pytest.skip(why)
    if not RedisServer.available():
        pytest.skip("redis-server is not installed")
    out = tmp_path / "load.json"
    result = subprocess.run(
        [
            sys.executable,
            str(BASE_DIR / "bench" / "load" / "loadtest.py"),
            "--duration",
            "20",
            "--rate",
            "20",
            "--json-out",
            str(out),
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert out.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["requests"] == 400
    assert report["errors"] == 0, report["error_samples"]
    assert report["runs"]["lost"] == 0 and report["runs"]["extra"] == 0
    assert report["runs"]["success"] == report["runs"]["expected"]
    assert report["db_actions_exactly_once"]
    assert result.returncode == 0
    print(
        f"\nLOAD reduced: requests={report['requests']} errors={report['errors']} "
        f"p50_ms={report['all']['p50_ms']} p99_ms={report['all']['p99_ms']} "
        f"runs={report['runs']['success']}/{report['runs']['expected']}"
    )
