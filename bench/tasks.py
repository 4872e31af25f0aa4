"""The benchmark's no-op Celery task, the baseline of S2, S3 and S6 (loaded by the bench's
workers with --include=bench.tasks; never part of the product's workers)."""

from __future__ import annotations

import time

from celery import shared_task

NOOP_KEY = "bench:noop"
_client = None


def _redis():
    global _client
    if _client is None:
        import redis
        from django.conf import settings

        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


@shared_task(name="bench.noop", ignore_result=True)
def noop(tag: str = "", sent_at: float = 0.0) -> None:
    """Nothing but one Redis RPUSH, so that the benchmark can see when and how fast it ran."""
    _redis().rpush(NOOP_KEY, f"{tag}|{sent_at}|{time.time()}")
