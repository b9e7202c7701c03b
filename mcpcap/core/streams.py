"""Which module scans read each TCP connection: by its ports, or by claiming its first bytes.

A module with `tcp_ports` reads every connection on them, as before. A module that claims
streams (HTTP and TLS on any port) is asked, with the first bytes of each direction that carries
data, whether the connection is its protocol. A connection that no module reads is released: the
reassembler lets go of it and drops its segments until a SYN starts a new connection there.

A SYN that starts a new connection on ports that carried another (see `TcpReassembler.supersede`)
ends the old one first: its readers get its end chunks and write out what they hold, and the new
connection's readers are decided anew, by port or from its own first bytes (a port may carry
HTTP in one connection and TLS in the next).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from mcpcap.core.decap import Segment
from mcpcap.core.tcpstream import TCP_SYN, StreamChunk, TcpReassembler

MAX_ROUTES = 100_000  # connections whose readers are remembered (the oldest are forgotten)
TCP_SYN_FIN_RST = 0x07

Endpoint = tuple[str, int]


class _Route:
    """One connection's readers, and the directions already offered to the claimers."""

    __slots__ = ("offered", "readers", "was_read")

    def __init__(self, readers: list[Any]) -> None:
        self.readers = readers
        self.offered: set[Endpoint] = set()
        self.was_read = bool(readers)


class TcpInterest:
    """Which TCP segments the chosen modules may read (asked in workers and in the scan)."""

    def __init__(self, modules: list[Any]) -> None:
        self.ports = frozenset().union(*(module.tcp_ports for module in modules))
        self.any_port = any(module.claims_streams() for module in modules)

    @property
    def active(self) -> bool:
        """Whether the modules read any TCP at all."""
        return self.any_port or bool(self.ports)

    def wants(self, seg: Segment) -> bool:
        """A segment with data, SYN, FIN or RST, on a port a module reads, or on any port when
        some module claims streams."""
        if not seg.payload and not seg.tcp_flags & TCP_SYN_FIN_RST:
            return False
        return self.any_port or seg.sport in self.ports or seg.dport in self.ports


class StreamRouter:
    """Hands each reassembled chunk to the module scans reading its connection."""

    def __init__(self, scans: list[tuple[Any, Any]], reassembler: TcpReassembler) -> None:
        self._by_port = [(module.tcp_ports, scan) for module, scan in scans if module.tcp_ports]
        self._claimers = [(module, scan) for module, scan in scans if module.claims_streams()]
        self.interest = TcpInterest([module for module, _ in scans])
        self._reassembler = reassembler
        self._routes: OrderedDict[tuple[Endpoint, Endpoint], _Route] = OrderedDict()

    def feed(self, seg: Segment, frame: int, ts: float) -> None:
        """Reassemble one segment and deliver what it completes."""
        if seg.tcp_flags & TCP_SYN:
            self._renew(seg, frame, ts)
        self.deliver(self._reassembler.feed(seg, frame, ts), frame, ts)

    def _renew(self, seg: Segment, frame: int, ts: float) -> None:
        """A SYN that starts a connection: the one it replaces on its ports ends first (its
        readers get its end chunks: the reassembler has forgotten it, so a reader letting go
        of it releases nothing of the new one), then the new one's readers are decided anew."""
        ended = self._reassembler.supersede(seg)
        if ended is None:
            return  # a SYN of the connection already there
        if ended:
            self.deliver(ended, frame, ts)
        self._routes.pop(_key((seg.src, seg.sport), (seg.dst, seg.dport)), None)

    def flush(self, frame: int, ts: float) -> None:
        """At the end of a capture: what still waits behind holes."""
        self.deliver(self._reassembler.flush(), frame, ts)

    def deliver(self, chunks: list[StreamChunk], frame: int, ts: float) -> None:
        """Each chunk to its connection's readers, with the frame and time its bytes were
        captured in (a chunk delivered past a hole names its own; the others are `frame`'s)."""
        for chunk in chunks:
            at, when = (chunk.frame, chunk.ts) if chunk.frame else (frame, ts)
            source, destination = (chunk.src, chunk.sport), (chunk.dst, chunk.dport)
            route = self._route(source, destination)
            if chunk.data and self._claimers and source not in route.offered:
                route.offered.add(source)
                self._offer(route, chunk)
            readers = route.readers
            for scan in tuple(readers):
                if scan.on_tcp(at, when, chunk) is False:
                    readers.remove(scan)
            if not readers and (route.was_read or len(route.offered) == 2 or not self._claimers):
                self._reassembler.release(source, destination)

    def _route(self, source: Endpoint, destination: Endpoint) -> _Route:
        key = _key(source, destination)
        route = self._routes.get(key)
        if route is not None:
            self._routes.move_to_end(key)
            return route
        sport, dport = source[1], destination[1]
        readers = [scan for ports, scan in self._by_port if sport in ports or dport in ports]
        route = self._routes[key] = _Route(readers)
        if len(self._routes) > MAX_ROUTES:
            self._routes.popitem(last=False)
        return route

    def _offer(self, route: _Route, chunk: StreamChunk) -> None:
        for module, scan in self._claimers:
            if scan not in route.readers and module.claims_tcp(
                chunk.sport, chunk.dport, chunk.data
            ):
                route.readers.append(scan)
                route.was_read = True


def _key(a: Endpoint, b: Endpoint) -> tuple[Endpoint, Endpoint]:
    return (a, b) if a <= b else (b, a)
