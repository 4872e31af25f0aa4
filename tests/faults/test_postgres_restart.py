"""Restart PostgreSQL under load.

The test starts a PostgreSQL cluster of its own (initdb into a temporary folder, pg_ctl on a
free port, as the postgres OS user when run as root), its own Redis, two Celery workers, beat,
and two writer processes (tests.faults.agent) that create contacts through records.services.
Every contact starts a run whose second action waits 0.3 s on a local webhook receiver. While
writers write and runs run, the server is restarted twice: `pg_ctl restart -m fast` (every
connection cut) and `-m immediate` (a crash: no shutdown checkpoint, crash recovery on start).

No Django database is used in this process: it checks the cluster with plain SQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter

import psycopg
import pytest

from devtools.processes import (
    BASE_DIR,
    PostgresCluster,
    RedisServer,
    Service,
    await_condition,
    celery_beat,
    celery_worker,
    manage,
    service_env,
)
from tests.faults.conftest import Receiver

pytestmark = [pytest.mark.worker, pytest.mark.slow]

WRITERS = 2
PER_WRITER = 80
TOTAL = WRITERS * PER_WRITER

AUDIT_SQL = [
    "CREATE TABLE fault_record_audit ("
    " id bigserial PRIMARY KEY, record_id text NOT NULL, op text NOT NULL)",
    "CREATE FUNCTION fault_record_audit_fn() RETURNS trigger AS $$ BEGIN"
    " INSERT INTO fault_record_audit (record_id, op) VALUES (NEW.id, TG_OP);"
    " RETURN NEW; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER fault_record_audit_trg AFTER INSERT OR UPDATE ON records_record"
    " FOR EACH ROW EXECUTE FUNCTION fault_record_audit_fn()",
]


class Database:
    """Plain SQL against the test's cluster; None (not an error) while it is restarting."""

    def __init__(self, url: str) -> None:
        self.url = url

    def rows(self, sql: str, params: tuple = ()) -> list[tuple] | None:
        try:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=3) as conn:
                return conn.execute(sql, params).fetchall()
        except psycopg.OperationalError:
            return None

    def value(self, sql: str, params: tuple = ()):
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def successes(self, automation_id: str) -> int:
        return (
            self.value(
                "SELECT count(*) FROM automations_run WHERE automation_id = %s"
                " AND status = 'success'",
                (automation_id,),
            )
            or 0
        )


def _json_tail(service: Service) -> dict:
    lines = [line for line in service.log_text().splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


@pytest.fixture
def cluster():
    ok, why = PostgresCluster.available()
    if not ok:
        pytest.skip(why)
    pg = PostgresCluster()
    pg.init()
    pg.start()
    yield pg
    pg.destroy()


@pytest.fixture
def redis_server(tmp_path):
    if not RedisServer.available():
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def _agent(env: dict, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tests.faults.agent", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=BASE_DIR,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_postgres_restarted_twice_under_load_loses_no_run_and_applies_nothing_twice(
    cluster, redis_server, services, slow_receiver: Receiver
):
    url = cluster.create_database("faults")
    env = service_env(database_url=url, redis_url=redis_server.url)
    manage(["migrate", "--noinput"], env=env)  # also creates beat's relay task (every 1 s)
    db = Database(url)
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in AUDIT_SQL:
            conn.execute(statement)
    ids = _agent(env, "setup", "--hook", slow_receiver.url)
    automation_id = ids["automation_id"]

    log_dir = services.log_dir
    for n in range(2):
        services.add(celery_worker(f"worker{n}", env=env, log_dir=log_dir, concurrency=2)).start()
    services.add(celery_beat("beat", env=env, log_dir=log_dir)).start()
    writers = [
        services.add(
            Service(
                f"writer{n}",
                [sys.executable, "-m", "tests.faults.agent", "write", "--prefix", f"w{n}",
                 "--count", str(PER_WRITER), "--pause", "0.05"],
                env=env,
                log_dir=log_dir,
            )
        ).start()
        for n in range(WRITERS)
    ]  # fmt: skip
    started = time.monotonic()

    restarts = []
    for mode, after in (("fast", 15), ("immediate", 60)):
        await_condition(
            lambda after=after: (
                db.successes(automation_id) >= after and slow_receiver.in_flight > 0
            ),
            timeout=180,
            interval=0.02,
            message=f"{after} runs done and one in flight",
            on_timeout=services.logs,
        )
        writing = any(w.alive for w in writers)
        running = db.value("SELECT count(*) FROM automations_run WHERE status = 'running'")
        t0 = time.monotonic()
        cluster.restart(mode)
        restarts.append(
            {"mode": mode, "down_s": round(time.monotonic() - t0, 2), "runs_running": running,
             "writers_writing": writing}
        )  # fmt: skip
    last_restart = time.monotonic()

    await_condition(
        lambda: not any(w.alive for w in writers),
        timeout=180,
        message="the writers to finish",
        on_timeout=services.logs,
    )
    assert [w.process is None or w.process.returncode for w in writers] == [0] * WRITERS, (
        services.logs()
    )
    summaries = [_json_tail(w) for w in writers]
    await_condition(
        lambda: db.successes(automation_id) == TOTAL,
        timeout=240,
        interval=0.25,
        message=f"all {TOTAL} runs to succeed",
        on_timeout=services.logs,
    )
    recovered = time.monotonic() - last_restart
    elapsed = time.monotonic() - started
    sentinel = _agent(env, "sentinel")["run_id"]
    await_condition(
        lambda: (
            db.value("SELECT status FROM automations_run WHERE id = %s", (sentinel,)) == "success"
        ),
        timeout=60,
        message="the relay to publish a run only it knows about",
        on_timeout=services.logs,
    )

    # Every contact exactly once, each with exactly one run, all successful.
    names = Counter(
        name
        for (name,) in db.rows(
            "SELECT r.values->>'name' FROM records_record r JOIN records_module m"
            " ON m.id = r.module_id WHERE m.slug = 'contacts'"
        )
    )
    expected = Counter(f"w{w}-{n:03}" for w in range(WRITERS) for n in range(PER_WRITER))
    assert names == expected
    runs = db.rows(
        "SELECT id, status, record_id FROM automations_run WHERE automation_id = %s",
        (automation_id,),
    )
    assert len(runs) == TOTAL
    assert {status for _, status, _ in runs} == {"success"}
    assert len({record for _, _, record in runs}) == TOTAL
    # Database actions exactly once: one UPDATE per contact, one task per contact.
    updates = db.rows(
        "SELECT a.record_id, count(*) FROM fault_record_audit a JOIN automations_run r"
        " ON r.record_id = a.record_id WHERE a.op = 'UPDATE' AND r.automation_id = %s"
        " GROUP BY a.record_id",
        (automation_id,),
    )
    assert len(updates) == TOTAL and {count for _, count in updates} == {1}
    tasks = Counter(
        name
        for (name,) in db.rows(
            "SELECT r.values->>'name' FROM records_record r JOIN records_module m"
            " ON m.id = r.module_id WHERE m.slug = 'tasks'"
        )
    )
    assert tasks == Counter(f"after {name}" for name in expected)
    # The webhook at least once per run, repeats with the first try's webhook-id.
    deliveries = slow_receiver.counts()
    assert set(deliveries) == {f"{run_id}_1" for run_id, _, _ in runs}
    resumed = db.value("SELECT count(DISTINCT run_id) FROM automations_actionrun WHERE attempt > 1")
    print(
        f"\nFAULTS postgres restarts: restarts={restarts} runs={TOTAL} success={TOTAL} "
        f"duplicate_db_writes=0 writer_db_errors={sum(s['errors'] for s in summaries)} "
        f"writes_committed_despite_error={sum(s['found_after_error'] for s in summaries)} "
        f"webhook_deliveries={sum(deliveries.values())} distinct_webhook_ids={len(deliveries)} "
        f"runs_resumed={resumed} recovery_after_last_restart_s={recovered:.1f} "
        f"total_s={elapsed:.1f}"
    )
