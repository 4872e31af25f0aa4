"""A controlled network for SSRF tests: names resolve from a table, nothing leaves 127.0.0.1.

`socket.getaddrinfo` is replaced: IP literals in any spelling (decimal, octal, hex, short
forms) are parsed by the real libc resolver with AI_NUMERICHOST, which sends no traffic, so the
test sees exactly what production would; names are answered from `names` (unknown names fail
like NXDOMAIN). `socket.socket.connect` is replaced too: every attempt is recorded, and only
the made-up public addresses in `routes` connect (to a local test server on 127.0.0.1, the
"public" host); anything else is refused without touching the network.
"""

from __future__ import annotations

import _socket
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

REAL_GETADDRINFO = socket.getaddrinfo
REAL_CONNECT = _socket.socket.connect

# A plainly public address that stands for a host on the internet (routed to a local server).
PUBLIC_IP = "93.184.216.34"

Answer = list[str] | Callable[[], list[str]] | BaseException


@dataclass
class FakeNetwork:
    names: dict[str, Answer] = field(default_factory=dict)
    routes: set[str] = field(default_factory=set)
    lookups: list[str] = field(default_factory=list)
    connects: list[str] = field(default_factory=list)

    def getaddrinfo(
        self, host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            return REAL_GETADDRINFO(name, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        except socket.gaierror:
            pass
        self.lookups.append(name)
        answer = self.names.get(name.lower().rstrip("."))
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if isinstance(answer, BaseException):
            raise answer
        addresses = answer() if callable(answer) else answer
        results: list = []
        for address in addresses:
            results += REAL_GETADDRINFO(
                address, port, family, type, proto, flags | socket.AI_NUMERICHOST
            )
        return results

    def connect(self, sock: socket.socket, address: Any) -> None:
        host, port = address[0], address[1]
        self.connects.append(host)
        if host in self.routes and sock.family == socket.AF_INET:
            # The "public" host is a local test server on 127.0.0.1, same port.
            return REAL_CONNECT(sock, ("127.0.0.1", port))
        raise ConnectionRefusedError(f"test network: {host} is unreachable")


def install(monkeypatch) -> FakeNetwork:
    network = FakeNetwork()
    monkeypatch.setattr(socket, "getaddrinfo", network.getaddrinfo)
    monkeypatch.setattr(
        socket.socket, "connect", lambda sock, address: network.connect(sock, address)
    )
    return network
