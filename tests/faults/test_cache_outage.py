"""The API with its cache (Redis) unreachable: the rate limit steps aside instead of failing
every request (found by test_broker_outage; this is its fast, deterministic form)."""

from __future__ import annotations

import pytest

from accounts import throttling
from tests.faults.procs import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_cache(settings):
    cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
    }
    settings.CACHES = {"default": cache, "automations": {**cache, "KEY_PREFIX": "automations"}}
    throttling._cache_down_until = 0.0
    yield
    throttling._cache_down_until = 0.0


def test_api_requests_succeed_while_the_rate_limit_cache_is_unreachable(api, dead_cache):
    created = api.post("/v1/modules/contacts/records", {"name": "Ada"}, format="json")
    listed = api.get("/v1/modules/contacts/records")
    assert (created.status_code, listed.status_code) == (201, 200)
    # After one failure the throttle stops asking the dead cache for a while.
    assert throttling._cache_down_until > 0


def test_the_rate_limit_still_applies_when_the_cache_works(api, settings):
    settings.API_RATE_LIMIT = "2/min"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "automations": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    statuses = [api.get("/v1/modules/contacts/records").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
