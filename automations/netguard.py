"""Outbound HTTP that cannot be aimed at the service's own network (SSRF guard).

requests-hardened does the heavy lifting: it resolves the host once, refuses private, loopback,
link-local, multicast, CGNAT, NAT64 and 6to4 answers, pins the connection to the address it
checked (so a DNS answer that changes between check and connect cannot sneak in) and never
follows redirects. Its test is `is_private` plus a list of extra ranges, which on this Python
(3.11.7) lets through IPv4-compatible IPv6 (`::127.0.0.1`, `::169.254.169.254`), site-local
`fec0::/10` and anything else that is neither private nor global. `GuardedAdapter` adds a
second check on the very address the connection is pinned to: it must be globally routable
(`ipaddress.is_global`), and so must any IPv4 address embedded in it (IPv4-mapped, IPv4-
compatible, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16`, Teredo `2001::/32`).

Requests never go through a proxy from the environment (see GuardedSession): a proxy would
resolve the name itself, after the check. An egress proxy is not supported.

A refused address raises `BlockedAddress`, a requests-hardened `InvalidIPAddress`, before any
socket is opened. A name that does not resolve raises `requests.ConnectionError` (fails
closed). settings.AUTOMATIONS_ALLOW_PRIVATE_URLS turns the whole filter off (local receivers
in development and tests).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

import requests
from requests_hardened import Config, HTTPSession, Manager
from requests_hardened.ip_filter import InvalidIPAddress
from requests_hardened.ip_filter_adapter import IPFilterAdapter

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class BlockedAddress(InvalidIPAddress):
    """The URL's host resolved to an address the service must not connect to."""


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of the translation forms."""
    if ip.version == 4:
        return None
    assert isinstance(ip, ipaddress.IPv6Address)
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client address (the server is the relay)
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if any(ip in net for net in _NAT64):
        return low32
    if ip in _IPV4_COMPATIBLE:  # deprecated ::a.b.c.d, still routed by some stacks
        return low32
    return None


def refusal(ip: IPAddress) -> str | None:
    """Why a connection to `ip` is refused, or None if it is a public unicast address."""
    inner = embedded_ipv4(ip)
    candidates: list[IPAddress] = [ip] if inner is None else [inner]
    if inner is not None and isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        # A translation prefix (NAT64, 6to4, Teredo, IPv4-compatible) must itself be public too;
        # an IPv4-mapped address is simply its IPv4 address. The address itself is judged
        # first, so that ::1 is named as IPv6's loopback, not as the IPv4 "0.0.0.1" that the
        # IPv4-compatible reading of ::/96 finds in it.
        candidates.insert(0, ip)
    for candidate in candidates:
        # is_global alone has had gaps across Python versions (CPython issue 113171), so the
        # specific properties are checked too.
        if (
            not candidate.is_global
            or candidate.is_private
            or candidate.is_loopback
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
            or getattr(candidate, "is_site_local", False)
        ):
            return f"{candidate} is not a public address"
    return None


def _ip(host: str) -> IPAddress:
    return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])


def _is_loopback(host: str) -> bool:
    return _ip(host).is_loopback


def check_address(host: str) -> None:
    """Raise BlockedAddress unless `host` (an IP literal, brackets allowed) is public."""
    ip = _ip(host)
    reason = refusal(ip)
    if reason:
        raise BlockedAddress(reason)


def host_refusal(host: str) -> str | None:
    """Why a URL's host (as urllib3 parses it: brackets and a zone id allowed) can never be
    connected to, judged from its text alone, with no DNS: a loopback name (`localhost`,
    `*.localhost`, RFC 6761) or an IP literal, in any spelling the resolver itself accepts
    (`0x7f.1`, `2130706433`, `[::ffff:10.0.0.1]`), that `refusal` refuses. None for any other
    name: what it resolves to is checked on connecting."""
    name = host.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return f"{name} is this machine (loopback), not a public address"
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1].split("%", 1)[0]  # the zone id does not change what the address is
    try:
        # AI_NUMERICHOST: parse a literal exactly as the connection would, never look it up.
        answers = socket.getaddrinfo(name, None, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError, ValueError):
        return None
    for *_, sockaddr in answers:
        reason = refusal(_ip(str(sockaddr[0])))
        if reason:
            return reason
    return None


class GuardedAdapter(IPFilterAdapter):
    """requests-hardened's adapter plus `check_address` on the address it pinned."""

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            host_params, pool_kwargs = super().build_connection_pool_key_attributes(
                request, verify, cert
            )
        except IndexError as err:  # getaddrinfo answered with no address at all
            raise requests.ConnectionError("Failed to resolve domain") from err
        # `host` is now the resolved IP the connection will use, never the name: checking it
        # here is checking the connection itself.
        if not (self._allow_loopback and _is_loopback(host_params["host"])):
            check_address(host_params["host"])
        return host_params, pool_kwargs


class GuardedSession(HTTPSession):
    def __init__(self, config: Config, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        # Never the environment's proxies (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY): a proxy
        # resolves the name again itself, which would void both the check of the resolved
        # address and its pinning (DNS rebinding). Nor ~/.netrc credentials, sent to whatever
        # host a webhook names. trust_env would also drop the CA bundle variables, which only
        # choose whom TLS trusts, so those are kept, as requests reads them.
        self.trust_env = False
        self.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        if config.ip_filter_enable:
            for scheme, https in (("http://", False), ("https://", True)):
                self.mount(
                    scheme,
                    GuardedAdapter(
                        is_https_proto=https,
                        allow_loopback=config.ip_filter_allow_loopback_ips,
                        tls_sni_support=config.ip_filter_tls_sni_support,
                    ),
                )


class GuardedManager(Manager):
    """A drop-in for requests_hardened.Manager whose sessions use GuardedAdapter."""

    __slots__ = ()

    def get_session(self) -> GuardedSession:
        return GuardedSession(self.config)

    def clone(self) -> GuardedManager:
        return GuardedManager(config=Manager.clone(self).config)
