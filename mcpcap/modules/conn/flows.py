"""The per-packet half of connection tracking: runs in the worker processes.

A `FlowDecoder` gets every IP packet of its span and keeps, per flow (the canonical 5-tuple:
the smaller endpoint first), a *piece*: one flat list of tallies per direction. What needs
the whole connection's past to decide (Zeek's endpoint states, history letters, client and
server, timeouts across spans, SYN after a close) is not decided here: a piece keeps the few
TCP packets that can change those (the first SYN, FIN, RST, ACK and data packet of each
direction, in order) as events, and `tracker.ConnTracker` replays them in the scanning
process when it merges the pieces span by span. A piece ends early, and a new one starts,
after the flow's inactivity timeout or at a SYN that follows a FIN or RST (or that comes in a
piece which did not begin with a SYN: the close may be in an earlier span); the tracker joins
the pieces again where Zeek would not have split the connection.

Sequence numbers are kept relative to the first one each direction showed in the piece
(`ANCHOR`), as 32-bit differences, so pieces join across spans and sequence wrap-around.

A piece sees only its own stretch of the sequence space: data it takes for new may be a
retransmission of bytes an earlier piece saw, or fill a hole the earlier piece left. So a piece
that does not begin with a SYN keeps its *head*, each direction's first `HEAD_PACKETS` packets
(and data below its anchor, up to `MAX_HEAD` in all), with what it made of each; the tracker
replays the head against the connection's own sequence state and corrects the counts. Each
kept event notes the piece's retransmissions and zero windows so far, so that the T and W
letters take their place in the history among the other letters.
"""

from __future__ import annotations

from mcpcap.core import fastpath
from mcpcap.core.export import flow_uid
from mcpcap.modules.conn.community import ICMP4_PAIRS, ICMP6_PAIRS, community_id
from mcpcap.modules.conn.services import (
    DNS_HEADER,  # noqa: F401 - held to _flows.c's LAYOUT
    DNS_PORTS,
    tcp_service,
    udp_service,
)

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
CONTROL = SYN | FIN | RST
SYN_ACK = SYN | ACK
MASK32 = 0xFFFFFFFF
HALF32 = 0x80000000
WRAP32 = 0x100000000

TCP_TIMEOUT = 300.0  # Zeek's tcp_inactivity_timeout
OTHER_TIMEOUT = 60.0  # udp_inactivity_timeout, icmp_inactivity_timeout
PROTO_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}
PROTO_NAMES = {number: name for name, number in PROTO_NUMBERS.items()}
MAX_MALFORMED = 1_000  # malformed rows a span keeps (all are counted)
MAX_EVENTS = 32  # control events a piece keeps (a flood of SYNs on one 5-tuple stays bounded)
# an event: (direction, flags, seq, size, ts, then the piece's retransmissions and zero windows
# so far, per canonical side: RETRANS 0, RETRANS 1, ZERO_WIN 0, ZERO_WIN 1)
MAX_HOLES = 8  # sequence holes a direction tracks (reordering versus retransmission)
MAX_TUNNELS = 4  # tunnels' carriers a connection names at most (its tunnel_parents)
MAX_STACKS = 4_096  # distinct layer stacks a span counts; the rest under (link layer, "other")

# a piece: index of each field; fields with two slots are per direction (canonical side 0, 1)
FIRST_TS, LAST_TS, FIRST_FRAME, LAST_FRAME, FIRST_DIR, FIRST_FLAGS = range(6)
PACKETS, IP_BYTES, DATA, SERVICE = 6, 8, 10, 12  # two slots each
VLAN, OUTER = 14, 15  # OUTER: the tunnels' carriers (`carrier`), a tuple, or None
UID, COMMUNITY = 16, 17  # the flow's `flow_ids`, made at the span's end (not for ICMP: None)
PIECE_SIZE = 18  # the fields of every piece; a TCP piece has these too:
NUMBER = PIECE_SIZE  # (the tracker appends its connection's number to a lone piece of UDP ...)
EVENTS, SEEN, CLOSING = 18, 19, 20
ANCHOR, HI, ACK_ANCHOR, ACK_HI, RETRANS, ZERO_WIN, HOLES, HEAD = 21, 23, 25, 27, 29, 31, 33, 35
TCP_PIECE_SIZE = 37
HEAD_PACKETS = 8  # packets of each direction a piece keeps for the tracker to replay
MAX_HEAD = 16  # with the data below the piece's anchor after them
ICMP = frozenset(("icmp", "icmpv6"))

# malformed reasons of a packet whose flow still counts it: the snap length cut its TCP or UDP
# header after the ports (`decap._cut_reason`); the packet was sent, whole, in that flow
CUT_HEADERS = frozenset(("tcp_header_cut", "udp_header_cut"))

# SEEN bits: which plain ACK / data packets a piece already kept as events, per direction
SEEN_ACK, SEEN_DATA = (1, 2), (4, 8)

_NO_SECOND = [0, 0, 1, 0]  # a tally no time falls in
_TCP_PIECE = [None] * TCP_PIECE_SIZE
_TCP_PIECE[PACKETS:SERVICE] = [0] * (SERVICE - PACKETS)
_TCP_PIECE[SEEN] = _TCP_PIECE[CLOSING] = 0
for _i in (RETRANS, ZERO_WIN, HI, ACK_HI):
    _TCP_PIECE[_i] = _TCP_PIECE[_i + 1] = 0


def new_piece(frame: int, ts: float, d: int, flags: int, vlan, outer) -> list:
    """A flow's tallies from its first packet on (`flags` < 0: not TCP, a shorter piece)."""
    outers = None if outer is None else (carrier(outer),)
    if flags < 0:  # FIRST_TS ... FIRST_FLAGS, PACKETS ... SERVICE, VLAN, OUTER, UID, COMMUNITY
        return [ts, ts, frame, frame, d, flags, 0, 0, 0, 0, 0, 0, None, None, vlan, outers,
                None, None]  # fmt: skip
    piece = _TCP_PIECE.copy()
    piece[EVENTS] = []
    piece[FIRST_TS] = piece[LAST_TS] = ts
    piece[FIRST_FRAME] = piece[LAST_FRAME] = frame
    piece[FIRST_DIR] = d
    piece[FIRST_FLAGS] = flags
    piece[VLAN] = vlan
    piece[OUTER] = outers
    # a piece that does not begin with a SYN may go on a connection that an earlier piece
    # closed: a SYN in it ends it, as one after a FIN or RST, and the tracker decides
    # (`tracker._separate`), whichever span saw the close
    piece[CLOSING] = 0 if flags & SYN_ACK == SYN else 1
    if piece[CLOSING]:  # it may go on an earlier piece's connection: keep its head
        piece[HEAD] = []
        piece[HEAD + 1] = []
    return piece


def carrier(outer: tuple) -> tuple:
    """A tunnel's carrier, (proto, src, sport, dst, dport), with the smaller end first: both
    directions of a tunnel are one carrier (one uid)."""
    proto, src, sport, dst, dport = outer
    if (dst, dport) < (src, sport):
        return proto, dst, dport, src, sport
    return proto, src, sport, dst, dport


def key_parts(transport: str, sport: int, dport: int, proto: int) -> tuple[str, int]:
    """(transport, destination port) as a flow key has them, for other transports than TCP
    and UDP: ICMP's ports are Zeek's (the type, and the counterpart type or the code); other
    IP protocols are keyed by their number."""
    if transport == "icmp" or transport == "icmpv6":
        pairs = ICMP6_PAIRS if transport == "icmpv6" else ICMP4_PAIRS
        return transport, pairs.get(sport, dport)
    if transport == "ip":
        return str(proto), dport
    return transport, dport


def flow_ids(key: tuple, first: int) -> tuple[str, str]:
    """(uid, Community ID) of a flow: neither depends on which side is the client, except the
    Community ID of a one-way ICMP message, which keeps its sender (`first`, the client) first."""
    transport, a, a_port, b, b_port = key
    uid = flow_uid(a, a_port, b, b_port, transport)
    proto = PROTO_NUMBERS.get(transport)
    if proto is None:
        proto = int(transport) if transport.isdigit() else 0
    one_way = False
    if proto == 1 or proto == 58:
        pairs = ICMP6_PAIRS if proto == 58 else ICMP4_PAIRS
        one_way = a_port not in pairs if first == 0 else b_port not in pairs
    if first:
        a, a_port, b, b_port = b, b_port, a, a_port
    return uid, community_id(a, a_port, b, b_port, proto, one_way=one_way)


class FlowDecoder:
    """The worker decoder: `packet()` for every IP packet, `flush()` at the end of a span.

    `packet` is `python_packet`, or where it was built its C twin (`_flows.c`), which counts
    the packets that change nothing but counts (and takes UDP flows whole) and hands every
    other one to `python_packet`.
    """

    def __init__(self) -> None:
        self._flows: dict[tuple, list] = {}
        self._done: list[tuple[tuple, list]] = []
        self._seconds: dict[int, list] = {}  # second: [packets, bytes, second, second + 1]
        self._tally: list = _NO_SECOND  # the current second's
        self._l2: dict[int, int] = {}  # frames without IP, by ethertype
        self._bad: dict[str, int] = {}  # malformed frames by reason
        self._bad_rows: list[tuple] = []  # the first of them (`MalformedRow`s)
        self._stacks: dict[tuple, list] = {}  # [frames, bytes] per stack of layers
        self.packet = self.python_packet
        if _COMPILED_PACKET is not None:
            self.packet = _COMPILED_PACKET(
                self, self.python_packet, udp_service, DNS_PORTS, (ICMP4_PAIRS, ICMP6_PAIRS)
            )

    def python_packet(self, frame: int, ts: float, seg) -> None:
        """One IP packet (or a frame without IP: counted by ethertype). The hot path: the
        segment unpacked at once, one dict lookup, list slots, TCP's tallies inline; no object
        made but the flow key (and a piece for a new flow)."""
        (transport, src, sport, dst, dport, payload, seq, flags, ack, window, ip_len, size,
         proto, vlan, outer, _, layers, frame_len) = seg  # fmt: skip
        if transport == "tcp":
            kind, key_port, timeout = transport, dport, TCP_TIMEOUT
        elif transport == "udp":
            kind, key_port, timeout, flags = transport, dport, OTHER_TIMEOUT, -1
        elif transport == "l2":
            self._l2[sport] = self._l2.get(sport, 0) + 1
            self._count(ts, 0)
            self._layers(layers, frame_len)
            return
        elif transport == "malformed":
            self._malformed(frame, ts, seg)
            return
        else:  # never a bare SYN below (flags < 0)
            kind, key_port = key_parts(transport, sport, dport, proto)
            timeout, flags = OTHER_TIMEOUT, -1
            if transport == "icmp" or transport == "icmpv6":
                size = max(size - 8, 0)
        # the flow key: the smaller endpoint first; d = 0 when that is the source
        if src < dst or (src == dst and sport <= key_port):
            key, d = (kind, src, sport, dst, key_port), 0
        else:
            key, d = (kind, dst, key_port, src, sport), 1
        flows = self._flows
        piece = flows.get(key)
        if (
            piece is None
            or ts - piece[LAST_TS] > timeout
            or (flags & SYN_ACK == SYN and piece[CLOSING])  # a SYN after a FIN or RST
        ):
            if piece is not None:
                self._done.append((key, piece))
            piece = flows[key] = new_piece(frame, ts, d, flags, vlan, outer)
        else:
            piece[LAST_TS] = ts
            piece[LAST_FRAME] = frame
        piece[PACKETS + d] += 1
        piece[IP_BYTES + d] += ip_len
        if flags < 0:
            piece[DATA + d] += size
            if piece[SERVICE + d] is None and payload:
                # (other transports than UDP show none)
                piece[SERVICE + d] = (
                    udp_service(sport, dport, payload) if transport == "udp" else ""
                )
        else:  # TCP: sequence space, retransmissions, zero windows and control events
            if flags & RST:  # Zeek's get_segment_len: a RST's payload is no part of the stream
                size = 0
            anchor = piece[ANCHOR + d]
            if anchor is None:
                piece[ANCHOR + d] = anchor = seq
                rel = 0
            else:
                rel = (seq - anchor) & MASK32
                if rel >= HALF32:
                    rel -= WRAP32
            hi = piece[HI + d]
            fresh = 0
            if size:
                if rel == hi:
                    piece[DATA + d] += size
                    fresh = size
                else:
                    fresh = _out_of_order(piece, d, rel, size, hi)
                if piece[SERVICE + d] is None and payload:
                    piece[SERVICE + d] = tcp_service(sport, dport, payload)
            end = rel + size + ((flags & SYN) >> 1) + (flags & FIN)
            if end > hi:
                piece[HI + d] = end
            head = piece[HEAD + d]
            if head is not None and (
                len(head) < HEAD_PACKETS or (rel < 0 < size and len(head) < MAX_HEAD)
            ):  # (rel, size, SYN and FIN octets, fresh bytes taken, events before it)
                head.append((rel, size, end - rel - size, fresh, len(piece[EVENTS])))
            if flags & ACK:
                ack_anchor = piece[ACK_ANCHOR + d]
                if ack_anchor is None:
                    piece[ACK_ANCHOR + d] = ack
                elif not flags & RST:  # Zeek: "Don't trust ack's in RST packets"
                    rel_ack = (ack - ack_anchor) & MASK32
                    if rel_ack < HALF32 and rel_ack > piece[ACK_HI + d]:
                        piece[ACK_HI + d] = rel_ack
            if window == 0 and not flags & (RST | SYN):
                piece[ZERO_WIN + d] += 1
            if flags & CONTROL:
                _control(piece, d, flags, seq, size, ts)
            else:
                bit = SEEN_DATA[d] if size else SEEN_ACK[d] if flags & ACK else 0
                if bit and not piece[SEEN] & bit:
                    piece[SEEN] |= bit
                    piece[EVENTS].append(_event(piece, d, flags, seq, size, ts))
        if outer is not None:  # every carrier of the flow, not only its first packet's
            outers = piece[OUTER]
            if outers is None or outer not in outers:
                _add_carrier(piece, outer)
        else:  # the frame's first segment: `_count` and `_layers`, inlined
            tally = self._tally
            if not tally[2] <= ts < tally[3]:
                tally = self._second(ts)
            tally[0] += 1
            tally[1] += ip_len
            try:
                stack = self._stacks[layers]
            except KeyError:  # (a new stack: once per span)
                stack = self._stack_of(layers)
            stack[0] += 1
            stack[1] += frame_len

    def _malformed(self, frame: int, ts: float, seg) -> None:
        """A frame or IP packet whose headers did not decode (the core's `malformed` segment):
        counted by reason, the first `MAX_MALFORMED` of a span kept as `conn.malformed` rows,
        and in the timeline; it belongs to no connection (Zeek's weird, not a conn.log line)."""
        reason = seg.payload.decode("ascii", "replace") or "malformed"
        self._bad[reason] = self._bad.get(reason, 0) + 1
        if len(self._bad_rows) < MAX_MALFORMED:
            transport = PROTO_NAMES.get(seg.proto, str(seg.proto) if seg.proto else "")
            self._bad_rows.append((frame, ts, seg.src, seg.sport, seg.dst, seg.dport, transport,
                                   reason))  # fmt: skip
        if seg.outer is None:
            self._count(ts, seg.ip_len)
            self._layers(seg.layers, seg.frame_len)
        if reason in CUT_HEADERS:
            self._count_only(frame, ts, seg)

    def _count_only(self, frame: int, ts: float, seg) -> None:
        """A TCP or UDP packet whose header the snap length cut: its flow counts the packet
        and its IP bytes; nothing else of its header is read (no flags, sequence or payload).
        (`packet`'s flow lookup, without its TCP work.)"""
        tcp = seg.proto == 6
        kind, src, sport, dst, dport = (
            "tcp" if tcp else "udp",
            seg.src,
            seg.sport,
            seg.dst,
            seg.dport,
        )
        if src < dst or (src == dst and sport <= dport):
            key, d = (kind, src, sport, dst, dport), 0
        else:
            key, d = (kind, dst, dport, src, sport), 1
        piece = self._flows.get(key)
        if piece is None or ts - piece[LAST_TS] > (TCP_TIMEOUT if tcp else OTHER_TIMEOUT):
            if piece is not None:
                self._done.append((key, piece))
            piece = self._flows[key] = new_piece(frame, ts, d, 0 if tcp else -1, seg.vlan,
                                                 seg.outer)  # fmt: skip
        else:
            piece[LAST_TS] = ts
            piece[LAST_FRAME] = frame
            if seg.outer is not None:
                _add_carrier(piece, seg.outer)
        piece[PACKETS + d] += 1
        piece[IP_BYTES + d] += seg.ip_len

    def _layers(self, layers: tuple, frame_len: int) -> None:
        """The protocol hierarchy: one frame and its bytes for its stack of layers."""
        stack = self._stacks.get(layers)
        if stack is None:
            stack = self._stack_of(layers)
        stack[0] += 1
        stack[1] += frame_len

    def _stack_of(self, layers: tuple) -> list:
        """The tally of a stack of layers, new unless there are MAX_STACKS already: then its
        link layer's `other`."""
        stacks = self._stacks
        if len(stacks) >= MAX_STACKS and layers[1:] != ("other",):
            layers = (*layers[:1], "other")
            stack = stacks.get(layers)
            if stack is not None:
                return stack
        stack = stacks[layers] = [0, 0]
        return stack

    def _count(self, ts: float, ip_len: int) -> None:
        """The timeline: packets and IP bytes per second (the tunnels' inner packets aside)."""
        tally = self._tally
        if not tally[2] <= ts < tally[3]:
            tally = self._second(ts)
        tally[0] += 1
        tally[1] += ip_len

    def _second(self, ts: float) -> list:
        """The tally of the second `ts` falls in, made current."""
        second = int(ts)
        tally = self._tally = self._seconds.get(second)
        if tally is None:
            tally = self._tally = self._seconds[second] = [0, 0, second, second + 1]
        return tally

    def flush(self) -> tuple | None:
        """(pieces in order of their first frame, timeline rows, latest timestamp, frames
        without IP by ethertype, (malformed rows, malformed counts by reason), frames and bytes
        by layer stack) of the span.
        Each piece carries its flow's uid and Community ID: hashing them here, in the
        workers, spares the scanning process."""
        pieces = self._done
        pieces.extend(self._flows.items())
        if not pieces and not self._seconds:
            return None
        max_ts = None
        for key, piece in pieces:
            kind = key[0]
            if kind == "tcp" or kind == "udp":  # `flow_ids(key, 0)`, inlined
                _, a, a_port, b, b_port = key
                piece[UID] = flow_uid(a, a_port, b, b_port, kind)
                piece[COMMUNITY] = community_id(a, a_port, b, b_port, 6 if kind == "tcp" else 17)
            elif kind not in ICMP:  # (one-way ICMP's Community ID needs the client)
                piece[UID], piece[COMMUNITY] = flow_ids(key, 0)
            if max_ts is None or piece[LAST_TS] > max_ts:
                max_ts = piece[LAST_TS]
        pieces.sort(key=lambda item: item[1][FIRST_FRAME])
        seconds = [(second, p, b) for second, (p, b, _, _) in self._seconds.items()]
        l2, bad = self._l2, (self._bad_rows, self._bad)
        stacks = [(layers, frames, size) for layers, (frames, size) in self._stacks.items()]
        self._flows, self._done, self._seconds, self._l2 = {}, [], {}, {}
        self._bad, self._bad_rows, self._stacks = {}, [], {}
        self._tally = _NO_SECOND
        return pieces, seconds, max_ts, l2, bad, stacks


def _add_carrier(piece: list, outer: tuple) -> None:
    outers = piece[OUTER] or ()
    outer = carrier(outer)
    if outer not in outers and len(outers) < MAX_TUNNELS:
        piece[OUTER] = (*outers, outer)


def _out_of_order(piece: list, d: int, rel: int, size: int, hi: int) -> int:
    """Data that does not start at the highest sequence number yet: its fresh bytes counted
    (0: a retransmission, counted as one)."""
    fresh, piece[HOLES + d] = take_data(piece[HOLES + d], hi, rel, size)
    if fresh:
        piece[DATA + d] += fresh
    else:
        piece[RETRANS + d] += 1
    return fresh


def take_data(holes: list | None, hi: int, rel: int, size: int) -> tuple[int, list | None]:
    """(fresh bytes, holes after) of data [rel, rel + size) in a sequence space whose highest
    number is `hi` with `holes` below it: past `hi` a hole opens before it; before `hi` only
    the bytes that fill holes (or reach past `hi`) are fresh, none for a retransmission."""
    if rel > hi:
        if holes is None:
            holes = []
        if len(holes) < MAX_HOLES:
            holes.append([hi, rel])
        return size, holes
    top = rel + size
    if not holes:
        return max(top - hi, 0), holes
    lo, stop = rel, min(top, hi)
    filled = 0
    kept = []
    for h_lo, h_hi in holes:
        if stop <= h_lo or lo >= h_hi:
            kept.append([h_lo, h_hi])
            continue
        filled += min(stop, h_hi) - max(lo, h_lo)
        if h_lo < lo:
            kept.append([h_lo, lo])
        if stop < h_hi:
            kept.append([stop, h_hi])
    return max(top - hi, 0) + filled, kept


def _control(piece: list, d: int, flags: int, seq: int, size: int, ts: float) -> None:
    """Keep a SYN, FIN or RST unless the piece already kept the same one (same sequence)."""
    events = piece[EVENTS]
    kind = flags & (CONTROL | ACK)
    for event in events:
        if event[0] == d and event[1] & (CONTROL | ACK) == kind and event[2] == seq:
            return
    if flags & (FIN | RST):
        piece[CLOSING] = 1
    if len(events) < MAX_EVENTS:
        events.append(_event(piece, d, flags, seq, size, ts))


def _event(piece: list, d: int, flags: int, seq: int, size: int, ts: float) -> tuple:
    """A kept packet, with the piece's retransmissions and zero windows so far (see
    `MAX_EVENTS`)."""
    return (d, flags, seq, size, ts, piece[RETRANS], piece[RETRANS + 1], piece[ZERO_WIN],
            piece[ZERO_WIN + 1])  # fmt: skip


_COMPILED_PACKET = fastpath.checked_bind("mcpcap.modules.conn._flows", globals(), "piece")
