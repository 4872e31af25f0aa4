"""S6: growth. Does the engine slow down as logs pile up, and does a worker's memory grow?

1. S2 with 1,000,000 logs already stored (the history workspace: 100 automations x 10,000
   finished runs, each with an action run) against S2 on empty tables. The empty side is a copy
   of the benchmark's database (CREATE DATABASE ... TEMPLATE) whose log tables are truncated,
   so the two sides alternate round by round, each round measured by a worker started on its
   database: a change in the machine's speed during the scenario reaches both sides alike.
   The figure is the median per-round ratio of the engine's rates (with logs / empty); each
   side's S2 ratio (engine rate / a no-op task's rate measured just before it) is in the JSON.
2. Worker memory: the resident memory of the two pool processes after N1 and after N2 runs of
   the S2 automation (records created while the worker drains them), on the empty copy.
"""

from __future__ import annotations

import threading
import time

from bench.common import (
    Config,
    Figure,
    Result,
    Worker,
    await_condition,
    clone_database,
    drop_database,
    ensure_history,
    median,
    using_database,
)
from bench.s2_throughput import ROUND_SIZES, create_records, one_round, setup_flow


def truncate_logs() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE automations_run, automations_actionrun RESTART IDENTITY CASCADE")


def measure_alternating(
    flow, *, databases: dict[str, str], rounds: int, noop_count: int, run_count: int
) -> dict:
    """Per round, each side (its order swapped every round): a no-op round, then an engine
    round, by workers on that side's database."""
    sides: dict[str, dict[str, list[float]]] = {
        side: {"noop": [], "engine": []} for side in databases
    }
    for number in range(rounds):
        order = list(databases) if number % 2 == 0 else list(reversed(databases))
        for side in order:
            with using_database(databases[side]):
                noop, engine = one_round(flow, noop_count=noop_count, run_count=run_count)
            sides[side]["noop"].append(noop)
            sides[side]["engine"].append(engine)
    for values in sides.values():
        values["ratio"] = [e / n for e, n in zip(values["engine"], values["noop"], strict=True)]
    return sides


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
            await_condition(
                lambda t=target: failure or runs.count() - base >= t,
                timeout=target / 5 + 120,
                interval=0.5,
                message=f"{target} runs",
            )
            if failure:
                raise failure[0]
            readings.append(worker.rss_kb())
        producer.join(timeout=120)
    return readings[0], readings[1]


def run(cfg: Config) -> Result:
    from django.db import connection

    rounds = cfg.pick(3, quick=1)
    noop_count, run_count = ROUND_SIZES if not cfg.quick else (1000, 500)
    first = cfg.pick(2_000, quick=300, full=10_000)
    second = cfg.pick(10_000, quick=1_500, full=100_000)

    ensure_history(1_000_000)
    flow = setup_flow(f"s6-{int(time.time())}")
    full_db = connection.settings_dict["NAME"]
    empty_db = f"{full_db}_s6_empty"
    clone_database(empty_db)
    try:
        with using_database(empty_db):
            truncate_logs()
        sides = measure_alternating(
            flow,
            databases={"with_logs": full_db, "empty": empty_db},
            rounds=rounds,
            noop_count=noop_count,
            run_count=run_count,
        )
        full, empty = sides["with_logs"], sides["empty"]
        per_round = [f / e for f, e in zip(full["engine"], empty["engine"], strict=True)]
        growth = median(per_round)
        s2_ratios = median(full["ratio"]) / median(empty["ratio"])
        with using_database(empty_db):
            rss_first, rss_second = memory_growth(flow, first=first, second=second)
    finally:
        drop_database(empty_db)
    memory = rss_second / rss_first
    scaled = second < 100_000
    return Result(
        scenario="S6",
        title="growth: S2 with 1,000,000 stored logs; worker memory as runs accumulate",
        figures=[
            Figure(
                name="S2 rate with 1,000,000 logs",
                value=median(full["engine"]),
                baseline=median(empty["engine"]),
                baseline_name="S2 rate on empty tables",
                unit="/s",
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
            "per_round_rate_ratio": per_round,
            "s2_ratio_quotient": s2_ratios,
            "memory_checkpoints": [first, second],
            "scaled_down": scaled,
            "full_size_command": "python -m bench --only S6 --full",
        },
        notes=[
            "growth = median over rounds of (engine rate with logs / engine rate on empty "
            "tables), the sides alternating; the quotient of the two sides' S2 ratios is "
            f"{s2_ratios:.2f}x",
            *(
                [f"memory SCALED DOWN: {first:,} and {second:,} runs instead of 10,000 and 100,000"]
                if scaled
                else []
            ),
        ],
    )
