"""The connection half of tracking: runs in the scanning process, span after span.

`ConnTracker` merges the workers' pieces (see `flows`) in capture order into connections, as
Zeek's connection table would hold them: who is the client (the first SYN's sender, or the
first packet's with Zeek's port heuristics, `^` in the history when it flips), each TCP
endpoint's state replayed from the kept events (Zeek's TCP_Analyzer state machine), the
history letters (Zeek's `update_history`, the scaled `T` and `W` letters at 1, 10, 100 ...),
inactivity timeouts (TCP 5 min, UDP and ICMP 1 min) and a new connection at a SYN after a
close. The table of active connections is bounded: past `max_active` the least recently
active one is finished early (counted in `evicted`).
"""

from __future__ import annotations

from collections.abc import Callable

from mcpcap.core.ports import BROADCAST, LIKELY_SERVER_PORTS
from mcpcap.modules.conn import flows
from mcpcap.modules.conn.flows import (
    ACK,
    FIN,
    FIRST_FRAME,
    FIRST_TS,
    HALF32,
    LAST_TS,
    MASK32,
    MAX_TUNNELS,
    RST,
    SYN,
    WRAP32,
)

INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET = range(7)
# active connections at most; an entry's size is bounded (history <= 64 letters, <= 4 tunnels'
# carriers, TCP's kept events replayed and dropped): about 0.85 KB measured for TCP and 0.6 KB
# for UDP (flow key, numbers, strings aside), so the count bounds the bytes too (~50 MB)
MAX_ACTIVE = 50_000
MAX_HISTORY = 64

# per-direction numbers of a connection: index + direction (canonical side 0 or 1)
PK, IPB, DATA, BASE, HI, ACKED, FINS, RETR, ZERO, STATE, PREV, LSYN, LFIN, LRST = range(0, 28, 2)
HOLES = 28  # the holes below HI (`flows.take_data`'s), or None
SIZE = 30
LETTER_BITS = {letter: 1 << i for i, letter in enumerate("SHADFRQITWGC")}
D_BIT = LETTER_BITS["D"]
# a new connection's numbers after PK, IPB and DATA: no sequence base yet, nothing seen
_FRESH = (None, None, *[0] * (LSYN - HI), *[None] * (SIZE - LSYN))


class Conn:
    """One connection being tracked (directions are the flow key's canonical sides)."""

    __slots__ = ("closed_ts", "closers", "community", "first_frame", "first_ts", "history",
                 "key", "last_frame", "last_ts", "n", "number", "orig", "outers", "seen",
                 "services", "shown", "syn_ts", "synack_ts", "uid", "vlan")  # fmt: skip

    def __init__(self, key: tuple, piece: list) -> None:
        """The connection a piece begins: the piece's tallies are its first ones."""
        self.key = key
        first = piece[flows.FIRST_DIR]
        self.orig = orig = first ^ flips(key, first, piece[flows.FIRST_FLAGS])
        self.first_ts = first_ts = piece[flows.FIRST_TS]
        self.first_frame = first_frame = piece[flows.FIRST_FRAME]
        last_ts, last_frame = piece[flows.LAST_TS], piece[flows.LAST_FRAME]
        self.last_ts = last_ts if last_ts > first_ts else first_ts
        self.last_frame = last_frame if last_frame > first_frame else first_frame
        packets, ip_bytes, data = flows.PACKETS, flows.IP_BYTES, flows.DATA
        self.n = [piece[packets], piece[packets + 1], piece[ip_bytes], piece[ip_bytes + 1],
                  piece[data], piece[data + 1], *_FRESH]  # fmt: skip
        self.history = "^" if orig != first else ""
        self.seen = 0
        self.vlan = piece[flows.VLAN]
        self.outers: tuple = piece[flows.OUTER] or ()  # (`flows.carrier`s)
        service, other = piece[flows.SERVICE], piece[flows.SERVICE + 1]
        # the sides whose first payload named the service already (a later piece's cannot)
        self.shown = (service is not None) | (other is not None) << 1
        if service:
            self.services: tuple = (service, other) if other and other != service else (service,)
        else:
            self.services = (other,) if other else ()
        self.syn_ts = self.synack_ts = None
        self.closers = 0  # the sides (bits 1 << d) that closed: sent a FIN or a RST
        self.closed_ts: float | None = None  # when both sides had closed (`duration`)
        self.number = 0
        self.uid, self.community = piece[flows.UID], piece[flows.COMMUNITY]
        _absorb_transport(self, piece)

    @property
    def transport(self) -> str:
        return self.key[0]

    def order(self) -> tuple:
        """Where the connection's record goes: by time, frame, transport, client, server."""
        key = self.key
        ends = ((key[1], key[2]), (key[3], key[4]))
        return (self.first_ts, self.first_frame, key[0], *ends[self.orig], *ends[1 - self.orig])

    def closed(self) -> bool:
        n = self.n
        return RESET in (n[STATE], n[STATE + 1]) or n[STATE] == n[STATE + 1] == CLOSED


def flips(key: tuple, first: int, flags: int) -> int:
    """1 when Zeek's heuristics make the first packet's receiver the originator (never a
    broadcast address: a DHCP server's broadcast answer stays its own connection's)."""
    transport = key[0]
    if key[3 if first == 0 else 1] == BROADCAST:
        return 0
    sport, dport = (key[2], key[4]) if first == 0 else (key[4], key[2])
    likely = LIKELY_SERVER_PORTS
    if transport == "udp":
        return int(sport in likely and dport not in likely)
    if transport != "tcp" or (flags & SYN and not flags & ACK):
        return 0
    if sport not in likely:
        return 0
    if dport in likely:
        return int(not flags & SYN and sport < dport)
    return 1


def _signed(value: int) -> int:
    value &= MASK32
    return value - WRAP32 if value >= HALF32 else value


class ConnTracker:
    """Pieces in, finished connections out (to `emit(key, entry)`), with bounded memory.

    A connection of another transport than TCP is, until a second piece joins it, its first
    piece itself (a *lone piece*, its number appended: `flows.NUMBER`), which `scan.piece_row`
    writes without making a `Conn`: most UDP and ICMP connections are one piece. An entry of
    the tables is a `Conn` or such a list.

    Each connection is numbered as it is made (`Conn.number`, from 1): in a capture whose
    times go forward that is already the order of `Conn.order`, which `in_order` says.
    """

    def __init__(
        self, emit: Callable[[tuple, Conn | list], None], max_active: int | None = None
    ) -> None:
        self._emit = emit
        self.max_active = self._max = MAX_ACTIVE if max_active is None else max_active
        self._tcp: dict[tuple, Conn] = {}  # in order of last activity, the oldest first
        self._other: dict[tuple, Conn | list] = {}
        self.evicted = 0
        self.connections = 0
        self.created = 0
        self.in_order = True
        self._last: tuple | None = None  # (key, entry, first ts, first frame): the last made

    def active(self) -> int:
        return len(self._tcp) + len(self._other)

    def python_add_span(self, pieces: list, max_ts: float | None) -> None:
        """A span's pieces, in order; then the connections inactive at `max_ts` (the span's
        latest time) are finished. `ConnScan` binds its C twin (`_merge.c`) as `add_span`
        where that was built."""
        other = self._other
        for key, piece in pieces:
            if key[0] == "tcp" or key in other:
                self.add(key, piece)
            else:
                self._add_lone(key, piece)
        if max_ts is not None:
            self.expire(max_ts)

    add_span = python_add_span

    def _add_lone(self, key: tuple, piece: list) -> None:
        """A new connection of another transport than TCP: its piece stands for it (see the
        class)."""
        if len(self._tcp) + len(self._other) >= self._max:
            self._evict()
        if piece[LAST_TS] < piece[FIRST_TS]:
            piece[LAST_TS] = piece[FIRST_TS]  # as `Conn` takes it
        self._other[key] = piece
        piece.append(self._number(key, piece, piece[FIRST_TS], piece[FIRST_FRAME]))

    def add(self, key: tuple, piece: list) -> None:
        table = self._tcp if key[0] == "tcp" else self._other
        conn = table.pop(key, None)
        if conn is not None:
            if conn.__class__ is list:
                conn = _joined(key, conn)
            if not _separate(conn, piece):
                absorb(conn, piece)
                table[key] = conn
                return
            self._finish(key, conn)
        if len(self._tcp) + len(self._other) >= self._max:
            self._evict()
        conn = table[key] = Conn(key, piece)
        conn.number = self._number(key, conn, conn.first_ts, conn.first_frame)

    def _number(self, key: tuple, entry: Conn | list, ts: float, frame: int) -> int:
        """The next number, for the connection `entry` that begins at (ts, frame)."""
        self.created += 1
        last, self._last = self._last, (key, entry, ts, frame)
        if last is not None and self.in_order:
            last_key, last_entry, last_ts, last_frame = last
            not_later = ts < last_ts or (ts == last_ts and frame <= last_frame)
            if not_later and _order(key, entry) <= _order(last_key, last_entry):
                self.in_order = False
        return self.created

    def expire(self, now: float) -> None:
        """Finish the connections inactive for longer than their timeout at `now`."""
        for table, timeout in ((self._tcp, flows.TCP_TIMEOUT), (self._other, flows.OTHER_TIMEOUT)):
            expired = []
            for key, conn in table.items():
                if now - (conn[LAST_TS] if conn.__class__ is list else conn.last_ts) <= timeout:
                    break
                expired.append(key)
            self.connections += len(expired)
            emit = self._emit
            for key in expired:
                emit(key, table.pop(key))

    def finish(self) -> None:
        """The end of the capture: every connection still active is finished."""
        rest = [*self._tcp.items(), *self._other.items()]
        self._tcp, self._other = {}, {}
        for key, conn in sorted(rest, key=lambda item: _first(item[1])[1]):
            self._finish(key, conn)

    def _evict(self) -> None:
        tcp, other = self._tcp, self._other
        if not other or (
            tcp and tcp[next(iter(tcp))].last_ts <= _last_ts(other[next(iter(other))])
        ):
            table = tcp
        else:
            table = other
        self.evicted += 1
        key = next(iter(table))
        self._finish(key, table.pop(key))

    def _finish(self, key: tuple, conn: Conn | list) -> None:
        self.connections += 1
        self._emit(key, conn)


def _joined(key: tuple, piece: list) -> Conn:
    """The `Conn` of a lone piece that another piece of its flow joins."""
    conn = Conn(key, piece)
    conn.number = piece[flows.NUMBER]
    return conn


def _first(entry: Conn | list) -> tuple[float, int]:
    """(first_ts, first_frame) of a table entry."""
    if entry.__class__ is list:
        return entry[FIRST_TS], entry[FIRST_FRAME]
    return entry.first_ts, entry.first_frame


def _last_ts(entry: Conn | list) -> float:
    return entry[LAST_TS] if entry.__class__ is list else entry.last_ts


def _order(key: tuple, entry: Conn | list) -> tuple:
    """`Conn.order` of a table entry."""
    if entry.__class__ is list:
        return Conn(key, entry).order()
    return entry.order()


def _separate(conn: Conn, piece: list) -> bool:
    """Whether a piece starts a new connection: after the inactivity timeout, or (TCP) a SYN
    once the connection was closed or reset, whatever its sequence number (Zeek's `IsReuse`:
    a client retrying after a RST makes one REJ connection per try)."""
    timeout = flows.TCP_TIMEOUT if conn.transport == "tcp" else flows.OTHER_TIMEOUT
    if piece[flows.FIRST_TS] - conn.last_ts > timeout:
        return True
    if conn.transport != "tcp" or piece[flows.FIRST_FLAGS] & (SYN | ACK) != SYN:
        return False
    return conn.closed()


# ---------------------------------------------------------------------- merging a piece
def absorb(conn: Conn, piece: list) -> None:
    """Add a piece (the next stretch of the same flow) to its connection."""
    n = conn.n
    for d in (0, 1):
        n[PK + d] += piece[flows.PACKETS + d]
        n[IPB + d] += piece[flows.IP_BYTES + d]
        n[DATA + d] += piece[flows.DATA + d]
        service = piece[flows.SERVICE + d]
        if service is not None and not conn.shown & (1 << d):
            # a side's first payload names its service, as in one piece (`flows`); the first
            # payload of a later piece is not its first
            conn.shown |= 1 << d
            if service and service not in conn.services:
                conn.services = (*conn.services, service)
    if piece[flows.LAST_TS] > conn.last_ts:
        conn.last_ts = piece[flows.LAST_TS]
    if piece[flows.LAST_FRAME] > conn.last_frame:
        conn.last_frame = piece[flows.LAST_FRAME]
    if conn.vlan is None:
        conn.vlan = piece[flows.VLAN]
    for outer in piece[flows.OUTER] or ():
        if outer not in conn.outers and len(conn.outers) < MAX_TUNNELS:
            conn.outers = (*conn.outers, outer)
    _absorb_transport(conn, piece)


def _absorb_transport(conn: Conn, piece: list) -> None:
    """A piece's history letters (and for TCP its sequence space and endpoint states)."""
    transport = conn.key[0]
    if transport == "tcp":
        _absorb_tcp(conn, piece)
    elif transport == "udp":  # `_check(conn, d, "D")` for each side that sent, inlined
        first = piece[flows.FIRST_DIR]
        orig = conn.orig
        for d in (first, 1 - first):
            if piece[flows.PACKETS + d]:
                bit = D_BIT if d == orig else D_BIT << 16
                if not conn.seen & bit:
                    conn.seen |= bit
                    if len(conn.history) < MAX_HISTORY:
                        conn.history += "D" if d == orig else "d"


def _absorb_tcp(conn: Conn, piece: list) -> None:
    n = conn.n
    events = piece[flows.EVENTS]
    fixes: list[tuple[int, int, int]] = []  # (events before it, side, retransmissions to add)
    for d in (0, 1):
        anchor = piece[flows.ANCHOR + d]
        if anchor is None:
            continue
        known = n[BASE + d] is not None
        if not known:
            syn = any(e[0] == d and e[1] & SYN and e[2] == anchor for e in events)
            n[BASE + d] = anchor if syn else (anchor - 1) & MASK32
        shift = _signed(anchor - n[BASE + d])
        if known and (n[HI + d] != shift or n[HOLES + d]):
            # the piece took its anchor for the top of what was seen before: not so
            _reconcile(n, d, piece, shift, fixes)
        else:
            n[HOLES + d] = _shifted(piece[flows.HOLES + d], shift)
        top = shift + piece[flows.HI + d]
        if top > n[HI + d]:
            n[HI + d] = top
    for d in (0, 1):
        ack_anchor = piece[flows.ACK_ANCHOR + d]
        peer = 1 - d
        if ack_anchor is None or n[BASE + peer] is None:
            continue
        acked = _signed(ack_anchor - n[BASE + peer]) + piece[flows.ACK_HI + d]
        if n[ACKED + peer] < acked < HALF32:
            n[ACKED + peer] = acked
    _replay(conn, piece, events, fixes)


def _reconcile(n: list, d: int, piece: list, shift: int, fixes: list) -> None:
    """A later piece of a side whose sequence space does not simply go on where the
    connection's stopped (a retransmission, a hole, a jump): its head is taken again against
    the connection's sequence state, and the data and retransmissions it counted corrected;
    then the holes are those neither the connection nor the piece covered."""
    hi, holes = n[HI + d], [list(hole) for hole in n[HOLES + d] or ()]
    data = 0
    for rel, size, octets, fresh_then, at in piece[flows.HEAD + d] or ():
        start = rel + shift
        if size:
            fresh, holes = flows.take_data(holes, hi, start, size)
            data += fresh - fresh_then
            retransmission = (not fresh) - (not fresh_then)
            if retransmission:
                fixes.append((at, d, retransmission))
        end = start + size + octets
        if end > hi:
            hi = end
    n[DATA + d] += data
    top = shift + piece[flows.HI + d]
    # uncovered: by the connection (its holes, and past its top), and by the piece (its
    # holes, below its anchor, and past its top)
    seen_before = [*(holes or ()), [hi, max(hi, top)]]
    seen_here = [*(_shifted(piece[flows.HOLES + d], shift) or ()), [None, shift], [top, None]]
    n[HOLES + d] = _intersection(seen_before, seen_here) or None
    n[HI + d] = hi


def _shifted(holes: list | None, shift: int) -> list | None:
    """A piece's holes in the connection's sequence space."""
    if not holes:
        return None
    return [[lo + shift, hi + shift] for lo, hi in holes]


def _intersection(a: list, b: list) -> list:
    """The parts two lists of [lo, hi) intervals share (None: unbounded on that side), at most
    `flows.MAX_HOLES` of them, lowest first."""
    shared = []
    for a_lo, a_hi in a:
        for b_lo, b_hi in b:
            lo = a_lo if b_lo is None else b_lo if a_lo is None else max(a_lo, b_lo)
            hi = a_hi if b_hi is None else b_hi if a_hi is None else min(a_hi, b_hi)
            if lo is not None and hi is not None and lo < hi:
                shared.append([lo, hi])
    shared.sort()
    return shared[: flows.MAX_HOLES]


def _replay(conn: Conn, piece: list, events: list, fixes: list) -> None:
    """The kept events in order, each after the T and W letters of the retransmissions and
    zero windows the piece saw before it (with the head's corrections), then the rest."""
    lettered = [0, 0, 0, 0]  # retransmissions and zero windows per side, lettered so far
    fix = [0, 0]
    fixes.sort()
    waiting = iter(fixes)
    next_fix = next(waiting, None)
    for i, (d, flags, seq, size, ts, *counts) in enumerate(events):
        while next_fix is not None and next_fix[0] <= i:
            fix[next_fix[1]] += next_fix[2]
            next_fix = next(waiting, None)
        _letters(conn, counts, fix, lettered)
        tcp_event(conn, d, flags, seq, size, ts)
    while next_fix is not None:
        fix[next_fix[1]] += next_fix[2]
        next_fix = next(waiting, None)
    totals = [piece[flows.RETRANS], piece[flows.RETRANS + 1], piece[flows.ZERO_WIN],
              piece[flows.ZERO_WIN + 1]]  # fmt: skip
    _letters(conn, totals, fix, lettered)


def _letters(conn: Conn, counts: list, fix: list, lettered: list) -> None:
    """Count the retransmissions and zero windows of each side up to `counts` (the piece's
    own, plus the head's corrections `fix`), with their scaled letters."""
    for d in (0, 1):
        retransmissions = counts[d] + fix[d]
        if retransmissions != lettered[d]:
            _scaled(conn, d, RETR, retransmissions - lettered[d], "T")
            lettered[d] = retransmissions
        zero_windows = counts[2 + d]
        if zero_windows != lettered[2 + d]:
            _scaled(conn, d, ZERO, zero_windows - lettered[2 + d], "W")
            lettered[2 + d] = zero_windows


def _scaled(conn: Conn, d: int, index: int, more: int, letter: str) -> None:
    """Zeek's scaled history letters: one at the 1st, 10th, 100th ... occurrence."""
    if not more:
        return
    n = conn.n
    before = n[index + d]
    after = n[index + d] = before + more
    threshold = 1
    while threshold <= after:
        if threshold > before:
            _add(conn, d, letter)
        threshold *= 10


# ---------------------------------------------------------------------- Zeek's TCP logic
def tcp_event(conn: Conn, d: int, flags: int, seq: int, size: int, ts: float) -> None:
    """One kept TCP packet: its history letters, then its endpoint's state change."""
    _history(conn, d, flags, seq, size)
    n = conn.n
    peer = 1 - d
    is_orig = d == conn.orig
    state = n[STATE + d]
    syn, fin, rst, ack = flags & SYN, flags & FIN, flags & RST, flags & ACK
    if syn and is_orig and not ack and conn.syn_ts is None:
        conn.syn_ts = ts
    if syn and ack and not is_orig and conn.synack_ts is None:
        conn.synack_ts = ts
    if fin:
        n[FINS + d] += 1
    if state == INACTIVE:
        if syn:
            if is_orig:
                state = SYN_ACK_SENT if ack else SYN_SENT
            else:
                if n[STATE + peer] == SYN_SENT:
                    n[STATE + peer] = ESTABLISHED
                state = ESTABLISHED
        if fin:
            state = CLOSED
        if rst:
            n[PREV + d] = state
            state = RESET
        if state == INACTIVE and not (not is_orig and not size and n[STATE + peer] == SYN_SENT):
            # (Zeek: an ACK after the peer's SYN-ACK establishes, the SYN was only missed)
            state = ESTABLISHED if ack and n[STATE + peer] == ESTABLISHED else PARTIAL
    elif state in (SYN_SENT, SYN_ACK_SENT):
        if syn and seq != n[BASE + d] and n[BASE + d] is not None:
            n[BASE + d] = seq  # Zeek's SYN_seq_jump: the sequence space starts again
            n[HI + d] = 1
            n[HOLES + d] = None
        if fin:
            state = CLOSED
        if rst:
            n[PREV + d] = state
            state = RESET
    elif state != RESET:
        was_closed = state == CLOSED
        if fin:
            # Zeek's UpdateEstablishedState: the peer's FIN then RST was a normal close
            if not was_closed and not rst and n[STATE + peer] == RESET and n[PREV + peer] == CLOSED:
                n[STATE + peer] = CLOSED
            state = CLOSED
        # Zeek's UpdateClosedState: once both sides sent their FIN, a RST changes nothing
        if rst and not (was_closed and n[STATE + peer] == CLOSED):
            n[PREV + d] = state
            state = RESET
    n[STATE + d] = state
    # Zeek's did_close: a side's FIN or RST closes it; once both have, the connection's last
    # time stays (the packet that closed the second side is its last)
    if fin or rst:
        conn.closers |= 1 << d
        if conn.closers == 3 and conn.closed_ts is None:
            conn.closed_ts = ts


def _history(conn: Conn, d: int, flags: int, seq: int, size: int) -> None:
    """Zeek's update_history: a letter the first time, S/H/F/R again for a new sequence."""
    if not flags & (SYN | FIN | RST):  # most kept packets: the first data or plain ACK
        if size:
            _check(conn, d, "D")
        elif flags & ACK:
            _check(conn, d, "A")
        return
    n = conn.n
    syn, fin, rst = flags & SYN, flags & FIN, flags & RST
    bits = (1 if syn else 0) + (1 if fin else 0) + (1 if rst else 0)
    if bits > 1:
        _check(conn, d, "I" if fin and rst else "Q")
    elif bits == 1:
        if syn:
            code = "H" if flags & ACK else "S"
            if _check(conn, d, code) and seq != n[LSYN + d]:
                _add(conn, d, code)
            n[LSYN + d] = seq
        if fin:
            end = (seq + size) & MASK32
            if _check(conn, d, "F") and end != n[LFIN + d]:
                _add(conn, d, "F")
            n[LFIN + d] = end
        if rst:
            if _check(conn, d, "R") and seq != n[LRST + d]:
                _add(conn, d, "R")
            n[LRST + d] = seq


def _check(conn: Conn, d: int, letter: str) -> bool:
    """True when the letter was already seen for this side; else add it and say False."""
    is_orig = d == conn.orig
    bit = LETTER_BITS[letter] if is_orig else LETTER_BITS[letter] << 16
    seen = conn.seen
    if seen & bit:
        return True
    conn.seen = seen | bit
    if len(conn.history) < MAX_HISTORY:  # `_add`, inlined
        conn.history += letter if is_orig else letter.lower()
    return False


def _add(conn: Conn, d: int, letter: str) -> None:
    if len(conn.history) < MAX_HISTORY:  # a flood of new SYNs on one 5-tuple stays bounded
        conn.history += letter if d == conn.orig else letter.lower()


# ---------------------------------------------------------------------- the finished record
def tcp_sizes(conn: Conn) -> tuple[list[int], list[int]]:
    """(payload bytes, missed bytes) per canonical side, from sequence numbers as Zeek's
    TCP_Endpoint::Size counts them: the higher of the last sequence number and the peer's
    acknowledgement, less the SYN and FIN octets."""
    n = conn.n
    sizes, missed = [0, 0], [0, 0]
    for d in (0, 1):
        if n[BASE + d] is None:
            continue
        if n[STATE + d] == RESET and n[PREV + d] == SYN_SENT and n[STATE + 1 - d] == INACTIVE:
            continue
        size = max(n[HI + d], n[ACKED + d])
        if size > 0:
            size -= 1
        if n[FINS + d] and size > 0:
            size -= 1
        sizes[d] = size
        missed[d] = max(size - n[DATA + d], 0)
    return sizes, missed


def conn_state(conn: Conn, sizes: list[int]) -> str:
    """Zeek's conn_state (base/protocols/conn/main.zeek) from the endpoints' states."""
    n = conn.n
    o, r = conn.orig, 1 - conn.orig
    transport = conn.transport
    if transport == "udp":
        if n[PK + o]:
            return "SF" if n[PK + r] else "S0"
        return "SHR" if n[PK + r] else "OTH"
    if transport != "tcp":
        return "OTH"
    os, rs = n[STATE + o], n[STATE + r]
    o_inactive = os in (INACTIVE, PARTIAL)
    r_inactive = rs in (INACTIVE, PARTIAL)
    if rs == RESET:
        if os in (SYN_SENT, SYN_ACK_SENT) or (os == RESET and not sizes[o] and not sizes[r]):
            return "REJ"
        return "RSTRH" if o_inactive else "RSTR"
    if os == RESET:
        if r_inactive:
            return "RSTOS0" if _syn_then_reset(conn.history) else "OTH"
        return "RSTO"
    if rs == CLOSED and os == CLOSED:
        return "SF"
    if os == CLOSED:
        return "SH" if r_inactive else "S2"
    if rs == CLOSED:
        return "SHR" if o_inactive else "S3"
    if os == SYN_SENT and rs == INACTIVE:
        return "S0"
    if os == ESTABLISHED and rs == ESTABLISHED:
        return "S1"
    return "OTH"


def _syn_then_reset(history: str) -> bool:
    """Zeek's /^?S[^HAFGIQ]*R.*/ on the history."""
    text = history[1:] if history.startswith("^") else history
    if not text.startswith("S"):
        return False
    for char in text[1:]:
        if char == "R":
            return True
        if char in "HAFGIQ":
            return False
    return False
