"""POST /v1/webhooks/{automation_id}/{webhook_path}."""

import base64
import json
import time
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from automations.models import InboundDelivery, Run
from tests.runtime.support import drain, make_automation

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def _hook(tenant, *, secret="", enabled=True):
    extra = {"webhook_secret": secret} if secret else {}
    return make_automation(
        tenant,
        trigger={"type": "webhook", "webhook_path": "orders"},
        enabled=enabled,
        actions=[
            {
                "type": "create_record",
                "config": {
                    "module": "tasks",
                    "data": {
                        "name": "Order {{webhook.body.order.id}} via {{webhook.headers.x-source}}"
                        " ({{webhook.query.mode}})"
                    },
                },
            }
        ],
        **extra,
    )


def _url(automation, path="orders", query=""):
    return f"/v1/webhooks/{automation.id}/{path}{query}"


def _signed_headers(body: str, *, msg_id="msg_1", when=None):
    when = when or datetime.now(UTC)
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(when.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": Webhook(SECRET).sign(msg_id, when, body),
    }


def test_a_json_webhook_answers_202_with_the_log_id_and_runs(tenant):
    automation = _hook(tenant)
    response = APIClient().post(
        _url(automation, query="?mode=live"),
        data=json.dumps({"order": {"id": 42}}),
        content_type="application/json",
        HTTP_X_SOURCE="shop",
    )
    assert response.status_code == 202
    run = Run.objects.get(id=response.json()["data"]["log_id"])
    assert run.trigger_data["webhook"]["body"] == {"order": {"id": 42}}
    drain()
    assert tenant.module("tasks").records.get().values["name"] == "Order 42 via shop (live)"


def test_a_form_body_is_accepted(tenant):
    automation = _hook(tenant)
    response = APIClient().post(
        _url(automation),
        data="order=7&tag=a&tag=b",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 202
    run = Run.objects.get()
    assert run.trigger_data["webhook"]["body"] == {"order": "7", "tag": ["a", "b"]}


def test_an_unknown_path_or_a_disabled_automation_is_404(tenant):
    automation = _hook(tenant)
    assert APIClient().post(_url(automation, "other"), {}, format="json").status_code == 404
    disabled = make_automation(
        tenant,
        trigger={"type": "webhook", "webhook_path": "off"},
        enabled=False,
        actions=[{"type": "delay", "config": {"duration": 1, "unit": "seconds"}}],
    )
    response = APIClient().post(_url(disabled, "off"), {}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_body_over_the_limit_is_413(tenant, settings):
    settings.AUTOMATIONS_WEBHOOK_MAX_BYTES = 1024
    automation = _hook(tenant)
    response = APIClient().post(
        _url(automation), data=json.dumps({"x": "y" * 2000}), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not Run.objects.exists()


def test_invalid_json_is_400(tenant):
    automation = _hook(tenant)
    response = APIClient().post(_url(automation), data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_a_signed_webhook_is_accepted(tenant):
    automation = _hook(tenant, secret=SECRET)
    body = json.dumps({"order": {"id": 1}})
    response = APIClient().post(
        _url(automation), data=body, content_type="application/json", **_signed_headers(body)
    )
    assert response.status_code == 202
    assert "webhook-signature" not in Run.objects.get().trigger_data["webhook"]["headers"]


@pytest.mark.parametrize("problem", ["missing", "wrong", "old"])
def test_a_bad_or_missing_signature_is_401(tenant, problem):
    automation = _hook(tenant, secret=SECRET)
    body = json.dumps({"order": {"id": 1}})
    headers = {
        "missing": {},
        "wrong": _signed_headers(body + " "),
        "old": _signed_headers(body, when=datetime.fromtimestamp(time.time() - 600, UTC)),
    }[problem]
    response = APIClient().post(
        _url(automation), data=body, content_type="application/json", **headers
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not Run.objects.exists()


def test_a_replayed_webhook_id_runs_once(tenant):
    automation = _hook(tenant, secret=SECRET)
    body = json.dumps({"order": {"id": 1}})
    first = APIClient().post(
        _url(automation),
        data=body,
        content_type="application/json",
        **_signed_headers(body, msg_id="msg_same"),
    )
    again = APIClient().post(
        _url(automation),
        data=body,
        content_type="application/json",
        **_signed_headers(body, msg_id="msg_same"),
    )
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json()["data"]["log_id"] == first.json()["data"]["log_id"]
    assert again.json()["data"]["duplicate"] is True
    assert Run.objects.count() == 1
    assert InboundDelivery.objects.get().webhook_id == "msg_same"


def test_no_api_key_is_needed_and_a_wrong_method_is_refused(tenant):
    automation = _hook(tenant)
    assert APIClient().get(_url(automation)).status_code == 405


def test_an_unsupported_content_type_is_415(tenant):
    automation = _hook(tenant)
    response = APIClient().post(_url(automation), data="<xml/>", content_type="application/xml")
    assert response.status_code == 415
    assert not Run.objects.exists()


def test_a_delivery_costs_two_statements_and_is_published_after_commit(
    tenant, published, django_capture_on_commit_callbacks
):
    """The automation's lookup and the run's INSERT, which also marks it as handed over (no
    UPDATE of dispatched_at afterwards, no transaction around the one write)."""
    automation = _hook(tenant)
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = APIClient().post(_url(automation), data="{}", content_type="application/json")
    assert response.status_code == 202
    run = Run.objects.get(id=response.json()["data"]["log_id"])
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SELECT", "INSERT"]
    assert (run.status, run.dispatched_at) == ("pending", run.due_at)
    assert published == [(run.id, None)]


def test_a_delivery_whose_publish_fails_is_left_to_the_relay(
    tenant, published, django_capture_on_commit_callbacks
):
    from automations.runtime.relay import relay

    automation = _hook(tenant)
    published.reachable = False
    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post(_url(automation), data="{}", content_type="application/json")
    assert response.status_code == 202
    run = Run.objects.get(id=response.json()["data"]["log_id"])
    assert (run.status, run.dispatched_at) == ("pending", None)  # the mark was undone
    published.reachable = True  # the broker is back for the relay
    assert relay()["published"] == 1
    assert published == [(run.id, None)]


def test_concurrent_hits_are_each_counted_once(tenant):
    # The API's limit used DRF's throttle, which read the window's request times and wrote
    # them back: two requests at once could both pass on the same count.
    from concurrent.futures import ThreadPoolExecutor

    from config.ratelimit import Rate, hit

    key = f"concurrent:{tenant.workspace.id}"
    rate, now = Rate(10, 60), 1_700_000_010.0
    with ThreadPoolExecutor(max_workers=8) as pool:
        hits = list(pool.map(lambda _: hit(key, rate, now=now), range(40)))
    assert sorted(h.count for h in hits) == list(range(1, 41))
    assert sum(h.allowed for h in hits) == 10


def test_the_rate_limit_counts_in_one_window_that_expires(tenant, settings):
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from config.ratelimit import Rate, hit

    key = f"test:{tenant.workspace.id}"
    now = 1_700_000_000.0
    assert [hit(key, Rate(2, 60), now=now).count for _ in range(3)] == [1, 2, 3]
    assert not hit(key, Rate(2, 60), now=now).allowed
    assert hit(key, Rate(2, 60), now=now + 60).count == 1  # the next window
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(f"ratelimit:{key}:60:{int(now // 60)}")
        assert 0 < backend._cache.get_client(full_key).ttl(full_key) <= 61
        assert backend.get(f"ratelimit:{key}:60:{int(now // 60)}") == 4
