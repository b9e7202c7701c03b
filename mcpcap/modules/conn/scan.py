"""The conn module's scan: workers' pieces in, connection rows and a timeline out.

Connections are written in batches as they finish, each with the number the tracker gave it
when it began: when the capture's times go forward that number is already its place in time
order (`ORDER`), so record ids follow the capture whatever the number of worker processes;
otherwise the records are renumbered at the end. The n-th later connection of the same
5-tuple gets its own uid (`flow_uid(..., n)`). As they are written, the connections are also
tallied by the few columns the overview groups by (`conn_tallies`), so the summary reads a
small table instead of grouping every connection again for each of its lists.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from mcpcap.core import fastpath
from mcpcap.core.export import flow_uid
from mcpcap.core.modules.contract import ModuleScan
from mcpcap.core.modules.malformed import MalformedLog
from mcpcap.core.ports import LIKELY_SERVER_PORTS
from mcpcap.modules.conn import flows
from mcpcap.modules.conn.flows import MAX_STACKS, PROTO_NAMES, flow_ids
from mcpcap.modules.conn.occurrences import RepeatedUids, number_occurrences
from mcpcap.modules.conn.tallies import ConnTallies
from mcpcap.modules.conn.tracker import (
    DATA,
    IPB,
    PK,
    RETR,
    ZERO,
    Conn,
    ConnTracker,
    conn_state,
    flips,
    tcp_sizes,
)

if TYPE_CHECKING:
    from mcpcap.core.modules.counts import ModuleCounts

BATCH = 1_000  # rows waiting for a write (5,000 were about 4 MiB of a scan's peak)
MAX_BUCKETS = 100_000  # timeline buckets before they widen tenfold

COLUMNS = (
    "uid", "ts", "last_ts", "duration", "client", "client_port", "server", "server_port",
    "transport", "service", "client_bytes", "server_bytes", "client_packets", "server_packets",
    "client_ip_bytes", "server_ip_bytes", "conn_state", "history", "missed_bytes", "syn_rtt",
    "retransmissions", "zero_windows", "vlan", "tunnel_parents", "community_id", "first_frame",
    "last_frame", "packets", "ip_bytes", "bytes",
)  # fmt: skip
COLUMN_TYPES = (
    "TEXT NOT NULL", "REAL NOT NULL", "REAL NOT NULL", "REAL NOT NULL", "TEXT NOT NULL",
    "INTEGER NOT NULL", "TEXT NOT NULL", "INTEGER NOT NULL", "TEXT NOT NULL", "TEXT",
    "INTEGER NOT NULL", "INTEGER NOT NULL", "INTEGER NOT NULL", "INTEGER NOT NULL",
    "INTEGER NOT NULL", "INTEGER NOT NULL", "TEXT NOT NULL", "TEXT NOT NULL", "INTEGER NOT NULL",
    "REAL", "INTEGER NOT NULL", "INTEGER NOT NULL", "INTEGER", "TEXT", "TEXT NOT NULL",
    "INTEGER NOT NULL", "INTEGER NOT NULL", "INTEGER NOT NULL", "INTEGER NOT NULL",
    "INTEGER NOT NULL",
)  # fmt: skip
_DEFINITIONS = ", ".join(f"{c} {t}" for c, t in zip(COLUMNS, COLUMN_TYPES, strict=True))
CREATE_TABLES = f"""
CREATE TABLE conn_connections (id INTEGER PRIMARY KEY, {_DEFINITIONS});
CREATE TABLE conn_timeline (second INTEGER PRIMARY KEY, packets INTEGER NOT NULL,
                            bytes INTEGER NOT NULL);
CREATE TABLE conn_tallies (client TEXT NOT NULL, server TEXT NOT NULL, outside INTEGER NOT NULL,
                           vlan INTEGER NOT NULL, transport TEXT NOT NULL,
                           server_port INTEGER NOT NULL, service TEXT, conn_state TEXT NOT NULL,
                           connections INTEGER NOT NULL, packets INTEGER NOT NULL,
                           ip_bytes INTEGER NOT NULL, handshakes INTEGER NOT NULL,
                           retransmissions INTEGER NOT NULL, retransmitted INTEGER NOT NULL,
                           zero_windows INTEGER NOT NULL, missed_bytes INTEGER NOT NULL,
                           failed INTEGER NOT NULL);
CREATE TABLE conn_layers (layers TEXT PRIMARY KEY, frames INTEGER NOT NULL,
                          bytes INTEGER NOT NULL);
"""
INSERT = f"INSERT INTO conn_connections (id, {', '.join(COLUMNS)}) VALUES (?{', ?' * len(COLUMNS)})"
ORDER = "ts, first_frame, transport, client, client_port, server, server_port"  # `Conn.order`
INSERT_TALLY = f"INSERT INTO conn_tallies VALUES (?{', ?' * 16})"
UID = 1 + COLUMNS.index("uid")  # its place in a row (after the id)


def conn_row(conn: Conn) -> tuple:
    """A finished connection as its conn_connections row: its number (the id), then the
    columns in the order of COLUMNS."""
    key, n = conn.key, conn.n
    o = conn.orig
    r = 1 - o
    if o:
        transport, server, server_port, client, client_port = key
    else:
        transport, client, client_port, server, server_port = key
    history = conn.history
    syn_rtt = None
    if transport == "tcp":
        sizes, missed = tcp_sizes(conn)
        if missed[o]:
            history += "G"
        if missed[r]:
            history += "g"
        syn_ts, synack_ts = conn.syn_ts, conn.synack_ts
        if syn_ts is not None and synack_ts is not None and synack_ts >= syn_ts:
            syn_rtt = round(synack_ts - syn_ts, 6)
    else:
        sizes, missed = (n[DATA], n[DATA + 1]), (0, 0)
    uid, community = conn.uid, conn.community  # the workers made them
    if community is None:
        uid, community = flow_ids(key, o)
    services = conn.services
    service = ",".join(sorted(services)) if len(services) > 1 else services[0] if services else None
    parents = outer_uids(conn.outers) if conn.outers else None
    first_ts, last_ts = conn.first_ts, conn.last_ts
    # Zeek's duration ends when both sides have closed: the last ACK after the FINs is no part
    closed = conn.closed_ts
    ended = closed if closed is not None and first_ts <= closed < last_ts else last_ts
    client_packets, server_packets = n[PK + o], n[PK + r]
    client_ip_bytes, server_ip_bytes = n[IPB + o], n[IPB + r]
    return (
        conn.number, uid, first_ts, last_ts, round(ended - first_ts, 6), client, client_port,
        server, server_port, transport, service, sizes[o], sizes[r], client_packets,
        server_packets, client_ip_bytes, server_ip_bytes, conn_state(conn, sizes), history,
        missed[o] + missed[r], syn_rtt, n[RETR] + n[RETR + 1], n[ZERO] + n[ZERO + 1], conn.vlan,
        parents, community, conn.first_frame, conn.last_frame, client_packets + server_packets,
        client_ip_bytes + server_ip_bytes, sizes[0] + sizes[1],
    )  # fmt: skip


def piece_row(key: tuple, piece: list) -> tuple:
    """`conn_row` of the connection a lone piece of another transport than TCP is (see
    `ConnTracker`), made from the piece: the same row without making the `Conn`."""
    (first_ts, last_ts, first_frame, last_frame, first, flags, packets, packets_1,
     ip_bytes, ip_bytes_1, size, size_1, service, other, vlan, outers, uid, community,
     number) = piece  # the fields of flows' PIECE_SIZE, and NUMBER  # fmt: skip
    o = first ^ flips(key, first, flags)
    if o:
        transport, server, server_port, client, client_port = key
        client_packets, server_packets, client_ip_bytes = packets_1, packets, ip_bytes_1
        server_ip_bytes, client_bytes, server_bytes = ip_bytes, size_1, size
    else:
        transport, client, client_port, server, server_port = key
        client_packets, server_packets, client_ip_bytes = packets, packets_1, ip_bytes
        server_ip_bytes, client_bytes, server_bytes = ip_bytes_1, size, size_1
    if transport == "udp":  # Zeek's D and d in the order the sides first sent (`first` did)
        if first == o:
            history = "Dd" if server_packets else "D"
        else:
            history = "^dD" if client_packets else "^d"
        if client_packets:
            state = "SF" if server_packets else "S0"
        else:
            state = "SHR" if server_packets else "OTH"
    else:
        history, state = "^" if o != first else "", "OTH"
    if community is None:
        uid, community = flow_ids(key, o)
    if not service:
        service = other or None
    elif other and other != service:
        service = ",".join(sorted((service, other)))
    return (
        number, uid, first_ts, last_ts, round(last_ts - first_ts, 6), client, client_port, server,
        server_port, transport, service, client_bytes, server_bytes, client_packets,
        server_packets, client_ip_bytes, server_ip_bytes, state, history, 0, None, 0, 0, vlan,
        None if outers is None else outer_uids(outers), community, first_frame,
        last_frame, client_packets + server_packets, client_ip_bytes + server_ip_bytes,
        client_bytes + server_bytes,
    )  # fmt: skip


def row_of(key: tuple, entry: Conn | list) -> tuple:
    """The row of a finished connection the tracker emits."""
    return piece_row(key, entry) if entry.__class__ is list else conn_row(entry)


def outer_uids(outers: tuple) -> str:
    """A connection's `tunnel_parents`: the uids of its tunnels' carriers."""
    return ",".join(map(_outer_uid, outers))


def _outer_uid(outer: tuple) -> str:
    """The uid of a tunnel's carrier, (proto, src, sport, dst, dport)."""
    proto, src, sport, dst, dport = outer
    return flow_uid(src, sport, dst, dport, PROTO_NAMES.get(proto, str(proto)))


class ConnScan(ModuleScan):
    def __init__(self, db: sqlite3.Connection, max_active: int | None = None) -> None:
        self._db = db
        self._rows: list[tuple] = []
        self._tallies = ConnTallies(("id", *COLUMNS))
        self._repeats = RepeatedUids()
        self.tracker = ConnTracker(self._emit, max_active)
        if _COMPILED_BIND is not None:  # the tracker's add_span, with `_emit` for lone pieces
            tracker = self.tracker
            tracker.add_span = _COMPILED_BIND(
                vars(tracker), tracker.add, tracker._add_lone, tracker._evict, tracker._number,
                self._emit, self._rows, self._flush, BATCH, LIKELY_SERVER_PORTS, flow_ids,
                outer_uids, round, (flows.TCP_TIMEOUT, flows.OTHER_TIMEOUT),
            )  # fmt: skip
        self._seconds: dict[int, list[int]] = {}
        self._width = 1
        self._l2: dict[int, int] = {}
        self.malformed = MalformedLog(db, "conn", ordered=True)  # (fragments come late)
        self._bad: dict[str, int] = {}  # malformed frames by reason
        self._stacks: dict[tuple, list[int]] = {}  # frames and bytes by stack of layers

    def on_udp(self, frame: int, ts: float, seg: Any) -> None:
        """Datagrams come as packets (`wants_packets`): nothing to do here."""

    def on_tcp(self, frame: int, ts: float, chunk: Any) -> bool:
        return False  # conn reads packets, never streams

    def on_worker_flush(self, partial: tuple) -> None:
        pieces, seconds, max_ts, l2, (bad_rows, bad), stacks = partial
        self.tracker.add_span(pieces, max_ts)
        self._timeline(seconds)
        self._add_stacks(stacks)
        for ethertype, frames in l2.items():
            self._l2[ethertype] = self._l2.get(ethertype, 0) + frames
        for reason, frames in bad.items():
            self._bad[reason] = self._bad.get(reason, 0) + frames
        self.malformed.extend(bad_rows)

    def _timeline(self, seconds: list) -> None:
        buckets, width = self._seconds, self._width
        for second, packets, size in seconds:
            bucket = buckets.get(second - second % width)
            if bucket is None:
                buckets[second - second % width] = [packets, size]
            else:
                bucket[0] += packets
                bucket[1] += size
        if len(buckets) > MAX_BUCKETS:
            self._width *= 10
            rows = [(s, p, b) for s, (p, b) in buckets.items()]
            self._seconds = {}
            self._timeline(rows)

    def _add_stacks(self, stacks: list) -> None:
        """A span's frames and bytes by stack of layers (at most MAX_STACKS stacks, as there)."""
        tallies = self._stacks
        for layers, frames, size in stacks:
            tally = tallies.get(layers)
            if tally is None:
                if len(tallies) >= MAX_STACKS and layers[1:] != ("other",):
                    self._add_stacks([((*layers[:1], "other"), frames, size)])
                    continue
                tally = tallies[layers] = [0, 0]
            tally[0] += frames
            tally[1] += size

    def _emit(self, key: tuple, entry: Conn | list) -> None:
        rows = self._rows
        rows.append(piece_row(key, entry) if entry.__class__ is list else conn_row(entry))
        if len(rows) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        self._db.executemany(INSERT, self._rows)
        self._tallies.add(self._rows)
        self._repeats.add(self._rows, UID)
        self._rows.clear()

    def warnings(self) -> list[str]:
        return eviction_warning(self.tracker.evicted, self.tracker.max_active)

    def finish(self, db: sqlite3.Connection) -> ModuleCounts:
        from mcpcap.core.modules.counts import ModuleCounts  # (pydantic: see `_FirstWait`)

        self.tracker.finish()
        self._flush()
        self.malformed.finish()
        if not self.tracker.in_order:
            _renumber(db)
        number_occurrences(db, self._repeats.candidates)
        db.executemany(
            "INSERT INTO conn_timeline VALUES (?, ?, ?)",
            sorted((s, p, b) for s, (p, b) in self._seconds.items()),
        )
        db.executemany(
            "INSERT INTO conn_layers VALUES (?, ?, ?)",
            [("/".join(layers), frames, size) for layers, (frames, size) in self._stacks.items()],
        )
        db.executemany(INSERT_TALLY, self._tallies.rows(unicast))
        totals = db.execute(
            "SELECT coalesce(sum(connections), 0), coalesce(sum(packets), 0), "
            "coalesce(sum(ip_bytes), 0) FROM conn_tallies"
        ).fetchone()
        return ModuleCounts(
            messages=totals[0],
            malformed=sum(self._bad.values()),
            detail={
                "connections": totals[0],
                "packets": totals[1],
                "ip_bytes": totals[2],
                "evicted": self.tracker.evicted,
                "timeline_seconds": self._width,
                "not_ip": {f"0x{t:04x}": n for t, n in sorted(self._l2.items())},
                "malformed": dict(sorted(self._bad.items(), key=lambda kv: (-kv[1], kv[0]))),
            },
        )


def eviction_warning(evicted: int, bound: int) -> list[str]:
    """The capture facts' warning when connections were finished early, else nothing."""
    if not evicted:
        return []
    return [
        f"{evicted} connection(s) were finished early: the table of active connections reached "
        f"its bound of {bound} (conn's MAX_ACTIVE), so the least recently active ones were "
        "written out before their timeout; one that went on afterwards has more than one "
        "conn.connections record"
    ]


def unicast(address: str) -> bool:
    """Whether an address names one host: not multicast, not the limited broadcast
    255.255.255.255 (a subnet's own broadcast address cannot be told without its netmask)."""
    if ":" in address:
        return not address.lower().startswith("ff")  # ff00::/8
    first = address.partition(".")[0]
    multicast = first.isdigit() and 224 <= int(first) <= 239  # 224.0.0.0/4
    return not multicast and address != "255.255.255.255"


def _renumber(db: sqlite3.Connection) -> None:
    """Record ids in `ORDER` when the connections did not begin in that order (times that go
    back, or fragments this process reassembled handed over before their span's pieces)."""
    columns = ", ".join(COLUMNS)
    db.execute(f"CREATE TEMP TABLE conn_staging AS SELECT {columns} FROM conn_connections")
    db.execute("DELETE FROM conn_connections")
    db.execute(
        f"INSERT INTO conn_connections ({columns}) SELECT {columns} FROM conn_staging "
        f"ORDER BY {ORDER}"
    )
    db.execute("DROP TABLE conn_staging")


_COMPILED_BIND = fastpath.checked_bind("mcpcap.modules.conn._merge", vars(flows), "piece")
