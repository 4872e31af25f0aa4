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
from dataclasses import dataclass, field

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


@dataclass
class Phases:
    """Alternating no-op and engine phases at one pace: every latency, and per phase how busy
    the whole machine was (producer, worker, PostgreSQL, Redis: the producer's record saves
    share the cores with the engine, the no-op's sends hardly do) and the rate its producer
    achieved (below the pace when it could not keep it: it then sends without pause until
    back on time)."""

    rate: float
    noop: list[float] = field(default_factory=list)
    engine: list[float] = field(default_factory=list)
    busy: dict[str, list[float]] = field(default_factory=lambda: {"noop": [], "engine": []})
    achieved: dict[str, list[float]] = field(default_factory=lambda: {"noop": [], "engine": []})

    def measure(self, flow: Flow, *, count: int, phases: int) -> Phases:
        for _ in range(phases):
            self._phase("noop", lambda: noop_latencies(count, self.rate))
            self._phase("engine", lambda: engine_latencies(flow, count, self.rate))
        return self

    def _phase(self, side: str, latencies_and_pace) -> None:
        start = cpu_jiffies()
        latencies, pace = latencies_and_pace()
        getattr(self, side).extend(latencies)
        self.achieved[side].append(pace)
        self.busy[side].append(cpu_busy_since(start))

    def p(self, side: str, q: float) -> float:
        return percentile(getattr(self, side), q)

    def figure(
        self, q: float, *, name: str, baseline_name: str, limit: float | None = None
    ) -> Figure:
        """The engine's q-th percentile against the no-op's, in ms; judged (at most `limit`
        times the no-op's) only when a limit is given."""
        engine, noop = self.p("engine", q), self.p("noop", q)
        return Figure(
            name=name,
            value=engine * 1000,
            baseline=noop * 1000,
            baseline_name=baseline_name,
            unit="ms",
            target="info" if limit is None else f"<= {limit:g}x",
            ratio=engine / noop,
            passed=None if limit is None else engine / noop <= limit,
        )

    def summary(self) -> str:
        return (
            f"machine CPU busy: engine phases {_join(self.busy['engine'], '{:.0%}')}; no-op "
            f"phases {_join(self.busy['noop'], '{:.0%}')}; producer's achieved rate: engine "
            f"phases {_join(self.achieved['engine'], '{:.0f}/s')}; no-op phases "
            f"{_join(self.achieved['noop'], '{:.0f}/s')}"
        )


def _join(values: list[float], form: str) -> str:
    return ", ".join(form.format(v) for v in values)


def run(cfg: Config) -> Result:
    reset_state()
    flow = setup_flow("s3")
    max_rate, source = s2_rate(cfg, flow)
    rate = max_rate / 2
    seconds = cfg.pick(20, quick=8)
    count = max(50, int(rate * seconds))
    phases = cfg.pick(2, quick=1)
    with Worker() as worker:
        worker.wait_ready()
        engine_latencies(flow, 20, rate)  # warm both pool processes up
        half = Phases(rate).measure(flow, count=count, phases=phases)
        # The same at a quarter of S2's rate, over the same time. At half of S2's rate the
        # producer's saves and the engine need most of two cores between them, so S3's own
        # figure fails on a two-core machine whatever the engine's latency; this one, with the
        # machine about half busy, still moves when the engine's latency does.
        quarter = Phases(rate / 2).measure(flow, count=max(25, count // 2), phases=phases)
    return Result(
        scenario="S3",
        title=f"commit-to-action latency at {rate:.0f}/s (half of S2's max, {source})",
        figures=[
            half.figure(50, name="p50", baseline_name="no-op enqueue-to-start p50"),
            half.figure(99, name="p99", baseline_name="no-op enqueue-to-start p99", limit=5),
            quarter.figure(
                99,
                name=f"p99 at a quarter of S2's rate ({quarter.rate:.0f}/s)",
                baseline_name="no-op enqueue-to-start p99 there",
            ),
        ],
        params={
            "rate_per_s": rate,
            "s2_max_rate": max_rate,
            "events_per_phase": count,
            "phases": phases,
            "engine_samples": len(half.engine),
            "noop_samples": len(half.noop),
            "engine_max_ms": max(half.engine) * 1000,
            "noop_max_ms": max(half.noop) * 1000,
            "cpu_busy_engine_phases": half.busy["engine"],
            "cpu_busy_noop_phases": half.busy["noop"],
            "achieved_rate_engine_phases": half.achieved["engine"],
            "achieved_rate_noop_phases": half.achieved["noop"],
            "quarter": {
                "rate_per_s": quarter.rate,
                "p50_ms": {s: quarter.p(s, 50) * 1000 for s in ("engine", "noop")},
                "p99_ms": {s: quarter.p(s, 99) * 1000 for s in ("engine", "noop")},
                "cpu_busy": quarter.busy,
                "achieved_rate": quarter.achieved,
            },
        },
        notes=[
            "engine: record COMMIT -> the update_record action's transaction (ActionRun "
            "completed_at, taken just before its COMMIT)",
            "baseline: no-op task sent -> started, same worker, same rate, alternating phases",
            f"at half of S2's rate: {half.summary()}",
            f"at a quarter: {quarter.summary()}",
        ],
    )
