"""Fault tests on a broker and workers the test starts itself: a Redis server of our own on a
free port, and `celery -A config worker` subprocesses against it and the test database.

Skipped on an in-memory SQLite test database (another process cannot open it)."""

from __future__ import annotations

import threading
import time

import pytest
from werkzeug import Response

from automations.models import Run
from automations.runtime import handover
from automations.runtime.relay import relay
from config.celery import app as celery_app
from devtools.processes import RedisServer, Services, await_condition, celery_worker, service_env
from tests.e2e.conftest import reset_broker_connections
from tests.factories import make_record
from tests.runtime.support import make_automation, subprocess_database_url

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def own_redis(tmp_path, engine_settings, transactional_db):
    if not RedisServer.available():
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    # This process publishes (on commit, and from the relay) to our Redis from now on.
    original = (celery_app.conf.broker_url, dict(celery_app.conf.broker_transport_options))
    celery_app.conf.broker_url = server.url
    celery_app.conf.broker_transport_options = {"visibility_timeout": 3600}
    reset_broker_connections(celery_app)
    handover._broker_down_until = 0.0
    yield server
    server.stop()
    celery_app.conf.broker_url, celery_app.conf.broker_transport_options = original
    reset_broker_connections(celery_app)
    handover._broker_down_until = 0.0


class Workers(Services):
    """Single-process Celery workers on the test's Redis and database, started one by one."""

    def __init__(self, redis_url: str, log_dir) -> None:
        super().__init__(log_dir)
        # The relay runs in this process (await_condition's tick), with this process's settings.
        self.env = service_env(
            database_url=subprocess_database_url(),
            redis_url=redis_url,
            AUTOMATIONS_RETRY_DELAYS="0.5,0.5,0.5",
        )

    def start(self):
        name = f"fault{len(self.items)}"
        worker = celery_worker(
            name, env=self.env, log_dir=self.log_dir, concurrency=1, loglevel="WARNING"
        )
        return self.add(worker).start()


@pytest.fixture
def workers(own_redis, tmp_path):
    pool = Workers(own_redis.url, tmp_path)
    yield pool
    pool.close()


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
        await_condition(
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
    first.kill()
    release.set()
    [run] = Run.objects.filter(automation=automation)
    assert (run.status, run.next_action_index) == ("running", 1)
    workers.start()
    try:
        await_condition(
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
    assert run.action_runs.get(index=1).attempt == 2
    # attempts: the tries of the action the run ended on (its last, which ran once).
    assert run.attempts == run.action_runs.order_by("-index").first().attempt == 1
    time.sleep(0.5)
    assert Run.objects.filter(automation=automation).count() == 1
