"""Reassemble the byte stream of each direction of each TCP connection, with bounded memory.

Bytes are delivered in sequence order as soon as they are contiguous. Retransmitted bytes are
dropped, out-of-order segments wait (up to a bound) for the hole before them, and a hole that
never fills is skipped: the next chunk then carries `gap=True` so a consumer (a DNS-over-TCP
length-prefix parser, say) knows to resynchronise.

A hole is given up on as soon as it is known lost: when the other direction acknowledges bytes
beyond it (the receiver got them, the capture missed them: Wireshark's "ACKed segment that
wasn't captured"; Zeek gives up on a hole the same way), when a direction holds more than a
small bound behind it, at a FIN or RST, or at the end of the capture. Bytes delivered past a
hole carry the frame and time of the segment that brought them, not of the one releasing them.

A SYN with a new initial sequence number on ports that carried another connection starts a new
one (RFC 9293 3.5, 3.10.7: the old one's FIN or RST was missed, or its port was reused after
TIME_WAIT; Zeek reads a SYN with another ISN as connection reuse too): the old connection ends
there, each of its sides with an end chunk, and the new one is reassembled from its own ISN. A
retransmitted SYN, or a SYN/ACK answering the SYN that opened the connection, changes nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from mcpcap.core.decap import Segment

SEQ_MOD = 1 << 32
HALF_SEQ = 1 << 31
MAX_PENDING_SEGMENTS = 1024
MAX_HELD_BYTES = 64 * 1024  # behind a hole, per direction, before the hole is given up on
DEFAULT_MAX_STREAM_BYTES = 64 * 1024**2

TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_ACK = 0x10
TCP_SYN_ACK = TCP_SYN | TCP_ACK
_ACK_NOT_RST = TCP_ACK | TCP_RST  # flags & this == TCP_ACK: an acknowledgement, not a reset


class StreamChunk(NamedTuple):
    """Contiguous bytes of one direction; `gap` means bytes before these were never seen.

    `end`: the direction ended here (a FIN or RST, or a SYN starting a new connection on the
    same ports); such a chunk carries no data. `reset`: that end was no FIN: an RST (sent by
    either side: it ends both directions), or the new connection's SYN (the old one's FIN, if
    any, was never seen, so what was read up to it may be unfinished).
    `frame`, `ts`: where bytes delivered past a hole were captured (they waited behind it until
    it was given up on); 0 for every other chunk, whose bytes are complete in the frame that
    delivers them. `lost`: with `gap`, how many bytes the hole held (0 when unknown). A hole
    the other side acknowledged past with nothing captured beyond it yet comes at once as a
    chunk without data (`gap`, `lost`, and the acknowledging segment's frame).
    """

    src: str
    sport: int
    dst: str
    dport: int
    data: bytes
    gap: bool
    syn_seen: bool
    end: bool = False
    reset: bool = False
    frame: int = 0
    ts: float = 0.0
    lost: int = 0


class StreamBudget:
    """The bytes every TCP stream of one scan holds back, bounded in total.

    Streams hold bytes twice: the reassembler keeps out-of-order segments behind a hole, and a
    module's framer keeps a message until its last byte arrives. Each holder adds what it keeps
    to `used` and subtracts what it lets go. A holder that takes the total past `max_bytes` cuts
    its least recently used streams (delivering or dropping what they hold) until the total is
    back under three quarters of it, and counts each stream it cut in `cut`: memory stays bounded
    whatever a capture holds, as Zeek and Suricata bound their reassembly memory.
    """

    __slots__ = ("cut", "max_bytes", "used")

    def __init__(self, max_bytes: int = DEFAULT_MAX_STREAM_BYTES) -> None:
        self.max_bytes = max(max_bytes, 0)
        self.used = 0
        self.cut = 0

    @property
    def over(self) -> bool:
        return self.used > self.max_bytes

    @property
    def relieved(self) -> bool:
        """Far enough under the bound that cutting can stop (so cuts come in rare batches)."""
        return self.used <= self.max_bytes * 3 // 4

    def shed(
        self,
        holders: Mapping[Any, Any],
        holds: Callable[[Any], bool],
        cut: Callable[[Any, Any], None],
    ) -> None:
        """Cut the oldest holders (`holders` in their order) for which `holds` is true, each
        counted in `cut`, until the budget is relieved; `cut(key, holder)` lets go of what the
        holder keeps (and takes it off `used`)."""
        for key, holder in [(key, holder) for key, holder in holders.items() if holds(holder)]:
            if self.relieved:
                break
            self.cut += 1
            cut(key, holder)

    def warnings(self) -> list[str]:
        """The capture facts' warning when streams were cut, else nothing."""
        if not self.cut:
            return []
        return [
            f"{self.cut} stream(s) were cut short: the bytes held for unfinished TCP streams "
            f"and QUIC handshakes reached the bound of {self.max_bytes} bytes "
            "(max_stream_bytes), so the oldest were cut: bytes waiting behind a hole were "
            "delivered past it or dropped, and a message, handshake or request left unfinished "
            "was written out as it was"
        ]


def seq_diff(a: int, b: int) -> int:
    """a - b in sequence space, as a signed number (RFC 1982 style, modulo 2**32)."""
    return (a - b + HALF_SEQ) % SEQ_MOD - HALF_SEQ


class _Direction:
    """One direction of a connection: where the stream is, and what waits beyond a hole.

    `offset` counts the stream bytes before `next_seq` (delivered or skipped) as a plain,
    never-wrapping integer; buffered segments are keyed by their stream offset so a delivery
    never has to rewrite the buffer. `isn`: the sequence number of its SYN (-1: none seen).
    """

    __slots__ = (
        "closed", "gap", "isn", "next_seq", "offset", "origins", "pending", "pending_bytes",
        "syn_seen",
    )  # fmt: skip

    def __init__(self, next_seq: int, syn_seen: bool) -> None:
        self.next_seq = next_seq
        self.offset = 0
        self.syn_seen = syn_seen
        self.isn = (next_seq - 1) % SEQ_MOD if syn_seen else -1
        self.pending: dict[int, bytes] = {}
        self.origins: dict[int, tuple[int, float]] = {}  # a buffered segment's frame and time
        self.pending_bytes = 0
        self.gap = 0  # bytes skipped since the last delivery (a hole given up on)
        self.closed = False

    def free(self) -> None:
        self.pending = {}
        self.origins = {}
        self.pending_bytes = 0
        self.closed = True

    @property
    def carried(self) -> bool:
        """Whether anything of it reached a reader: bytes, a hole, or its end."""
        return bool(self.offset or self.pending or self.closed)


class _Connection:
    __slots__ = ("directions", "released")

    def __init__(self) -> None:
        self.directions: dict[tuple[str, int], _Direction] = {}
        # nobody reads it: its segments are dropped until a SYN starts a new connection (its
        # directions, freed, are kept to tell a retransmitted SYN from a new one)
        self.released = False


ConnectionKey = tuple[tuple[str, int], tuple[str, int]]
_END = (b"", "end")  # in a delivery list: the direction ends here (a chunk with end=True)
_RESET = (b"", "reset")  # the same, ended by an RST
_ALL = 1 << 62  # an offset past every hole: `_release` skips them all


class TcpReassembler:
    """Feed TCP segments in capture order; get back the stream bytes they make available.

    Memory is bounded: at most `max_connections` connections (least recently used evicted), at
    most `max_buffer_per_direction` out-of-order bytes (and `MAX_PENDING_SEGMENTS` segments) per
    direction, and the out-of-order bytes of all connections within `budget` (the least
    recently used connections' are delivered past their holes when it is exceeded). A finished
    connection (FIN from both sides, or RST) keeps only a small record so late retransmissions
    are recognised as such; `active_connections` counts the ones still open.
    """

    def __init__(
        self,
        max_connections: int = 10_000,
        max_buffer_per_direction: int = MAX_HELD_BYTES,
        budget: StreamBudget | None = None,
    ) -> None:
        self.max_connections = max_connections
        self.max_buffer_per_direction = max_buffer_per_direction
        self.budget = budget if budget is not None else StreamBudget()
        self._connections: OrderedDict[ConnectionKey, _Connection] = OrderedDict()
        self.evicted = 0
        self._origin = (0, 0.0)  # the frame and time of the segment being fed

    def __len__(self) -> int:
        return len(self._connections)

    @property
    def active_connections(self) -> int:
        return sum(
            1
            for conn in self._connections.values()
            if any(not d.closed for d in conn.directions.values())
        )

    @property
    def buffered_bytes(self) -> int:
        return sum(
            d.pending_bytes for conn in self._connections.values() for d in conn.directions.values()
        )

    def feed(self, seg: Segment, frame: int = 0, ts: float = 0.0) -> list[StreamChunk]:
        """The chunks this segment completes, in stream order (often just its own payload).

        `frame` and `ts` are kept with a segment that must wait behind a hole: a chunk delivered
        past that hole later carries them. The other direction's bytes that this segment's
        acknowledgement shows past a hole come first (they were captured before it), and before
        them the end of a connection this segment's SYN replaces (see `supersede`).
        """
        self._origin = (frame, ts)
        source = (seg.src, seg.sport)
        flags = seg.tcp_flags
        if flags & TCP_SYN:
            ended = self.supersede(seg)  # the chunks ending a connection this SYN replaces
            conn = self._connection(source, (seg.dst, seg.dport))
            if conn.released:
                return []  # the released connection's SYN again
            chunks = ended or []
            if flags & _ACK_NOT_RST == TCP_ACK and seg.ack:
                chunks += self._on_ack(conn, seg)
            direction = self._on_syn(conn, source, conn.directions.get(source), seg.seq)
            data_seq = (seg.seq + 1) % SEQ_MOD
        else:
            conn = self._connection(source, (seg.dst, seg.dport))
            if conn.released:
                return []
            chunks = self._on_ack(conn, seg) if flags & _ACK_NOT_RST == TCP_ACK and seg.ack else []
            direction = conn.directions.get(source)
            data_seq = seg.seq
            if direction is None:
                if not seg.payload:
                    return chunks + self._on_rst(conn, seg) if flags & TCP_RST else chunks
                direction = conn.directions[source] = _Direction(seg.seq, syn_seen=False)
        if direction.closed:
            return chunks + self._on_rst(conn, seg) if flags & TCP_RST else chunks
        out: list = []
        if seg.payload:
            self._accept(direction, data_seq, seg.payload, out)
        chunks += [self._chunk(seg, direction, item) for item in out]
        if self.budget.over:
            chunks += self._shed()
        if flags & TCP_RST:
            return chunks + self._on_rst(conn, seg)
        if flags & TCP_FIN:
            chunks += self._close_direction(seg, direction)
        return chunks

    def flush(self) -> list[StreamChunk]:
        """At the end of a capture: deliver every buffered byte, skipping the holes (gap=True).

        A segment the capture missed leaves everything after it waiting; without a FIN or a
        full buffer nothing else would release it.
        """
        chunks: list[StreamChunk] = []
        for key, conn in self._connections.items():
            chunks += self._flush_connection(key, conn)
        return chunks

    def release(self, a: tuple[str, int], b: tuple[str, int]) -> None:
        """Stop reassembling the connection between `a` and `b` (no module reads it): what it
        holds is let go, and its segments are dropped until a SYN starts a new connection."""
        conn = self._connections.get((a, b) if a <= b else (b, a))
        if conn is None:
            return
        for direction in conn.directions.values():
            self.budget.used -= direction.pending_bytes
            direction.free()
        conn.released = True

    @property
    def connections(self) -> OrderedDict[ConnectionKey, _Connection]:
        """The connection table, least recently used first (what `drops` reads: for its
        compiled twin in `streamwork`)."""
        return self._connections

    def drops(self, source: tuple[str, int], destination: tuple[str, int]) -> bool:
        """Whether `feed` would drop a segment without SYN between these two ends unseen (its
        connection was released), with the same effect on the connection table: a caller may
        then skip the segment, and need not fetch its payload."""
        key = (source, destination) if source <= destination else (destination, source)
        conn = self._connections.get(key)
        if conn is None or not conn.released:
            return False
        self._connections.move_to_end(key)
        return True

    def supersede(self, seg: Segment) -> list[StreamChunk] | None:
        """For a SYN: None when it belongs to the connection on its ports (see `_starts_anew`);
        else the chunks that end the connection it replaces (none when no connection was known
        there, or nobody read it), which is then forgotten so that `feed` starts the new one
        from this SYN. `feed` asks this itself; a caller that must hand the old connection's
        ends to its readers before the new connection's chunks asks first."""
        source, destination = (seg.src, seg.sport), (seg.dst, seg.dport)
        key = (source, destination) if source <= destination else (destination, source)
        conn = self._connections.get(key)
        if conn is None:
            return []
        if not self._starts_anew(conn, conn.directions.get(source), seg):
            return None
        del self._connections[key]
        return [] if conn.released else self._end_connection(key, conn)

    def _shed(self) -> list[StreamChunk]:
        """Over the budget: the least recently used connections deliver what waits behind
        their holes, until the budget is relieved."""
        chunks: list[StreamChunk] = []
        budget = self.budget
        for key, conn in self._connections.items():
            if budget.relieved:
                break
            if any(direction.pending for direction in conn.directions.values()):
                chunks += self._flush_connection(key, conn)
                budget.cut += 1
        return chunks

    def _flush_connection(self, key: ConnectionKey, conn: _Connection) -> list[StreamChunk]:
        """Every byte the connection's directions hold, delivered past the holes (gap=True)."""
        chunks: list[StreamChunk] = []
        for source, direction in conn.directions.items():
            if not direction.pending:
                continue
            out: list = []
            self._flush_pending(direction, out)
            destination = key[1] if key[0] == source else key[0]
            chunks += [_make(*source, *destination, direction.syn_seen, item) for item in out]
        return chunks

    # -- connection table --------------------------------------------------------------------

    def _connection(self, a: tuple[str, int], b: tuple[str, int]) -> _Connection:
        key = (a, b) if a <= b else (b, a)
        conn = self._connections.get(key)
        if conn is None:
            conn = self._connections[key] = _Connection()
            while len(self._connections) > self.max_connections:
                _, evicted = self._connections.popitem(last=False)
                self.budget.used -= sum(d.pending_bytes for d in evicted.directions.values())
                self.evicted += 1
        else:
            self._connections.move_to_end(key)
        return conn

    def _starts_anew(self, conn: _Connection, direction: _Direction | None, seg: Segment) -> bool:
        """Whether a SYN starts a new connection where `conn` was (`direction`: its sender's).

        Not when it is the SYN of that direction again (retransmitted, or captured after the
        first bytes it opened: just before them), a SYN/ACK answering the SYN on the other side,
        or when nothing of the connection reached a reader yet (then its sender's direction
        simply starts again from the new ISN). Otherwise it is: a SYN with a new ISN, the old
        connection's end missed or its ports reused (as Zeek reads a new ISN, RFC 9293 3.5); or
        with the same ISN once the direction carried bytes and ended or was released (no
        retransmitted SYN comes that late: the ports were reused with the number again)."""
        seq = seg.seq
        if direction is not None:
            if direction.isn == seq and not (direction.closed and direction.offset):
                return False
            if direction.isn < 0:
                start = (direction.next_seq - direction.offset) % SEQ_MOD
                if 0 <= seq_diff(start, seq + 1) <= self.max_buffer_per_direction:
                    return False
        elif seg.tcp_flags & TCP_ACK:
            return False
        if seg.tcp_flags & TCP_ACK:
            peer = conn.directions.get((seg.dst, seg.dport))
            if peer is not None and peer.isn >= 0 and (peer.isn + 1) % SEQ_MOD == seg.ack:
                return False
        return conn.released or any(d.carried for d in conn.directions.values())

    def _end_connection(self, key: ConnectionKey, conn: _Connection) -> list[StreamChunk]:
        """A connection a new one replaces ends: each side not ended yet delivers what waits
        behind its holes, then an end (`reset`: its FIN was not seen), a side that never sent
        anything too (so a reader of both sides knows the connection is over)."""
        chunks: list[StreamChunk] = []
        for source, destination in (key, key[::-1]):
            direction = conn.directions.get(source)
            out: list = []
            if direction is not None:
                if direction.closed:
                    continue
                self._flush_pending(direction, out)
                direction.free()
            out.append(_RESET)
            syn_seen = direction is not None and direction.syn_seen
            chunks += [_make(*source, *destination, syn_seen, item) for item in out]
        return chunks

    def _on_syn(
        self,
        conn: _Connection,
        source: tuple[str, int],
        direction: _Direction | None,
        seq: int,
    ) -> _Direction:
        """A SYN of the connection there starts its sender's direction, or starts it again from
        a new ISN when nothing of it reached a reader; a retransmitted SYN changes nothing."""
        if direction is not None and (direction.isn == seq or direction.carried):
            return direction
        direction = conn.directions[source] = _Direction((seq + 1) % SEQ_MOD, syn_seen=True)
        return direction

    def _on_ack(self, conn: _Connection, seg: Segment) -> list[StreamChunk]:
        """The segment acknowledges bytes of the other direction: a hole below them is lost to
        the capture, so what waits beyond it is delivered now (past the hole, with its frames)."""
        peer = conn.directions.get((seg.dst, seg.dport))
        if peer is None or peer.closed:
            return []
        ahead = (seg.ack - peer.next_seq + HALF_SEQ) % SEQ_MOD - HALF_SEQ
        if ahead <= 0:
            return []
        acked = peer.offset + ahead
        out: list = []
        if peer.pending:
            self._release(peer, out, acked)
        if peer.offset < acked:  # nothing captured beyond the hole (yet): say so now; bytes
            # a capture shows only after their acknowledgement come too late (Zeek too reports a
            # content gap once the peer acknowledges past it)
            self._skip(peer, acked)
            out.append((b"", peer.gap, *self._origin))
            peer.gap = 0
        key = (seg.dst, seg.dport)
        return [self._chunk_for(key, seg, peer, item) for item in out]

    def _on_rst(self, conn: _Connection, seg: Segment) -> list[StreamChunk]:
        """RST ends the connection: flush what waits (past its holes) and free both sides."""
        chunks: list[StreamChunk] = []
        for key, direction in conn.directions.items():
            if direction.closed:
                continue
            out: list = []
            self._flush_pending(direction, out)
            out.append(_RESET)
            chunks += [self._chunk_for(key, seg, direction, item) for item in out]
            direction.free()
        return chunks

    def _close_direction(self, seg: Segment, direction: _Direction) -> list[StreamChunk]:
        """FIN: whatever still waits behind a hole is delivered now, marked as after a gap."""
        out: list = []
        self._flush_pending(direction, out)
        out.append(_END)
        direction.free()
        return [self._chunk(seg, direction, item) for item in out]

    # -- sequence handling -------------------------------------------------------------------

    def _accept(self, direction: _Direction, seq: int, payload: bytes, out: list) -> None:
        ahead = seq_diff(seq, direction.next_seq)
        if ahead > 0:
            self._buffer(direction, ahead, payload, out)
            return
        if -ahead >= len(payload):
            return  # a retransmission of bytes already delivered
        self._deliver(direction, payload[-ahead:], out)
        self._drain(direction, out)

    def _deliver(
        self,
        direction: _Direction,
        data: bytes,
        out: list,
        origin: tuple[int, float] | None = None,
    ) -> None:
        if origin is not None:
            out.append((data, direction.gap, *origin))
            direction.gap = 0
        elif direction.gap:
            out.append((data, direction.gap, 0, 0.0))
            direction.gap = 0
        else:
            out.append(data)
        direction.next_seq = (direction.next_seq + len(data)) % SEQ_MOD
        direction.offset += len(data)

    def _buffer(self, direction: _Direction, ahead: int, payload: bytes, out: list) -> None:
        """Keep a segment beyond a hole; beyond the direction's bounds, give up on the holes."""
        start = direction.offset + ahead
        known = direction.pending.get(start)
        if known is not None and len(known) >= len(payload):
            return
        direction.pending[start] = payload
        direction.origins[start] = self._origin
        added = len(payload) - (len(known) if known else 0)
        direction.pending_bytes += added
        self.budget.used += added
        if (
            direction.pending_bytes > self.max_buffer_per_direction
            or len(direction.pending) > MAX_PENDING_SEGMENTS
        ):
            self._release(direction, out, _ALL)

    def _drain(self, direction: _Direction, out: list) -> None:
        """Deliver buffered segments that have become contiguous with the stream."""
        if direction.pending:
            self._release(direction, out, -1)

    def _flush_pending(self, direction: _Direction, out: list) -> None:
        """Give up on the holes: deliver everything buffered, marking each jump as a gap."""
        if direction.pending:
            self._release(direction, out, _ALL)

    def _release(self, direction: _Direction, out: list, upto: int) -> None:
        """One ordered pass over the buffer: deliver what is contiguous, giving up on each hole
        whose next bytes start at or before the offset `upto` (-1: none; `_ALL`: every one).

        Bytes past a hole given up on are as complete as they will be where they were captured,
        so they carry that segment's frame and time; bytes made contiguous by the segment that
        filled a hole are complete in that segment (no origin: the delivering frame)."""
        pending = direction.pending
        origins = direction.origins
        past_hole = False
        for start in sorted(pending):
            if start > direction.offset:
                if start > upto:
                    return
                self._skip(direction, start)
                past_hole = True
            piece = pending.pop(start)
            origin = origins.pop(start, None)
            direction.pending_bytes -= len(piece)
            self.budget.used -= len(piece)
            already = direction.offset - start
            if already < len(piece):
                self._deliver(direction, piece[already:], out, origin if past_hole else None)

    @staticmethod
    def _skip(direction: _Direction, offset: int) -> None:
        """Give up on the bytes up to `offset`: the next chunk says how many were lost."""
        direction.gap += offset - direction.offset
        direction.next_seq = (direction.next_seq + offset - direction.offset) % SEQ_MOD
        direction.offset = offset

    # -- output ------------------------------------------------------------------------------

    @staticmethod
    def _chunk(seg: Segment, direction: _Direction, item: bytes | tuple) -> StreamChunk:
        return _make(seg.src, seg.sport, seg.dst, seg.dport, direction.syn_seen, item)

    @staticmethod
    def _chunk_for(
        key: tuple[str, int], seg: Segment, direction: _Direction, item: bytes | tuple
    ) -> StreamChunk:
        """A chunk of the direction whose source is `key` (which may be the other side)."""
        if key == (seg.src, seg.sport):
            return _make(seg.src, seg.sport, seg.dst, seg.dport, direction.syn_seen, item)
        return _make(seg.dst, seg.dport, seg.src, seg.sport, direction.syn_seen, item)


def _make(
    src: str, sport: int, dst: str, dport: int, syn_seen: bool, item: bytes | tuple
) -> StreamChunk:
    """A delivery list's item as a chunk: bytes in order; (bytes, bytes lost before them,
    frame, ts) past a hole given up on (frame 0: the delivering one's); `_END` or `_RESET`."""
    if item.__class__ is not tuple:
        return StreamChunk(src, sport, dst, dport, item, False, syn_seen)
    if item is _END or item is _RESET:
        return StreamChunk(src, sport, dst, dport, b"", False, syn_seen, True, item is _RESET)
    data, lost, frame, ts = item
    return StreamChunk(
        src, sport, dst, dport, data, lost > 0, syn_seen, False, False, frame, ts, lost
    )
