"""S3: latency from a record's commit to its action's commit, at half of S2's maximum rate,
against a no-op task's enqueue-to-start latency at the same rate on the same worker.

The producer paces record creations (the S2 automation: record.created -> condition ->
update_record) at half the engine's S2 rate; each record's commit time is taken by an
on-commit callback registered before the run's own (callbacks run in order, so it fires first,
right after COMMIT). The action's commit is the ActionRun's completed_at, which the worker takes
in the action's transaction just before its COMMIT. Baseline phases send no-op tasks at the
same rate, each carrying its send time. Phases alternate (no-op, engine, no-op, engine).
"""

from __future__ import annotations

import json
import time

from bench.common import (
    NOOP_KEY,
    RESULTS,
    Config,
    Figure,
    Result,
    Worker,
    await_condition,
    cpu_busy_since,
    cpu_jiffies,
    machine,
    percentile,
    redis_client,
    reset_state,
)
from bench.s2_throughput import Flow, engine_rate, setup_flow


def paced(count: int, rate: float, action, *, deadline: float) -> float:
    """Call action(i) `count` times at `rate` per second; returns the rate achieved (an action
    that runs late is not skipped: the next ones follow without pause until back on time)."""
    started = time.perf_counter()
    stop = time.monotonic() + deadline
    for i in range(count):
        wait = started + i / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        action(i)
        if time.monotonic() > stop:
            raise TimeoutError("the producer could not keep the pace")
    return count / (time.perf_counter() - started)


def noop_latencies(count: int, rate: float) -> tuple[list[float], float]:
    """Send-to-start latencies of no-op tasks sent at `rate`, and the rate achieved."""
    from automations.runtime import handover
    from bench.tasks import noop

    redis = redis_client()
    # A drain that emptied the ready list waits on it for AUTOMATIONS_DRAIN_LINGER, holding a
    # pool process: the no-op phase starts with both processes free, as the engine's does.
    await_condition(
        lambda: not redis.exists(handover.LISTENERS), timeout=30, message="the drain to end"
    )
    redis.delete(NOOP_KEY)
    pace = paced(count, rate, lambda i: noop.delay("lat", time.time()), deadline=count / rate + 60)
    await_condition(lambda: redis.llen(NOOP_KEY) >= count, timeout=60, message="no-op tasks")
    items = [item.decode().split("|") for item in redis.lrange(NOOP_KEY, 0, -1)]
    redis.delete(NOOP_KEY)
    return [float(ran) - float(sent) for _, sent, ran in items], pace


def engine_latencies(flow: Flow, count: int, rate: float) -> tuple[list[float], float]:
    """Commit-to-action latencies of records created at `rate`, and the rate achieved."""
    from django.db import transaction

    from automations.models import ActionRun, Run
    from records.services import record_create

    committed: dict[str, float] = {}

    def create(i: int) -> None:
        with transaction.atomic():
            box: dict = {}
            # Registered before record_create's own callback (the hand-over to Celery).
            transaction.on_commit(lambda: committed.__setitem__(box["id"], time.time()))
            box["id"] = record_create(
                module=flow.module,
                data={"name": f"Latency {i}", "source": "web"},
                actor=flow.tenant.user,
            ).id

    pace = paced(count, rate, create, deadline=count / rate + 60)
    runs = Run.objects.filter(automation=flow.automation, record_id__in=list(committed))
    await_condition(
        lambda: runs.filter(status__in=Run.FINAL_STATUSES).count() >= count,
        timeout=120,
        interval=0.25,
        message="the latency runs",
    )
    done = dict(
        ActionRun.objects.filter(run__in=runs, index=0).values_list(
            "run__record_id", "completed_at"
        )
    )
    return [done[record_id].timestamp() - at for record_id, at in committed.items()], pace


def s2_rate(cfg: Config, flow: Flow) -> tuple[float, str]:
    if "S2" in cfg.shared:
        return cfg.shared["S2"]["engine"], "S2 in this run"
    saved = RESULTS / "S2.json"
    mode = "quick" if cfg.quick else ("full" if cfg.full else "default")
    if saved.exists():
        data = json.loads(saved.read_text())
        # Only a finished S2 of the same size, on this machine, sets the pace.
        if (
            data.get("figures")
            and data.get("params", {}).get("mode") == mode
            and data.get("machine") == machine()
        ):
            return data["figures"][0]["value"], f"S2 of {data.get('at', 'an earlier run')}"
    return engine_rate(flow, cfg.pick(1000, quick=300)), "measured here"


def run(cfg: Config) -> Result:
    reset_state()
    flow = setup_flow("s3")
    max_rate, source = s2_rate(cfg, flow)
    rate = max_rate / 2
    seconds = cfg.pick(20, quick=8)
    count = max(50, int(rate * seconds))
    phases = cfg.pick(2, quick=1)
    noop_all: list[float] = []
    engine_all: list[float] = []
    # How busy the whole machine (producer, worker, PostgreSQL, Redis) was in each phase: the
    # producer's record saves share the cores with the engine, the no-op's sends hardly do.
    busy: dict[str, list[float]] = {"noop": [], "engine": []}
    # The rate each phase's producer achieved: below `rate` when it could not keep the pace on
    # this machine (it then sends without pause until back on time).
    achieved: dict[str, list[float]] = {"noop": [], "engine": []}
    with Worker() as worker:
        worker.wait_ready()
        engine_latencies(flow, 20, rate)  # warm both pool processes up
        for _ in range(phases):
            start = cpu_jiffies()
            latencies, pace = noop_latencies(count, rate)
            noop_all += latencies
            achieved["noop"].append(pace)
            busy["noop"].append(cpu_busy_since(start))
            start = cpu_jiffies()
            latencies, pace = engine_latencies(flow, count, rate)
            engine_all += latencies
            achieved["engine"].append(pace)
            busy["engine"].append(cpu_busy_since(start))
    p50_e, p99_e = percentile(engine_all, 50), percentile(engine_all, 99)
    p50_n, p99_n = percentile(noop_all, 50), percentile(noop_all, 99)
    return Result(
        scenario="S3",
        title=f"commit-to-action latency at {rate:.0f}/s (half of S2's max, {source})",
        figures=[
            Figure(
                name="p50",
                value=p50_e * 1000,
                baseline=p50_n * 1000,
                baseline_name="no-op enqueue-to-start p50",
                unit="ms",
                target="info",
                ratio=p50_e / p50_n,
            ),
            Figure(
                name="p99",
                value=p99_e * 1000,
                baseline=p99_n * 1000,
                baseline_name="no-op enqueue-to-start p99",
                unit="ms",
                target="<= 5x",
                ratio=p99_e / p99_n,
                passed=p99_e / p99_n <= 5,
            ),
        ],
        params={
            "rate_per_s": rate,
            "s2_max_rate": max_rate,
            "events_per_phase": count,
            "phases": phases,
            "engine_samples": len(engine_all),
            "noop_samples": len(noop_all),
            "engine_max_ms": max(engine_all) * 1000,
            "noop_max_ms": max(noop_all) * 1000,
            "cpu_busy_engine_phases": busy["engine"],
            "cpu_busy_noop_phases": busy["noop"],
            "achieved_rate_engine_phases": achieved["engine"],
            "achieved_rate_noop_phases": achieved["noop"],
        },
        notes=[
            "engine: record COMMIT -> the update_record action's transaction (ActionRun "
            "completed_at, taken just before its COMMIT)",
            "baseline: no-op task sent -> started, same worker, same rate, alternating phases",
            "machine CPU busy: engine phases "
            + ", ".join(f"{b:.0%}" for b in busy["engine"])
            + "; no-op phases "
            + ", ".join(f"{b:.0%}" for b in busy["noop"]),
            "producer's achieved rate: engine phases "
            + ", ".join(f"{r:.0f}/s" for r in achieved["engine"])
            + "; no-op phases "
            + ", ".join(f"{r:.0f}/s" for r in achieved["noop"]),
        ],
    )
