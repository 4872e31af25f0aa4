"""S5: the API under concurrent load, against a bare DRF endpoint that returns a constant.

One gunicorn (the README's production settings: 4 sync workers) serves the product's URLs and
/bench/bare (bench/urls.py: a DRF APIView that returns a constant, behind the project's DRF
defaults: API key authentication, permission and throttle; /bench/bare-anon has none of
them). wrk on 127.0.0.1 drives each endpoint for a fixed time with a fixed number of
connections, alternating the bare endpoint and the endpoint under test; the figure is the
median of the per-round ratios of requests per second. Every answer must be a 2xx.

Data: a workspace with 10,000 automations (record, schedule and webhook triggers mixed), and
the history workspace with 1,000,000 stored logs over 100 automations (10,000 each). The API
and webhook rate limits stay on, raised so they never refuse (their cost is measured).

Queries per request are counted in-process (Django's test client) for page sizes 10 and 50
and for a small and a large table, and must not change.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import (
    Config,
    Figure,
    Gunicorn,
    Result,
    clone_automations,
    drop_handed_over,
    ensure_history,
    make_automation,
    make_tenant,
    median,
    vacuum_analyze,
)

CONNECTIONS = 8
THREADS = 2
TARGETS = {"automations": 0.35, "logs": 0.25, "webhook": 0.5}
RATE_LIMITS = {"API_RATE_LIMIT": "100000000/min", "AUTOMATIONS_WEBHOOK_RATE_LIMIT": "100000000/min"}
MARK = [{"type": "update_record", "config": {"updates": {"status": "seen"}}}]


def wrk(url: str, *, seconds: int, headers: dict[str, str], script: str | None = None) -> float:
    """Requests per second; raises if any answer was not a 2xx."""
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    if "Non-2xx or 3xx responses" in out or "Socket errors" in out:
        raise AssertionError(f"wrk saw errors on {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def setup_automations(count: int):
    """A workspace with `count` automations: 70% record, 20% schedule and 10% webhook
    triggers, created in interleaved chunks so that every page shows the mix."""
    from accounts.models import Workspace

    # No reset_state() here: the history workspace (1,000,000 logs) is kept between runs. An
    # earlier run's automations workspace is not: it would add 10,000 automations each time.
    Workspace.objects.filter(slug__startswith="s5-").delete()
    tenant = make_tenant(f"s5-{int(time.time())}")
    create_task = [{"type": "create_record", "config": {"module": "tasks", "data": {"name": "x"}}}]
    record = make_automation(
        tenant,
        name="record",
        trigger={"type": "record.created", "module": "contacts"},
        actions=MARK,
    )
    schedule = make_automation(
        tenant,
        name="schedule",
        trigger={"type": "schedule", "schedule": "0 9 * * 1-5"},
        actions=create_task,
    )
    webhook = make_automation(
        tenant,
        name="webhook",
        trigger={"type": "webhook", "webhook_path": "orders"},
        actions=create_task,
    )
    paths = itertools.count(1)

    def own_path(i: int, copy) -> None:
        copy.webhook_path = f"orders-{next(paths)}"
        copy.trigger = {**copy.trigger, "webhook_path": copy.webhook_path}

    def own_cron(i: int, copy) -> None:
        # 60 different expressions: previews are computed once per expression and minute.
        cron = f"{i % 60} 9 * * 1-5"
        copy.trigger = {**copy.trigger, "schedule": cron}

    for chunk in range(count // 100):
        first = 1 if chunk == 0 else 0  # the three templates are part of the first chunk
        clone_automations(record, 70 - first)
        clone_automations(schedule, 20 - first, vary=own_cron)
        clone_automations(webhook, 10 - first, vary=own_path)
    return tenant, record, webhook


def add_logs(automation, count: int) -> None:
    """A few finished runs of `automation`, for the small side of the queries check."""
    from automations.models import ActionRun, Run

    runs = Run.objects.bulk_create(
        Run(
            automation=automation,
            workspace_id=automation.workspace_id,
            status=Run.Status.SUCCESS,
            trigger_data={"event": "record.created", "record": {"name": f"r{i}"}},
        )
        for i in range(count)
    )
    ActionRun.objects.bulk_create(
        ActionRun(run=run, index=0, type="update_record", status="success") for run in runs
    )


def queries_per_request(client, path: str, sizes=(10, 50), size_name="per_page") -> list[int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    client.get(f"{path}?{size_name}={sizes[0]}")  # the first use of a key also records it
    for size in sizes:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{path}?{size_name}={size}")
        assert response.status_code == 200, response.content[:300]
        counts.append(len(captured.captured_queries))
    return counts


def run(cfg: Config) -> Result:
    from django.test import Client

    from automations.models import Run

    tenant, record_automation, webhook = setup_automations(10_000)
    history, history_automations = ensure_history(1_000_000)
    listed = history_automations[0]
    add_logs(record_automation, 20)
    logs_in_table = Run.objects.count()
    # Fresh statistics, as autovacuum would have by now: the planner must know the tables.
    vacuum_analyze("automations_automation", "automations_run", "automations_actionrun")

    # Queries per request, in-process: page sizes 10 and 50, small and large tables.
    client = Client(HTTP_AUTHORIZATION=f"Bearer {tenant.key}")
    client_history = Client(HTTP_AUTHORIZATION=f"Bearer {history.key}")
    q_automations = queries_per_request(client, "/v1/automations") + queries_per_request(
        client_history, "/v1/automations"
    )
    q_logs = queries_per_request(
        client_history, f"/v1/automations/{listed.id}/logs", size_name="limit"
    ) + queries_per_request(
        client, f"/v1/automations/{record_automation.id}/logs", size_name="limit"
    )

    seconds, rounds = cfg.pick(6, quick=3), cfg.pick(3, quick=1)
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.body = \'{"order_id": "A-1001", "total": 99.5, "customer": {"email": '
        '"ada@example.com"}}\'\n'
    )
    script.close()
    key = {"Authorization": f"Bearer {tenant.key}"}
    key_history = {"Authorization": f"Bearer {history.key}"}
    # name: (path, headers, wrk script, headers of its bare baseline)
    endpoints = {
        "automations": ("/v1/automations?per_page=50", key, None, key),
        "logs": (f"/v1/automations/{listed.id}/logs?limit=50", key_history, None, key_history),
        "webhook": (f"/v1/webhooks/{webhook.id}/{webhook.webhook_path}", {}, script.name, key),
    }
    rates: dict[str, list[float]] = {name: [] for name in endpoints}
    bare_rates: dict[str, list[float]] = {name: [] for name in endpoints}
    ratios: dict[str, list[float]] = {name: [] for name in endpoints}
    anonymous: list[float] = []
    try:
        with Gunicorn(extra_env=RATE_LIMITS) as web:
            for path, headers, lua, _ in endpoints.values():  # warm every worker up
                wrk(web.base + path, seconds=2, headers=headers, script=lua)
            wrk(web.base + "/bench/bare", seconds=2, headers=key)
            for i in range(rounds):
                for name, (path, headers, lua, bare_headers) in endpoints.items():
                    sides = [
                        lambda h=bare_headers: wrk(
                            web.base + "/bench/bare", seconds=seconds, headers=h
                        ),
                        lambda p=path, h=headers, s=lua: wrk(
                            web.base + p, seconds=seconds, headers=h, script=s
                        ),
                    ]
                    # Alternate which side goes first, so that a drift in load favours neither.
                    if i % 2:
                        measured, bare = sides[1](), sides[0]()
                    else:
                        bare, measured = sides[0](), sides[1]()
                    bare_rates[name].append(bare)
                    rates[name].append(measured)
                    ratios[name].append(measured / bare)
                anonymous.append(wrk(web.base + "/bench/bare-anon", seconds=seconds, headers={}))
    finally:
        drop_handed_over()  # the webhook runs' messages: no worker here
        Path(script.name).unlink(missing_ok=True)

    labels = {
        "automations": "GET /v1/automations (10,000, 50 a page)",
        "logs": "GET .../logs (1,000,000 stored, 50 a page)",
        "webhook": "POST /v1/webhooks/...",
    }
    figures = [
        Figure(
            name=labels[name],
            value=median(rates[name]),
            baseline=median(bare_rates[name]),
            baseline_name="bare DRF endpoint",
            unit="req/s",
            target=f">= {TARGETS[name]}x",
            ratio=median(ratios[name]),
            passed=median(ratios[name]) >= TARGETS[name],
        )
        for name in endpoints
    ]
    for label, counts in (
        ("queries per request, automations (pages of 10/50; 10,000/100 in table)", q_automations),
        ("queries per request, logs (pages of 10/50; 10,000/20 logs)", q_logs),
    ):
        figures.append(
            Figure(
                name=label,
                value=max(counts),
                baseline=min(counts),
                baseline_name="fewest",
                unit="queries",
                target="all equal",
                passed=len(set(counts)) == 1,
            )
        )
    return Result(
        scenario="S5",
        title="API requests/s under load vs a bare DRF endpoint (gunicorn, 4 sync workers)",
        figures=figures,
        params={
            "wrk": f"-t{THREADS} -c{CONNECTIONS}, {seconds} s per side, {rounds} rounds",
            "queries_automations(10,50 @10k; 10,50 @100)": q_automations,
            "queries_logs(10,50 @10k logs; 10,50 @20 logs)": q_logs,
            "logs_in_table": logs_in_table,
            "bare_anonymous_req_per_s": median(anonymous),
            "per_round": {"bare": bare_rates, "endpoint": rates, "ratio": ratios},
        },
        notes=[
            "bare = DRF APIView returning a constant with the project's DRF defaults (API key "
            "authentication, permission, throttle), called with the same key; the rate of one "
            "with those turned off is in params (bare_anonymous_req_per_s)",
            "logs: the automation listed holds 10,000 of the table's 1,000,000 logs",
            "webhook: JSON body, no signing secret (each POST writes a run and publishes it)",
        ],
    )
