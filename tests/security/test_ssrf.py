"""Outbound URLs (SSRF): hostile targets are refused before any connection is made.

Everything goes through `call_webhook._manager()`, the exact object the call_webhook action
sends its requests with, with AUTOMATIONS_ALLOW_PRIVATE_URLS off. Names resolve through
tests/security/network.py (a table; IP literals parsed by the real libc resolver without any
traffic) and every socket connect is recorded: a refused target must leave no connect at all.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
import requests
from requests_hardened.ip_filter import InvalidIPAddress

from accounts.models import Workspace
from automations import netguard
from automations.actions import call_webhook
from automations.actions.base import ActionContext, ActionError
from automations.models import Automation, Run
from tests.security import network as fakenet
from tests.security.network import PUBLIC_IP

NAMES: dict[str, fakenet.Answer] = {
    "localhost": ["127.0.0.1", "::1"],
    "ip6-localhost": ["::1"],
    "localtest.me": ["127.0.0.1"],  # a public DNS name that answers loopback
    "metadata.google.internal": ["169.254.169.254"],
    "internal.corp.example": ["10.1.2.3"],
    "alibaba-metadata.example": ["100.100.100.200"],  # CGNAT range
    "ula.example": ["fd12:3456:789a::1"],
    "nat64-metadata.example": ["64:ff9b::a9fe:a9fe"],
    "private-first.example": ["10.0.0.1", PUBLIC_IP],
    "nxdomain.example": socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
    "servfail.example": socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
    "noanswer.example": [],
    "public.example": [PUBLIC_IP],
}

BLOCKED = InvalidIPAddress
UNRESOLVED = requests.ConnectionError

# (url, what it is, the exception expected). The loopback ones name a port a local server could
# be listening on; it does not matter: no connect may happen at all.
HOSTILE: list[tuple[str, str, type[Exception]]] = [
    # IPv4 loopback in every spelling
    ("http://127.0.0.1/", "loopback", BLOCKED),
    ("http://127.0.0.2:8080/", "loopback, all of 127/8", BLOCKED),
    ("http://2130706433/", "loopback, decimal", BLOCKED),
    ("http://0x7f000001/", "loopback, hex", BLOCKED),
    ("http://0177.0.0.1/", "loopback, octal", BLOCKED),
    ("http://0x7f.0.0.1/", "loopback, hex first octet", BLOCKED),
    ("http://127.1/", "loopback, short form", BLOCKED),
    ("http://127.000.000.001/", "loopback, zero-padded", BLOCKED),
    ("http://localhost:8000/admin/", "loopback by name", BLOCKED),
    ("http://LOCALHOST./", "loopback by name, upper case, trailing dot", BLOCKED),
    ("http://localtest.me/", "public name answering loopback", BLOCKED),
    ("http://user:pass@127.0.0.1/", "loopback with credentials", BLOCKED),
    ("http://public.example@127.0.0.1/", "userinfo that looks like a host", BLOCKED),
    ("http://127.0.0.1#@public.example/", "fragment that looks like a host", BLOCKED),
    ("https://127.0.0.1:6379/", "loopback over https", BLOCKED),
    # unspecified
    ("http://0.0.0.0/", "0.0.0.0", BLOCKED),
    ("http://0/", "0.0.0.0, short form", BLOCKED),
    ("http://[::]/", "IPv6 unspecified", BLOCKED),
    # private ranges
    ("http://10.0.0.1/", "10/8", BLOCKED),
    ("http://012.0.0.1/", "10/8, octal", BLOCKED),
    ("http://10.1/", "10/8, short form", BLOCKED),
    ("http://0x0a000001/", "10/8, hex", BLOCKED),
    ("http://167772161/", "10/8, decimal", BLOCKED),
    ("http://172.16.0.1/", "172.16/12, low end", BLOCKED),
    ("http://172.31.255.254/", "172.16/12, high end", BLOCKED),
    ("http://192.168.0.1/", "192.168/16", BLOCKED),
    ("http://192.168.1/", "192.168/16, short form", BLOCKED),
    ("http://3232235777/", "192.168/16, decimal", BLOCKED),
    ("http://internal.corp.example/", "private by name", BLOCKED),
    ("http://private-first.example/", "name whose first answer is private", BLOCKED),
    # link-local and cloud metadata
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata", BLOCKED),
    ("http://2852039166/", "metadata, decimal", BLOCKED),
    ("http://0xa9fea9fe/", "metadata, hex", BLOCKED),
    ("http://0251.0376.0251.0376/", "metadata, octal", BLOCKED),
    ("http://0xa9.0xfe.0xa9.0xfe/", "metadata, dotted hex", BLOCKED),
    ("http://169.254.43518/", "metadata, short form", BLOCKED),
    ("http://metadata.google.internal/computeMetadata/v1/", "metadata by name", BLOCKED),
    ("https://169.254.169.254/", "metadata over https", BLOCKED),
    # carrier-grade NAT 100.64.0.0/10
    ("http://100.64.0.1/", "CGNAT, low end", BLOCKED),
    ("http://100.127.255.254/", "CGNAT, high end", BLOCKED),
    ("http://alibaba-metadata.example/", "CGNAT by name (100.100.100.200)", BLOCKED),
    # IPv6 loopback, unique-local, link-local, site-local, multicast
    ("http://[::1]/", "IPv6 loopback", BLOCKED),
    ("http://[0:0:0:0:0:0:0:1]/", "IPv6 loopback, long form", BLOCKED),
    ("http://ip6-localhost/", "IPv6 loopback by name", BLOCKED),
    ("https://[::1]:8443/", "IPv6 loopback over https", BLOCKED),
    ("http://[fd00::1]/", "unique-local fd00::/8", BLOCKED),
    ("http://[fc00::1]/", "unique-local fc00::/8", BLOCKED),
    ("http://ula.example/", "unique-local by name", BLOCKED),
    ("http://[fe80::1]/", "link-local", BLOCKED),
    # urllib3 hands the zone id on percent-encoded, so this one fails to resolve: still closed.
    ("http://[fe80::1%25lo]/", "link-local with a zone id", requests.RequestException),
    ("http://[fec0::1]/", "site-local (deprecated, still routable)", BLOCKED),
    ("http://[ff02::1]/", "IPv6 multicast", BLOCKED),
    # IPv4 inside IPv6
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped loopback", BLOCKED),
    ("http://[::ffff:7f00:1]/", "IPv4-mapped loopback, hex", BLOCKED),
    ("http://[::ffff:169.254.169.254]/", "IPv4-mapped metadata", BLOCKED),
    ("http://[0:0:0:0:0:ffff:a9fe:a9fe]/", "IPv4-mapped metadata, long hex", BLOCKED),
    ("http://[::ffff:10.0.0.1]/", "IPv4-mapped private", BLOCKED),
    ("http://[::127.0.0.1]/", "IPv4-compatible loopback", BLOCKED),
    ("http://[::a9fe:a9fe]/", "IPv4-compatible metadata", BLOCKED),
    ("http://[64:ff9b::a9fe:a9fe]/", "NAT64 metadata", BLOCKED),
    ("http://[64:ff9b::169.254.169.254]/", "NAT64 metadata, dotted", BLOCKED),
    ("http://[64:ff9b::7f00:1]/", "NAT64 loopback", BLOCKED),
    ("http://[64:ff9b:1::a9fe:a9fe]/", "local-use NAT64 metadata", BLOCKED),
    ("http://nat64-metadata.example/", "NAT64 metadata by name", BLOCKED),
    ("http://[2002:a9fe:a9fe::]/", "6to4 metadata", BLOCKED),
    ("http://[2002:7f00:1::1]/", "6to4 loopback", BLOCKED),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo", BLOCKED),
    # other non-public IPv4
    ("http://224.0.0.1/", "multicast", BLOCKED),
    ("http://255.255.255.255/", "broadcast", BLOCKED),
    ("http://240.0.0.1/", "reserved 240/4", BLOCKED),
    ("http://198.18.0.1/", "benchmarking 198.18/15", BLOCKED),
    ("http://192.0.0.8/", "IETF protocol assignments 192.0.0/24", BLOCKED),
    # DNS failures fail closed
    ("http://nxdomain.example/", "name that does not exist", UNRESOLVED),
    ("http://servfail.example/", "resolver failure", UNRESOLVED),
    ("http://noanswer.example/", "empty DNS answer", UNRESOLVED),
]


@pytest.fixture
def net(monkeypatch, settings) -> fakenet.FakeNetwork:
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = False
    network = fakenet.install(monkeypatch)
    network.names.update(NAMES)
    return network


def send(url: str, method: str = "POST") -> requests.Response:
    """What call_webhook does: the same manager, the same timeouts."""
    return call_webhook._manager().send_request(
        method, url, data=b"{}", timeout=(call_webhook.CONNECT_TIMEOUT, 5), stream=True
    )


def test_the_table_has_at_least_40_hostile_targets():
    assert len(HOSTILE) >= 40
    assert len({url for url, _, _ in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize(("url", "what", "error"), HOSTILE, ids=[h[1] for h in HOSTILE])
def test_a_hostile_target_is_refused_before_any_connection(net, url, what, error):
    with pytest.raises(error):
        send(url)
    assert net.connects == [], f"{what}: a connection was attempted"


def test_call_webhook_uses_the_guarded_manager(settings):
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = False
    manager = call_webhook._manager()
    assert isinstance(manager, netguard.GuardedManager)
    assert manager.config.ip_filter_enable is True
    assert manager.config.never_redirect is True
    assert manager.config.ip_filter_allow_loopback_ips is False


def test_a_public_host_is_reached(net, httpserver):
    """The control: the guard and the fake network let a public address through."""
    net.routes.add(PUBLIC_IP)
    httpserver.expect_request("/hook").respond_with_data("ok")
    response = send(f"http://public.example:{httpserver.port}/hook")
    assert response.status_code == 200
    assert net.connects == [PUBLIC_IP]


def test_a_dns_answer_that_changes_after_the_check_is_never_used(net, httpserver):
    """DNS rebinding: the first answer is public, every later one is loopback. The connection
    goes to the address that was checked; the name is resolved once."""
    answers = iter([[PUBLIC_IP]])
    net.names["rebind.example"] = lambda: next(answers, ["127.0.0.1"])
    net.routes.add(PUBLIC_IP)
    httpserver.expect_request("/hook").respond_with_data("ok")
    response = send(f"http://rebind.example:{httpserver.port}/hook")
    assert response.status_code == 200
    assert net.lookups == ["rebind.example"]
    assert net.connects == [PUBLIC_IP]
    assert httpserver.log[0][0].headers["Host"] == f"rebind.example:{httpserver.port}"


def test_a_dns_answer_that_turns_private_after_a_public_first_lookup_is_refused(net):
    """Rebinding the other way round: whatever an earlier lookup said, the address actually
    connected to is the one checked, and a private one is refused."""
    answers = iter([["127.0.0.1"]])
    net.names["rebind2.example"] = lambda: next(answers, [PUBLIC_IP])
    with pytest.raises(InvalidIPAddress):
        send("http://rebind2.example/")
    assert net.connects == []


def test_a_redirect_to_a_private_address_is_not_followed(net, httpserver):
    net.routes.add(PUBLIC_IP)
    httpserver.expect_request("/hook").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    httpserver.expect_request("/internal").respond_with_data("secret")
    response = send(f"http://public.example:{httpserver.port}/hook")
    assert response.status_code == 302
    assert net.connects == [PUBLIC_IP]
    assert [request.path for request, _ in httpserver.log] == ["/hook"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_call_webhook_fails_permanently_on_a_redirect(net, httpserver, status):
    net.routes.add(PUBLIC_IP)
    httpserver.expect_request("/hook").respond_with_data(
        "", status=status, headers={"Location": f"http://127.0.0.1:{httpserver.port}/internal"}
    )
    with pytest.raises(ActionError) as caught:
        call_webhook.CallWebhook().execute(
            {"url": f"http://public.example:{httpserver.port}/hook", "method": "POST"}, _ctx()
        )
    assert caught.value.code == "webhook_http_error"
    assert caught.value.permanent is True
    assert [request.path for request, _ in httpserver.log] == ["/hook"]


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::127.0.0.1]/",
        "http://0x7f.1/",
    ],
)
def test_call_webhook_refuses_a_private_target_permanently(net, url):
    with pytest.raises(ActionError) as caught:
        call_webhook.CallWebhook().execute({"url": url, "method": "POST"}, _ctx())
    assert caught.value.code == "webhook_connection_failed"
    assert caught.value.permanent is True
    assert "non-public" in caught.value.message
    assert net.connects == []


def test_call_webhook_fails_closed_when_dns_fails(net):
    with pytest.raises(ActionError) as caught:
        call_webhook.CallWebhook().execute({"url": "http://nxdomain.example/"}, _ctx())
    assert caught.value.code == "webhook_connection_failed"
    assert net.connects == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "ftp://127.0.0.1/",
        "dict://127.0.0.1:11211/stats",
    ],
)
def test_non_http_schemes_are_refused(net, url):
    with pytest.raises(requests.exceptions.InvalidSchema):
        send(url)
    assert net.connects == []


def test_private_urls_are_reachable_only_when_the_setting_allows_them(net, settings, httpserver):
    """Shows that it is the guard, not the test network, that refuses loopback."""
    httpserver.expect_request("/local").respond_with_data("ok")
    net.routes.add("127.0.0.1")
    url = httpserver.url_for("/local")
    with pytest.raises(InvalidIPAddress):
        send(url)
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = True
    assert send(url).status_code == 200


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("93.184.216.34", False),
        ("2606:2800:220:1:248:1893:25c8:1946", False),
        ("::ffff:93.184.216.34", False),
        ("::127.0.0.1", True),
        ("::ffff:100.64.0.1", True),
        ("64:ff9b::a9fe:a9fe", True),
        ("2002:a00:1::", True),
        ("fec0::1", True),
    ],
)
def test_netguard_refusal_unwraps_embedded_ipv4(address, refused):
    import ipaddress

    assert (netguard.refusal(ipaddress.ip_address(address)) is not None) is refused


def _ctx() -> ActionContext:
    workspace = Workspace(id=1, slug="ws")
    automation = Automation(id="auto_ssrf", workspace=workspace)
    run = Run(id="log_ssrf", automation=automation, trigger_data={})
    return ActionContext(
        run=run,
        automation=automation,
        workspace=workspace,
        index=0,
        now=datetime.now(UTC),
        template_context={},
    )
