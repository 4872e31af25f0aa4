"""Rate limits kept in the Django cache (Redis in production, so every web process shares them):
the API's per-key limit (accounts.throttling), the inbound webhooks' per-automation limit
(automations.ratelimit) and the failed sign-ins' limits (accounts.login_throttle) count the same
way, here.

A fixed window: at most N hits per calendar window of the rate's period (a client may send N at
the end of one window and N more at the start of the next); over it the caller gets 429 in the
API's error shape (`rate_limited`) with Retry-After set to the seconds left in the window. One
hit is one Redis round trip (a counter), where DRF's own throttle read and rewrote the list of
every request time in the window (up to N of them, pickled) and could lose counts between two
concurrent requests. Rates use DRF's syntax: "120/min", "10/sec", "1000/hour", "5000/day"; an
empty rate turns the limit off. While the cache cannot be reached the limit is not applied
(config.cache_guard).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import Throttled

from config.cache_guard import FailOpen
from config.env import RATE_PATTERN

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds


@dataclass(frozen=True)
class Hit:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window ends (0 when allowed)


def parse_rate(value: str | None) -> Rate | None:
    """'120/min' -> Rate(120, 60); '' or None -> None (no limit)."""
    if value is None or not value.strip():
        return None
    match = RATE_PATTERN.fullmatch(value.strip())
    if match is None:
        raise ImproperlyConfigured(
            f"Rate {value!r} is not valid; use N/sec, N/min, N/hour or N/day, e.g. 120/min"
        )
    return Rate(limit=int(match.group(1)), period=_PERIODS[match.group(2)[0]])


def _window(key: str, rate: Rate, now: float | None) -> tuple[str, float]:
    """The cache key of the window `now` falls in, and the seconds until it ends."""
    now = time.time() if now is None else now
    window = int(now // rate.period)
    return f"ratelimit:{key}:{rate.period}:{window}", (window + 1) * rate.period - now


def hit(key: str, rate: Rate, *, now: float | None = None) -> Hit:
    """Count one hit against `key` and say whether it is within `rate`."""
    cache_key, ends_in = _window(key, rate, now)
    count = _count(cache_key, timeout=rate.period + 1)
    if count <= rate.limit:
        return Hit(allowed=True, count=count, retry_after=0)
    return Hit(allowed=False, count=count, retry_after=max(1, math.ceil(ends_in)))


def unhit(key: str, rate: Rate, *, now: float) -> None:
    """Take back a hit made at `now` (for limits that count only some outcomes: a sign-in
    reserves its attempt with hit() before the password is checked, atomically, then gives it
    back if it succeeded)."""
    cache_key, _ = _window(key, rate, now)
    try:
        cache.decr(cache_key)
    except ValueError:  # the window already expired: nothing left to take back
        pass


def _count(cache_key: str, *, timeout: int) -> int:
    """Add one to the window's counter (created with `timeout` when missing); the new count."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # One round trip instead of Django's three (add: SET NX; incr: EXISTS, INCRBY): the
        # same SET NX and INCR in one MULTI/EXEC, so the counter cannot expire in between.
        # The key and the integer value are what cache.add()/incr()/get() use and read.
        full_key = backend.make_and_validate_key(cache_key)
        pipe = backend._cache.get_client(full_key, write=True).pipeline(transaction=True)
        pipe.set(full_key, 0, ex=timeout, nx=True)
        pipe.incr(full_key)
        return int(pipe.execute()[1])
    # add() then incr() is atomic on the local-memory cache (a lock).
    cache.add(cache_key, 0, timeout=timeout)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr: this hit opens a new window
        cache.set(cache_key, 1, timeout=timeout)
        return 1


def enforce(key: str, rate_setting: str | None, what: str, *, guard: FailOpen) -> None:
    """Raise DRF's Throttled (429, Retry-After, `rate_limited`) when `key` is over the rate.
    `guard` lets the request through while the cache is unreachable."""
    rate = parse_rate(rate_setting)
    if rate is None or rate_setting is None:
        return
    result = guard.call(lambda: hit(key, rate), when_down=Hit(allowed=True, count=0, retry_after=0))
    if not result.allowed:
        raise Throttled(
            wait=result.retry_after, detail=f"Too many {what} (limit {rate_setting.strip()})."
        )
