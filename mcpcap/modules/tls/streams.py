"""TLS over TCP, read by the module's stream decoder: claimed connections -> handshake rows.

The core hands every chunk of a claimed connection, both directions, in order (in a stream
worker when the scan is parallel); a connection is released as soon as its handshake is over.
What a finished handshake makes (`written`) goes to the scan at each flush.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from typing import Any

from mcpcap.core.ports import likely_server
from mcpcap.core.tcpstream import StreamBudget
from mcpcap.modules.tls.domains import registered_domain
from mcpcap.modules.tls.handshake import Handshake
from mcpcap.modules.tls.tcp import TcpTls, starts_banner

MAX_OPEN = 10_000  # handshakes in progress per transport (the oldest is written out beyond;
#                   an open one holds about 3.5 KB, a hostile one up to two unfinished
#                   handshake messages: what they hold counts against the stream budget)

NO_HELLO = "connections without a hello"
NO_TLS = "plain-text connections that never started TLS"

Endpoint = tuple[str, int]
Key = tuple[Endpoint, Endpoint]


def connection_key(a: Endpoint, b: Endpoint) -> Key:
    return (a, b) if a <= b else (b, a)


def written(hs: Handshake, tls_seen: bool = True) -> tuple[tuple | None, str, tuple | None]:
    """What writing out a handshake makes: its `tls.malformed` item (or None), the tally it
    counts in, and its `tls_handshakes` row (None when neither hello was seen). `tls_seen`:
    a TLS record came at all (a plain-text dialogue claimed on its greeting or preamble, whose
    STARTTLS never came, is no handshake that lost its hellos)."""
    bad = None
    if hs.malformed is not None:
        _, code, frame, ts, from_client = hs.malformed
        (src, sport), (dst, dport) = (
            (hs.client, hs.server) if from_client else (hs.server, hs.client)
        )
        bad = (frame, ts, src, sport, dst, dport, hs.transport, code)
    if hs.client_hello is None and hs.server_hello is None:
        return bad, NO_HELLO if tls_seen else NO_TLS, None
    return bad, f"{hs.transport} handshakes", hs.row(registered_domain)


class TlsStreams:
    """The stream decoder: handshakes of claimed TCP connections, as rows and counts."""

    def __init__(self) -> None:
        self.tcp: OrderedDict[Key, TcpTls] = OrderedDict()
        # what unfinished records and handshake messages hold counts against the scan's stream
        # budget (`share_budget`)
        self._budget = StreamBudget()
        self._new()

    def share_budget(self, budget: StreamBudget) -> None:
        """The budget the scan's reassembler counts against (the core gives it)."""
        self._budget = budget

    def _new(self) -> None:
        self.rows: list[tuple] = []
        self.malformed: list[tuple] = []
        self.tally: Counter[str] = Counter()

    def on_tcp(self, frame: int, ts: float, chunk: Any) -> bool:
        source, destination = (chunk.src, chunk.sport), (chunk.dst, chunk.dport)
        key = connection_key(source, destination)
        conn = self.tcp.get(key)
        if conn is None:
            if not chunk.data:
                return True
            client, server = _ends(source, destination, chunk.data)
            conn = self.tcp[key] = TcpTls(Handshake("tcp", client, server, ts))
            if len(self.tcp) > MAX_OPEN:
                self._close(next(iter(self.tcp)))
        from_client = source == conn.handshake.client
        held = conn.held()
        keep = conn.feed(from_client, chunk.data, chunk.gap, chunk.end, frame, ts)
        budget = self._budget
        budget.used += conn.held() - held
        if not keep:
            self._close(key)
        elif budget.over:
            self._shed()
            keep = key in self.tcp  # this one may have been shed: then it is released
        return keep

    def _shed(self) -> None:
        """Over the stream budget: the oldest handshakes that hold bytes are written out as
        they are (each counted as cut) until the budget is relieved."""
        self._budget.shed(self.tcp, lambda conn: conn.held(), lambda key, _: self._close(key))

    def flush(self) -> tuple | None:
        """(rows, malformed items, tally increments) since the last flush."""
        if not (self.rows or self.malformed or self.tally):
            return None
        partial = (self.rows, self.malformed, dict(self.tally))
        self._new()
        return partial

    def close(self) -> None:
        for key in list(self.tcp):
            self._close(key)

    def _close(self, key: Key) -> None:
        conn = self.tcp.pop(key)
        self._budget.used -= conn.held()
        bad, counted, row = written(conn.handshake, conn.tls_seen())
        if bad is not None:
            self.malformed.append(bad)
        self.tally[counted] += 1
        if row is not None:
            self.rows.append(row)


def _ends(source: tuple, destination: tuple, data: bytes) -> tuple[tuple, tuple]:
    """(client, server) of a connection whose first bytes are `data`, sent by `source`: the
    server speaks first with a ServerHello or a banner. When the bytes are too few to show the
    handshake type (a capture that starts after the ClientHello, and a tiny first segment),
    the ports decide, as Zeek's heuristics do."""
    if data[:1] == b"\x16" and len(data) < 6:
        server_first = likely_server(source[1], destination[1])
    else:
        server_first = (data[:1] == b"\x16" and data[5:6] == b"\x02") or starts_banner(data)
    return (destination, source) if server_first else (source, destination)
