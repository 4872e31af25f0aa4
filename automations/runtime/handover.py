"""Handing runs to workers through a Redis list, with a Celery message only to wake a worker.

Why: a Celery message per run costs more CPU than executing a one-action run, and under load
that overhead is what makes events queue up (the measurements are in bench/README.md, "Design
notes from measurements": hand-over). With Redis as the broker, runs ready to execute now
are pushed onto a list (READY); pool processes pop their ids and execute them (`drain`, the
task automations.drain_ready). A Celery message starts a drain only when no drain is on its
way to the list already:

- BELL is set while a drain message is on its way: set by whoever sends one, deleted by the
  drain that receives it before its first pop. A push that finds it set sends nothing.
- LISTENERS holds the drains that, having emptied the list, wait on it (BLPOP) for up to
  AUTOMATIONS_DRAIN_LINGER seconds for more, as the workers of Sidekiq or RQ wait on their
  queues. A push that finds one sends nothing either: a waiting drain takes the id at once,
  without a Celery message. Each entry expires on its own (its wait plus 2 s), so a process
  killed while waiting silences pushes for seconds at most. A drain that takes work stops
  listening until it has executed it.
- A drain takes one id at a time from a short list and batches only from a backlog (POP_SHARE);
  one that leaves ids behind rings for a helper (BELL), so every free pool process joins in.
- A drain gives its process back to Celery after DRAIN_BUDGET seconds, ringing for a
  successor if ids are left, so Celery's other tasks (the relay, the schedule dispatcher,
  countdowns) wait at most that long behind drains, and a warm shutdown too.

Every check-and-set above is one Lua script, atomic against the push's own: an id pushed while
BELL is set or a drain is in LISTENERS is always popped by a drain (the cases are walked
through in docs/RELIABILITY.md).

Nothing is lost when a process dies holding ids it popped, or Redis loses the list: the runs
are marked as handed over (dispatched_at), and the relay publishes them again once the mark is
AUTOMATIONS_REDISPATCH_AFTER old, as for a lost Celery message. An id popped twice runs once:
the executor locks the run's row and skips a run that is finished or taken.

Without Redis (the embedded filesystem broker) each run travels in a message of its own.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from functools import cache

from django.conf import settings

logger = logging.getLogger(__name__)

READY = "automations:ready"
BELL = "automations:ready:bell"
LISTENERS = "automations:ready:listeners"

# A bell whose drain message was lost (a broker restart) must not silence pushes for long: a
# push after it expires sends a new message. Ten seconds is far longer than a message takes to
# reach an idle worker; under a backlog the drains ring again on their own.
BELL_TTL_MS = 10_000
# How many ids a drain takes per pop: an eighth of those waiting (POP_SHARE), at least one and
# at most POP_BATCH. The ids a drain takes wait for each other (it executes them one by one),
# so from a short list it takes one at a time and every other free process can take the next:
# taking all of a few waiting ids leaves the other process listening idle while they queue
# behind each other (a latency tail). From a backlog, batches save round trips, and a
# process that dies leaves few runs to the relay.
POP_BATCH = 10
POP_SHARE = 8
# A drain returns to Celery after this long even under a steady stream (see above).
DRAIN_BUDGET = 2.0
# How long past its wait a listener's entry outlives a process killed while waiting.
LISTEN_MARGIN_MS = 2_000

# Redis's own clock, in ms, for the listeners' expiry times (every host shares it).
_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: ready, bell, listeners. ARGV: bell ttl (ms), run ids... Returns 1 when the caller must
# send a drain message.
_PUSH = (
    _NOW_MS
    + """
redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) > 0 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
"""
)

# KEYS: ready, bell. ARGV: most to take, bell ttl (ms), share. Returns {ids, ring}: ring is 1
# when ids are left behind and the caller must send a drain message for a helper.
_POP = """
local waiting = redis.call('LLEN', KEYS[1])
if waiting == 0 then return {{}, 0} end
local take = math.min(tonumber(ARGV[1]), math.max(1, math.floor(waiting / tonumber(ARGV[3]))))
local ids = redis.call('LPOP', KEYS[1], take)
if waiting > take and redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then
  return {ids, 1}
end
return {ids, 0}
"""

# KEYS: listeners. ARGV: our token, ttl (ms). Registers (or renews) us as a listener.
_LISTEN = (
    _NOW_MS
    + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
"""
)

# KEYS: ready, listeners. ARGV: our token. Stops listening; returns how many ids wait, which a
# push made while we still listened did not ring for: the caller must drain them.
_UNLISTEN = """
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('LLEN', KEYS[1])
"""


def available() -> bool:
    """Runs go through the list only when the broker is Redis."""
    return _broker_url().startswith(("redis://", "rediss://", "unix://"))


def push(run_ids: list[str]) -> bool:
    """Hand runs over for execution now; raises if Redis cannot be reached. True when this
    push sent a drain message (the others found one on its way, or a drain listening)."""
    client = _client()
    if _script(_PUSH)(keys=[READY, BELL, LISTENERS], args=[BELL_TTL_MS, *run_ids], client=client):
        return ring_now(client)
    return False


def ring_now(client) -> bool:
    """Send the drain message that BELL now says is on its way; if it cannot be sent, clear
    BELL so the next push tries again, and raise."""
    from automations.tasks import drain_ready

    try:
        drain_ready.apply_async(retry=False)
    except Exception:
        try:
            client.delete(BELL)
        except Exception:  # Redis gone too: the bell expires on its own
            logger.debug("Could not clear the drain bell", exc_info=True)
        raise
    return True


def drain(execute: Callable[[str], object], *, linger: float | None = None) -> int:
    """Pop and execute ready runs until the list stays empty for `linger` seconds or the
    budget is spent; returns how many ids were executed."""
    linger = settings.AUTOMATIONS_DRAIN_LINGER if linger is None else linger
    client = _client(blocking=True)
    client.delete(BELL)  # from here on, a push that finds no listener sends a new message
    token = f"{os.getpid()}:{time.monotonic_ns()}"
    pop = _script(_POP)
    started = time.monotonic()
    idle_since: float | None = None
    done = 0
    while True:
        ids, ring = pop(keys=[READY, BELL], args=[POP_BATCH, BELL_TTL_MS, POP_SHARE], client=client)
        if ring:
            _ring_quietly(client)
        if ids:
            idle_since = None
            done += execute_each(execute, [i.decode() for i in ids])
        left = DRAIN_BUDGET - (time.monotonic() - started)
        if left <= 0:
            # Hand the rest (if any) to a successor: a message now, unless one is on its way.
            if client.llen(READY) and client.set(BELL, "1", nx=True, px=BELL_TTL_MS):
                _ring_quietly(client)
            return done
        if ids:
            continue
        idle_since = idle_since or time.monotonic()
        wait = min(linger - (time.monotonic() - idle_since), left)
        if wait <= 0:
            return done  # lingered long enough
        got, waiting = _listen_for_ready(client, token, wait)
        if got is not None:
            idle_since = None
            done += execute_each(execute, [got[1].decode()])
        elif not waiting and time.monotonic() - idle_since >= linger:
            return done


def _listen_for_ready(client, token: str, wait: float) -> tuple[list | None, int]:
    """Wait on the list for up to `wait` seconds as a listener: (the [list, id] BLPOP got or
    None, how many ids wait once we stop listening).

    Listening, the BLPOP and stepping down are one pipeline, so one round trip: Redis runs a
    connection's commands in order and holds those behind a blocked BLPOP until it returns,
    so we step down the moment it does, with no reply to wait for in between. EVAL, not the
    scripts' EVALSHA: a redis-py pipeline asks SCRIPT EXISTS first for the scripts it holds, a
    round trip more.
    """
    pipe = client.pipeline(transaction=False)
    pipe.eval(_LISTEN, 1, LISTENERS, token, _ms(wait) + LISTEN_MARGIN_MS)
    pipe.blpop([READY], timeout=wait)
    pipe.eval(_UNLISTEN, 2, READY, LISTENERS, token)
    _, got, waiting = pipe.execute()
    return got, waiting


def execute_each(execute: Callable[[str], object], run_ids: list[str]) -> int:
    """Execute each run on its own: one that raises is logged and the others go on."""
    from django.db import close_old_connections

    for run_id in run_ids:
        try:
            execute(run_id)
        except Exception:
            # Its transaction rolled back: a database-only run is pending again (the relay
            # publishes it after AUTOMATIONS_REDISPATCH_AFTER); one with email or webhook
            # actions stays claimed until its lease expires and the relay reclaims it. A
            # broken connection is replaced before the next run.
            logger.exception("Run %s raised; going on with the others", run_id)
            close_old_connections()
    return len(run_ids)


def _ring_quietly(client) -> None:
    try:
        ring_now(client)
    except Exception:
        # BELL is cleared again: the next push rings; the relay covers the rest.
        logger.warning("Could not send a drain message", exc_info=True)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _broker_url() -> str:
    from config.celery import app

    return str(app.conf.broker_url or "")


def _client(*, blocking: bool = False):
    """A client of the broker's Redis (the list travels with the messages that wake its
    drains). Pushes fail fast, inside a record's on-commit hand-over; a drain's reads must
    outlast its longest BLPOP."""
    if blocking:
        return _redis(_broker_url(), settings.AUTOMATIONS_DRAIN_LINGER + 5)
    return _redis(_broker_url(), 1.0)


@cache
def _redis(url: str, timeout: float):
    import redis

    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=1.0)


@cache
def _script(source: str):
    """A Lua script, sent by its SHA (and loaded again if Redis restarted empty); every call
    passes the client it runs on."""
    return _client().register_script(source)
