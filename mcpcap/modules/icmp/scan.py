"""One scan: every ICMP/ICMPv6 message decoded in the workers, paired and stored here.

The worker decoder (`IcmpDecoder`) gets every IP packet of its span, keeps the ICMP ones as
decoded rows and hands them over at each flush. The scanning process (`IcmpScan`) gets the
spans' rows in capture order: it numbers the messages, pairs each echo (timestamp, information,
address mask, extended echo) reply with the request it answers, whatever span each lies in, and
writes the rows. Pairing state is bounded (`MAX_PENDING` requests waiting, `MAX_ANSWERED`
answered ones remembered for duplicate replies).
"""

from __future__ import annotations

import bisect
import json
import sqlite3
import zlib
from collections import Counter, OrderedDict
from typing import TYPE_CHECKING, Any

from mcpcap.core.export import connection_uid
from mcpcap.core.modules.contract import ModuleScan
from mcpcap.core.modules.malformed import MalformedLog
from mcpcap.modules.icmp import wire

if TYPE_CHECKING:
    from mcpcap.core.modules.counts import ModuleCounts

MAX_PENDING = 65_536
MAX_ANSWERED = 65_536
MAX_SAME_KEY = 8  # requests with one identifier and sequence number but other data, waiting
BATCH = 1_000  # rows waiting for a write

CREATE_TABLES = """
CREATE TABLE icmp_messages (
    id INTEGER PRIMARY KEY, uid TEXT NOT NULL, ts REAL NOT NULL, frame INTEGER NOT NULL,
    src TEXT NOT NULL, dst TEXT NOT NULL, transport TEXT NOT NULL, type INTEGER NOT NULL,
    type_name TEXT NOT NULL, code INTEGER NOT NULL, code_name TEXT, icmp_id INTEGER,
    seq INTEGER, ttl INTEGER, payload_len INTEGER NOT NULL, reply_frame INTEGER, rtt REAL,
    request_frame INTEGER, q_transport TEXT, q_src TEXT, q_sport INTEGER, q_dst TEXT,
    q_dport INTEGER, q_uid TEXT, nd_target TEXT, lladdr TEXT, prefixes TEXT, gateway TEXT,
    mtu INTEGER, extra TEXT, malformed TEXT, error INTEGER NOT NULL, echo INTEGER NOT NULL
);
"""
INSERT = "INSERT INTO icmp_messages VALUES (" + ", ".join("?" * 33) + ")"
UPDATE_REQUEST = "UPDATE icmp_messages SET reply_frame = ?, rtt = ? WHERE id = ?"
REPLY_FRAME = 15  # its place in a row, and then the RTT's
KNOWN_EXTRA = frozenset(("quoted", "nd_target", "lladdr", "prefixes", "gateway", "mtu"))


class IcmpDecoder:
    """The worker side: decodes the ICMP messages of a span, nothing else."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def packet(self, frame: int, ts: float, seg: Any) -> None:
        transport = seg.transport
        if transport != "icmp" and transport != "icmpv6":
            return
        v6 = transport == "icmpv6"
        payload = seg.payload
        decoded = wire.decode(payload, v6, getattr(seg, "data_len", 0))
        ttl = getattr(seg, "ttl", None)
        # an echo's data, as a checksum: a reply returns its request's data (RFC 792, 4443)
        data = zlib.crc32(payload[8:]) if decoded[2] is not None else None
        self.rows.append((frame, ts, seg.src, seg.dst, v6, ttl, *decoded, data))

    def flush(self) -> list[tuple] | None:
        rows, self.rows = self.rows, []
        return rows or None


def _frame_of(row: tuple) -> int:
    return row[0]


def _uid(client: str, client_port: Any, server: str, server_port: Any, transport: str) -> str:
    return connection_uid(
        {"client": client, "client_port": client_port, "server": server,
         "server_port": server_port, "transport": transport}
    )  # fmt: skip


def message_uid(src: str, dst: str, v6: bool, kind: int, code: int) -> str:
    """The message's own ICMP flow (Zeek's: a request and its reply share one)."""
    flipped, orig_port, resp_port = wire.flow_ports(v6, kind, code)
    client, server = (dst, src) if flipped else (src, dst)
    return _uid(client, orig_port, server, resp_port, "icmpv6" if v6 else "icmp")


def quoted_uid(quoted: dict) -> str | None:
    """The uid of the flow an error quotes; None for a quote cut short of its addresses or
    ports, which names no flow. Quoted ICMP is its own message's flow (a quoted echo reply is
    its request's flow, seen from the other side)."""
    if None in (quoted["src"], quoted["dst"], quoted["sport"], quoted["dport"]):
        return None
    if "type" in quoted:
        v6 = quoted["transport"] == "icmpv6"
        return message_uid(quoted["src"], quoted["dst"], v6, quoted["type"], quoted["code"])
    return _uid(quoted["src"], quoted["sport"], quoted["dst"], quoted["dport"],
                quoted["transport"])  # fmt: skip


class IcmpScan(ModuleScan):
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.number = 0
        self.rows: list[tuple] = []
        self.updates: list[tuple] = []
        # (v6, request type, requester, responder, id, seq) -> [(data, message id, frame, ts)]
        self.pending: OrderedDict[tuple, list[tuple[int | None, int, int, float]]] = OrderedDict()
        self.waiting = 0  # requests in `pending`
        # same key -> (data, request frame) of the last answered one
        self.answered: OrderedDict[tuple, tuple[int | None, int]] = OrderedDict()
        self.tally: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.held: list[tuple] = []
        self.malformed = MalformedLog(db, "icmp")

    def on_udp(self, frame: int, ts: float, seg: Any) -> None:
        """The module wants no UDP datagrams."""

    def on_tcp(self, frame: int, ts: float, chunk: Any) -> bool:
        return False

    def on_worker_flush(self, partial: Any) -> None:
        """Rows in frame order, one partial late: a parallel scan hands over a span's
        reassembled fragments (decoded here) before the worker's rows of the same span, so rows
        wait until a later partial shows that no earlier frame can still come."""
        self.held.extend(partial)
        self.held.sort(key=_frame_of)
        cutoff = min(row[0] for row in partial)
        ready = bisect.bisect_left(self.held, cutoff, key=_frame_of)
        self._process(self.held[:ready])
        del self.held[:ready]

    def _process(self, rows: list[tuple]) -> None:
        for row in rows:
            self._add(*row)
        if len(self.rows) >= BATCH:
            self._write()

    def _add(self, frame, ts, src, dst, v6, ttl, kind, code, icmp_id, seq, plen, extra, bad, data):
        self.number += 1
        transport = "icmpv6" if v6 else "icmp"
        self.tally[transport] += 1
        if bad:
            self.reasons[bad] += 1
            ports = wire.flow_port_pair(v6, max(kind, 0), max(code, 0))
            self.malformed.add((frame, ts, src, ports[0], dst, ports[1], transport, bad))
        reply_frame = rtt = request_frame = None
        if icmp_id is not None:
            request_frame = self._pair(
                self.number, frame, ts, src, dst, v6, kind, (icmp_id, seq), data
            )
        extra = extra or {}
        quoted = extra.get("quoted")
        q = (None,) * 6
        if quoted is not None:
            q = (quoted["transport"], quoted["src"], quoted["sport"], quoted["dst"],
                 quoted["dport"], quoted_uid(quoted))  # fmt: skip
        others = {k: v for k, v in extra.items() if k not in KNOWN_EXTRA}
        prefixes = extra.get("prefixes")
        errors = wire.V6_ERRORS if v6 else wire.V4_ERRORS
        self.rows.append(
            (self.number, message_uid(src, dst, v6, kind, code), ts, frame, src, dst,
             transport, kind, wire.type_name(v6, kind), code,
             wire.code_name(v6, kind, code), icmp_id, seq, ttl, plen, reply_frame, rtt,
             request_frame, *q, extra.get("nd_target"), extra.get("lladdr"),
             json.dumps(prefixes) if prefixes else None, extra.get("gateway"), extra.get("mtu"),
             json.dumps(others) if others else None, bad, int(kind in errors),
             int(icmp_id is not None and kind in (wire.PAIRED_V6 if v6 else wire.PAIRED_V4)))
        )  # fmt: skip

    def _pair(self, number, frame, ts, src, dst, v6, kind, ident, data) -> int | None:
        """Remember a request; for a reply, the request frame it answers (None if none)."""
        pairs = wire.PAIRED_V6 if v6 else wire.PAIRED_V4
        if kind in pairs:
            self._wait((v6, kind, src, dst, *ident), (data, number, frame, ts))
            return None
        request_kind = next((req for req, rep in pairs.items() if rep == kind), None)
        if request_kind is None:
            return None
        self.tally["replies"] += 1
        return self._answer((v6, request_kind, dst, src, *ident), frame, ts, data)

    def _wait(self, key: tuple, request: tuple[int | None, int, int, float]) -> None:
        """A request waits by (addresses, identifier, sequence number); one sent again with
        the same data replaces the earlier one, which stays unanswered."""
        earlier = self.pending.pop(key, [])
        waiting = [r for r in earlier if r[0] != request[0]][-MAX_SAME_KEY + 1 :]
        waiting.append(request)
        self.pending[key] = waiting
        self.waiting += len(waiting) - len(earlier)
        while self.waiting > MAX_PENDING:  # the requests waiting longest go first
            self.waiting -= len(self.pending.popitem(last=False)[1])
        self.tally["requests"] += 1

    def _answer(self, key: tuple, frame: int, ts: float, data: int | None) -> int | None:
        """The request a reply answers: of those waiting with its key, the latest whose data it
        returns, else the latest (its data changed on the way: identifier and sequence number
        still match it, RFC 792), unless it repeats the last reply of that key."""
        waiting = self.pending.get(key) or []
        at = next((i for i in range(len(waiting) - 1, -1, -1) if waiting[i][0] == data), None)
        earlier = self.answered.get(key)
        if at is None and (not waiting or (earlier is not None and earlier[0] == data)):
            self.tally["duplicate replies" if earlier else "unsolicited replies"] += 1
            return earlier[1] if earlier else None
        _, number, request_frame, request_ts = waiting.pop(-1 if at is None else at)
        self.waiting -= 1
        if not waiting:
            del self.pending[key]
        self._answered(number, frame, round(ts - request_ts, 6))
        self.answered[key] = (data, request_frame)
        if len(self.answered) > MAX_ANSWERED:
            self.answered.popitem(last=False)
        return request_frame

    def _answered(self, number: int, reply_frame: int, rtt: float) -> None:
        """A request's reply frame and RTT: into its row while that waits for a write (a reply
        comes within milliseconds, as a rule), else by an UPDATE of the stored row."""
        at = number - (self.number - len(self.rows))  # (the reply's own row is not added yet)
        if 0 <= at < len(self.rows):
            row = self.rows[at]
            self.rows[at] = (*row[:REPLY_FRAME], reply_frame, rtt, *row[REPLY_FRAME + 2 :])
        else:
            self.updates.append((reply_frame, rtt, number))

    def _write(self) -> None:
        self.db.executemany(INSERT, self.rows)
        self.db.executemany(UPDATE_REQUEST, self.updates)
        self.rows.clear()
        self.updates.clear()

    def finish(self, db: sqlite3.Connection) -> ModuleCounts:
        from mcpcap.core.modules.counts import ModuleCounts  # (pydantic: see `_FirstWait`)

        self._process(self.held)
        self.held.clear()
        self._write()
        self.malformed.flush()
        return ModuleCounts(
            messages=self.number,
            malformed=sum(self.reasons.values()),
            detail={**self.tally, "malformed": dict(self.reasons)},
        )
