"""The DNS module's work during one scan: decode, count, pair, and write to the store.

Per message this does the least it can: the lean decoder, a few counter updates and one tuple
for the store. Names, percentiles and rankings are made once at the end, from the store.
"""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from mcpcap.core import fastpath
from mcpcap.core.decap import Segment
from mcpcap.core.modules.contract import ModuleScan
from mcpcap.core.modules.malformed import MAX_STORED, MalformedLog
from mcpcap.modules.dns import decoder, store_schema
from mcpcap.modules.dns.counting import MessageCounts
from mcpcap.modules.dns.decoder import BRIEF_FIELDS, Brief, decode_brief, forget_seen
from mcpcap.modules.dns.domains import load_suffix_list
from mcpcap.modules.dns.hunting.tallies import HuntTallies
from mcpcap.modules.dns.outcomes import Outcomes
from mcpcap.modules.dns.pairing import Pairer, pairs

DNS_PORT, MDNS_PORT, LLMNR_PORT = 53, 5353, 5355
WELL_KNOWN = frozenset((DNS_PORT, MDNS_PORT, LLMNR_PORT))
# Parsed once here, where a scan imports this module: a parallel scan's worker processes are
# forked after it (from this process, or from a fork server that preloads this module), so they
# share the parsed list instead of each parsing it again at its first query.
load_suffix_list()

BATCH = 5_000
ROW_BATCH = 50_000  # answer rows waiting for a write (a transaction may have hundreds)
MAX_CANDIDATES = 4_096  # queries on other ports waiting for a response that proves them DNS
MAX_CANDIDATES_PER_KEY = 16  # of them on one flow and id (retransmissions kept, not replaced)


def protocol_of(sport: int, dport: int) -> str:
    if MDNS_PORT in (sport, dport):
        return "mdns"
    if LLMNR_PORT in (sport, dport):
        return "llmnr"
    return "dns"


def decode_udp(frame: int, ts: float, seg) -> Brief | None:
    """Decode one datagram the DNS module wants; None when it carries no DNS message.

    Runs wherever the scan decodes: inline, or in a worker process of a parallel scan (it is a
    plain function of its arguments, and its result pickles as a tuple).
    """
    sport, dport, payload = seg.sport, seg.dport, seg.payload
    if sport in WELL_KNOWN or dport in WELL_KNOWN:
        return decode_on_dns_port(payload, protocol_of(sport, dport))
    msg = decode_brief(payload)  # another port: only a clean message with a question counts
    if msg[4] or not msg[5]:
        return None
    return msg


def decode_on_dns_port(payload: bytes, protocol: str) -> Brief | None:
    """A datagram on a DNS, mDNS or LLMNR port (`protocol_of` its ports)."""
    if not payload:  # an empty datagram carries no message at all
        return None
    return decode_brief(payload, mdns=protocol == "mdns")


class WorkerDecoder:
    """`decode_udp` in a worker process, which also counts the messages on the DNS ports and
    makes their store rows.

    At each `flush` (the end of a worker's job) it hands over its tallies and the job's message
    rows as one store chunk (see `store_schema`). So the scanning process neither decodes nor
    counts these messages again, and it writes their rows with one insert a job: what it gets
    back for each message is (id, protocol, view), for pairing (`pairing.message_view`; a
    message seen before shares its view, which `marshal` then sends once a job). Datagrams on other
    ports come back as a whole `Brief`, since only the scanning process can tell whether they
    are DNS.
    """

    def __init__(self) -> None:
        # the job's message rows (`store_schema.add_row`), and the frame of its first
        self._chunk = store_schema.new_chunk()
        self._first = 0
        self._malformed: list[tuple] = []
        self._counts = MessageCounts()
        self._frame = self._index = 0
        # what the span loop calls instead of this object: `__call__`, in C for the clean
        # messages (`_worker.c`), where that was built
        if _COMPILED_BIND is not None:
            self.compiled_call = _COMPILED_BIND(
                self, self.__call__, *decoder.seen_briefs(), decoder.remember_brief
            )

    def __call__(self, frame: int, ts: float, seg) -> Brief | tuple | None:
        sport, dport = seg.sport, seg.dport
        if sport not in WELL_KNOWN and dport not in WELL_KNOWN:
            return decode_udp(frame, ts, seg)
        payload = seg.payload
        if not payload:  # an empty datagram carries no message at all
            return None
        protocol = protocol_of(sport, dport)
        msg = decode_brief(payload, mdns=protocol == "mdns")
        if frame != self._frame:
            self._frame = frame
            index = self._index = 0
        else:
            index = self._index = self._index + 1
        src, dst = seg.src, seg.dst
        self._counts.add(msg, ts, src, dst, "udp", protocol)
        if msg[4]:
            self._malformed.append((frame, ts, src, sport, dst, dport, "udp", msg[4]))
        meta = (frame, ts, src, sport, dst, dport, "udp", protocol)
        if not store_schema.chunk_length(self._chunk):
            self._first = frame
        store_schema.add_row(self._chunk, message_row(msg, meta, index))
        return (msg[0], protocol, msg[10]) if pairs(msg) else None

    def flush(self) -> tuple:
        """(the tallies, the `dns_message_chunks` row or None, the malformed messages' rows)
        since the last flush."""
        chunk = None
        if store_schema.chunk_length(self._chunk):  # its last row is `_frame`'s
            chunk = store_schema.message_chunk(self._first, self._frame, self._chunk)
            self._chunk = store_schema.new_chunk()
        counts, self._counts = self._counts, MessageCounts()
        bad, self._malformed = self._malformed, []
        return counts.state(), chunk, bad


def _compiled_bind() -> Callable | None:
    """`_worker.bind(decoder, fallback, briefs, mdns_briefs)`, where `_worker.c` was built; the
    places it reads must be those of a `Segment` and of a remembered brief (a mismatch is a bug
    in the C: it would read the wrong fields)."""
    compiled = fastpath.compiled("mcpcap.modules.dns._worker")
    if compiled is None:
        return None
    seen_fields = (*BRIEF_FIELDS[1:9], BRIEF_FIELDS[10])  # (see `decode_brief`)
    ours = {
        "segment": {name: Segment._fields.index(name) for name in compiled.LAYOUT["segment"]},
        "seen": {name: seen_fields.index(name) for name in compiled.LAYOUT["seen"]},
    }
    sizes = (len(Segment._fields), len(seen_fields))
    if ours != compiled.LAYOUT or sizes != (compiled.SEGMENT_FIELDS, compiled.SEEN_FIELDS):
        raise RuntimeError(f"_worker.c reads {compiled.LAYOUT}, but the fields are at {ours}")
    return compiled.bind


_COMPILED_BIND = _compiled_bind()
_COMPILED_DECODED = getattr(fastpath.compiled("mcpcap.modules.dns._pairing"), "bind_decoded", None)
_COMPILED_STORE = getattr(fastpath.compiled("mcpcap.modules.dns._pairing"), "bind_store", None)


def message_row(msg: Brief, meta: tuple, index: int) -> tuple:
    """The dns_messages row of one message."""
    frame, ts, src, sport, dst, dport, transport, protocol = meta
    return (
        frame,
        index,
        ts,
        src,
        sport,
        dst,
        dport,
        transport,
        protocol,
        msg[1] >> 15,
        msg[0],
        msg[9],
    )


class DnsScan(ModuleScan):
    """The scanning process's half. It decodes (or takes from workers) the UDP messages and
    pairs them; DNS over TCP comes from the stream decoder (`streams.DnsStreams`) already
    decoded, counted and paired, later than the datagrams of the same frames. So that nothing
    depends on how the two interleave, the TCP part is kept apart and joined at `finish`: its
    tallies added to the UDP ones, its transactions numbered after the UDP transactions, its
    malformed items stored with the others in frame order."""

    def __init__(self, db: sqlite3.Connection, options: dict[str, Any]) -> None:
        self._db = db
        self._messages: list[tuple] = []
        self._transactions: list[tuple] = []
        self._answer_values: list[Sequence[str]] = []  # each transaction's, for the hunt
        self._tallies = HuntTallies()
        self._extra_questions: list[tuple] = []
        self._answers: list[tuple] = []
        self._outcomes = Outcomes()  # of the stored transactions
        self._candidates: OrderedDict[tuple, list[tuple]] = OrderedDict()
        self._dns_servers: OrderedDict[tuple[str, int], bool] = OrderedDict()
        if _COMPILED_STORE is not None:
            self._store_transaction = _COMPILED_STORE(
                self._transactions, self._answer_values, self._extra_questions, self._answers,
                self._flush_transactions, BATCH, ROW_BATCH,
            )  # fmt: skip
        self._pairer = Pairer(self._store_transaction)
        if _COMPILED_DECODED is not None:
            self.on_udp_decoded = _COMPILED_DECODED(
                self._pairer.add, self.python_on_udp_decoded, WELL_KNOWN
            )
        self._frame = 0
        self._index = 0
        self.counts = MessageCounts()
        self._malformed = MalformedLog(db, "dns", ordered=True)
        self._tcp = TcpPart(db)

    # ------------------------------------------------------------------ input
    def on_udp(self, frame: int, ts: float, seg) -> None:
        """A datagram this process decodes (a scan in one process)."""
        msg = decode_udp(frame, ts, seg)
        if msg is None:
            return
        src, sport, dst, dport = seg.src, seg.sport, seg.dst, seg.dport
        if sport in WELL_KNOWN or dport in WELL_KNOWN:
            if frame != self._frame:
                self._frame, self._index = frame, 0
            else:
                self._index += 1
            meta = (frame, ts, src, sport, dst, dport, "udp", protocol_of(sport, dport))
            self._record(msg, meta, self._index)
        else:
            self._candidate((frame, ts, src, sport, dst, dport, "udp", "dns"), msg)

    def python_on_udp_decoded(
        self, frame: int, ts: float, src: str, sport: int, dst: str, dport: int, msg
    ) -> None:
        """What a worker's `WorkerDecoder` made of a datagram, in capture order
        (`on_udp_decoded`: in C for a message on the DNS ports, where `_pairing.c` was built)."""
        if sport in WELL_KNOWN or dport in WELL_KNOWN:
            # (id, protocol, view): the worker counted and stored it; pairing is what is left
            self._pairer.add(msg[0], msg[2], (frame, ts, src, sport, dst, dport, "udp", msg[1]))
        elif msg is not None:
            self._candidate((frame, ts, src, sport, dst, dport, "udp", "dns"), msg)

    on_udp_decoded = python_on_udp_decoded

    def on_worker_flush(self, partial: tuple) -> None:
        """A worker's tallies of the messages it counted, and their rows (see `WorkerDecoder`)."""
        counts, chunk, bad = partial
        self.counts.merge(counts)
        if chunk is not None:
            self._db.execute(store_schema.INSERT_MESSAGE_CHUNK, chunk)
        self._malformed.extend(bad)

    def on_tcp(self, frame: int, ts: float, chunk) -> None:
        raise NotImplementedError("DNS over TCP is read by DnsStreams (the stream decoder)")

    def on_stream_flush(self, partial: tuple) -> None:
        """What the stream decoder finished (see `DnsStreams.flush`)."""
        counts, messages, bad, transactions, totals = partial
        if messages:
            self._messages += messages
            if len(self._messages) >= BATCH:
                self._flush_messages()
        self._tcp.add(counts, bad, transactions, totals)

    def _candidate(self, meta: tuple, msg: Brief) -> None:
        """DNS on another port: reported once its server is proven to speak DNS.

        A server endpoint (address, port) is proven by a query and its matching response. Its
        earlier queries still waiting here, and all its later messages, are then DNS too.
        """
        _frame, _ts, src, sport, dst, dport = meta[:6]
        qr = msg[1] & 0x8000
        server = (src, sport) if qr else (dst, dport)
        if server in self._dns_servers:
            self._record(msg, meta, index=0)
            return
        if not qr:  # a query waits, with those sent before it on its flow and id
            key = (src, sport, dst, dport, msg[0])
            queries = self._candidates.get(key)
            if queries is None:
                self._candidates[key] = [(msg, meta)]
                if len(self._candidates) > MAX_CANDIDATES:
                    self._candidates.popitem(last=False)
            elif len(queries) < MAX_CANDIDATES_PER_KEY:
                queries.append((msg, meta))
            return
        queries = self._candidates.get((dst, dport, src, sport, msg[0]), ())
        asked = msg[5][0][:2] if msg[5] else None
        if not any(q[5] and q[5][0][:2] == asked for q, _ in queries):
            return
        self._dns_servers[server] = True
        if len(self._dns_servers) > MAX_CANDIDATES:
            self._dns_servers.popitem(last=False)
        waiting = [key for key in self._candidates if (key[2], key[3]) == server]
        proven = [query for key in waiting for query in self._candidates.pop(key)]
        for msg_, meta_ in sorted(proven, key=lambda query: query[1][0]):
            self._record(msg_, meta_, index=0)
        self._record(msg, meta, index=0)

    # ------------------------------------------------------------------ per message
    def _record(self, msg: Brief, meta: tuple, index: int) -> None:
        """Count, store and pair a message this process decoded (a worker's: `on_udp_decoded`)."""
        self.counts.add(msg, meta[1], meta[2], meta[4], meta[6], meta[7])
        if msg[4]:
            self._malformed.add((*meta[:7], msg[4]))
        messages = self._messages
        messages.append(message_row(msg, meta, index))
        if len(messages) >= BATCH:
            self._flush_messages()
        if pairs(msg):
            self._pairer.add(msg[0], msg[10], meta)

    def python_store_transaction(
        self, row: tuple, extra: Sequence[tuple], values: Sequence[str]
    ) -> None:
        """A finished transaction's row, its extra questions and its answer values
        (`_store_transaction`: in C where `_pairing.c` was built)."""
        transactions = self._transactions
        transactions.append(row)
        self._answer_values.append(values)
        if extra:
            tx_id = row[0]
            self._extra_questions += [(tx_id, *question) for question in extra]
        if values:
            tx_id = row[0]
            self._answers += [(tx_id, value) for value in values]
        if len(transactions) >= BATCH or len(self._answers) >= ROW_BATCH:
            self._flush_transactions()

    _store_transaction = python_store_transaction

    # ------------------------------------------------------------------ output
    def _flush_messages(self) -> None:
        self._db.executemany(store_schema.INSERT_MESSAGE, self._messages)
        self._messages.clear()

    def _flush_transactions(self) -> None:
        db = self._db
        db.executemany(store_schema.INSERT_TRANSACTION, self._transactions)
        db.executemany(store_schema.INSERT_EXTRA_QUESTION, self._extra_questions)
        db.executemany(store_schema.INSERT_ANSWER, self._answers)
        self._tallies.add(self._transactions, self._answer_values)
        self._outcomes.add(self._transactions)
        self._transactions.clear()
        self._answer_values.clear()
        self._extra_questions.clear()
        self._answers.clear()

    def finish(self, db: sqlite3.Connection) -> dict[str, Any]:
        # the messages and questions seen before serve one capture: a process that scans one
        # after another (the MCP server) kept the last ones' (about 10 MiB) for nothing
        forget_seen()
        self._pairer.finish()
        self._flush_messages()
        self._flush_transactions()
        tcp = self._tcp
        tcp.store_transactions(after=self._pairer.opened)
        self._tallies.merge(tcp.tallies, id_shift=self._pairer.opened)
        self._tallies.store(db)
        self._malformed.extend(tcp.malformed)
        self._malformed.finish()
        if tcp.counts is not None:
            self.counts.merge(tcp.counts.state())
        for table, rows in self.counts.rows().items():
            store_schema.insert_rows(db, table, rows)
        self._outcomes.merge(tcp.outcomes)
        counts = {
            **self.counts.summary(),
            **self._outcomes.counts(),
            "retransmissions": self._pairer.retransmissions + tcp.retransmissions,
            "duplicate_responses": self._pairer.duplicate_responses + tcp.duplicate_responses,
        }
        db.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('dns_counts', ?)",
            (json.dumps(counts),),
        )
        return counts


class TcpPart:
    """What the stream decoder handed over, kept apart until the scan ends (see `DnsScan`).

    Its transactions wait in temporary tables, numbered from 1; `store_transactions` then
    stores them after the UDP ones. Its malformed items (at most as many as the module stores)
    wait here, so the UDP ones before them are the same whatever the interleaving.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.counts: MessageCounts | None = None
        self.malformed: list[tuple] = []
        self.retransmissions = self.duplicate_responses = 0
        self.tallies = HuntTallies()  # of the staged transactions, numbered from 1
        self.outcomes = Outcomes()
        self._staged = False

    def add(self, counts: tuple | None, bad: list, transactions: list, totals: tuple) -> None:
        if counts is not None:
            if self.counts is None:
                self.counts = MessageCounts()
            self.counts.merge(counts)
        if bad:
            self.malformed += bad[: MAX_STORED - len(self.malformed)]
        self.retransmissions, self.duplicate_responses = totals
        if transactions:
            self._stage(transactions)

    def _stage(self, transactions: list) -> None:
        db = self._db
        if not self._staged:
            self._staged = True
            for table in STAGED:
                db.execute(f"CREATE TEMP TABLE {STAGING}{table} AS SELECT * FROM {table} WHERE 0")
        rows, extra, answers, answer_values = [], [], [], []
        for row, questions, values in transactions:
            rows.append(row)
            answer_values.append(values)
            tx_id = row[0]
            extra += [(tx_id, *question) for question in questions]
            answers += [(tx_id, value) for value in values]
        for table, items in zip(STAGED, (rows, extra, answers), strict=True):
            store_schema.insert_rows(db, f"temp.{STAGING}{table}", items)
        self.tallies.add(rows, answer_values)
        self.outcomes.add(rows)

    def store_transactions(self, after: int) -> None:
        """The staged transactions into the store, numbered from `after` + 1."""
        if not self._staged:
            return
        db = self._db
        for table, key in zip(STAGED, ("id", "tx_id", "tx_id"), strict=True):
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            shifted = ", ".join(f"{c} + ?" if c == key else c for c in columns)
            db.execute(f"INSERT INTO {table} SELECT {shifted} FROM temp.{STAGING}{table}", (after,))
            db.execute(f"DROP TABLE temp.{STAGING}{table}")
        self._staged = False


STAGED = ("dns_transactions", "dns_extra_questions", "dns_answers")
STAGING = "tcp_"  # the staging tables' prefix
