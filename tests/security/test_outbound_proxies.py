"""Outbound webhooks never go through the environment's proxies.

With HTTP_PROXY / HTTPS_PROXY / ALL_PROXY set for the worker, requests would hand every
webhook to that proxy, which resolves the name itself: the guard's check of the resolved
address and its pinning (the DNS-rebinding defence, automations/netguard.py) would be void.
A real HTTP server on 127.0.0.1 stands in for the proxy and records whatever reaches it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from automations.actions import call_webhook
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of
from tests.security import network as fakenet
from tests.security.network import PUBLIC_IP

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


class RecordingProxy(ThreadingHTTPServer):
    """Answers every request (GET, POST, CONNECT, ...) with 502 and remembers its first line."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(BaseHTTPRequestHandler):
    server: RecordingProxy

    def _record(self) -> None:
        self.server.seen.append(self.requestline)
        self.send_response(502, "proxy says no")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_CONNECT = _record

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def proxy(monkeypatch) -> Iterator[RecordingProxy]:
    server = RecordingProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, server.url)
        monkeypatch.setenv(name.lower(), server.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_the_environment_does_route_an_ordinary_request_through_the_proxy(proxy, httpserver):
    """The control: without the fix's setting, requests really would use this proxy."""
    httpserver.expect_request("/hook").respond_with_data("ok")
    response = requests.post(httpserver.url_for("/hook"), data=b"{}", timeout=5)
    assert response.status_code == 502
    assert proxy.seen == [f"POST {httpserver.url_for('/hook')} HTTP/1.1"]
    assert httpserver.log == []


@pytest.mark.django_db
def test_a_webhook_action_ignores_the_environments_proxy(proxy, tenant, httpserver, settings):
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = True  # the receiver lives on 127.0.0.1
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "deals"},
        actions=[{"type": "call_webhook", "config": {"url": httpserver.url_for("/hook")}}],
    )
    make_record(tenant, "deals", name="Big")
    drain()
    [run] = runs_of(automation)
    assert run.status == "success", run.error_message
    assert len(httpserver.log) == 1
    assert proxy.seen == []


def test_with_the_guard_on_the_connection_goes_to_the_checked_address_not_the_proxy(
    proxy, monkeypatch, settings, httpserver
):
    """DNS rebinding through a proxy: the name answers public once, loopback afterwards. A
    proxy would resolve it again (and reach loopback); the guard's pinned address is used."""
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = False
    net = fakenet.install(monkeypatch)
    answers = iter([[PUBLIC_IP]])
    net.names["rebind.example"] = lambda: next(answers, ["127.0.0.1"])
    # The proxy on 127.0.0.1 is reachable, so that on the old code it would get the request
    # with the bare name in it, for it to resolve.
    net.routes.update({PUBLIC_IP, "127.0.0.1"})
    httpserver.expect_request("/hook").respond_with_data("ok")
    response = call_webhook._manager().send_request(
        "POST", f"http://rebind.example:{httpserver.port}/hook", data=b"{}", timeout=(3, 5)
    )
    assert response.status_code == 200
    assert net.connects == [PUBLIC_IP]
    assert proxy.seen == []


def test_the_ca_bundle_variable_is_still_honoured(monkeypatch, settings, tmp_path):
    """Ignoring the environment's proxies must not drop the operator's choice of CA bundle:
    a bundle that does not exist is an error, so it was read."""
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = True
    missing = tmp_path / "no-such-bundle.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(missing))
    with pytest.raises(OSError, match=r"no-such-bundle\.pem"):
        call_webhook._manager().send_request("POST", "https://127.0.0.1:9/", timeout=(3, 5))
