"""S7: the retention purge of old logs running while S2 runs.

S2's engine rate with automations.runtime.retention.purge() running in another process (it
deletes the history workspace's logs older than AUTOMATIONS_LOG_RETENTION_DAYS, 90 days: about
two thirds of 1,000,000), against S2's engine rate without it; rounds alternate. The purge is
started first and S2 measured once it is deleting; it is stopped (by its process id) at the end
of the round, and the deleted logs are put back, so every round purges the same table.
"""

from __future__ import annotations

import subprocess
import time

from bench.common import (
    ROOT,
    Config,
    Figure,
    Result,
    _stop,
    child_env,
    ensure_history,
    median,
    wait_until,
)
from bench.s2_throughput import engine_rate, setup_flow

PURGE = "from automations.runtime.retention import purge; print(purge())"


def run(cfg: Config) -> Result:
    import sys

    from automations.models import Run

    rounds = cfg.pick(3, quick=1)
    run_count = cfg.pick(3000, quick=500)
    history, _ = ensure_history(1_000_000)
    flow = setup_flow(f"s7-{int(time.time())}")
    stored = Run.objects.filter(workspace=history.workspace)
    without, with_purge, ratios, purged = [], [], [], []
    for _ in range(rounds):
        ensure_history(1_000_000)
        before = stored.count()
        alone = engine_rate(flow, run_count)
        purge = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", PURGE],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            # Measure once it is deleting (not while it starts up).
            wait_until(lambda b=before: stored.count() < b, timeout=120, what="the purge")
            beside = engine_rate(flow, run_count)
        finally:
            _stop(purge, timeout=10)
        purged.append(before - stored.count())
        without.append(alone)
        with_purge.append(beside)
        ratios.append(beside / alone)
    ratio = median(ratios)
    return Result(
        scenario="S7",
        title="S2 while the retention purge deletes old logs",
        figures=[
            Figure(
                name="executions/s during the purge",
                value=median(with_purge),
                baseline=median(without),
                baseline_name="without the purge",
                unit="/s",
                target=">= 0.8x",
                ratio=ratio,
                passed=ratio >= 0.8,
            )
        ],
        params={
            "rounds": rounds,
            "runs_per_round": run_count,
            "logs_purged_per_round": purged,
            "per_round": {"without": without, "with": with_purge, "ratio": ratios},
        },
        notes=["the purge is a separate process, as the daily beat task would be on a worker"],
    )
