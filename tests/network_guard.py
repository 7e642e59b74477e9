"""Record, and stop, the sockets a test connects: the SSRF tests must show that a refused URL
leads to no connection attempt at all, and a test of private or public addresses must never
send packets to them (this machine may only talk to itself). An audit hook (PEP 578, the
documented ``socket.connect`` event) sees every connect before the system call is made."""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


class BlockedConnect(ConnectionRefusedError):
    pass


@dataclass
class Guard:
    attempts: list[tuple[str, int]] = field(default_factory=list)

    def to_port(self, port: int) -> list[tuple[str, int]]:
        return [a for a in self.attempts if a[1] == port]


_active: list[Guard] = []


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event != "socket.connect" or not _active:
        return
    address = args[1]
    if not isinstance(address, tuple) or len(address) < 2:
        return  # a Unix socket
    host, port = str(address[0]), int(address[1])
    _active[-1].attempts.append((host, port))
    if not ipaddress.ip_address(host.split("%")[0]).is_loopback:
        raise BlockedConnect(f"test guard: no connection to {host}:{port} from this machine")


sys.addaudithook(_hook)  # hooks cannot be removed: it does nothing while no guard is active


@contextmanager
def connections_guarded() -> Iterator[Guard]:
    """Within: every TCP connect is recorded; one to a non-loopback address fails at once."""
    guard = Guard()
    _active.append(guard)
    try:
        yield guard
    finally:
        _active.remove(guard)
