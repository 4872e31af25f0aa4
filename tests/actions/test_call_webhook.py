"""call_webhook: signed requests, error codes, retries, and refusal of private addresses."""

import json
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks import Webhook
from werkzeug import Response

from automations.signing import current_secret
from devtools.processes import await_condition
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db


def _hook(tenant, url, **config):
    return make_automation(
        tenant,
        trigger={"type": "record.created", "module": "deals"},
        actions=[{"type": "call_webhook", "config": {"url": url, **config}}],
    )


def test_the_request_carries_method_headers_and_rendered_json_body(tenant, httpserver):
    httpserver.expect_request("/slack", method="POST").respond_with_json({"ok": True})
    automation = _hook(
        tenant,
        httpserver.url_for("/slack"),
        method="POST",
        headers={"X-Team": "sales", "Authorization": "Bearer s3cret"},
        body={
            "text": "New deal closed: {{record.name}} for ${{record.value}}",
            "value": "{{record.value}}",
        },
    )
    make_record(tenant, "deals", name="Big", value=75000)
    drain()
    [(request, _)] = httpserver.log
    assert request.headers["X-Team"] == "sales"
    assert request.headers["Content-Type"] == "application/json"
    assert request.get_json() == {"text": "New deal closed: Big for $75000", "value": 75000}
    action = runs_of(automation)[0].action_runs.get()
    assert action.status == "success"
    assert action.output["status_code"] == 200
    assert json.loads(action.output["body"]) == {"ok": True}
    assert action.config["headers"]["Authorization"] == "[redacted]"


def test_the_request_is_signed_so_the_receiver_can_verify_it(tenant, httpserver):
    httpserver.expect_request("/in").respond_with_data("ok")
    automation = _hook(tenant, httpserver.url_for("/in"), body={"a": 1})
    make_record(tenant, "deals", name="Big")
    drain()
    [(request, _)] = httpserver.log
    secret = current_secret(tenant.workspace)
    Webhook(secret).verify(request.get_data(as_text=True), dict(request.headers))
    # The secret a receiver needs is the one the API shows to the workspace.
    shown = tenant.client.get("/v1/workspace").json()["data"]["outbound_webhook_secret"]
    assert shown == secret
    run = runs_of(automation)[0]
    assert request.headers["webhook-id"] == f"{run.id}_0"


def test_the_webhook_id_stays_the_same_across_retries(tenant, httpserver):
    httpserver.expect_oneshot_request("/in").respond_with_data("busy", status=503)
    httpserver.expect_request("/in").respond_with_data("ok")
    automation = _hook(tenant, httpserver.url_for("/in"))
    make_record(tenant, "deals", name="Big")
    drain()
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        drain()
    ids = [request.headers["webhook-id"] for request, _ in httpserver.log]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert runs_of(automation)[0].status == "success"


def test_a_default_event_payload_is_sent_when_no_body_is_configured(tenant, httpserver):
    httpserver.expect_request("/summary").respond_with_data("ok")
    automation = _hook(tenant, httpserver.url_for("/summary"), method="POST")
    deal = make_record(tenant, "deals", name="Big")
    drain()
    [(request, _)] = httpserver.log
    payload = request.get_json()
    assert payload["automation_id"] == automation.id
    assert payload["record_id"] == deal.id
    assert payload["event"] == "record.created"


@pytest.mark.parametrize(
    ("status", "final"),
    [
        (400, "failed"),
        (401, "failed"),
        (404, "failed"),
        (410, "failed"),
        (422, "failed"),
        (301, "failed"),
        (302, "failed"),
        (408, "retrying"),
        (429, "retrying"),
        (500, "retrying"),
        (502, "retrying"),
        (503, "retrying"),
    ],
)
def test_an_http_error_status_is_webhook_http_error_retried_only_when_transient(
    tenant, httpserver, status, final
):
    headers = {"Location": "http://example.com/"} if 300 <= status < 400 else None
    httpserver.expect_request("/x").respond_with_data("body", status=status, headers=headers)
    url = httpserver.url_for("/x")
    automation = _hook(tenant, url)
    make_record(tenant, "deals", name="Big")
    drain()
    run = runs_of(automation)[0]
    assert run.status == final
    # The receiver was reached: not the seed's "could not reach" code.
    assert run.error_code == "webhook_http_error"
    if 300 <= status < 400:
        expected = "redirects are not followed (Location: http://example.com/)"
    else:
        expected = "body"
    assert run.error_message == f"HTTP {status} from {url}: {expected}"
    assert run.action_runs.get().output["status_code"] == status
    assert len(httpserver.log) == 1  # redirects are not followed


def test_the_message_shows_the_start_of_the_body_on_one_line(tenant, httpserver):
    body = "Internal error\r\n\x1b[31mfake log line\u2028" + "x" * 500
    httpserver.expect_request("/x").respond_with_data(body, status=500)
    automation = _hook(tenant, httpserver.url_for("/x"))
    make_record(tenant, "deals", name="Big")
    drain()
    run = runs_of(automation)[0]
    shown = run.error_message.split(": ", 1)[1]
    assert shown.startswith("Internal error [31mfake log line xxx")
    assert shown.endswith("...") and len(shown) == 200
    assert not any(ch in run.error_message for ch in "\r\n\x1b\u2028")
    # The log keeps the body as received (up to its own limit) for whoever debugs it.
    assert run.action_runs.get().output["body"] == body[:2000]


def test_an_empty_error_body_is_just_the_status(tenant, httpserver):
    httpserver.expect_request("/x").respond_with_data("", status=503)
    url = httpserver.url_for("/x")
    automation = _hook(tenant, url)
    make_record(tenant, "deals", name="Big")
    drain()
    assert runs_of(automation)[0].error_message == f"HTTP 503 from {url}"


def test_a_slow_receiver_is_an_action_timeout(tenant, httpserver):
    # The receiver answers only once the run has given up on it, and the test waits for that
    # answer: the server is shared by the session, and a request still in its hands when the
    # test ended used to be logged in a later test's httpserver.log (and fail it).
    gave_up = threading.Event()

    def slow(request):
        gave_up.wait(timeout=30)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    automation = _hook(tenant, httpserver.url_for("/slow"), timeout=1)
    make_record(tenant, "deals", name="Big")
    drain()
    gave_up.set()
    await_condition(lambda: len(httpserver.log) == 1, timeout=10, message="the late answer")
    run = runs_of(automation)[0]
    assert (run.status, run.error_code) == ("retrying", "action_timeout")


def test_an_unreachable_host_is_a_connection_failure(tenant):
    automation = _hook(tenant, "http://127.0.0.1:9/nothing")
    make_record(tenant, "deals", name="Big")
    drain()
    run = runs_of(automation)[0]
    assert (run.status, run.error_code) == ("retrying", "webhook_connection_failed")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/x",
        "http://localhost:{port}/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:{port}/x",
    ],
)
def test_private_addresses_are_refused_unless_allowed(tenant, httpserver, settings, url):
    httpserver.expect_request("/x").respond_with_data("should not be reached")
    # Saved while allowed (such literals are refused at save otherwise, see
    # tests/api/test_webhook_urls_at_save.py), run after the setting was turned off.
    automation = _hook(tenant, url.format(port=httpserver.port))
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = False
    make_record(tenant, "deals", name="Big")
    drain()
    run = runs_of(automation)[0]
    assert (run.status, run.error_code) == ("failed", "webhook_connection_failed")
    assert "non-public" in run.error_message
    assert httpserver.log == []


def test_the_logged_body_is_truncated(tenant, httpserver):
    httpserver.expect_request("/big").respond_with_data("x" * 100_000)
    automation = _hook(tenant, httpserver.url_for("/big"))
    make_record(tenant, "deals", name="Big")
    drain()
    assert len(runs_of(automation)[0].action_runs.get().output["body"]) == 2000


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_timeout(tenant, httpserver):
    # Each byte comes well within the read timeout; the answer as a whole does not.
    def trickle(request):
        def body():
            for _ in range(12):
                time.sleep(0.5)
                yield b"."

        return Response(body(), direct_passthrough=True)

    httpserver.expect_request("/trickle").respond_with_handler(trickle)
    automation = _hook(tenant, httpserver.url_for("/trickle"), timeout=1)
    make_record(tenant, "deals", name="Big")
    started = time.monotonic()
    drain()
    run = runs_of(automation)[0]
    assert (run.status, run.error_code) == ("retrying", "action_timeout")
    assert time.monotonic() - started < 5.5  # cut at about 4 s (connect 3 s + 1 s), not 6 s


def test_a_receiver_that_stalls_midway_through_its_answer_is_an_action_timeout(tenant, httpserver):
    def stall(request):
        def body():
            yield b"partial"
            time.sleep(2.5)
            yield b"rest"

        return Response(body(), direct_passthrough=True)

    httpserver.expect_request("/stall").respond_with_handler(stall)
    automation = _hook(tenant, httpserver.url_for("/stall"), timeout=1)
    make_record(tenant, "deals", name="Big")
    drain()
    run = runs_of(automation)[0]
    assert (run.status, run.error_code) == ("retrying", "action_timeout")
