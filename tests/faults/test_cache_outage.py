"""The API with its cache (Redis) unreachable: the rate limit steps aside instead of failing
every request (found by test_broker_outage; this is its fast, deterministic form)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from accounts import throttling
from automations import ratelimit
from automations.runtime import matching
from automations.services import automation_create, automation_set_enabled
from devtools.processes import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_cache(settings):
    cache = {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
    }
    settings.CACHES = {"default": cache, "automations": {**cache, "KEY_PREFIX": "automations"}}
    throttling._guard.reset()
    ratelimit._guard.reset()
    yield
    # The dead cache also put the engine's matching index into its back-off: undo all of it,
    # or the next tests in this process would run without the shared cache.
    throttling._guard.reset()
    ratelimit._guard.reset()
    matching.clear()


def test_api_requests_succeed_while_the_rate_limit_cache_is_unreachable(api, dead_cache):
    created = api.post("/v1/modules/contacts/records", {"name": "Ada"}, format="json")
    listed = api.get("/v1/modules/contacts/records")
    assert (created.status_code, listed.status_code) == (201, 200)
    # After one failure the throttle stops asking the dead cache for a while.
    assert throttling._guard.is_down


def test_inbound_webhooks_are_accepted_while_the_rate_limit_cache_is_unreachable(
    tenant, dead_cache, client
):
    automation = automation_create(
        workspace=tenant.workspace,
        user=tenant.user,
        data={
            "name": "Hook",
            "trigger": {"type": "webhook", "webhook_path": "in"},
            "actions": [{"type": "delay", "config": {"duration": 1, "unit": "seconds"}}],
        },
    )
    automation_set_enabled(automation=automation, enabled=True)
    response = client.post(
        f"/v1/webhooks/{automation.id}/in", {"a": 1}, content_type="application/json"
    )
    assert response.status_code == 202
    assert ratelimit._guard.is_down


def test_the_rate_limit_still_applies_when_the_cache_works(api, settings):
    settings.API_RATE_LIMIT = "2/min"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "automations": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    with time_machine.travel(datetime(2030, 1, 1, 12, 0, 15, tzinfo=UTC), tick=False):
        statuses = [api.get("/v1/modules/contacts/records").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
