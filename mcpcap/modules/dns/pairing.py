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
   the latest unanswered query of the same protocol asking one of its questions (name and type,
   or ANY) within `MULTICAST_WINDOW` seconds; its sender becomes the transaction's server.
5. Waiting queries are bounded per flow and in total, and expire after `QUERY_TIMEOUT` seconds
   of capture time (a message meeting a query older than that expires it first: a response
   later than the timeout answers nothing); an expired or evicted query is an unanswered
   transaction. A transaction
   keeps at most `MAX_EXTRA_QUESTIONS` questions besides its first.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from itertools import islice

from mcpcap.core import fastpath

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


# What pairing keeps of a message (a "view"), made once where the message is decoded (a worker
# process, and the decoder's cache of messages seen before) and carried with it:
#
# - a query:    (0, question, rd, z, extra questions)
# - a response: (1, reply, question, answer values, keys)
#
# `question` is the transaction row's (query, qname, domain, qclass, qtype) for the message's
# first question (a response's has no domain); `reply` is the row's (rcode, aa, tc, rd, ra, z,
# answers, ttls, rejected, answered) as the response makes them; the extra questions are
# (qname, qtype, domain) of a query's questions beyond its first; the answer values are what
# the `answer` filter looks up; keys are what a multicast response is paired by when it has
# no question or several (`answer_keys`).
# A transaction's row is then these pieces put together, with no per-field work.
NO_QUESTION = (None, None, None, None, None)


def message_view(flags: int, rcode: int, questions: list, digest: tuple, records: int, keys):
    """The view of a decoded message (see above); `questions` as a `Brief` has them, `digest`
    is `store_schema.answers_digest` of its answers, `records` how many records it has and
    `keys` a question-less message's record keys."""
    if not flags & 0x8000:
        if not questions:
            return (0, NO_QUESTION, (flags >> 8) & 1, (flags >> 4) & 7, ())
        first = questions[0]
        extra = tuple([(q[4], q[1], q[5]) for q in questions[1:]]) if len(questions) > 1 else ()
        head = (first[0], first[4], first[5], first[2], first[1])
        return (0, head, (flags >> 8) & 1, (flags >> 4) & 7, extra)
    packed, ttls, values = digest
    reply = (
        rcode,
        (flags >> 10) & 1,
        (flags >> 9) & 1,
        (flags >> 8) & 1,
        (flags >> 7) & 1,
        (flags >> 4) & 7,
        packed,
        ttls,
        # Zeek's `rejected`: a question answered with no record at all (DNS.cc's dns_rejected),
        # or a failure that names no question (dns/main.zeek)
        int(not records if questions else rcode != 0),
        1,
    )
    if not questions:
        return (1, reply, NO_QUESTION, values, keys)
    first = questions[0]
    head = (first[0], lowered(first[0]), None, first[2], first[1])
    # the keys of a one-question response are its question's (`answer_keys`)
    keys = tuple([(lowered(q[0]), q[1]) for q in questions]) if len(questions) > 1 else ()
    return (1, reply, head, values, keys)


def lowered(name: str) -> str:
    """`name` in lower case; `name` itself when it is (one string, which `marshal` sends once)."""
    low = name.lower()
    return name if low == name else low


def answer_keys(view: tuple) -> tuple:
    """The (lowered name, type) a response answers: its questions', else its records'."""
    if view[4]:
        return view[4]
    head = view[2]
    return () if head[0] is None else ((head[1], head[4]),)


class Transaction:
    """A query waiting for its response."""

    __slots__ = ("extra", "meta", "retransmissions", "seq", "trans_id", "view")

    def __init__(self, seq: int, trans_id: int, view: tuple, meta: tuple) -> None:
        self.seq = seq
        self.trans_id = trans_id
        self.view = view  # the query's
        self.meta = meta  # the query's (frame, ts, src, sport, dst, dport, transport, protocol)
        self.retransmissions = 0
        self.extra = view[4]  # its questions beyond the first, retransmissions' too

    @property
    def ts(self) -> float:
        return self.meta[1]

    @property
    def question(self) -> tuple[str, int] | None:
        """(lowered name, type) of its first question."""
        head = self.view[1]
        return None if head[1] is None else (head[1], head[4])

    def row(self, reply: tuple | None = None, response: tuple = ()) -> tuple:
        """The transaction's row, answered by `reply` (a response view's) in `response`
        (frame, ts, src, sport) or unanswered."""
        meta, view = self.meta, self.view
        rd = view[2]
        if reply is None:
            tail = (None, None, None, rd, None, view[3], None, None, None, 0)
            return (
                self.seq,
                meta[1],
                meta[0],
                None,
                *meta[2:8],
                self.trans_id,
                None,
                *view[1],
                *tail,
                self.retransmissions,
            )
        if reply[3] != rd or reply[5] != view[3]:  # the query's RD and Z stay the transaction's
            reply = (*reply[:3], rd, reply[4], view[3], *reply[6:])
        frame, ts, src, sport = response
        if meta[7] in MULTICAST_PROTOCOLS:  # the responder is the server
            ends = (meta[2], meta[3], src, sport, *meta[6:8])
        else:
            ends = meta[2:8]
        return (
            self.seq,
            meta[1],
            meta[0],
            frame,
            *ends,
            self.trans_id,
            round(ts - meta[1], 6),
            *view[1],
            *reply,
            self.retransmissions,
        )


def unsolicited_row(seq: int, trans_id: int, view: tuple, meta: tuple) -> tuple:
    """The row of a response that answers no query."""
    frame, ts, src, sport, dst, dport, transport, protocol = meta
    return (
        seq,
        ts,
        None,
        frame,
        dst,
        dport,
        src,
        sport,
        transport,
        protocol,
        trans_id,
        None,
        *view[2],
        *view[1],
        0,
    )


def pairs(brief: tuple) -> bool:
    """Whether a decoded message (a `Brief`) takes part in pairing: one shorter than its 12-byte
    header has no sure id or QR bit (Zeek's analyzer raises no DNS event for it), so it is a
    malformed message only, which no later response of its id may answer."""
    return brief[4] != "truncated_header"


class Pairer:
    """Feeds messages in capture order; hands each finished transaction's row, its extra
    questions and its answer values to `emit`."""

    def __init__(self, emit: Callable[[tuple, Sequence[tuple], Sequence[str]], None]) -> None:
        self._emit = emit
        self._seq = 0
        # flow -> id -> waiting queries; dicts keep insertion order, which the bounds rely on
        self._pending: dict[tuple, dict[int, deque[Transaction]]] = {}
        self._pending_count = 0
        self._by_question: dict[tuple, Transaction] = {}  # rule 4, latest query per question
        self._recent_answered: dict[tuple, float] = {}  # oldest first
        self._last_sweep = -math.inf
        self.retransmissions = 0
        self.duplicate_responses = 0
        self.unsolicited = 0
        self.add = self.python_add
        if _COMPILED_BIND is not None:  # (on this pairer's own state: the two take turns)
            self.add = _COMPILED_BIND(
                vars(self), self._pending, self._recent_answered, self.python_add,
                self._add_query, self._add_response, emit, Transaction, deque, _drop_oldest,
                MULTICAST_PROTOCOLS, MAX_PENDING_PER_FLOW, MAX_PENDING_TOTAL,
                MAX_RECENT_ANSWERED, _SWEEP_EVERY, QUERY_TIMEOUT,
            )  # fmt: skip

    @property
    def opened(self) -> int:
        """How many transactions it has opened: their rows are numbered 1 to this."""
        return self._seq

    def python_add(self, trans_id: int, view: tuple, meta: tuple) -> None:
        """A message: its id, its view (see `message_view`) and
        (frame, ts, src, sport, dst, dport, transport, protocol). `add` is this, or where it
        was built its C twin (`_pairing.c`), which pairs the usual query and response itself
        and hands every other message to the methods below."""
        ts = meta[1]
        if ts - self._last_sweep > _SWEEP_EVERY:
            self._expire(ts)
            self._last_sweep = ts
        if view[0]:
            self._add_response(trans_id, view, meta)
        else:
            self._add_query(trans_id, view, meta)

    def finish(self) -> None:
        """Every query still waiting is unanswered."""
        for flow in list(self._pending):
            self._drop_flow(flow)
        self._by_question.clear()

    # ------------------------------------------------------------------ queries
    def _add_query(self, trans_id: int, view: tuple, meta: tuple) -> None:
        flow = meta[2:7]  # (src, sport, dst, dport, transport)
        pending = self._pending
        waiting = pending.get(flow)
        if waiting is None:
            waiting = pending[flow] = {}
            queue = None
        else:
            queue = self._live_queue(waiting, trans_id, meta[1])
            if queue and self._retransmitted(queue, view):
                return
            if flow not in pending:  # the expiry emptied the flow
                waiting = pending[flow] = {}
        seq = self._seq = self._seq + 1
        tx = Transaction(seq, trans_id, view, meta)
        if queue is None:
            waiting[trans_id] = deque((tx,))
        else:
            queue.append(tx)
        self._pending_count += 1
        if meta[7] in MULTICAST_PROTOCOLS and view[1][1] is not None:
            for key in _question_keys(meta[7], tx):  # an mDNS query often asks A and AAAA
                self._by_question[key] = tx
        if (
            self._pending_count > MAX_PENDING_PER_FLOW  # else no flow can be over its bound
            and sum(len(q) for q in waiting.values()) > MAX_PENDING_PER_FLOW
        ):
            self._pop_oldest(flow)
        if self._pending_count > MAX_PENDING_TOTAL:
            self._drop_flow(next(iter(self._pending)))

    def _live_queue(self, waiting: dict, trans_id: int, ts: float) -> deque | None:
        """The queries waiting under an id, none of them past `QUERY_TIMEOUT` at `ts`: a sweep
        runs only every `_SWEEP_EVERY` seconds, so a query it has not reached yet is expired
        here, before a message meets it."""
        queue = waiting.get(trans_id)
        if queue and ts - queue[0].meta[1] > QUERY_TIMEOUT:
            self._expire(ts)
            self._last_sweep = ts
            queue = waiting.get(trans_id)
        return queue

    def _retransmitted(self, queue: deque[Transaction], view: tuple) -> bool:
        """Rule 2: a query asking what a waiting one asks counts on it."""
        head = view[1]
        question = None if head[1] is None else (head[1], head[4])
        for tx in queue:
            if tx.question == question:
                tx.retransmissions += 1  # its first question is the transaction's
                extra, more = tx.extra, view[4]
                if more and len(extra) < MAX_EXTRA_QUESTIONS:  # none past the bound
                    tx.extra = (*extra, *more[: MAX_EXTRA_QUESTIONS - len(extra)])
                self.retransmissions += 1
                return True
        return False

    # ------------------------------------------------------------------ responses
    def _add_response(self, trans_id: int, view: tuple, meta: tuple) -> None:
        frame, ts, src, sport, dst, dport, transport, protocol = meta
        flow = (dst, dport, src, sport, transport)
        tx = None
        waiting = self._pending.get(flow)
        if waiting:  # the oldest query waiting on this flow and id: the usual case
            queue = self._live_queue(waiting, trans_id, ts)
            if queue:
                tx = queue.popleft()
                self._pending_count -= 1
                if not queue:
                    del waiting[trans_id]
                    if not waiting:
                        del self._pending[flow]
        if tx is None and protocol in MULTICAST_PROTOCOLS:
            tx = self._take_by_question(view, protocol, ts)
        if tx is not None:
            self._remember_answered((flow, trans_id), ts)
            self._finish_tx(tx, view, (frame, ts, src, sport))
            return
        seen = self._recent_answered.get((flow, trans_id))
        if seen is not None and ts - seen <= DUPLICATE_WINDOW:
            self.duplicate_responses += 1
            return
        self._seq += 1
        self.unsolicited += 1
        self._emit(unsolicited_row(self._seq, trans_id, view, meta), (), view[3])

    def _take_by_question(self, view: tuple, protocol: str, ts: float) -> Transaction | None:
        for name, qtype in answer_keys(view):
            for key in ((protocol, name, qtype), (protocol, name, QTYPE_ANY)):
                tx = self._by_question.get(key)
                if tx is None or ts - tx.meta[1] > MULTICAST_WINDOW:
                    continue
                if self._remove_pending(tx):
                    del self._by_question[key]
                    return tx
        return None

    def _remove_pending(self, tx: Transaction) -> bool:
        flow = tx.meta[2:7]
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
    def _finish_tx(self, tx: Transaction, view: tuple | None = None, response: tuple = ()) -> None:
        """Emit a transaction that waits no more: answered by a response (its view, and its
        (frame, ts, src, sport)), or not."""
        protocol = tx.meta[7]
        if protocol in MULTICAST_PROTOCOLS and tx.view[1][0] is not None:
            for key in _question_keys(protocol, tx):
                if self._by_question.get(key) is tx:
                    del self._by_question[key]
        if view is None:
            self._emit(tx.row(), tx.extra, ())
        else:
            self._emit(tx.row(view[1], response), tx.extra, view[3])

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
                while queue and now - queue[0].meta[1] > QUERY_TIMEOUT:
                    expired.append((flow, trans_id, queue.popleft()))
        for flow, trans_id, tx in sorted(expired, key=lambda item: item[2].seq):
            self._pending_count -= 1
            waiting = self._pending.get(flow)
            if waiting is not None and not waiting.get(trans_id, True):
                self._forget(flow, trans_id)
            self._finish_tx(tx)
        stale = [k for k, tx in self._by_question.items() if now - tx.meta[1] > MULTICAST_WINDOW]
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


def _question_keys(protocol: str, tx: Transaction) -> list[tuple]:
    """The keys rule 4 finds a multicast query by: each of its questions' (name, type)."""
    keys = [(protocol, *tx.question)]
    keys += [(protocol, name, qtype) for name, qtype, _domain in tx.view[4]]
    return keys


def _seq_of(tx: Transaction) -> int:
    return tx.seq


_COMPILED_BIND = getattr(fastpath.compiled("mcpcap.modules.dns._pairing"), "bind", None)
