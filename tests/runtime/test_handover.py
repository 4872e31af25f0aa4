"""The ready list (automations.runtime.handover) on the real Redis: which pushes send a drain
message, what a drain pops and executes, and when it waits, hands over and stops.

Messages are counted in the broker's own queue (the Redis list "celery"); no worker runs here,
so the drains are called in this process with a recording `execute`.
"""

from __future__ import annotations

import json
import threading

import pytest
from django.conf import settings
from redis import connection as redis_connection

from automations.runtime import handover
from devtools.processes import await_condition

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the ready list needs Redis")

QUEUE = "celery"


@pytest.fixture
def redis():
    client = handover._client(blocking=True)
    keys = [handover.READY, handover.BELL, handover.LISTENERS, QUEUE]
    client.delete(*keys)
    yield client
    client.delete(*keys)


@pytest.fixture(autouse=True)
def published(monkeypatch):
    """The runtime tests' autouse fixture of this name replaces handover.publish; these tests
    hand runs over for real, starting with no broker outage remembered."""
    monkeypatch.setattr(handover, "_broker_down_until", 0.0)


def messages(redis) -> list[str]:
    """Task names of the Celery messages waiting in the broker."""
    return [json.loads(raw)["headers"]["task"] for raw in redis.lrange(QUEUE, 0, -1)]


def ready(redis) -> list[str]:
    return [item.decode() for item in redis.lrange(handover.READY, 0, -1)]


def wait_for(condition) -> None:
    await_condition(condition, timeout=5, interval=0.01)


class Recorder:
    def __init__(self, fail: set[str] = frozenset()) -> None:
        self.ran: list[str] = []
        self.fail = fail
        self.got_one = threading.Event()

    def __call__(self, run_id: str) -> None:
        self.ran.append(run_id)
        self.got_one.set()
        if run_id in self.fail:
            raise RuntimeError(f"{run_id} failed")


def test_the_first_push_sends_one_drain_message_and_later_ones_none(redis):
    assert handover.push(["run_a"]) is True
    assert handover.push(["run_b", "run_c"]) is False
    assert messages(redis) == ["automations.drain_ready"]
    assert ready(redis) == ["run_a", "run_b", "run_c"]


def test_a_drain_executes_everything_in_order_and_a_later_push_rings_again(redis):
    handover.push([f"run_{i}" for i in range(25)])
    redis.delete(QUEUE)  # the message that started this drain
    recorder = Recorder()

    assert handover.drain(recorder, linger=0) == 25

    assert recorder.ran == [f"run_{i}" for i in range(25)]
    assert ready(redis) == []
    # The first pop left ids behind: one message for a helper, not one per pop.
    assert messages(redis) == ["automations.drain_ready"]
    redis.delete(QUEUE, handover.BELL)  # that helper started
    assert handover.push(["run_late"]) is True
    assert messages(redis) == ["automations.drain_ready"]


@pytest.mark.parametrize("waiting, taken", [(1, 1), (3, 1), (15, 1), (16, 2), (40, 5), (500, 10)])
def test_a_drain_takes_one_id_at_a_time_from_a_short_list(redis, waiting, taken):
    # Ids a drain took wait for each other: from a short list the next one is left to any other
    # free process; only a backlog is taken in batches (an eighth of it, ten at most).
    handover.push([f"run_{i}" for i in range(waiting)])
    redis.delete(QUEUE, handover.BELL)
    pop = handover._script(handover._POP)
    ids, ring = pop(
        keys=[handover.READY, handover.BELL],
        args=[handover.POP_BATCH, handover.BELL_TTL_MS, handover.POP_SHARE],
        client=redis,
    )
    assert [i.decode() for i in ids] == [f"run_{i}" for i in range(taken)]
    assert len(ready(redis)) == waiting - taken
    assert ring == (1 if waiting > taken else 0)  # ids left behind: ring for a helper


def test_the_drain_clears_the_bell_before_it_pops(redis):
    handover.push(["run_a"])
    assert redis.exists(handover.BELL)
    handover.drain(Recorder(), linger=0)
    assert not redis.exists(handover.BELL)


@pytest.mark.django_db  # after a run raises, the drain checks its database connection
def test_a_run_that_raises_does_not_stop_the_others(redis):
    handover.push(["run_a", "run_b", "run_c"])
    recorder = Recorder(fail={"run_b"})
    assert handover.drain(recorder, linger=0) == 3
    assert recorder.ran == ["run_a", "run_b", "run_c"]


def test_a_lingering_drain_takes_a_new_run_without_a_message(redis):
    recorder = Recorder()
    drain = threading.Thread(target=lambda: handover.drain(recorder, linger=5))
    drain.start()
    try:
        wait_for(lambda: redis.zcard(handover.LISTENERS) == 1)

        assert handover.push(["run_x"]) is False  # the listener takes it: no message
        assert recorder.got_one.wait(5)
        assert recorder.ran == ["run_x"]
        assert messages(redis) == []
    finally:
        drain.join(10)
    assert not drain.is_alive()
    assert not redis.exists(handover.LISTENERS)


def test_a_lingering_drain_steps_down_and_executes_with_no_round_trip_after_its_wait(
    redis, monkeypatch
):
    # Listening, the BLPOP and stepping down travel in one pipeline: once the drain is seen
    # listening it sends nothing more before executing the run it gets, and it is no longer
    # a listener by then (a push meanwhile must wake another drain).
    sends: list[str] = []
    send = redis_connection.AbstractConnection.send_packed_command

    def counting_send(self, *args, **kwargs):
        sends.append(threading.current_thread().name)
        return send(self, *args, **kwargs)

    monkeypatch.setattr(redis_connection.AbstractConnection, "send_packed_command", counting_send)
    seen: dict[str, int] = {}

    def execute(run_id: str) -> None:
        seen["sends"] = sends.count("drain")
        seen["listeners"] = redis.zcard(handover.LISTENERS)
        executed.set()

    executed = threading.Event()
    drain = threading.Thread(target=lambda: handover.drain(execute, linger=0.5), name="drain")
    drain.start()
    try:
        wait_for(lambda: redis.zcard(handover.LISTENERS) == 1)
        listening = sends.count("drain")
        assert handover.push(["run_x"]) is False
        assert executed.wait(5)
    finally:
        drain.join(10)
    assert seen == {"sends": listening, "listeners": 0}


def _listen_as(redis, token: str, ms: int = 60_000) -> None:
    listen = handover._script(handover._LISTEN)
    listen(keys=[handover.LISTENERS], args=[token, ms], client=redis)


def test_ids_pushed_while_the_listener_gives_up_are_drained_not_stranded(redis):
    # The moment between the listener's BLPOP timing out and it stepping down: a push then
    # finds the listener and sends nothing, so stepping down must report the id waiting.
    _listen_as(redis, "pid:1")
    assert handover.push(["run_y"]) is False
    unlisten = handover._script(handover._UNLISTEN)
    assert unlisten(keys=[handover.READY, handover.LISTENERS], args=["pid:1"], client=redis) == 1
    assert not redis.exists(handover.LISTENERS)
    recorder = Recorder()
    handover.drain(recorder, linger=0)
    assert recorder.ran == ["run_y"]


def test_two_lingering_drains_take_new_runs_without_messages(redis):
    recorders = [Recorder(), Recorder()]
    drains = [threading.Thread(target=lambda r=r: handover.drain(r, linger=5)) for r in recorders]
    for drain in drains:
        drain.start()
    try:
        wait_for(lambda: redis.zcard(handover.LISTENERS) == 2)
        assert handover.push(["run_1"]) is False
        assert handover.push(["run_2"]) is False
        wait_for(lambda: sum(len(r.ran) for r in recorders) == 2)
    finally:
        for drain in drains:
            drain.join(10)
    assert sorted(r.ran[0] for r in recorders) == ["run_1", "run_2"]  # one each
    assert messages(redis) == []


def test_a_listener_of_a_dead_process_silences_pushes_only_until_it_expires(redis):
    _listen_as(redis, "pid:dead", ms=50)
    assert handover.push(["run_a"]) is False
    expires_ms = redis.zscore(handover.LISTENERS, "pid:dead")
    wait_for(lambda: _redis_now_ms(redis) > expires_ms)  # by Redis's clock, as the script reads
    assert handover.push(["run_b"]) is True
    assert messages(redis) == ["automations.drain_ready"]
    assert ready(redis) == ["run_a", "run_b"]


def _redis_now_ms(redis) -> float:
    seconds, micros = redis.time()
    return seconds * 1000 + micros // 1000


def test_a_drain_past_its_budget_hands_the_rest_to_a_successor(redis, monkeypatch):
    monkeypatch.setattr(handover, "DRAIN_BUDGET", 0.0)
    handover.push([f"run_{i}" for i in range(25)])
    redis.delete(QUEUE, handover.BELL)
    recorder = Recorder()

    # One pop (an eighth of 25: 3), then the budget is spent.
    assert handover.drain(recorder, linger=5) == 3

    assert ready(redis) == [f"run_{i}" for i in range(3, 25)]
    assert messages(redis) == ["automations.drain_ready"]


def test_a_failed_drain_message_clears_the_bell_so_the_next_push_tries_again(redis, monkeypatch):
    from automations.tasks import drain_ready

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(drain_ready, "apply_async", broker_down)
    with pytest.raises(ConnectionError):
        handover.push(["run_a"])
    assert not redis.exists(handover.BELL)
    assert ready(redis) == ["run_a"]  # harmless: the relay publishes the run again


def test_publish_uses_the_list_for_runs_due_now_and_a_message_for_later_ones(redis):
    assert handover.publish(["run_now"]) is True
    assert handover.publish(["run_later"], countdown=30) is True
    assert handover.publish(["run_1", "run_2"]) is True

    assert ready(redis) == ["run_now", "run_1", "run_2"]
    assert sorted(messages(redis)) == ["automations.drain_ready", "automations.execute_run"]


@pytest.fixture
def dead_broker():
    """The broker (and so the ready list) on a port nobody listens on, then back."""
    from config.celery import app
    from tests.e2e.conftest import free_port, reset_broker_connections

    original = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    reset_broker_connections(app)
    yield
    app.conf.broker_url = original
    reset_broker_connections(app)


def test_an_unreachable_broker_pauses_publishing_but_not_the_relay(redis, dead_broker):
    from config.celery import app

    assert handover.publish(["run_a"]) is False  # logged; the run stays for the relay
    assert handover._broker_down_until > 0

    app.conf.broker_url = settings.CELERY_BROKER_URL  # Redis is back
    # On-commit publishing does not try again for BROKER_BACKOFF seconds...
    assert handover.publish(["run_b"]) is False
    assert ready(redis) == []
    # ...the relay does, and a success ends the pause.
    assert handover.publish(["run_c"], force=True) is True
    assert ready(redis) == ["run_c"]
    assert handover._broker_down_until == 0.0
    assert handover.publish(["run_d"]) is True


@pytest.mark.django_db
def test_a_bulk_hand_over_with_the_broker_down_leaves_every_run_to_the_relay(
    redis, dead_broker, tenant, django_capture_on_commit_callbacks
):
    from automations.models import Run
    from records.services import records_bulk_update
    from tests.factories import make_record
    from tests.runtime.support import make_automation

    automation = make_automation(
        tenant,
        trigger={"type": "field.changed", "module": "contacts", "field": "status"},
        actions=[{"type": "update_record", "config": {"updates": {"name": "seen"}}}],
    )
    for n in range(3):
        make_record(tenant, "contacts", name=f"C{n}")

    # On commit, dispatch_many marks each batch, fails to push it, and undoes the mark.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        records_bulk_update(
            module=tenant.module("contacts"), records_or_filter={}, data={"status": "x"}
        )
    assert callbacks  # the hand-over ran

    runs = Run.objects.filter(automation=automation)
    assert runs.count() == 3
    assert not runs.filter(dispatched_at__isnull=False).exists()  # the relay publishes them
    assert ready(redis) == [] and messages(redis) == []


@pytest.mark.django_db
def test_the_relay_hands_every_due_run_over_in_one_push(redis, tenant, monkeypatch):
    from automations.models import Run
    from automations.runtime.relay import relay
    from tests.factories import make_record
    from tests.runtime.support import make_automation

    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[{"type": "update_record", "config": {"updates": {"name": "seen"}}}],
    )
    for n in range(5):
        make_record(tenant, "contacts", name=f"C{n}")
    # As if their publish after commit had failed: pending, unmarked, left to the relay.
    Run.objects.filter(automation=automation).update(dispatched_at=None)
    due = list(
        Run.objects.filter(automation=automation).order_by("due_at").values_list("id", flat=True)
    )
    assert len(due) == 5 and ready(redis) == []
    pushes: list[list[str]] = []
    real_push = handover.push
    monkeypatch.setattr(handover, "push", lambda ids: pushes.append(list(ids)) or real_push(ids))

    assert relay()["published"] == 5

    assert pushes == [due]
    assert ready(redis) == due
    assert messages(redis) == ["automations.drain_ready"]  # one message wakes a drain
    assert not Run.objects.filter(automation=automation, dispatched_at__isnull=True).exists()
