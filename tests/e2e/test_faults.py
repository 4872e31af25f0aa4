"""Fault tests on a broker and workers the test starts itself: a Redis server of our own on a
free port, and `celery -A config worker` subprocesses against it and the test database.

Skipped on an in-memory SQLite test database (another process cannot open it)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from werkzeug import Response

from automations.models import Run
from automations.runtime import runs as runs_module
from automations.runtime.relay import relay
from config.celery import app as celery_app
from tests.e2e.conftest import free_port, reset_broker_connections
from tests.factories import make_record
from tests.runtime.support import make_automation, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(django_settings.BASE_DIR)
CELERY = str(Path(sys.executable).parent / "celery")


class RedisServer:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        wait_for(lambda: _pings(client), timeout=10, message="redis to start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


def _database_url() -> str:
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(params["NAME"])
        if connection.is_in_memory_db() or not name.startswith("/"):
            pytest.skip("worker subprocesses need a database another process can open")
        return f"sqlite:///{name}"
    if connection.vendor != "postgresql":
        pytest.skip(f"no DATABASE_URL form for {connection.vendor} here")
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{params.get('HOST') or '127.0.0.1'}:{params.get('PORT') or 5432}/{params['NAME']}"


@pytest.fixture
def own_redis(tmp_path, engine_settings, transactional_db):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    # This process publishes (on commit, and from the relay) to our Redis from now on.
    original = (celery_app.conf.broker_url, dict(celery_app.conf.broker_transport_options))
    celery_app.conf.broker_url = server.url
    celery_app.conf.broker_transport_options = {"visibility_timeout": 3600}
    reset_broker_connections(celery_app)
    runs_module._broker_down_until = 0.0
    yield server
    server.stop()
    celery_app.conf.broker_url, celery_app.conf.broker_transport_options = original
    reset_broker_connections(celery_app)
    runs_module._broker_down_until = 0.0


class Workers:
    def __init__(self, redis_url: str, log_dir: Path) -> None:
        self.redis_url = redis_url
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        n = len(self.processes)
        env = {
            **os.environ,
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": _database_url(),
            "AUTOMATIONS_ALLOW_PRIVATE_URLS": "true",
            "AUTOMATIONS_RUN_LEASE": "3",
            "AUTOMATIONS_RETRY_DELAYS": "0.5,0.5,0.5",
            "LOG_LEVEL": "WARNING",
        }
        log = open(self.log_dir / f"worker{n}.log", "wb")
        process = subprocess.Popen(
            [
                CELERY,
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                "-c",
                "1",
                "-n",
                f"fault{n}-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL takes the pool child too
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))


@pytest.fixture
def workers(own_redis, tmp_path):
    pool = Workers(own_redis.url, tmp_path)
    yield pool
    pool.stop_all()


def _all_done(automation, count):
    runs = list(Run.objects.filter(automation=automation))
    return len(runs) == count and all(r.status == "success" for r in runs)


def test_records_saved_while_the_broker_is_down_all_run_once_it_is_back(tenant, own_redis, workers):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[
            {
                "type": "create_record",
                "config": {"module": "tasks", "data": {"name": "Follow up {{record.name}}"}},
            }
        ],
    )
    workers.start()
    own_redis.stop()
    for n in range(5):
        make_record(tenant, "contacts", name=f"c{n}")  # commits; the publish fails
    runs = list(Run.objects.filter(automation=automation))
    assert len(runs) == 5
    assert all(r.status == "pending" and r.dispatched_at is None for r in runs)
    own_redis.start()
    try:
        wait_for(
            lambda: _all_done(automation, 5),
            timeout=90,
            interval=0.2,
            tick=relay,
            message="every run to complete",
        )
    except AssertionError:
        print(workers.logs())
        raise
    names = sorted(r.values["name"] for r in tenant.module("tasks").records.all())
    assert names == [f"Follow up c{n}" for n in range(5)]


def test_a_worker_killed_mid_run_is_replaced_and_the_run_completes_once(
    tenant, own_redis, workers, httpserver
):
    arrived, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def receiver(request):
        calls.append(request.headers["webhook-id"])
        if len(calls) == 1:
            arrived.set()
            release.wait(timeout=60)  # hold the first worker here until it is killed
        return Response("ok")

    httpserver.expect_request("/slow").respond_with_handler(receiver)
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[
            {
                "type": "create_record",
                "config": {"module": "tasks", "data": {"name": "before {{record.name}}"}},
            },
            # Held until the worker is killed; the lease then covers 3 + 10 + 5 s.
            {"type": "call_webhook", "config": {"url": httpserver.url_for("/slow"), "timeout": 10}},
            {
                "type": "create_record",
                "config": {"module": "tasks", "data": {"name": "after {{record.name}}"}},
            },
        ],
    )
    first = workers.start()
    make_record(tenant, "contacts", name="Ada")
    assert arrived.wait(timeout=60), workers.logs()
    workers.kill(first)
    release.set()
    [run] = Run.objects.filter(automation=automation)
    assert (run.status, run.next_action_index) == ("running", 1)
    workers.start()
    try:
        wait_for(
            lambda: _all_done(automation, 1),
            timeout=90,
            interval=0.2,
            tick=relay,
            message="the run to complete on the second worker",
        )
    except AssertionError:
        print(workers.logs())
        raise
    names = sorted(r.values["name"] for r in tenant.module("tasks").records.all())
    assert names == ["after Ada", "before Ada"]  # each database action exactly once
    assert len(calls) == 2 and calls[0] == calls[1]  # the webhook at least once, same id
    run.refresh_from_db()
    assert run.attempts == 0
    assert run.action_runs.get(index=1).attempt == 2
    time.sleep(0.5)
    assert Run.objects.filter(automation=automation).count() == 1
