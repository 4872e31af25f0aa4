"""A bounded load run against the real stack, on 127.0.0.1 only.

    .venv/bin/python bench/load/loadtest.py [--duration 120] [--rate 40] [--json-out FILE]

It starts everything itself: a PostgreSQL cluster of its own (initdb in a temporary folder, as
the postgres OS user when run as root; or --database-url to use an existing empty database), a
Redis of its own, gunicorn (3 workers x 4 threads), two Celery workers (prefork, 2 processes
each) and beat. It creates an API key and two automations through the API, then sends a steady
open-loop stream of requests (a fixed schedule, not "as fast as answers come back") for
--duration seconds:

    read     GET a records page, a record, an automation's logs, or the automations list
    write    POST a contact (starts a run: update_record + create_record)
    webhook  POST an inbound webhook with a unique webhook-id (starts a run: create_record)

Then it waits (bounded by --settle-timeout) until every run the traffic started has finished,
and reports request counts, errors, p50/p95/p99/max latency per kind, and runs: expected,
found, succeeded, lost, and their end-to-end latency (created -> completed). Exit status 0
only with no request error and no lost or unfinished run.

The API and webhook rate limits are lifted for the run (API_RATE_LIMIT, and
AUTOMATIONS_WEBHOOK_RATE_LIMIT empty): the load is one key and one webhook URL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))

import psycopg  # noqa: E402
import requests  # noqa: E402

from devtools.processes import (  # noqa: E402
    PostgresCluster,
    RedisServer,
    Services,
    await_condition,
    celery_beat,
    celery_worker,
    free_port,
    gunicorn,
    manage,
    service_env,
)

MIX = {"read": 0.5, "write": 0.3, "webhook": 0.2}
MAX_DURATION = 600.0  # seconds: this is a bounded run, never a soak
MAX_RATE = 500.0


@dataclass
class Result:
    kind: str
    status: int  # 0: no answer (connection error, timeout)
    latency: float  # seconds from the scheduled send time to the full answer
    service: float  # seconds from the actual send to the full answer
    error: str = ""


@dataclass
class Load:
    base: str
    key: str
    record_automation: str
    webhook_automation: str
    webhook_path: str
    seeded: list[str]
    results: list[Result] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    local: threading.local = field(default_factory=threading.local)

    def session(self) -> requests.Session:
        session = getattr(self.local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.key}"
            session.trust_env = False  # never a proxy: loopback only
            self.local.session = session
        return session

    def send(self, kind: str, n: int, scheduled: float, rng: random.Random) -> None:
        started = time.monotonic()
        session = self.session()
        try:
            if kind == "read":
                choice = n % 4
                if choice == 0:
                    response = session.get(
                        f"{self.base}/v1/modules/contacts/records?per_page=20", timeout=30
                    )
                elif choice == 1:
                    record = self.seeded[n % len(self.seeded)]
                    response = session.get(
                        f"{self.base}/v1/modules/contacts/records/{record}", timeout=30
                    )
                elif choice == 2:
                    response = session.get(
                        f"{self.base}/v1/automations/{self.record_automation}/logs?limit=20",
                        timeout=30,
                    )
                else:
                    response = session.get(f"{self.base}/v1/automations", timeout=30)
                ok = response.status_code == 200
            elif kind == "write":
                response = session.post(
                    f"{self.base}/v1/modules/contacts/records",
                    json={"name": f"load {n}", "email": f"load{n}@example.com"},
                    timeout=30,
                )
                ok = response.status_code == 201
            else:
                response = requests.post(  # no API key: the URL names the automation
                    f"{self.base}/v1/webhooks/{self.webhook_automation}/{self.webhook_path}",
                    json={"name": f"hook {n}", "score": rng.randint(1, 100)},
                    headers={"webhook-id": f"msg_{uuid.uuid4().hex}"},
                    timeout=30,
                )
                ok = response.status_code == 202
            done = time.monotonic()
            result = Result(
                kind,
                response.status_code,
                done - scheduled,
                done - started,
                "" if ok else response.text[:300],
            )
        except requests.RequestException as err:
            done = time.monotonic()
            result = Result(
                kind, 0, done - scheduled, done - started, f"{type(err).__name__}: {err}"[:300]
            )
        with self.lock:
            self.results.append(result)


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(values: list[float]) -> dict:
    return {
        "count": len(values),
        "p50_ms": round(1000 * _quantile(values, 0.50), 1),
        "p95_ms": round(1000 * _quantile(values, 0.95), 1),
        "p99_ms": round(1000 * _quantile(values, 0.99), 1),
        "max_ms": round(1000 * max(values, default=0.0), 1),
        "mean_ms": round(1000 * statistics.fmean(values), 1) if values else 0.0,
    }


def _setup(base: str, env: dict) -> Load:
    key = manage(["create_api_key", "--workspace", "load", "--email", "load@example.com"], env=env)
    key = key.strip().splitlines()[-1].strip()
    api = requests.Session()
    api.trust_env = False
    api.headers["Authorization"] = f"Bearer {key}"

    def create(definition: dict) -> str:
        response = api.post(f"{base}/v1/automations", json=definition, timeout=30)
        response.raise_for_status()
        return response.json()["data"]["id"]

    record_automation = create(
        {
            "name": "Follow up new contacts",
            "enabled": True,
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [
                {"type": "update_record", "config": {"updates": {"status": "seen"}}},
                {
                    "type": "create_record",
                    "config": {"module": "tasks", "data": {"name": "Call {{record.name}}"}},
                },
            ],
        }
    )
    path = "load-hook"
    webhook_automation = create(
        {
            "name": "Leads from the web form",
            "enabled": True,
            "trigger": {"type": "webhook", "webhook_path": path},
            "actions": [
                {
                    "type": "create_record",
                    "config": {
                        "module": "leads",
                        "data": {"name": "{{webhook.body.name}}"},
                    },
                }
            ],
        }
    )
    seeded = []
    for n in range(20):
        # Contacts made before the traffic also start runs: counted as expected runs below.
        response = api.post(
            f"{base}/v1/modules/contacts/records", json={"name": f"seed {n}"}, timeout=30
        )
        response.raise_for_status()
        seeded.append(response.json()["data"]["id"])
    return Load(base, key, record_automation, webhook_automation, path, seeded)


def _drive(load: Load, *, duration: float, rate: float, seed: int) -> float:
    """Send requests on a fixed schedule for `duration` seconds; the time it took."""
    rng = random.Random(seed)
    kinds, weights = zip(*MIX.items(), strict=True)
    total = int(duration * rate)
    interval = 1.0 / rate
    # Enough threads that a slow answer does not delay the schedule (open loop).
    with ThreadPoolExecutor(max_workers=64) as pool:
        start = time.monotonic()
        for n in range(total):
            scheduled = start + n * interval
            pause = scheduled - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            kind = rng.choices(kinds, weights)[0]
            pool.submit(load.send, kind, n, scheduled, random.Random(n))
        sent = time.monotonic() - start
    return sent


def _runs(url: str, load: Load) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT automation_id, status, count(*) FROM automations_run"
            " WHERE automation_id = ANY(%s) GROUP BY automation_id, status",
            ([load.record_automation, load.webhook_automation],),
        ).fetchall()
        latency = conn.execute(
            "SELECT EXTRACT(EPOCH FROM completed_at - created_at) FROM automations_run"
            " WHERE automation_id = ANY(%s) AND status = 'success'",
            ([load.record_automation, load.webhook_automation],),
        ).fetchall()
        records = dict(
            conn.execute(
                "SELECT m.slug, count(*) FROM records_record r JOIN records_module m"
                " ON m.id = r.module_id JOIN accounts_workspace w ON w.id = m.workspace_id"
                " WHERE w.slug = 'load' GROUP BY m.slug"
            ).fetchall()
        )
    by_status: dict[str, int] = {}
    for _, status, count in rows:
        by_status[status] = by_status.get(status, 0) + count
    return {
        "by_status": by_status,
        "latencies": [float(v) for (v,) in latency],
        "records": records,
    }


def run(args: argparse.Namespace) -> dict:
    if not 0 < args.duration <= MAX_DURATION:
        raise SystemExit(f"--duration must be in (0, {MAX_DURATION:g}] seconds")
    if not 0 < args.rate <= MAX_RATE:
        raise SystemExit(f"--rate must be in (0, {MAX_RATE:g}] requests/s")
    work = Path(tempfile.mkdtemp(prefix="loadtest-"))
    services = Services(work)
    cluster = None
    redis = RedisServer(work)
    keep = False
    try:
        if args.database_url:
            url = args.database_url
        else:
            ok, why = PostgresCluster.available()
            if not ok:
                raise SystemExit(f"cannot start PostgreSQL here: {why}; pass --database-url")
            cluster = PostgresCluster()
            cluster.init()
            cluster.start()
            url = cluster.create_database("load")
        redis.start()
        env = service_env(
            database_url=url,
            redis_url=redis.url,
            API_RATE_LIMIT="10000000/min",
            AUTOMATIONS_WEBHOOK_RATE_LIMIT="",
            AUTOMATIONS_RUN_LEASE="30",
        )
        print(f"[load] migrating {url}", flush=True)
        manage(["migrate", "--noinput"], env=env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        services.add(
            gunicorn("gunicorn", env=env, log_dir=work, port=port, workers=args.web_workers)
        ).start()
        for n in range(2):
            services.add(
                celery_worker(
                    f"worker{n}", env=env, log_dir=work, concurrency=args.worker_concurrency,
                    loglevel="WARNING",
                )
            ).start()  # fmt: skip
        services.add(celery_beat("beat", env=env, log_dir=work)).start()

        def web_up() -> bool:
            try:
                return requests.get(f"{base}/login/", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        await_condition(web_up, timeout=60, message="gunicorn", on_timeout=services.logs)
        load = _setup(base, env)
        print(
            f"[load] {args.duration:g} s at {args.rate:g} req/s "
            f"({int(args.duration * args.rate)} requests) against {base}",
            flush=True,
        )
        load_before = os.getloadavg()
        sent_in = _drive(load, duration=args.duration, rate=args.rate, seed=args.seed)
        load_after = os.getloadavg()
        traffic_end = time.monotonic()

        results = load.results
        writes = sum(1 for r in results if r.kind == "write" and r.status == 201)
        hooks = sum(1 for r in results if r.kind == "webhook" and r.status == 202)
        expected = writes + hooks + len(load.seeded)
        print(f"[load] traffic done; waiting for {expected} runs", flush=True)

        def settled():
            runs = _runs(url, load)
            return runs if runs["by_status"].get("success", 0) >= expected else None

        try:
            final = await_condition(
                settled, timeout=args.settle_timeout, interval=0.5, message="runs to finish"
            )
        except AssertionError:
            final = _runs(url, load)
        drain_s = time.monotonic() - traffic_end
        found = sum(final["by_status"].values())
        succeeded = final["by_status"].get("success", 0)
        errors = [r for r in results if r.error]
        report = {
            "duration_s": args.duration,
            "target_rate": args.rate,
            "achieved_rate": round(len(results) / sent_in, 1) if sent_in else 0,
            "requests": len(results),
            "by_kind": {
                kind: {
                    **_summary([r.latency for r in results if r.kind == kind]),
                    "errors": sum(1 for r in errors if r.kind == kind),
                }
                for kind in MIX
            },
            "all": _summary([r.latency for r in results]),
            "all_service_time": _summary([r.service for r in results]),
            "errors": len(errors),
            "error_samples": [f"{r.kind} {r.status} {r.error}" for r in errors[:10]],
            "runs": {
                "expected": expected,
                "found": found,
                "success": succeeded,
                "by_status": final["by_status"],
                "lost": max(0, expected - found),
                "extra": max(0, found - expected),
                "unfinished_or_failed": found - succeeded,
                "end_to_end": _summary(final["latencies"]),
                "drained_s_after_traffic": round(drain_s, 1),
            },
            "records_created": final["records"],
            # Each run's create_record exactly once: a task per contact, a lead per webhook.
            "db_actions_exactly_once": final["records"].get("tasks", 0) == writes + len(load.seeded)
            and final["records"].get("leads", 0) == hooks,
            # Other work on the machine skews latency: the 1-minute load average around the run.
            "machine": {
                "cpus": os.cpu_count(),
                "loadavg_1m_before": round(load_before[0], 2),
                "loadavg_1m_after": round(load_after[0], 2),
            },
            "setup": {
                "web": f"gunicorn {args.web_workers} workers x 4 threads",
                "celery": f"2 workers x {args.worker_concurrency} processes, beat",
                "database": "own PostgreSQL cluster" if cluster else "given DATABASE_URL",
                "broker": "own Redis",
            },
        }
        if report["errors"] or found != expected or succeeded != found:
            keep = True
            report["logs"] = str(work)
        return report
    except BaseException:
        print(f"[load] failed; process logs kept in {work}", flush=True)
        keep = True
        raise
    finally:
        services.close()
        redis.stop()
        if cluster is not None:
            cluster.destroy()
        if not (keep or args.keep_logs):
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of traffic")
    parser.add_argument("--rate", type=float, default=40.0, help="requests per second")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--settle-timeout", type=float, default=180.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="", help="an existing, empty database")
    parser.add_argument("--json-out", default="", help="also write the report here")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    args = parser.parse_args(argv)
    report = run(args)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    ok = report["errors"] == 0 and report["runs"]["lost"] == 0
    ok = ok and report["runs"]["extra"] == 0 and report["runs"]["unfinished_or_failed"] == 0
    ok = ok and report["db_actions_exactly_once"]
    print(f"[load] {'PASS' if ok else 'FAIL'}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
