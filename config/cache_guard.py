"""Cache-backed checks (rate limits) that fail open while the cache is unreachable.

A Redis outage must not turn every request into a 500: records and their runs only need the
database. After one failure the check is skipped for `backoff` seconds, because reaching a dead
Redis costs client retries that every request would otherwise pay.
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")


class FailOpen:
    def __init__(self, name: str, backoff: float = 30.0) -> None:
        self.name = name
        self.backoff = backoff
        self._down_until = 0.0

    @property
    def is_down(self) -> bool:
        return time.monotonic() < self._down_until

    def reset(self) -> None:
        self._down_until = 0.0

    def call(self, check: Callable[[], T], *, when_down: T) -> T:
        if time.monotonic() < self._down_until:
            return when_down
        try:
            return check()
        except Exception:  # the cache backend's own connection errors (redis-py's, ...)
            self._down_until = time.monotonic() + self.backoff
            logger.warning(
                "%s: cache unreachable; not applied for %ss", self.name, self.backoff, exc_info=True
            )
            return when_down
