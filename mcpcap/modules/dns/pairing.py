"""Query/response pairing into transactions, the way Zeek's DNS analyzer pairs them.

Rules (the README repeats them):

1. A query opens a transaction keyed by its connection (client, client port, server, server
   port, transport) and transaction id. Several open queries with the same key are answered
   first in, first out.
2. A query whose key and question equal those of a query still waiting for its answer is a
   retransmission: it is counted on the waiting transaction, not opened as a new one.
3. A response closes the oldest waiting transaction with the reversed key and the same id.
   A response that matches none but repeats the key of a transaction answered within
   `DUPLICATE_WINDOW` seconds is a duplicate response (counted, not a transaction). Anything
   else is an unsolicited response: a transaction of its own with no query.
4. mDNS and LLMNR answers often come from a host the query was not addressed to (the query went
   to a multicast group). A response of those protocols that rule 3 cannot pair is paired with
   the latest unanswered query of the same protocol for the same question (name and type, or
   ANY) within `MULTICAST_WINDOW` seconds; its sender becomes the transaction's server.
5. Waiting queries are bounded per flow and in total, and expire after `QUERY_TIMEOUT` seconds
   of capture time; an expired or evicted query is an unanswered transaction. A transaction
   keeps at most `MAX_EXTRA_QUESTIONS` questions besides its first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from itertools import islice

QUERY_TIMEOUT = 120.0
DUPLICATE_WINDOW = 10.0
MULTICAST_WINDOW = 2.0
MAX_PENDING_PER_FLOW = 1024
MAX_PENDING_TOTAL = 100_000
MAX_RECENT_ANSWERED = 50_000
MAX_EXTRA_QUESTIONS = 256  # a transaction's questions beyond its first, retransmissions included
MULTICAST_PROTOCOLS = ("mdns", "llmnr")
QTYPE_ANY = 255
_SWEEP_EVERY = QUERY_TIMEOUT / 4


class Transaction:
    """One query and its response (either may be missing)."""

    __slots__ = (
        "aa",
        "answers",
        "bare",
        "client",
        "client_port",
        "domain",
        "extra_questions",
        "protocol",
        "qclass",
        "qname",
        "qtype",
        "query",
        "query_frame",
        "query_ts",
        "ra",
        "rcode",
        "rd",
        "response_frame",
        "response_ts",
        "retransmissions",
        "seq",
        "server",
        "server_port",
        "tc",
        "trans_id",
        "transport",
        "ttls",
        "z",
    )

    def __init__(self, seq: int, msg, meta: tuple) -> None:
        frame, ts, src, sport, dst, dport, transport, protocol = meta
        trans_id, flags = msg[:2]
        questions = msg[5]
        self.seq = seq
        self.trans_id = trans_id
        self.transport = transport
        self.protocol = protocol
        if questions:
            first = questions[0]
            self.query, self.qtype, self.qclass = first[0], first[1], first[2]
            # a query's questions carry their lowered name (see `Brief`), a response's do not
            self.qname = first[4] if len(first) > 4 else first[0].lower()
        else:
            self.query = self.qtype = self.qclass = self.qname = None
        self.retransmissions = 0
        self.answers: tuple[str, str, tuple[str, ...]] = ("", "", ())  # see answers_digest
        self.response_frame = self.response_ts = self.rcode = None
        self.aa = self.tc = self.ra = None  # the header's bits, 0 or 1 (None: no response yet)
        self.bare = False
        self.z = (flags >> 4) & 7
        self.rd = (flags >> 8) & 1
        if flags & 0x8000:
            self.client, self.client_port, self.server, self.server_port = dst, dport, src, sport
            self.query_frame = self.query_ts = self.domain = None
            self.extra_questions: list[tuple] = []
        else:
            self.client, self.client_port, self.server, self.server_port = src, sport, dst, dport
            self.query_frame, self.query_ts = frame, ts
            # a query's questions carry (..., lowered name, registered domain); its first one is
            # the transaction's own, the others (rare) are kept as they came
            self.domain = questions[0][5] if questions else None
            self.extra_questions = questions[1:]

    @property
    def ts(self) -> float:
        return self.query_ts if self.query_ts is not None else self.response_ts

    @property
    def answered(self) -> bool:
        return self.response_frame is not None

    @property
    def rtt(self) -> float | None:
        if self.query_ts is None or self.response_ts is None:
            return None
        return self.response_ts - self.query_ts

    def add_response(self, msg: tuple, frame: int, ts: float, src: str, sport: int) -> None:
        flags, rcode = msg[1:3]
        self.response_frame, self.response_ts = frame, ts
        self.rcode = rcode
        self.aa, self.tc, self.ra = (flags >> 10) & 1, (flags >> 9) & 1, (flags >> 7) & 1
        self.z = (flags >> 4) & 7
        if self.query_frame is None:
            self.rd = (flags >> 8) & 1
        self.answers = msg[6]
        self.bare = not msg[7]  # no record in any section (see `Brief`)
        if self.protocol in MULTICAST_PROTOCOLS:
            self.server, self.server_port = src, sport


class Pairer:
    """Feeds messages in capture order; hands finished transactions to `emit`."""

    def __init__(self, emit: Callable[[Transaction], None]) -> None:
        self._emit = emit
        self._seq = 0
        # flow -> id -> waiting queries; dicts keep insertion order, which the bounds rely on
        self._pending: dict[tuple, dict[int, deque[Transaction]]] = {}
        self._pending_count = 0
        self._by_question: dict[tuple, Transaction] = {}  # rule 4, latest query per question
        self._recent_answered: dict[tuple, float] = {}  # oldest first
        self._last_sweep = None
        self.retransmissions = 0
        self.duplicate_responses = 0
        self.unsolicited = 0

    def add(self, msg: tuple, meta: tuple) -> None:
        """`msg` is a `Brief` (see `decoder`); `meta` is
        (frame, ts, src, sport, dst, dport, transport, protocol)."""
        ts = meta[1]
        last = self._last_sweep
        if last is None or ts - last > _SWEEP_EVERY:
            self._expire(ts)
            self._last_sweep = ts
        if msg[1] & 0x8000:
            self._add_response(msg, meta)
        else:
            self._add_query(msg, meta)

    def finish(self) -> None:
        """Every query still waiting is unanswered."""
        for flow in list(self._pending):
            self._drop_flow(flow)
        self._by_question.clear()

    # ------------------------------------------------------------------ queries
    def _add_query(self, msg, meta: tuple) -> None:
        _frame, _ts, src, sport, dst, dport, transport, protocol = meta
        flow = (src, sport, dst, dport, transport)
        trans_id = msg[0]
        pending = self._pending
        waiting = pending.get(flow)
        queue = waiting.get(trans_id) if waiting else None
        questions = msg[5]
        question = _question_key(questions[0]) if questions else None
        if queue:
            for tx in queue:
                if _tx_question(tx) == question:
                    tx.retransmissions += 1  # its first question is the transaction's
                    extra = tx.extra_questions
                    if len(extra) < MAX_EXTRA_QUESTIONS:  # retransmissions add no more past it
                        extra.extend(questions[1 : 1 + MAX_EXTRA_QUESTIONS - len(extra)])
                    self.retransmissions += 1
                    return
        seq = self._seq = self._seq + 1
        tx = Transaction(seq, msg, meta)
        if waiting is None:
            waiting = pending[flow] = {}
        if queue is None:
            queue = waiting[trans_id] = deque()
        queue.append(tx)
        self._pending_count += 1
        if protocol in MULTICAST_PROTOCOLS and question is not None:
            self._by_question[(protocol, *question)] = tx
        if (
            self._pending_count > MAX_PENDING_PER_FLOW  # else no flow can be over its bound
            and sum(len(q) for q in waiting.values()) > MAX_PENDING_PER_FLOW
        ):
            self._pop_oldest(flow)
        if self._pending_count > MAX_PENDING_TOTAL:
            self._drop_flow(next(iter(self._pending)))

    # ------------------------------------------------------------------ responses
    def _add_response(self, msg, meta: tuple) -> None:
        frame, ts, src, sport, dst, dport, transport, protocol = meta
        flow = (dst, dport, src, sport, transport)
        trans_id = msg[0]
        tx = None
        waiting = self._pending.get(flow)
        if waiting:  # the oldest query waiting on this flow and id: the usual case
            queue = waiting.get(trans_id)
            if queue:
                tx = queue.popleft()
                self._pending_count -= 1
                if not queue:
                    self._forget(flow, trans_id)
        if tx is None and protocol in MULTICAST_PROTOCOLS:
            tx = self._take_by_question(msg, protocol, ts)
        if tx is not None:
            tx.add_response(msg, frame, ts, src, sport)
            self._remember_answered((flow, trans_id), ts)
            self._finish_tx(tx)
            return
        seen = self._recent_answered.get((flow, trans_id))
        if seen is not None and ts - seen <= DUPLICATE_WINDOW:
            self.duplicate_responses += 1
            return
        self._seq += 1
        tx = Transaction(self._seq, msg, meta)
        tx.add_response(msg, frame, ts, src, sport)
        self.unsolicited += 1
        self._emit(tx)

    def _take_by_question(self, msg, protocol: str, ts: float) -> Transaction | None:
        for name, qtype in _response_keys(msg):
            for key in ((protocol, name, qtype), (protocol, name, QTYPE_ANY)):
                tx = self._by_question.get(key)
                if tx is None or tx.answered or ts - tx.query_ts > MULTICAST_WINDOW:
                    continue
                if self._remove_pending(tx):
                    del self._by_question[key]
                    return tx
        return None

    def _remove_pending(self, tx: Transaction) -> bool:
        flow = (tx.client, tx.client_port, tx.server, tx.server_port, tx.transport)
        waiting = self._pending.get(flow)
        queue = waiting.get(tx.trans_id) if waiting else None
        if not queue or tx not in queue:
            return False
        queue.remove(tx)
        self._pending_count -= 1
        if not queue:
            self._forget(flow, tx.trans_id)
        return True

    def _forget(self, flow: tuple, trans_id: int) -> None:
        """Drop an emptied queue, and its flow when that was the flow's last one."""
        waiting = self._pending[flow]
        del waiting[trans_id]
        if not waiting:
            del self._pending[flow]

    def _remember_answered(self, key: tuple, ts: float) -> None:
        recent = self._recent_answered
        recent.pop(key, None)  # re-inserted: the newest again
        recent[key] = ts
        if len(recent) > MAX_RECENT_ANSWERED:
            _drop_oldest(recent, len(recent) - MAX_RECENT_ANSWERED)

    # ------------------------------------------------------------------ bounds
    def _finish_tx(self, tx: Transaction) -> None:
        if tx.protocol in MULTICAST_PROTOCOLS and tx.query is not None:
            key = (tx.protocol, *_tx_question(tx))
            if self._by_question.get(key) is tx:
                del self._by_question[key]
        self._emit(tx)

    def _pop_oldest(self, flow: tuple) -> None:
        waiting = self._pending[flow]
        trans_id = min(waiting, key=lambda i: waiting[i][0].seq)
        tx = waiting[trans_id].popleft()
        if not waiting[trans_id]:
            self._forget(flow, trans_id)
        self._pending_count -= 1
        self._finish_tx(tx)

    def _drop_flow(self, flow: tuple) -> None:
        waiting = self._pending.pop(flow)
        dropped = sorted((tx for queue in waiting.values() for tx in queue), key=_seq_of)
        self._pending_count -= len(dropped)
        for tx in dropped:
            self._finish_tx(tx)

    def _expire(self, now: float) -> None:
        expired = []
        for flow, waiting in self._pending.items():
            for trans_id, queue in waiting.items():
                while queue and now - queue[0].query_ts > QUERY_TIMEOUT:
                    expired.append((flow, trans_id, queue.popleft()))
        for flow, trans_id, tx in sorted(expired, key=lambda item: item[2].seq):
            self._pending_count -= 1
            waiting = self._pending.get(flow)
            if waiting is not None and not waiting.get(trans_id, True):
                self._forget(flow, trans_id)
            self._finish_tx(tx)
        stale = [k for k, tx in self._by_question.items() if now - tx.query_ts > MULTICAST_WINDOW]
        for key in stale:
            del self._by_question[key]
        recent = self._recent_answered
        old = 0
        for seen in recent.values():  # oldest first
            if now - seen <= DUPLICATE_WINDOW:
                break
            old += 1
        _drop_oldest(recent, old)


def _drop_oldest(entries: dict, count: int) -> None:
    """Delete the first `count` keys of a dict in one walk (looking up the first key again after
    each deletion walks over every deleted slot before it: quadratic in `count`)."""
    for key in list(islice(entries, count)):
        del entries[key]


def _seq_of(tx: Transaction) -> int:
    return tx.seq


def _question_key(question: tuple) -> tuple[str, int]:
    """(lowered name, type) of a query's question (a `Brief`'s carries its lowered name)."""
    return (question[4], question[1])


def _tx_question(tx: Transaction) -> tuple[str, int] | None:
    return None if tx.qname is None else (tx.qname, tx.qtype)


def _response_keys(msg: tuple) -> list[tuple[str, int]]:
    """The questions a multicast response answers: its question section, else its records."""
    questions = msg[5]
    if questions:
        return [(q[0].lower(), q[1]) for q in questions]
    return list(msg[8])
