"""One scan: TLS handshakes from claimed TCP connections and from QUIC Initial packets.

TCP connections are read by the module's stream decoder (`streams.TlsStreams`), whose rows
arrive here at its flushes. QUIC Initials are picked out in the workers: a client's first flight
is decrypted there (it needs nothing but itself), and so is a server's Initial when the same
worker has just opened its client's (`QuicDecoder`). The rest is decrypted here, where the state
that spans packets lives: the connection's original Destination Connection ID (the key to every
Initial of both sides) and the CRYPTO streams being put back in order. A worker's opening of a
server Initial is a hint that this process checks against that state (the same keys, the same
packet number), so the records never depend on which worker saw what. TCP's and QUIC's rows
wait in a staging table and are stored in time order at the end, whatever order they came in.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, OrderedDict
from typing import TYPE_CHECKING, Any

from mcpcap.core.modules.contract import ModuleScan
from mcpcap.core.modules.malformed import MalformedLog
from mcpcap.core.tcpstream import StreamBudget
from mcpcap.modules.tls import quic, wire
from mcpcap.modules.tls.handshake import Handshake
from mcpcap.modules.tls.store import (
    CREATE_STAGING,
    INSERT_STAGING,
    store_in_time_order,
)
from mcpcap.modules.tls.streams import MAX_OPEN, written

if TYPE_CHECKING:
    from mcpcap.core.modules.counts import ModuleCounts

BATCH = 1_000  # rows waiting for a write
MAX_FINISHED_QUIC = 100_000  # QUIC connections remembered as done (their late Initials ignored)

Endpoint = tuple[str, int]
Key = tuple[Endpoint, Endpoint]


def decode_udp(frame: int, ts: float, segment: Any) -> bytes | list:
    """The worker's decoder (`decode_datagram` of the segment's payload)."""
    return decode_datagram(segment.payload)


def decode_datagram(payload: bytes) -> bytes | list:
    """A client's Initials opened with the keys of their own DCID, as
    [(dcid, packet number, [(offset, CRYPTO data), ...], hello), ...]; else the datagram as it
    is. `hello` is None, or the ClientHello that starts the CRYPTO stream, read here (its body's
    length, `wire.hello_fields`) when the packet's first frame at offset 0 holds all of it.

    A client's first flight needs nothing but itself, so workers decrypt it; the server's
    Initials (keyed by the client's DCID) and a client's later ones (sent to the server's
    connection id) need the connection's state, which only the scanning process has (but see
    `QuicDecoder`).
    """
    try:
        headers = quic.long_headers(payload)
    except wire.Malformed:
        return payload
    return _first_flight(payload, headers) or payload


def _first_flight(payload: bytes, headers: list[quic.LongHeader]) -> list:
    """`decode_datagram`'s list; empty unless every Initial opens with its own DCID's keys."""
    opened = []
    try:
        for header in headers:
            if header.initial:
                keys = quic.initial_keys(header.version, header.dcid, False)
                number, plain = quic.decrypt(payload, header, keys)
                frames = quic.crypto_frames(plain)
                opened.append((header.dcid, number, frames, _stream_start_hello(frames)))
    except wire.Malformed:
        return []
    return opened


def _stream_start_hello(frames: list[tuple[int, bytes]]) -> tuple | None:
    """(body length, `wire.hello_fields`) of the ClientHello at the start of the CRYPTO stream,
    when the first non-empty frame at offset 0 holds all of it and it parses; else None."""
    data = next((data for offset, data in frames if offset == 0 and data), b"")
    if len(data) < 4 or data[0] != wire.CLIENT_HELLO:
        return None
    length = int.from_bytes(data[1:4], "big")
    if length > wire.MAX_HANDSHAKE or 4 + length > len(data):
        return None
    try:
        return length, wire.client_hello_fields(data[4 : 4 + length])
    except wire.Malformed:
        return None  # the scanning process reads it again and counts it


class QuicDecoder:
    """A worker's decoder: `decode_datagram`, and the server Initials of the connections whose
    client first flight it opened lately (decrypted with the server keys of the client's DCID),
    sent as (datagram, {packet start: (DCID, packet number, its bits, CRYPTO frames)})."""

    MAX_CLIENTS = 4096  # connections remembered (their server answers within milliseconds)

    def __init__(self) -> None:
        self.clients: OrderedDict[Key, tuple[Endpoint, bytes]] = OrderedDict()

    def __call__(self, frame: int, ts: float, segment: Any) -> bytes | list | tuple:
        source, destination = (segment.src, segment.sport), (segment.dst, segment.dport)
        return self.decode(segment.payload, source, destination)

    def decode(
        self, payload: bytes, source: Endpoint, destination: Endpoint
    ) -> bytes | list | tuple:
        try:
            headers = quic.long_headers(payload)
        except wire.Malformed:
            return payload
        key = _key(source, destination)
        known = self.clients.get(key)
        if known is not None and known[0] == destination:
            # a server's answer, as a rule: opened with the server keys of the client's DCID
            # first (its own DCID's client keys would derive keys only to fail the tag)
            hints = _server_initials(payload, headers, known[1])
            if hints:
                return payload, hints
        opened = _first_flight(payload, headers)
        if opened:
            self.clients[key] = (source, opened[-1][0])  # the DCID the scan keys it by
            self.clients.move_to_end(key)
            if len(self.clients) > self.MAX_CLIENTS:
                self.clients.popitem(last=False)
            return opened
        return payload


def _server_initials(
    datagram: bytes, headers: list[quic.LongHeader], odcid: bytes
) -> dict[int, tuple]:
    """The server Initials of a datagram that open with the server keys of `odcid`."""
    hints = {}
    for header in headers:
        if header.initial:
            try:
                keys = quic.initial_keys(header.version, odcid, True)
                number, bits, plain = quic.open_packet(datagram, header, keys)
                hints[header.start] = (odcid, number, bits, quic.crypto_frames(plain))
            except wire.Malformed:
                continue
    return hints


def _fresh_client(datagram: bytes, header: quic.LongHeader) -> bool:
    """Whether an Initial is a client's first flight (it decrypts with its own DCID's keys)."""
    try:
        quic.decrypt(datagram, header, quic.initial_keys(header.version, header.dcid, False))
    except wire.Malformed:
        return False
    return True


def _hint_holds(conn: _Quic, hint: tuple) -> bool:
    """Whether a worker opened a server Initial as `_decrypt` would: with the keys of this
    connection's DCID and at the packet number this connection expects (then it is taken)."""
    odcid, number, bits, _ = hint
    largest = conn.largest[False]
    if odcid != conn.odcid or quic.decode_packet_number(largest, number, bits) != number:
        return False
    conn.largest[False] = max(largest, number)
    return True


def _hello_hint(hello: tuple) -> tuple[int, wire.ClientHello]:
    """`_stream_start_hello`'s value as (body length, ClientHello)."""
    length, values = hello
    return length, wire.hello_from_fields(values)


def _key(a: Endpoint, b: Endpoint) -> Key:
    return (a, b) if a <= b else (b, a)


class _Quic:
    """One QUIC connection's Initial-level state."""

    __slots__ = ("handshake", "largest", "odcid", "readers", "streams")

    def __init__(self, handshake: Handshake, odcid: bytes) -> None:
        self.handshake = handshake
        self.odcid = odcid
        self.streams = {True: quic.CryptoStream(), False: quic.CryptoStream()}
        self.readers = {True: wire.HandshakeReader(), False: wire.HandshakeReader()}
        self.largest = {True: -1, False: -1}

    def held(self) -> int:
        """Bytes held: CRYPTO data beyond a hole and unfinished handshake messages."""
        streams, readers = self.streams, self.readers
        return (streams[True].pending_bytes + streams[False].pending_bytes
                + len(readers[True].buf) + len(readers[False].buf))  # fmt: skip


class TlsScan(ModuleScan):
    def __init__(self, db: sqlite3.Connection, budget: StreamBudget | None = None) -> None:
        self.db = db
        # what QUIC handshakes hold counts against the scan's stream budget, as TCP's do
        self.budget = budget if budget is not None else StreamBudget()
        self.quic: OrderedDict[Key, _Quic] = OrderedDict()
        self.quic_done: OrderedDict[Key, bytes] = OrderedDict()  # -> its DCID
        self.rows: list[tuple] = []
        self.tally: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.malformed = MalformedLog(db, "tls", ordered=True)
        db.execute(CREATE_STAGING)
        self.decoder = QuicDecoder()  # for datagrams this process decodes itself

    # ------------------------------------------------------------------ TCP
    def on_tcp(self, frame: int, ts: float, chunk: Any) -> bool:
        raise NotImplementedError("TLS over TCP is read by TlsStreams (the stream decoder)")

    def on_stream_flush(self, partial: tuple) -> None:
        rows, malformed, tally = partial
        for item in malformed:
            self._malformed(item[-1], tuple(item[:-1]))
        self.tally.update(tally)
        self.rows += rows
        if len(self.rows) >= BATCH:
            self._flush()

    # ------------------------------------------------------------------ QUIC
    def on_udp(self, frame: int, ts: float, seg: Any) -> None:
        decoded = self.decoder.decode(seg.payload, (seg.src, seg.sport), (seg.dst, seg.dport))
        self.on_udp_decoded(frame, ts, seg.src, seg.sport, seg.dst, seg.dport, decoded)

    def on_udp_decoded(
        self, frame: int, ts: float, src: str, sport: int, dst: str, dport: int, decoded: Any
    ) -> None:
        source, destination = (src, sport), (dst, dport)
        key = _key(source, destination)
        self.tally["quic datagrams"] += 1
        if isinstance(decoded, list):
            for dcid, number, frames, hello in decoded:
                self._opened(frame, ts, key, source, destination, dcid, number, frames, hello)
            return
        datagram, hints = decoded if isinstance(decoded, tuple) else (decoded, None)
        try:
            headers = quic.long_headers(datagram)
        except wire.Malformed as exc:
            self._malformed(exc.code, (frame, ts, src, sport, dst, dport, "quic"))
            return
        for header in headers:
            if header.initial:
                hint = hints.get(header.start) if hints else None
                self._initial(frame, ts, key, source, destination, datagram, header, hint)

    def _initial(
        self,
        frame: int,
        ts: float,
        key: Key,
        source: Endpoint,
        destination: Endpoint,
        datagram: bytes,
        header: quic.LongHeader,
        hint: tuple | None = None,
    ) -> None:
        conn = self.quic.get(key)
        if conn is None:
            done = self.quic_done.get(key)
            if done is not None and (done == header.dcid or not _fresh_client(datagram, header)):
                return  # a late Initial of a connection already written out
            conn = self._new_quic(key, source, destination, header.dcid, ts)
        from_client = source == conn.handshake.client
        try:
            if hint is not None and not from_client and _hint_holds(conn, hint):
                frames = hint[3]
            else:
                frames = quic.crypto_frames(self._decrypt(conn, from_client, datagram, header))
        except wire.Malformed as exc:
            conn.handshake.note(exc, frame, ts, from_client)  # logged when it is written
            return
        self._crypto(key, conn, from_client, frames, frame, ts)

    def _opened(
        self,
        frame: int,
        ts: float,
        key: Key,
        source: Endpoint,
        destination: Endpoint,
        dcid: bytes,
        number: int,
        frames: list[tuple[int, bytes]],
        hello: tuple | None = None,
    ) -> None:
        """A client Initial a worker opened with its own DCID's keys: a first flight (of a new
        connection, or after a Retry, which makes its DCID the connection's key); `hello` as
        `decode_datagram` gives it."""
        conn = self.quic.get(key)
        if conn is None:
            if self.quic_done.get(key) == dcid:
                return  # a client's Initial sent again after the connection was written out
            conn = self._new_quic(key, source, destination, dcid, ts)
        if source != conn.handshake.client:
            return  # cannot be: a server's Initial is never keyed by its own DCID
        conn.odcid = dcid
        conn.largest[True] = max(conn.largest[True], number)
        self._crypto(key, conn, True, frames, frame, ts, hello)

    def _crypto(
        self,
        key: Key,
        conn: _Quic,
        from_client: bool,
        frames: list[tuple[int, bytes]],
        frame: int,
        ts: float,
        hello: tuple | None = None,
    ) -> None:
        """CRYPTO frames in: the handshake messages they complete; done at the ServerHello.

        `hello`, a worker's reading of the ClientHello at the stream's start, stands for the
        first message only while nothing of the stream came before: that message is then the
        very bytes the worker read (the first frame at offset 0 delivers the stream's start).
        """
        held = conn.held()
        read = self._read_crypto(conn, from_client, frames, frame, ts, hello)
        self.budget.used += conn.held() - held
        if read and conn.handshake.server_hello is not None:
            self._close_quic(key)
        elif self.budget.over:
            self._shed_quic()

    def _read_crypto(
        self,
        conn: _Quic,
        from_client: bool,
        frames: list[tuple[int, bytes]],
        frame: int,
        ts: float,
        hello: tuple | None,
    ) -> bool:
        """`_crypto`'s reading; False when the CRYPTO data is malformed (noted)."""
        stream, reader = conn.streams[from_client], conn.readers[from_client]
        parsed = _hello_hint(hello) if hello is not None and not stream.delivered else None
        try:
            for offset, data in frames:
                if offset == quic.CLOSED:  # a TLS alert as a QUIC error: the handshake failed
                    conn.handshake.alert(int.from_bytes(data, "big") in quic.CRYPTO_ERRORS)
                    continue
                ready = stream.add(offset, data)
                for kind, body in reader.feed(ready) if ready else ():
                    if parsed is not None and len(body) != parsed[0]:
                        parsed = None  # cannot be (the worker read this message); to be safe
                    conn.handshake.message(
                        from_client, kind, body, frame, ts, parsed[1] if parsed else None
                    )
                    parsed = None
        except wire.Malformed as exc:
            conn.handshake.note(exc, frame, ts, from_client)  # logged when it is written
            return False
        return True

    def _shed_quic(self) -> None:
        """Over the stream budget: the oldest QUIC handshakes that hold bytes are written out
        as they are (each counted as cut) until the budget is relieved."""
        self.budget.shed(self.quic, lambda conn: conn.held(), lambda key, _: self._close_quic(key))

    def _new_quic(
        self, key: Key, client: Endpoint, server: Endpoint, odcid: bytes, ts: float
    ) -> _Quic:
        conn = self.quic[key] = _Quic(Handshake("quic", client, server, ts), odcid)
        if len(self.quic) > MAX_OPEN:
            self._close_quic(next(iter(self.quic)))
        return conn

    def _decrypt(
        self, conn: _Quic, from_client: bool, datagram: bytes, header: quic.LongHeader
    ) -> bytes:
        """The packet's plaintext; a client Initial to a new DCID (after a Retry) rekeys."""
        keys = quic.initial_keys(header.version, conn.odcid, not from_client)
        largest = conn.largest[from_client]
        try:
            number, plain = quic.decrypt(datagram, header, keys, largest)
        except wire.Malformed:
            if not from_client or header.dcid == conn.odcid:
                raise
            keys = quic.initial_keys(header.version, header.dcid, False)
            number, plain = quic.decrypt(datagram, header, keys, largest)
            conn.odcid = header.dcid
        conn.largest[from_client] = max(largest, number)
        return plain

    def _close_quic(self, key: Key) -> None:
        conn = self.quic.pop(key)
        self.budget.used -= conn.held()
        self.quic_done[key] = conn.odcid
        if len(self.quic_done) > MAX_FINISHED_QUIC:
            self.quic_done.popitem(last=False)
        self._write(conn.handshake)

    # ------------------------------------------------------------------ rows
    def _malformed(self, code: str, where: tuple) -> None:
        """Counted by its code, and kept as a `tls.malformed` item (frame, ts, endpoints)."""
        self.reasons[code] += 1
        self.malformed.add((*where, code))

    def _write(self, hs: Handshake) -> None:
        bad, counted, row = written(hs)
        if bad is not None:
            self._malformed(bad[-1], bad[:-1])
        self.tally[counted] += 1
        if row is not None:
            self.rows.append(row)
            if len(self.rows) >= BATCH:
                self._flush()

    def _flush(self) -> None:
        self.db.executemany(INSERT_STAGING, self.rows)
        self.rows.clear()

    def finish(self, db: sqlite3.Connection) -> ModuleCounts:
        from mcpcap.core.modules.counts import ModuleCounts  # (pydantic: see `_FirstWait`)

        for key in list(self.quic):
            self._close_quic(key)
        self._flush()
        store_in_time_order(db)
        self.malformed.finish()
        handshakes = self.tally["tcp handshakes"] + self.tally["quic handshakes"]
        return ModuleCounts(
            messages=handshakes,
            malformed=sum(self.reasons.values()),
            detail={**self.tally, "malformed": dict(self.reasons)},
        )
