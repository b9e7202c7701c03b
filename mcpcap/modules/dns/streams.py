"""DNS over TCP, read by the module's stream decoder: connections -> messages -> transactions.

The core hands the chunks of every connection on a DNS port, both directions, in order: in a
stream worker when the scan is parallel, in the scanning process when it is not. Here each
direction is framed (RFC 1035 4.2.2, RFC 7766: a two-byte length before every message), each
message decoded, counted, made into its store row and paired. A TCP query is answered only on
its own connection, so pairing needs nothing from the UDP messages: these transactions are
numbered on their own (`DnsScan` numbers them after the UDP ones), and what the scanning
process gets at each flush depends on nothing but the chunks, whenever it arrives.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from mcpcap.core.modules.malformed import MAX_STORED
from mcpcap.core.tcpstream import StreamBudget, StreamChunk
from mcpcap.modules.dns.counting import MessageCounts
from mcpcap.modules.dns.decoder import decode_brief
from mcpcap.modules.dns.framing import TcpMessageFramer
from mcpcap.modules.dns.pairing import Pairer, pairs
from mcpcap.modules.dns.scan import message_row, protocol_of

MAX_FRAMERS = 50_000  # directions framed at once; the least recently used is forgotten beyond
MAX_NUMBERED_FRAMES = 16_384  # frames whose next message index is remembered

# What `flush` hands over (see `DnsStreams.flush`)
StreamPartial = tuple[tuple | None, list[tuple], list[tuple], list[tuple], tuple[int, int]]


class DnsStreams:
    """The stream decoder: framed, decoded, counted and paired DNS messages over TCP."""

    def __init__(self) -> None:
        self._framers: OrderedDict[tuple, TcpMessageFramer] = OrderedDict()
        # what unfinished messages hold counts against the scan's stream budget (`share_budget`)
        self._budget = StreamBudget()
        self._pairer = Pairer(self._transaction)
        # the next message index of each recent frame: a chunk delivered past a hole carries
        # the frame it was captured in, so one frame's messages need not come one after another
        self._indexes: dict[int, int] = {}
        self._malformed_sent = 0
        self._new()

    def _new(self) -> None:
        self._counts = MessageCounts()
        self._messages: list[tuple] = []
        self._malformed: list[tuple] = []
        self._transactions: list[tuple] = []

    def share_budget(self, budget: StreamBudget) -> None:
        """The budget the scan's reassembler counts against (the core gives it)."""
        self._budget = budget

    # ------------------------------------------------------------------ input
    def on_tcp(self, frame: int, ts: float, chunk: StreamChunk) -> None:
        key = (chunk.src, chunk.sport, chunk.dst, chunk.dport)
        if chunk.end:
            self._forget(key)
            return
        framer = self._framer(key, chunk.syn_seen)
        held = framer.buffered
        payloads = framer.feed(chunk.data, chunk.gap)
        budget = self._budget
        budget.used += framer.buffered - held
        if budget.over:
            self._shed_framers()
        protocol = protocol_of(chunk.sport, chunk.dport)
        meta = (frame, ts, *key, "tcp", protocol)
        for payload in payloads:
            if payload:
                self._message(decode_brief(payload, mdns=protocol == "mdns"), meta)

    def _framer(self, key: tuple, synced: bool) -> TcpMessageFramer:
        framers = self._framers
        framer = framers.get(key)
        if framer is not None:
            framers.move_to_end(key)
            return framer
        framer = framers[key] = TcpMessageFramer(synced=synced)
        if len(framers) > MAX_FRAMERS:
            self._budget.used -= framers.popitem(last=False)[1].buffered
        return framer

    def _forget(self, key: tuple) -> None:
        """A FIN or RST ended this direction: a message it left unfinished is cut short, and
        is not the start of whatever a new connection on the same ports sends (RFC 9293 3.5,
        3.6: after an RST or a close, a SYN with a new ISN starts a new connection)."""
        framer = self._framers.pop(key, None)
        if framer is not None:
            self._budget.used -= framer.buffered

    def _shed_framers(self) -> None:
        """Over the stream budget: the least recently used streams drop the message they hold
        (each counted as cut, and out of step from then on) until the budget is relieved."""
        budget = self._budget
        for framer in self._framers.values():
            if budget.relieved:
                break
            if framer.buffered:
                budget.used -= framer.buffered
                budget.cut += 1
                framer.feed(b"", gap=True)

    def _message(self, msg: tuple, meta: tuple) -> None:
        """Count, store and pair one message (`meta` as `pairing.Pairer.add` takes it)."""
        index = self._number(meta[0])
        self._counts.add(msg, meta[1], meta[2], meta[4], "tcp", meta[7])
        if msg[4] and self._malformed_sent < MAX_STORED:  # the scan stores no more than that
            self._malformed_sent += 1
            self._malformed.append((*meta[:7], msg[4]))
        self._messages.append(message_row(msg, meta, index))
        if pairs(msg):
            self._pairer.add(msg[0], msg[10], meta)

    def _number(self, frame: int) -> int:
        """The message's index in its frame: 0, 1 ... however its frame's chunks arrive."""
        indexes = self._indexes
        index = indexes.get(frame, 0)
        indexes[frame] = index + 1
        if not index and len(indexes) > MAX_NUMBERED_FRAMES:
            del indexes[next(iter(indexes))]
        return index

    def _transaction(self, row: tuple, extra: Sequence[tuple], values: Sequence[str]) -> None:
        """A finished transaction: its row (its id counts TCP transactions from 1), its extra
        questions and its answer values."""
        self._transactions.append((row, tuple(extra), tuple(values)))

    # ------------------------------------------------------------------ output
    def flush(self) -> StreamPartial | None:
        """(the tallies' state or None, message rows, malformed rows, transactions as
        (row, extra questions, answer values), and pairing's running totals of
        retransmissions and duplicate responses) since the last flush; None for nothing new."""
        messages = self._messages
        if not (messages or self._transactions):
            return None
        pairer = self._pairer
        partial = (
            self._counts.state() if messages else None,
            messages,
            self._malformed,
            self._transactions,
            (pairer.retransmissions, pairer.duplicate_responses),
        )
        self._new()
        return partial

    def close(self) -> None:
        """The end of the capture: every query still waiting is unanswered."""
        self._pairer.finish()
