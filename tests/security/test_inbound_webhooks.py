"""Inbound webhooks under attack: oversized bodies, forged or stale signatures, replays, floods.

POST /v1/webhooks/{automation_id}/{webhook_path} needs no API key, so everything here is
what an anonymous sender on the internet can do.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from automations.models import InboundDelivery, Run
from tests.runtime.support import make_automation

SECRET = "whsec_" + base64.b64encode(b"security-test-secret-32-bytes!!!").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-secret-of-32-bytes-long!").decode()


def _hook(tenant, *, secret: str = "", path: str = "orders"):
    extra = {"webhook_secret": secret} if secret else {}
    return make_automation(
        tenant,
        trigger={"type": "webhook", "webhook_path": path},
        actions=[{"type": "delay", "config": {"duration": 1, "unit": "seconds"}}],
        **extra,
    )


def _signed(
    body: str, *, msg_id: str = "msg_1", when: datetime | None = None, secret: str = SECRET
) -> dict[str, str]:
    when = when or datetime.now(UTC)
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(when.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": Webhook(secret).sign(msg_id, when, body),
    }


def _post(automation, body: str, path: str = "orders", **headers):
    return APIClient().post(
        f"/v1/webhooks/{automation.id}/{path}",
        data=body,
        content_type="application/json",
        **headers,
    )


def _assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]


# --- body size -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_body_at_the_limit_is_accepted_and_one_byte_more_is_413(tenant, settings):
    settings.AUTOMATIONS_WEBHOOK_MAX_BYTES = 2048
    automation = _hook(tenant)
    padding = 2048 - len(json.dumps({"x": ""}))
    assert _post(automation, json.dumps({"x": "y" * padding})).status_code == 202
    response = _post(automation, json.dumps({"x": "y" * (padding + 1)}))
    _assert_error(response, 413, "payload_too_large")
    assert Run.objects.count() == 1


@pytest.mark.django_db
def test_an_oversized_body_is_413_before_its_signature_is_checked(tenant, settings):
    settings.AUTOMATIONS_WEBHOOK_MAX_BYTES = 1024
    automation = _hook(tenant, secret=SECRET)
    body = json.dumps({"x": "y" * 5000})
    _assert_error(_post(automation, body), 413, "payload_too_large")
    _assert_error(_post(automation, body, **_signed(body)), 413, "payload_too_large")
    assert not Run.objects.exists() and not InboundDelivery.objects.exists()


@pytest.mark.django_db
def test_a_body_over_the_api_limit_is_refused_from_its_declared_length(tenant, settings):
    automation = _hook(tenant)
    response = APIClient().generic(
        "POST",
        f"/v1/webhooks/{automation.id}/orders",
        data=b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(settings.API_MAX_BODY_BYTES + 1),
    )
    _assert_error(response, 413, "payload_too_large")
    assert not Run.objects.exists()


# --- signatures ----------------------------------------------------------------------------


def _forgeries(body: str) -> dict[str, dict[str, str]]:
    good = _signed(body)
    now = datetime.now(UTC)
    return {
        "no headers": {},
        "no signature": {k: v for k, v in good.items() if k != "HTTP_WEBHOOK_SIGNATURE"},
        "no timestamp": {k: v for k, v in good.items() if k != "HTTP_WEBHOOK_TIMESTAMP"},
        "no id": {k: v for k, v in good.items() if k != "HTTP_WEBHOOK_ID"},
        "empty signature": {**good, "HTTP_WEBHOOK_SIGNATURE": ""},
        "other secret": _signed(body, secret=OTHER_SECRET),
        "tampered body": _signed(body.replace("1", "2")),
        "other webhook-id": {**good, "HTTP_WEBHOOK_ID": "msg_other"},
        "timestamp shifted": {**good, "HTTP_WEBHOOK_TIMESTAMP": str(int(now.timestamp()) + 1)},
        "garbage timestamp": {**good, "HTTP_WEBHOOK_TIMESTAMP": "yesterday"},
        "unknown scheme": {
            **good,
            "HTTP_WEBHOOK_SIGNATURE": good["HTTP_WEBHOOK_SIGNATURE"].replace("v1,", "v2,"),
        },
        "signature not base64": {**good, "HTTP_WEBHOOK_SIGNATURE": "v1,@@@@"},
        "secret as signature": {**good, "HTTP_WEBHOOK_SIGNATURE": f"v1,{SECRET[6:]}"},
    }


FORGERIES = list(_forgeries("{}"))


@pytest.mark.django_db
@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_or_missing_signature_is_401(tenant, forgery):
    automation = _hook(tenant, secret=SECRET)
    body = json.dumps({"order": 1})
    response = _post(automation, body, **_forgeries(body)[forgery])
    _assert_error(response, 401, "invalid_signature")
    assert not Run.objects.exists() and not InboundDelivery.objects.exists()


@pytest.mark.django_db
def test_several_signatures_are_accepted_when_one_is_valid(tenant):
    """Standard Webhooks sends several signatures while a secret is rotated."""
    automation = _hook(tenant, secret=SECRET)
    body = json.dumps({"order": 1})
    headers = _signed(body)
    wrong = _signed(body, secret=OTHER_SECRET)["HTTP_WEBHOOK_SIGNATURE"]
    headers["HTTP_WEBHOOK_SIGNATURE"] = f"{wrong} {headers['HTTP_WEBHOOK_SIGNATURE']}"
    assert _post(automation, body, **headers).status_code == 202


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (-360, False),
        # Not ±301: the header carries whole seconds, so 301 s can verify as 300.x.
        (-310, False),
        (-240, True),
        (0, True),
        (240, True),
        (310, False),
        (360, False),
        (-86400, False),
    ],
)
def test_timestamps_more_than_five_minutes_away_are_refused(tenant, offset, accepted):
    automation = _hook(tenant, secret=SECRET)
    body = json.dumps({"order": 1})
    when = datetime.now(UTC) + timedelta(seconds=offset)
    response = _post(automation, body, **_signed(body, when=when))
    if accepted:
        assert response.status_code == 202
    else:
        _assert_error(response, 401, "invalid_signature")
        assert not Run.objects.exists()


@pytest.mark.django_db
def test_a_captured_delivery_replayed_after_five_minutes_is_refused(tenant):
    automation = _hook(tenant, secret=SECRET)
    body = json.dumps({"order": 1})
    headers = _signed(body, msg_id="msg_captured")
    assert _post(automation, body, **headers).status_code == 202
    # Even if the de-duplication rows were purged, the timestamp stops the replay.
    InboundDelivery.objects.all().delete()
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=6)):
        _assert_error(_post(automation, body, **headers), 401, "invalid_signature")
    assert Run.objects.count() == 1


# --- replays --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_replayed_webhook_id_runs_once(tenant):
    automation = _hook(tenant, secret=SECRET)
    body = json.dumps({"order": 1})
    headers = _signed(body, msg_id="msg_replayed")
    responses = [_post(automation, body, **headers) for _ in range(5)]
    assert [r.status_code for r in responses] == [202, 200, 200, 200, 200]
    assert {r.json()["data"]["log_id"] for r in responses} == {Run.objects.get().id}


@pytest.mark.django_db
def test_a_webhook_id_is_remembered_per_automation(tenant):
    """The same id sent to two automations is two deliveries, not a replay."""
    first, second = _hook(tenant, path="a"), _hook(tenant, path="b")
    for automation, path in ((first, "a"), (second, "b")):
        response = _post(automation, "{}", path=path, HTTP_WEBHOOK_ID="msg_shared")
        assert response.status_code == 202
    assert Run.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_webhook_id_run_once(tenant):
    automation = _hook(tenant, secret=SECRET)
    body = json.dumps({"order": 1})
    headers = _signed(body, msg_id="msg_race")
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def send() -> None:
        try:
            barrier.wait(timeout=10)
            statuses.append(_post(automation, body, **headers).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(statuses) == 6
    assert statuses.count(202) == 1
    assert set(statuses) <= {202, 200, 409}
    assert Run.objects.filter(automation=automation).count() == 1


# --- rate limit -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_deliveries_over_the_rate_limit_are_429_with_retry_after(tenant, settings):
    settings.AUTOMATIONS_WEBHOOK_RATE_LIMIT = "3/min"
    automation = _hook(tenant)
    now = datetime(2030, 1, 1, 12, 0, 15, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        statuses = [_post(automation, "{}").status_code for _ in range(3)]
        limited = _post(automation, "{}")
    assert statuses == [202, 202, 202]
    _assert_error(limited, 429, "rate_limited")
    assert limited["Retry-After"] == "45"
    assert "3/min" in limited.json()["error"]["message"]
    assert Run.objects.count() == 3
    with time_machine.travel(now + timedelta(seconds=46), tick=False):
        assert _post(automation, "{}").status_code == 202


@pytest.mark.django_db
def test_the_rate_limit_is_per_automation(tenant, other_tenant, settings):
    settings.AUTOMATIONS_WEBHOOK_RATE_LIMIT = "2/min"
    busy, quiet = _hook(tenant, path="busy"), _hook(other_tenant, path="quiet")
    with time_machine.travel(datetime(2030, 1, 1, 12, 0, 1, tzinfo=UTC), tick=False):
        for _ in range(5):
            _post(busy, "{}", path="busy")
        assert _post(busy, "{}", path="busy").status_code == 429
        assert _post(quiet, "{}", path="quiet").status_code == 202


@pytest.mark.django_db
def test_unsigned_requests_do_not_use_up_a_signed_senders_budget(tenant, settings):
    settings.AUTOMATIONS_WEBHOOK_RATE_LIMIT = "2/min"
    automation = _hook(tenant, secret=SECRET)
    with time_machine.travel(datetime(2030, 1, 1, 12, 0, 1, tzinfo=UTC), tick=False):
        for _ in range(10):
            _assert_error(_post(automation, "{}"), 401, "invalid_signature")
        body = json.dumps({"order": 1})
        assert _post(automation, body, **_signed(body, msg_id="m1")).status_code == 202
        assert _post(automation, body, **_signed(body, msg_id="m2")).status_code == 202
        assert _post(automation, body, **_signed(body, msg_id="m3")).status_code == 429


@pytest.mark.django_db
def test_an_empty_rate_turns_the_limit_off(tenant, settings):
    settings.AUTOMATIONS_WEBHOOK_RATE_LIMIT = ""
    automation = _hook(tenant)
    assert all(_post(automation, "{}").status_code == 202 for _ in range(30))


def test_a_bad_rate_setting_fails_at_start(settings):
    env = {
        "AUTOMATIONS_WEBHOOK_RATE_LIMIT": "lots",
        "PATH": "/usr/bin:/bin",
        "VAR_DIR": str(settings.VAR_DIR),
    }
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode != 0
    assert "AUTOMATIONS_WEBHOOK_RATE_LIMIT" in result.stderr


def test_rates_parse_like_the_api_rate_limit():
    from config.ratelimit import Rate, parse_rate

    assert parse_rate("120/min") == Rate(120, 60)
    assert parse_rate("10/sec") == Rate(10, 1)
    assert parse_rate("1000/hour") == Rate(1000, 3600)
    assert parse_rate("5/day") == Rate(5, 86400)
    assert parse_rate("") is None
    with pytest.raises(Exception, match="not valid"):
        parse_rate("fast")


# --- bodies that cannot be stored ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"a": "x\\u0000y"}', "application/json"),
        ('{"a\\u0000": 1}', "application/json"),
        ('["\\ud800"]', "application/json"),
        ("a=x%00y", "application/x-www-form-urlencoded"),
    ],
)
def test_a_body_with_nul_or_a_lone_surrogate_is_400_not_500(tenant, body, content_type):
    automation = _hook(tenant)
    response = APIClient().post(
        f"/v1/webhooks/{automation.id}/orders", data=body, content_type=content_type
    )
    _assert_error(response, 400, "validation_error")
    assert not Run.objects.exists() and not InboundDelivery.objects.exists()
