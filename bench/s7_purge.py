"""S7: the retention purge of old logs running while S2 runs.

S2's engine rate with automations.runtime.retention.purge() running in another process (it
deletes the history workspace's logs older than AUTOMATIONS_LOG_RETENTION_DAYS, 90 days: about
two thirds of 1,000,000), against S2's engine rate without it. Each round measures both sides,
in swapped order every other round (the machine's speed drifts). The purge is started and S2
measured once it has deleted STARTED_AFTER logs; it is stopped (by its process id) when its
side is done, and the deleted logs are put back before the next round.
"""

from __future__ import annotations

import sys
import time

from bench.common import (
    ROOT,
    Config,
    Figure,
    Result,
    await_condition,
    child_env,
    ensure_history,
    log_dir,
    median,
)
from bench.s2_throughput import engine_rate, setup_flow
from devtools.processes import Service

PURGE = "from automations.runtime.retention import purge; print(purge())"
# Logs the purge has deleted when S2's measurement starts beside it (two of its batches).
STARTED_AFTER = 1000


def restore_history() -> tuple[object, int]:
    """The history workspace with all its logs put back; and how many it holds."""
    from automations.models import Run

    history, _ = ensure_history(1_000_000)
    return history, Run.objects.filter(workspace=history.workspace).count()


def wal_written() -> dict[str, int]:
    """The cluster's WAL totals so far: full page images and bytes (pg_stat_wal)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT wal_fpi, wal_bytes FROM pg_stat_wal")
        fpi, size = cursor.fetchone()
    return {"fpi": int(fpi), "bytes": int(size)}


def wal_since(start: dict[str, int]) -> dict[str, int]:
    now = wal_written()
    return {key: now[key] - start[key] for key in start}


def rate_beside_purge(flow, run_count: int, stored, before: int) -> tuple[float, int]:
    """S2's engine rate while the purge deletes, and how many logs it deleted meanwhile."""
    purge = Service(
        "bench-purge", [sys.executable, "manage.py", "shell", "-c", PURGE], env=child_env(),
        log_dir=log_dir(), cwd=ROOT,
    ).start()  # fmt: skip
    try:
        # Measure once it is deleting: not while it starts up, nor while it walks the first
        # pages of the table, which hold the history's newest logs (none old enough).
        await_condition(
            lambda: stored.count() <= before - STARTED_AFTER,
            timeout=180,
            interval=0.25,
            message=f"the purge to delete {STARTED_AFTER} logs",
        )
        rate = engine_rate(flow, run_count)
    finally:
        purge.stop(timeout=10)
    return rate, before - stored.count()


def run(cfg: Config) -> Result:
    from automations.models import Run

    rounds = cfg.pick(5, quick=1)
    run_count = cfg.pick(3000, quick=500)
    history, _ = restore_history()
    flow = setup_flow(f"s7-{int(time.time())}")
    stored = Run.objects.filter(workspace=history.workspace)
    without, with_purge, ratios, purged = [], [], [], []
    # The WAL each side wrote. A purge that changes each page once writes at most one full
    # page image per page it deletes from, and only for pages first changed since the last
    # checkpoint (0.03-0.6 per log purged in the rounds measured); one that deletes across
    # pages writes about one per log (19,311 for 18,834 logs in a round where S2 alone wrote
    # 424), which is what slowed S2 beside it. S2's own images depend on where the
    # checkpoints fall (1 to 1,686 a round), so the figure is per log purged, not a ratio to
    # S2 alone.
    wal: dict[str, list[dict[str, int]]] = {"without": [], "with": []}
    for number in range(rounds):
        _, before = restore_history()
        for side in ("without", "with") if number % 2 == 0 else ("with", "without"):
            start = wal_written()
            if side == "without":
                alone = engine_rate(flow, run_count)
            else:
                beside, deleted = rate_beside_purge(flow, run_count, stored, before)
            wal[side].append(wal_since(start))
        purged.append(deleted)
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
            ),
            Figure(
                name="full page images beside the purge, against the logs it purged",
                value=median([w["fpi"] for w in wal["with"]]),
                baseline=median(purged),
                baseline_name="logs purged",
                unit="",
                target="info",
                ratio=median(
                    [w["fpi"] / max(1, n) for w, n in zip(wal["with"], purged, strict=True)]
                ),
            ),
        ],
        params={
            "rounds": rounds,
            "runs_per_round": run_count,
            "logs_purged_per_round": purged,
            "per_round": {"without": without, "with": with_purge, "ratio": ratios},
            "wal_per_round": wal,
        },
        notes=[
            "the purge is a separate process, as the daily beat task would be on a worker",
            "rounds alternate which side goes first",
        ],
    )
