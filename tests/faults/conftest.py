"""Fixtures for the fault tests: a Redis of the test's own, Celery workers and beat as
subprocesses (devtools.processes), a slow local webhook receiver, and an audit of every write
to the records table, made by a database trigger, so a database action applied twice cannot
hide behind an idempotent value.

This process publishes to the test's Redis and uses it as its cache, exactly like the
subprocesses, so stopping that Redis is a broker and cache outage for everyone.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from accounts import throttling
from automations import ratelimit
from automations.models import Run
from automations.runtime import handover, matching
from automations.runtime.periodic import setup_periodic_tasks
from automations.runtime.runs import trigger_data_for
from config.celery import app as celery_app
from devtools.processes import (
    RedisServer,
    Service,
    Services,
    await_condition,
    celery_beat,
    celery_worker,
    service_env,
)
from tests.e2e.conftest import reset_broker_connections
from tests.runtime.support import make_automation, subprocess_database_url


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def postgres_only(transactional_db):
    # Worker subprocesses share the test database, and the write audit is a PL/pgSQL trigger.
    if connection.vendor != "postgresql":
        pytest.skip("fault tests with worker subprocesses run on PostgreSQL (DATABASE_URL)")


@pytest.fixture
def fault_settings(settings):
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = True  # the receivers here live on 127.0.0.1
    settings.AUTOMATIONS_RELAY_INTERVAL = 1.0
    settings.AUTOMATIONS_REDISPATCH_AFTER = 5.0
    settings.AUTOMATIONS_RUN_LEASE = 3
    settings.AUTOMATIONS_RETRY_DELAYS = [0.5] * 5
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings


@pytest.fixture
def own_redis(tmp_path, fault_settings, postgres_only):
    """A redis-server of the test's own; this process's broker and cache point at it."""
    if not RedisServer.available():
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    cache = {"BACKEND": "config.cache.RedisCache", "LOCATION": server.url}
    fault_settings.CACHES = {
        "default": cache,
        "automations": {**cache, "KEY_PREFIX": "automations"},
    }
    original = (celery_app.conf.broker_url, dict(celery_app.conf.broker_transport_options))
    celery_app.conf.broker_url = server.url
    celery_app.conf.broker_transport_options = {"visibility_timeout": 3600}
    reset_broker_connections(celery_app)
    _forget_outages()
    matching.clear()
    yield server
    server.stop()
    celery_app.conf.broker_url, celery_app.conf.broker_transport_options = original
    reset_broker_connections(celery_app)
    _forget_outages()
    matching.clear()


def _forget_outages() -> None:
    """An outage in one test must not leave this process backing off in the next."""
    handover._broker_down_until = 0.0
    matching._cache_down_until = 0.0
    throttling._guard.reset()
    ratelimit._guard.reset()


@pytest.fixture
def services(request, tmp_path):
    """Every subprocess the test starts; stopped at teardown, logs printed if it failed."""
    pool = Services(tmp_path)
    yield pool
    pool.close()
    report = getattr(request.node, "rep_call", None)
    if (report is not None and report.failed) or os.environ.get("FAULTS_PRINT_LOGS"):
        print(pool.logs())


class Stack:
    """Workers and beat against the test database and the test's Redis."""

    def __init__(self, services: Services, *, database_url: str, redis_url: str) -> None:
        self.services = services
        self.env = service_env(database_url=database_url, redis_url=redis_url)
        self.workers: list[Service] = []
        self.beat: Service | None = None

    def worker(self, concurrency: int = 2) -> Service:
        name = f"worker{len(self.workers)}"
        service = celery_worker(
            name, env=self.env, log_dir=self.services.log_dir, concurrency=concurrency
        )
        self.workers.append(self.services.add(service))
        return service.start()

    def start_beat(self) -> Service:
        if self.beat is None:
            self.beat = self.services.add(
                celery_beat("beat", env=self.env, log_dir=self.services.log_dir)
            )
        return self.beat.start()

    def logs(self) -> str:
        return self.services.logs()


@pytest.fixture
def stack(own_redis, services, fault_settings):
    """Workers and a beat (relay every second) on the test database and the test's Redis."""
    setup_periodic_tasks()  # with AUTOMATIONS_RELAY_INTERVAL = 1 from fault_settings
    return Stack(services, database_url=subprocess_database_url(), redis_url=own_redis.url)


class Receiver:
    """A threaded HTTP receiver on 127.0.0.1 that takes `delay` seconds to answer and keeps
    every webhook-id it was sent (a killed worker's request is still answered, to no one)."""

    def __init__(self, server: HTTPServer, delay: float) -> None:
        self.server = server
        self.delay = delay
        self.ids: list[str] = []
        self.in_flight = 0
        self.ports: set[int] = set()  # client ports of the requests being answered
        self._lock = threading.Lock()
        server.expect_request("/hook").respond_with_handler(self._handle)

    def _handle(self, request: Request) -> Response:
        port = int(request.environ.get("REMOTE_PORT") or 0)
        with self._lock:
            self.ids.append(request.headers.get("webhook-id", ""))
            self.in_flight += 1
            self.ports.add(port)
        try:
            time.sleep(self.delay)  # the slow external service the worker waits on
        finally:
            with self._lock:
                self.in_flight -= 1
                self.ports.discard(port)
        return Response("ok")

    def client_ports(self) -> list[int]:
        with self._lock:
            return list(self.ports)

    @property
    def url(self) -> str:
        return self.server.url_for("/hook")

    def counts(self) -> Counter:
        with self._lock:
            return Counter(self.ids)


@pytest.fixture
def slow_receiver():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield Receiver(server, delay=0.3)
    server.clear()
    server.stop()


class RecordAudit:
    """One row per INSERT or UPDATE of records_record, written by a trigger in the same
    transaction as the write: a database action that ran twice shows as two rows even when
    it wrote the same values."""

    def install(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS fault_record_audit ("
                " id bigserial PRIMARY KEY, record_id text NOT NULL, op text NOT NULL)"
            )
            cursor.execute(
                "CREATE OR REPLACE FUNCTION fault_record_audit_fn() RETURNS trigger AS $$ BEGIN"
                " INSERT INTO fault_record_audit (record_id, op) VALUES (NEW.id, TG_OP);"
                " RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute("DROP TRIGGER IF EXISTS fault_record_audit_trg ON records_record")
            cursor.execute(
                "CREATE TRIGGER fault_record_audit_trg AFTER INSERT OR UPDATE ON records_record"
                " FOR EACH ROW EXECUTE FUNCTION fault_record_audit_fn()"
            )

    def remove(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS fault_record_audit_trg ON records_record")
            cursor.execute("DROP FUNCTION IF EXISTS fault_record_audit_fn()")
            cursor.execute("DROP TABLE IF EXISTS fault_record_audit")

    def updates(self, record_ids: list[str]) -> Counter:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT record_id, count(*) FROM fault_record_audit"
                " WHERE op = 'UPDATE' AND record_id = ANY(%s) GROUP BY record_id",
                [list(record_ids)],
            )
            return Counter(dict(cursor.fetchall()))


@pytest.fixture
def record_audit(postgres_only):
    audit = RecordAudit()
    audit.install()
    yield audit
    audit.remove()


class Sentinel:
    """Proof that the relay has ticked: a run written straight to the table, never published
    on commit, so only the relay (beat -> relay task -> broker -> worker) can get it done."""

    def __init__(self, tenant) -> None:
        self.tenant = tenant
        self.automation = make_automation(
            tenant,
            name="relay sentinel",
            trigger={"type": "manual", "module": "leads"},
            actions=[
                {"type": "create_record", "config": {"module": "leads", "data": {"name": "tick"}}}
            ],
        )

    def prove_relay_tick(self, *, timeout: float = 60.0, on_timeout=None) -> None:
        run = Run.objects.create(
            automation=self.automation,
            workspace_id=self.automation.workspace_id,
            version=self.automation.version,
            status=Run.Status.PENDING,
            trigger_data=trigger_data_for(event="manual"),
            due_at=timezone.now(),
        )
        await_condition(
            lambda: Run.objects.filter(id=run.id, status=Run.Status.SUCCESS).exists(),
            timeout=timeout,
            message="the relay to publish a run only it knows about",
            on_timeout=on_timeout,
        )


@pytest.fixture
def sentinel(tenant) -> Sentinel:
    return Sentinel(tenant)
