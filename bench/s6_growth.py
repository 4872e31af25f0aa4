"""S6: growth. Does the engine slow down as logs pile up, and does a worker's memory grow?

1. S2 with 1,000,000 logs already stored (the history workspace: 100 automations x 10,000
   finished runs, each with an action run) against S2 on empty tables (the log tables are
   truncated). Each side is S2's own ratio (engine rate / no-op rate in the same round), so a
   change in the machine's load between the two phases cancels out.
2. Worker memory: the resident memory of the two pool processes after N1 and after N2 runs of
   the S2 automation (records created while the worker drains them).
"""

from __future__ import annotations

import threading
import time

from bench.common import (
    Config,
    Figure,
    Result,
    Worker,
    ensure_history,
    wait_until,
)
from bench.s2_throughput import ROUND_SIZES, create_records, measure, setup_flow


def truncate_logs() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE automations_run, automations_actionrun RESTART IDENTITY CASCADE")


def memory_growth(flow, *, first: int, second: int) -> tuple[int, int]:
    """RSS (kB) of the pool processes after `first` and after `second` runs."""
    from automations.models import Run

    runs = Run.objects.filter(automation=flow.automation, status=Run.Status.SUCCESS)
    base = runs.count()
    failure: list[BaseException] = []

    def produce() -> None:
        from django.db import connection

        try:
            create_records(flow, second, deadline=3600)
        except BaseException as err:  # reported by the main thread
            failure.append(err)
        finally:
            connection.close()

    producer = threading.Thread(target=produce, daemon=True)
    with Worker() as worker:
        worker.wait_ready()
        producer.start()
        readings = []
        for target in (first, second):
            wait_until(
                lambda t=target: failure or runs.count() - base >= t,
                timeout=target / 5 + 120,
                interval=0.5,
                what=f"{target} runs",
            )
            if failure:
                raise failure[0]
            readings.append(worker.rss_kb())
        producer.join(timeout=120)
    return readings[0], readings[1]


def run(cfg: Config) -> Result:
    rounds = cfg.pick(3, quick=1)
    noop_count, run_count = ROUND_SIZES if not cfg.quick else (1000, 500)
    first = cfg.pick(2_000, quick=300, full=10_000)
    second = cfg.pick(10_000, quick=1_500, full=100_000)

    ensure_history(1_000_000)
    flow = setup_flow(f"s6-{int(time.time())}")
    full = measure(flow, rounds=rounds, noop_count=noop_count, run_count=run_count)
    truncate_logs()
    empty = measure(flow, rounds=rounds, noop_count=noop_count, run_count=run_count)
    growth = full["ratio"] / empty["ratio"]

    rss_first, rss_second = memory_growth(flow, first=first, second=second)
    memory = rss_second / rss_first
    scaled = second < 100_000
    return Result(
        scenario="S6",
        title="growth: S2 with 1,000,000 stored logs; worker memory as runs accumulate",
        figures=[
            Figure(
                name="S2 ratio with 1,000,000 logs",
                value=full["ratio"],
                baseline=empty["ratio"],
                baseline_name="S2 ratio on empty tables",
                unit="x no-op",
                target=">= 0.9x",
                ratio=growth,
                passed=growth >= 0.9,
            ),
            Figure(
                name=f"worker RSS after {second:,} runs",
                value=rss_second / 1024,
                baseline=rss_first / 1024,
                baseline_name=f"after {first:,}",
                unit="MB",
                target="<= 1.2x",
                ratio=memory,
                passed=memory <= 1.2,
            ),
        ],
        params={
            "rounds": rounds,
            "with_logs": full,
            "empty": empty,
            "memory_checkpoints": [first, second],
            "scaled_down": scaled,
            "full_size_command": "python -m bench --only S6 --full",
        },
        notes=(
            [f"memory SCALED DOWN: {first:,} and {second:,} runs instead of 10,000 and 100,000"]
            if scaled
            else []
        ),
    )
